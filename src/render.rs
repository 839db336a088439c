//! Rendering an [`Error`] as the text a person reads on stderr.
//!
//! A syntax error becomes an ariadne report (file:line:col, the source line, the parser's label
//! under the span, the help line); an uncaught exception becomes a traceback whose outer frames
//! are printed as CPython prints them (with `^^^` under the running expression) and whose
//! innermost frame is an ariadne report. Either way the LAST line is exactly what CPython prints
//! last (`SyntaxError: message`, `ExcType: message`, or the last note), because tools and the
//! conformance suite read only that line.
//! This module returns strings; it never prints, and it knows nothing of terminals: the caller
//! says whether to use colour.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::ops::Range;

use ariadne::{Color, Config, Fmt, IndexType, Label, Report, ReportKind, Source};

use crate::error::{ChainedException, Error, Frame, Link, SyntaxError, Uncaught};

/// How many identical consecutive frames are shown before they are summarised, as in CPython.
const REPEATED_FRAMES_SHOWN: usize = 3;

/// Renders `err` as a complete report, ending in a newline (empty for a silent `SystemExit`).
pub fn render(err: &Error, color: bool) -> String {
    match err {
        Error::Syntax(syntax) => syntax_report(syntax, color),
        // SystemExit's report is its message (or nothing); a group's members need the plain text.
        Error::Exception(u) if u.exit_code.is_some() || u.is_group => u.report.clone(),
        Error::Exception(u) => {
            let mut out = String::new();
            for earlier in &u.chain {
                plain_exception(&mut out, earlier, &u.sources, color);
                out.push_str(match earlier.link {
                    Link::Cause => {
                        "\nThe above exception was the direct cause of the following exception:\n\n"
                    }
                    Link::Context => {
                        "\nDuring handling of the above exception, another exception occurred:\n\n"
                    }
                });
            }
            final_exception(&mut out, u, color);
            out
        }
        Error::Io(message) | Error::Host(message) => format!("eddy: {message}\n"),
    }
}

fn config(color: bool) -> Config {
    Config::default()
        .with_index_type(IndexType::Byte)
        .with_color(color)
}

