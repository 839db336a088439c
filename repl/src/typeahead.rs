//! Lines typed ahead while an input ran. The terminal is in cooked mode then, so the kernel
//! keeps what the user types, a line at a time; rustyline would read all of it in one gulp
//! when it next starts, use the first line and drop the rest. So before each prompt the editor
//! thread takes the complete lines waiting on standard input itself and hands them over one
//! per prompt, as CPython's REPL does; a partly typed line stays with the terminal and
//! rustyline picks it up.

use std::os::fd::RawFd;

/// Lines read from the terminal but not yet handed to the session.
#[derive(Default)]
pub struct TypeAhead {
    pending: String,
    eof: bool,
}

/// What the next prompt gets from the type-ahead.
pub enum Ahead {
    Line(String),
    /// Ctrl-D was typed ahead on an empty line.
    Eof,
    /// Nothing complete: read interactively.
    Nothing,
}

impl TypeAhead {
    /// Takes the next complete line typed ahead on `fd` (standard input), if any.
    pub fn next(&mut self, fd: RawFd) -> Ahead {
        if self.pending.is_empty() && !self.eof {
            self.fill(fd);
        }
        if let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            return Ahead::Line(line.trim_end_matches(['\n', '\r']).to_string());
        }
        if self.eof {
            self.eof = false;
            return Ahead::Eof;
        }
        Ahead::Nothing
    }

    /// Reads what the terminal has ready without blocking (in cooked mode: whole lines).
    fn fill(&mut self, fd: RawFd) {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        while readable(fd) {
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            match n {
                0 => {
                    self.eof = true;
                    break;
                }
                n if n > 0 => bytes.extend_from_slice(&buf[..n as usize]),
                _ => break,
            }
        }
        self.pending.push_str(&String::from_utf8_lossy(&bytes));
    }
}

/// True when a read of `fd` would not block.
fn readable(fd: RawFd) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents & libc::POLLIN != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn hands_out_complete_lines_one_at_a_time() {
        let (mut w, r) = UnixStream::pair().expect("socket pair");
        let mut t = TypeAhead::default();
        assert!(matches!(t.next(r.as_raw_fd()), Ahead::Nothing));
        w.write_all(b"x = 1\r\nprint(x)\npartial").expect("write");
        let fd = r.as_raw_fd();
        assert!(matches!(t.next(fd), Ahead::Line(l) if l == "x = 1"));
        assert!(matches!(t.next(fd), Ahead::Line(l) if l == "print(x)"));
        assert!(matches!(t.next(fd), Ahead::Nothing));
        drop(w);
        t.pending.clear();
        assert!(matches!(t.next(fd), Ahead::Eof));
    }
}
