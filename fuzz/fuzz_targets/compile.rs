//! Fuzz target: `eddy::compile` (parse, then compile to bytecode) and `eddy::check` must never panic
//! on any UTF-8 input, and every syntax error's span must lie inside the source.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    if let Err(eddy::Error::Syntax(e)) = eddy::compile("<fuzz>", src) {
        assert!(e.span.start <= e.span.end && e.span.end as usize <= src.len());
        // Rendering must cope with any span the compiler reports.
        let _ = eddy::render::render(&eddy::Error::Syntax(e), false);
    }
    // Recovery blanks statements and compiles again: it must terminate and never panic either.
    if src.len() < 4096 {
        let _ = eddy::check::check("<fuzz>", src);
    }
});