/// Clamps a byte span into `text` and onto character boundaries, so a bad span cannot panic.
fn clamp_span(text: &str, span: Range<usize>) -> Range<usize> {
    let mut start = span.start.min(text.len());
    let mut end = span.end.clamp(start, text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

fn syntax_report(err: &SyntaxError, color: bool) -> String {
    let SyntaxError {
        kind,
        file,
        source,
        message,
        span,
        label,
        help,
        ..
    } = err;
    let span = clamp_span(source, span.start as usize..span.end as usize);
    let file = file.as_str();
    let mut builder = Report::build(ReportKind::Error, (file, span.clone()))
        .with_config(config(color))
        .with_message(message)
        .with_label(
            Label::new((file, span))
                .with_message(label)
                .with_color(Color::Red),
        );
    if let Some(help) = help {
        builder = builder.with_help(help);
    }
    let mut out = write_report(builder.finish(), file, source);
    let _ = writeln!(out, "{kind}: {message}");
    out
}

/// A warning of `eddy check` (see `lint.rs`) over `source`, the text of its file: an ariadne
/// report with the label under the span and the help line.
pub fn warning(w: &crate::lint::Warning, source: &str, color: bool) -> String {
    let span = clamp_span(source, w.span.start as usize..w.span.end as usize);
    let file = w.file.as_str();
    let mut builder = Report::build(ReportKind::Warning, (file, span.clone()))
        .with_config(config(color))
        .with_message(&w.message)
        .with_label(
            Label::new((file, span))
                .with_message(&w.label)
                .with_color(Color::Yellow),
        );
    if let Some(help) = &w.help {
        builder = builder.with_help(help);
    }
    write_report(builder.finish(), file, source)
}

/// Writes an ariadne report over one source file to a string.
fn write_report(report: Report<'_, (&str, Range<usize>)>, file: &str, source: &str) -> String {
    let mut buf = Vec::new();
    let _ = report.write((file, Source::from(source)), &mut buf);
    // ariadne pads its lines with spaces; nobody needs them, and they make snapshots noisy.
    let mut out = String::with_capacity(buf.len());
    for line in String::from_utf8_lossy(&buf).lines() {
        out.push_str(line.trim_end_matches(' '));
        out.push('\n');
    }
    out
}

/// An earlier exception of a chain, as CPython prints it.
fn plain_exception(
    out: &mut String,
    exc: &ChainedException,
    sources: &BTreeMap<String, String>,
    color: bool,
) {
    if !exc.frames.is_empty() {
        out.push_str("Traceback (most recent call last):\n");
        plain_frames(out, &exc.frames, sources, color);
    }
    push_last_lines(out, &exc.last_line, &exc.notes);
}

/// The exception that ended the script: outer frames as CPython prints them, the innermost one as
/// an ariadne report labelled with the exception, then the CPython last line.
fn final_exception(out: &mut String, u: &Uncaught, color: bool) {
    let Uncaught {
        frames,
        last_line,
        notes,
        sources,
        ..
    } = u;
    let Some((innermost, outer)) = frames.split_last() else {
        push_last_lines(out, last_line, notes);
        return;
    };
    out.push_str("Traceback (most recent call last):\n");
    plain_frames(out, outer, sources, color);
    match sources
        .get(&innermost.file)
        .filter(|_| !innermost.source_line.trim().is_empty())
    {
        Some(text) => {
            let _ = writeln!(
                out,
                "  File \"{}\", line {}, in {}",
                innermost.file, innermost.line, innermost.function
            );
            out.push_str(&frame_report(innermost, last_line, text, color));
        }
        None => plain_frames(out, std::slice::from_ref(innermost), sources, color),
    }
    push_last_lines(out, last_line, notes);
}

fn frame_report(frame: &Frame, last_line: &str, text: &str, color: bool) -> String {
    let span = clamp_span(text, frame.span.0..frame.span.1);
    let file = frame.file.as_str();
    let (type_name, _) = last_line.split_once(':').unwrap_or((last_line, ""));
    let label = format!("{type_name} raised here");
    let report = Report::build(ReportKind::Error, (file, span.clone()))
        .with_config(config(color))
        .with_message(last_line)
        .with_label(
            Label::new((file, span))
                .with_message(label)
                .with_color(Color::Red),
        )
        .finish();
    // The `File ..., in f` line already says where we are, and the last line says what was raised:
    // ariadne's header line (`Error: ...`) would only repeat it.
    let text = write_report(report, file, text);
    text.split_once('\n')
        .map_or(text.clone(), |(_, rest)| rest.to_string())
}

fn push_last_lines(out: &mut String, last_line: &str, notes: &[String]) {
    out.push_str(last_line);
    out.push('\n');
    for note in notes {
        out.push_str(note);
        out.push('\n');
    }
}

/// Frames in CPython's layout, with runs of the same frame (deep recursion) summarised.
fn plain_frames(
    out: &mut String,
    frames: &[Frame],
    sources: &BTreeMap<String, String>,
    color: bool,
) {
    let mut i = 0;
    while i < frames.len() {
        let same = frames[i..]
            .iter()
            .take_while(|f| same_place(f, &frames[i]))
            .count();
        for frame in &frames[i..i + same.min(REPEATED_FRAMES_SHOWN)] {
            plain_frame(out, frame, sources, color);
        }
        if same > REPEATED_FRAMES_SHOWN {
            let more = same - REPEATED_FRAMES_SHOWN;
            let s = if more == 1 { "" } else { "s" };
            let _ = writeln!(out, "  [Previous line repeated {more} more time{s}]");
        }
        i += same;
    }
}

fn same_place(a: &Frame, b: &Frame) -> bool {
    a.file == b.file && a.line == b.line && a.function == b.function
}

/// `  File "x.py", line 3, in f`, the stripped source line, and carets under the running
/// expression when it does not cover the whole line (as CPython 3.11 does).
fn plain_frame(out: &mut String, frame: &Frame, sources: &BTreeMap<String, String>, color: bool) {
    let _ = writeln!(
        out,
        "  File \"{}\", line {}, in {}",
        frame.file, frame.line, frame.function
    );
    let line = frame.source_line.as_str();
    let stripped = line.trim_start();
    if stripped.trim().is_empty() {
        return;
    }
    let _ = writeln!(out, "    {}", stripped.trim_end());
    if let Some(carets) = carets(frame, line, sources) {
        let carets = if color {
            carets.fg(Color::Red).to_string()
        } else {
            carets
        };
        let _ = writeln!(out, "    {carets}");
    }
}

/// The `    ^^^^` line for a frame, or None when the span covers the whole stripped line.
fn carets(frame: &Frame, line: &str, sources: &BTreeMap<String, String>) -> Option<String> {
    let text = sources.get(&frame.file)?;
    let span = clamp_span(text, frame.span.0..frame.span.1);
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let indent = line.len() - line.trim_start().len();
    let content_end = line.trim_end().len();
    let start = (span.start - line_start).clamp(indent, content_end);
    let end = (span.end.saturating_sub(line_start)).clamp(start, content_end);
    if end <= start || (start == indent && end == content_end) {
        return None;
    }
    let pad = line.get(indent..start)?.chars().count();
    let width = line.get(start..end)?.chars().count();
    Some(format!("{}{}", " ".repeat(pad), "^".repeat(width)))
}
