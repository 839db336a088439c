//! Fuzz target: `parse_module` must never panic (or overflow the stack) on any UTF-8 input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        if let Err(e) = eddy_parser::parse_module(src) {
            // Spans must stay inside the source.
            assert!(e.span.start <= e.span.end && e.span.end as usize <= src.len());
            let _ = e.kind();
        }
    }
});
