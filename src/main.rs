//! The `eddy` command's entry point: runs the command line (`cli/`) on a thread with a big stack.
//! Everything the command does, from parsing its arguments to rendering errors, is in `cli/`.

use std::process::ExitCode;

mod alloc;
mod cli;

/// See `alloc.rs`: mimalloc, for the small objects scripts allocate and free all the time.
#[global_allocator]
static GLOBAL: alloc::MiMalloc = alloc::MiMalloc;

/// Stack size of the thread that runs the command. Script recursion never uses the Rust stack, but
/// native code calling back into scripts and the compiler's walk over deeply nested source do.
const STACK_SIZE: usize = 512 << 20;

/// Exit status when the interpreter itself fails (a panic): EX_SOFTWARE, as sysexits.h names it.
const EXIT_INTERNAL: u8 = 70;

fn main() -> ExitCode {
    alloc::no_huge_pages();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let child = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || cli::main(args));
    match child {
        Ok(handle) => handle.join().unwrap_or(ExitCode::from(EXIT_INTERNAL)),
        Err(_) => ExitCode::from(EXIT_INTERNAL),
    }
}
