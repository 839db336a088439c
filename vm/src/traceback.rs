//! Turning an uncaught exception into CPython-style traceback text, chained exceptions included.

use crate::value::Value;
use crate::vm::Vm;

/// One frame of a traceback, ready to render: file, line, function, and the source span.
#[derive(Clone)]
pub struct FrameInfo {
    pub file: String,
    pub line: u32,
    pub function: String,
    pub source_line: String,
    pub span: (u32, u32),
    pub source: std::rc::Rc<crate::code::SourceFile>,
}

/// Frames of an exception's traceback, outermost first.
pub fn frames_of(exc: &Value) -> Vec<FrameInfo> {
    let Value::Instance(i) = exc else {
        return Vec::new();
    };
    let Some(data) = i.exception() else {
        return Vec::new();
    };
    let data = data.borrow();
    data.traceback
        .iter()
        .rev()
        .map(|t| {
            let span = t.code.span_of(t.ip);
            let line = t.code.source.line_col(span.start).0;
            FrameInfo {
                file: t.code.source.name.clone(),
                line,
                function: t.code.name.s.to_string(),
                source_line: t.code.source.line_text(line).to_string(),
                span: (span.start, span.end),
                source: t.code.source.clone(),
            }
        })
        .collect()
}

/// The last line CPython prints: `ExcType: message` (or just `ExcType`).
pub fn exception_line(vm: &mut Vm, exc: &Value) -> String {
    let cls = vm.type_of(exc);
    let name = crate::ops::class_display_name(&cls)
        .trim_start_matches("__main__.")
        .to_string();
    let msg = crate::ops::to_str(vm, exc).unwrap_or_else(|_| "<exception str() failed>".into());
    if msg.is_empty() {
        name
    } else {
        format!("{name}: {msg}")
    }
}

/// The whole report, as CPython prints it to stderr.
pub fn format_exception(vm: &mut Vm, exc: &Value) -> String {
    let mut out = String::new();
    format_chain(vm, exc, &mut out, 0);
    out
}

fn format_chain(vm: &mut Vm, exc: &Value, out: &mut String, depth: usize) {
    if depth > 50 {
        return;
    }
    if let Value::Instance(i) = exc {
        if let Some(data) = i.exception() {
            let (cause, context, suppress) = {
                let d = data.borrow();
                (d.cause.clone(), d.context.clone(), d.suppress_context)
            };
            if !cause.is_none() {
                format_chain(vm, &cause, out, depth + 1);
                out.push_str(
                    "\nThe above exception was the direct cause of the following exception:\n\n",
                );
            } else if !context.is_none() && !suppress {
                format_chain(vm, &context, out, depth + 1);
                out.push_str(
                    "\nDuring handling of the above exception, another exception occurred:\n\n",
                );
            }
        }
    }
    let frames = frames_of(exc);
    if !frames.is_empty() {
        out.push_str("Traceback (most recent call last):\n");
        for f in &frames {
            out.push_str(&format!(
                "  File \"{}\", line {}, in {}\n",
                f.file, f.line, f.function
            ));
            let src = f.source_line.trim();
            if !src.is_empty() {
                out.push_str(&format!("    {src}\n"));
            }
        }
    }
    out.push_str(&exception_line(vm, exc));
    out.push('\n');
    // Exception groups list their members.
    let items = crate::exceptions::group_items(exc);
    for (n, item) in items.iter().enumerate() {
        out.push_str(&format!("  +---------------- {} ----------------\n", n + 1));
        let mut inner = String::new();
        format_chain(vm, item, &mut inner, depth + 1);
        for line in inner.lines() {
            out.push_str(&format!("    | {line}\n"));
        }
    }
    if !items.is_empty() {
        out.push_str("    +------------------------------------\n");
    }
}
