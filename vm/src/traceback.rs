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

/// The whole report, as CPython prints it to stderr (CPython's `TracebackException.format`:
/// chained exceptions first, exception groups as indented, boxed sub-reports).
pub fn format_exception(vm: &mut Vm, exc: &Value) -> String {
    let mut ctx = PrintContext::default();
    let mut out = String::new();
    format_one(vm, exc, &mut out, &mut ctx, 0);
    out
}

/// How deep inside exception groups the report is (`_ExceptionPrintContext`).
#[derive(Default)]
struct PrintContext {
    group_depth: usize,
    need_close: bool,
}

/// CPython's limits on how much of a group it prints.
const MAX_GROUP_WIDTH: usize = 15;
const MAX_GROUP_DEPTH: usize = 10;

impl PrintContext {
    fn indent(&self) -> String {
        " ".repeat(2 * self.group_depth)
    }

    /// Appends `text` with every line prefixed by the indentation and margin (`|` or `+`).
    fn emit(&self, out: &mut String, text: &str, margin: char) {
        let mut prefix = self.indent();
        if self.group_depth > 0 {
            prefix.push(margin);
            prefix.push(' ');
        }
        for line in text.split_inclusive('\n') {
            out.push_str(&prefix);
            out.push_str(line);
        }
    }
}

/// The cause or context `exc` is chained to, with the sentence that introduces `exc` after it.
fn chained(exc: &Value) -> Option<(Value, &'static str)> {
    let Value::Instance(i) = exc else {
        return None;
    };
    let data = i.exception()?;
    let d = data.borrow();
    if !d.cause.is_none() {
        return Some((
            d.cause.clone(),
            "\nThe above exception was the direct cause of the following exception:\n\n",
        ));
    }
    if !d.context.is_none() && !d.suppress_context {
        return Some((
            d.context.clone(),
            "\nDuring handling of the above exception, another exception occurred:\n\n",
        ));
    }
    None
}

fn format_one(vm: &mut Vm, exc: &Value, out: &mut String, ctx: &mut PrintContext, depth: usize) {
    // The chain, innermost cause first (at most 50 deep, against cycles).
    let mut chain: Vec<(Option<&'static str>, Value)> = Vec::new();
    let mut cur = Some((None, exc.clone()));
    while let Some((msg, e)) = cur.take() {
        if chain.len() > 50 || chain.iter().any(|(_, seen)| seen.is(&e)) {
            break;
        }
        cur = chained(&e).map(|(next, m)| (Some(m), next));
        chain.push((msg, e));
    }
    // Each exception is printed after the one it is chained to, introduced by the sentence
    // stored with that one.
    for i in (0..chain.len()).rev() {
        if let Some((Some(msg), _)) = chain.get(i + 1) {
            ctx.emit(out, msg, '|');
        }
        let e = chain[i].1.clone();
        format_single(vm, &e, out, ctx, depth);
    }
}

fn format_single(vm: &mut Vm, exc: &Value, out: &mut String, ctx: &mut PrintContext, depth: usize) {
    let items = crate::exceptions::group_items(exc);
    let frames = frames_of(exc);
    if items.is_empty() {
        if !frames.is_empty() {
            ctx.emit(out, "Traceback (most recent call last):\n", '|');
            ctx.emit(out, &format_frames(&frames), '|');
        }
        ctx.emit(out, &exception_only(vm, exc), '|');
        return;
    }
    if ctx.group_depth > MAX_GROUP_DEPTH {
        ctx.emit(
            out,
            &format!("... (max_group_depth is {MAX_GROUP_DEPTH})\n"),
            '|',
        );
        return;
    }
    let toplevel = ctx.group_depth == 0;
    if toplevel {
        ctx.group_depth += 1;
    }
    if !frames.is_empty() {
        let margin = if toplevel { '+' } else { '|' };
        ctx.emit(
            out,
            "Exception Group Traceback (most recent call last):\n",
            margin,
        );
        ctx.emit(out, &format_frames(&frames), '|');
    }
    ctx.emit(out, &exception_only(vm, exc), '|');
    let shown = items.len().min(MAX_GROUP_WIDTH + 1);
    ctx.need_close = false;
    for i in 0..shown {
        let last = i + 1 == shown;
        if last {
            ctx.need_close = true;
        }
        let truncated = i >= MAX_GROUP_WIDTH;
        let title = if truncated {
            "...".to_string()
        } else {
            (i + 1).to_string()
        };
        out.push_str(&ctx.indent());
        out.push_str(if i == 0 { "+-" } else { "  " });
        out.push_str(&format!("+---------------- {title} ----------------\n"));
        ctx.group_depth += 1;
        if truncated {
            let remaining = items.len() - MAX_GROUP_WIDTH;
            let plural = if remaining > 1 { "s" } else { "" };
            ctx.emit(
                out,
                &format!("and {remaining} more exception{plural}\n"),
                '|',
            );
        } else if depth < 50 {
            format_one(vm, &items[i], out, ctx, depth + 1);
        }
        if last && ctx.need_close {
            out.push_str(&ctx.indent());
            out.push_str("+------------------------------------\n");
            ctx.need_close = false;
        }
        ctx.group_depth -= 1;
    }
    if toplevel {
        ctx.group_depth = 0;
    }
}

fn format_frames(frames: &[FrameInfo]) -> String {
    let mut out = String::new();
    for f in frames {
        out.push_str(&format!(
            "  File \"{}\", line {}, in {}\n",
            f.file, f.line, f.function
        ));
        let src = f.source_line.trim();
        if !src.is_empty() {
            out.push_str(&format!("    {src}\n"));
        }
    }
    out
}

/// `format_exception_only`: the `ExcType: message` line, then the exception's notes.
fn exception_only(vm: &mut Vm, exc: &Value) -> String {
    let mut out = exception_line(vm, exc);
    out.push('\n');
    if let Value::Instance(i) = exc {
        if let Some(d) = i.exception() {
            for note in &d.borrow().notes {
                out.push_str(note);
                out.push('\n');
            }
        }
    }
    out
}
