//! The REPL's own commands, typed at `>>> ` with a leading colon. No Python REPL has them:
//! `:tasks` and `:where` look into the live event loop (aiomonitor needs a telnet session for
//! that), `:cancel` stops a task, `:load` runs a file into the session, `:reset` starts over,
//! `:time` times one statement.

use std::path::Path;
use std::rc::Rc;

use eddy_stdlib::asyncio::tasktree::{self, Frame, TaskInfo};
use eddy_stdlib::asyncio::{futures, reactor, tasks};
use eddy_vm::objects::module::Module;
use eddy_vm::Value;

use super::{Outcome, Session};

const HELP: &str = "\
Type Python (Eddy) statements; an expression's value is echoed and kept in _.
`await` works at the prompt, and the event loop keeps running between prompts:
tasks made with asyncio.create_task() go on while you type.

Commands:
  :help           this text
  :tasks          the live tasks: name, state, where each waits, how long it has run
  :where NAME     the await chain of task NAME, with source lines
  :cancel NAME    cancel task NAME
  :load FILE      run FILE in this session (its globals become yours)
  :reset          cancel every task and start again with empty globals
  :time STMT      run STMT and print its wall time

Keys: Tab completes names and attributes, Up/Down recall history (kept across
sessions), Ctrl-C clears the line or stops the running statement, Ctrl-D leaves.
A block (def, for, if, ...) ends with a blank line; a pasted block runs whole.
";

/// Runs the command line `line` (starting with `:`).
pub(super) fn run(s: &mut Session<'_>, line: &str) -> Outcome {
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (line, ""),
    };
    match name {
        ":help" | ":h" | ":?" => out(s, HELP),
        ":tasks" => tasks_table(s),
        ":where" => with_task(s, ":where", arg, where_),
        ":cancel" => with_task(s, ":cancel", arg, cancel),
        ":load" if !arg.is_empty() => return s.run_file(Path::new(arg)),
        ":reset" => reset(s),
        ":time" if !arg.is_empty() => return s.time_input(arg),
        ":load" | ":time" => err(s, &format!("{name} needs an argument; :help explains it")),
        _ => err(
            s,
            &format!("unknown command {name}; :help lists the commands"),
        ),
    }
    Outcome::Done
}

fn out(s: &mut Session<'_>, text: &str) {
    s.vm.write_stdout(text);
    s.vm.flush();
}

fn err(s: &mut Session<'_>, text: &str) {
    s.vm.flush();
    eprintln!("{text}");
}

/// Seconds as `0.042s`, `12.3s` or `4m05s`.
pub fn duration(secs: f64) -> String {
    if secs < 1.0 {
        format!("{secs:.3}s")
    } else if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = secs as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

/// The task's name without the quotes of its repr.
fn bare_name(info: &TaskInfo) -> &str {
    info.name
        .strip_prefix('\'')
        .and_then(|n| n.strip_suffix('\''))
        .unwrap_or(&info.name)
}

/// Frames of Eddy's own asyncio helpers (and native coroutines), not the user's code.
fn is_internal(f: &Frame) -> bool {
    f.line == 0 || f.file.starts_with("<asyncio")
}

/// The frame a table row shows: the innermost of the user's code.
fn innermost(chain: &[Frame]) -> String {
    chain
        .iter()
        .rev()
        .find(|f| !is_internal(f))
        .or(chain.last())
        .map(|f| f.to_string())
        .unwrap_or_default()
}

fn tasks_table(s: &mut Session<'_>) {
    let infos = tasktree::task_infos(s.vm, &s.core);
    if infos.is_empty() {
        out(s, "no tasks\n");
        return;
    }
    let now = reactor::now();
    let rows: Vec<[String; 4]> = infos
        .iter()
        .map(|i| {
            let created = futures::with_task(&i.task, |_, d| d.created).unwrap_or(now);
            [
                bare_name(i).to_string(),
                i.state.clone(),
                duration(now - created),
                innermost(&i.chain),
            ]
        })
        .collect();
    let header = ["NAME", "STATE", "AGE", "AT"].map(String::from);
    let widths: Vec<usize> = (0..3)
        .map(|c| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        for (c, w) in widths.iter().enumerate() {
            text.push_str(&format!("{:<w$}  ", row[c], w = *w));
        }
        text.push_str(&row[3]);
        text.push('\n');
    }
    out(s, &text);
}

/// Finds the live task called `name` and hands it to `act`.
fn with_task(s: &mut Session<'_>, command: &str, name: &str, act: fn(&mut Session<'_>, &TaskInfo)) {
    if name.is_empty() {
        err(
            s,
            &format!("{command} needs a task name; :tasks lists them"),
        );
        return;
    }
    let name = name.trim_matches(|c| c == '\'' || c == '"');
    let infos = tasktree::task_infos(s.vm, &s.core);
    match infos.iter().find(|i| bare_name(i) == name) {
        Some(info) => act(s, info),
        None => err(
            s,
            &format!("no live task named {name:?}; :tasks lists them"),
        ),
    }
}

fn where_(s: &mut Session<'_>, info: &TaskInfo) {
    let mut text = format!("task {} {}\n", info.name, info.state);
    if info.chain.is_empty() {
        text.push_str("  (not started yet)\n");
    }
    for f in &info.chain {
        if f.line == 0 {
            text.push_str(&format!("  {}() (built in)\n", f.func));
        } else {
            text.push_str(&format!(
                "  File \"{}\", line {}, in {}\n",
                f.file, f.line, f.func
            ));
            if !f.source.is_empty() {
                text.push_str(&format!("    {}\n", f.source));
            }
        }
    }
    out(s, &text);
}

fn cancel(s: &mut Session<'_>, info: &TaskInfo) {
    match tasks::cancel(s.vm, &info.task, Value::None) {
        Ok(_) => out(s, &format!("cancelled task {}\n", info.name)),
        Err(e) => {
            let text = eddy_vm::traceback::format_exception(s.vm, &e);
            err(s, text.trim_end());
        }
    }
}

/// Cancels every live task, then gives the session a fresh `__main__`.
fn reset(s: &mut Session<'_>) {
    let live = tasktree::task_infos(s.vm, &s.core);
    for info in &live {
        let _ = tasks::cancel(s.vm, &info.task, Value::None);
    }
    let module = Rc::new(Module::new("__main__"));
    if let Some(asyncio) = s.module.get("asyncio") {
        module.set("asyncio", asyncio);
    }
    s.vm.modules
        .insert("__main__".into(), Value::Module(module.clone()));
    s.module = module;
    s.vm.builtins.remove("_");
    let n = live.len();
    let plural = if n == 1 { "" } else { "s" };
    out(
        s,
        &format!("session reset: new globals, {n} task{plural} cancelled\n"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.0421), "0.042s");
        assert_eq!(duration(12.34), "12.3s");
        assert_eq!(duration(245.0), "4m05s");
    }
}
