//! Where script output goes during a REPL session. While a statement runs, straight to the
//! terminal (a line at a time, so a long loop's prints appear as they happen). While the
//! prompt is on screen (a background task printing as the user types), through the line
//! editor's external printer, a whole line at a time, so the text appears above the prompt
//! and the line being edited is redrawn intact below it.

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;

use eddy_repl::reader::Printer;
use eddy_vm::vm::OutputSink;

/// The session's output sink; `at_prompt` is shared with the session, which sets it while a
/// prompt is displayed.
pub struct ReplOutput {
    pub at_prompt: Rc<Cell<bool>>,
    printer: Option<Printer>,
    /// Text written at the prompt that does not end a line yet.
    pending: String,
}

impl ReplOutput {
    pub fn new(at_prompt: Rc<Cell<bool>>, printer: Option<Printer>) -> ReplOutput {
        ReplOutput {
            at_prompt,
            printer,
            pending: String::new(),
        }
    }

    /// True when text must go through the external printer.
    fn above_prompt(&self) -> bool {
        self.at_prompt.get() && self.printer.is_some()
    }

    /// Sends the complete lines of `pending` above the prompt.
    fn print_lines(&mut self) {
        let Some(end) = self.pending.rfind('\n') else {
            return;
        };
        let lines: String = self.pending.drain(..=end).collect();
        if let Some(p) = &mut self.printer {
            p.print(lines);
        }
    }

    /// Writes a partial line left from the prompt straight out (the prompt is gone now).
    fn spill(&mut self) {
        if !self.pending.is_empty() {
            let text = std::mem::take(&mut self.pending);
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
}

impl OutputSink for ReplOutput {
    fn write_stdout(&mut self, s: &str) {
        if self.above_prompt() {
            self.pending.push_str(s);
            self.print_lines();
            return;
        }
        self.spill();
        // Rust's stdout is line-buffered: a line appears when it ends, or at `flush`.
        let _ = std::io::stdout().lock().write_all(s.as_bytes());
    }

    fn write_stderr(&mut self, s: &str) {
        if self.above_prompt() {
            self.pending.push_str(s);
            self.print_lines();
            return;
        }
        self.spill();
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().write_all(s.as_bytes());
    }

    fn flush(&mut self) {
        if self.above_prompt() {
            // A partial line stays until its end is written or the prompt goes away.
            return;
        }
        self.spill();
        let _ = std::io::stdout().flush();
    }
}
