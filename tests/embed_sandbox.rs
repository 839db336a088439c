//! The sandbox (issue 6): each capability is refused in a default embedded VM with a
//! PermissionError naming it and the target, and allowed once granted; scoped grants admit
//! targets inside their scope only, through the API and through `eddy --allow-read=DIR`.

use std::path::PathBuf;
use std::process::Command;

use eddy::Vm;

/// A fresh directory under the target dir, with `inside/a.txt` and `outside/b.txt`.
fn fixture(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sandbox-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("inside")).unwrap();
    std::fs::create_dir_all(dir.join("outside")).unwrap();
    std::fs::write(dir.join("inside/a.txt"), "a").unwrap();
    std::fs::write(dir.join("outside/b.txt"), "b").unwrap();
    dir
}

/// Runs `script` and returns what it printed, or the error's last line.
fn outcome(vm: &mut Vm, script: &str) -> String {
    match vm.run(script) {
        Ok(()) => vm.take_stdout(),
        Err(e) => e.last_line(),
    }
}

/// One capability: the script in a default VM fails with a PermissionError mentioning
/// `what`; with the grant it prints `ok`.
fn refused_then_granted(
    script: &str,
    what: &str,
    grant: impl FnOnce(eddy::Builder) -> eddy::Builder,
) {
    let mut denied = Vm::builder().capture_output().build();
    let line = outcome(&mut denied, script);
    assert!(line.starts_with("PermissionError: "), "{line}");
    assert!(line.contains(what), "{line}");
    let mut allowed = grant(Vm::builder().capture_output()).build();
    assert_eq!(outcome(&mut allowed, script), "ok\n");
}

#[test]
fn read() {
    let dir = fixture("read");
    let inside = dir.join("inside").display().to_string();
    refused_then_granted(
        &format!("import os\nassert os.listdir({inside:?}) == ['a.txt']\nprint('ok')\n"),
        &format!("read access to '{inside}'"),
        |b| b.allow_read(&inside),
    );
}

#[test]
fn write() {
    let dir = fixture("write");
    let target = dir.join("inside/new").display().to_string();
    refused_then_granted(
        &format!("import os\nos.mkdir({target:?})\nos.rmdir({target:?})\nprint('ok')\n"),
        "write access to",
        |b| b.allow_write(&dir.display().to_string()),
    );
}

#[test]
fn net_listen_and_connect() {
    let script = "import asyncio\nasync def main():\n    server = await asyncio.start_server(lambda r, w: w.close(), '127.0.0.1', 0)\n    port = server.sockets[0].getsockname()[1]\n    r, w = await asyncio.open_connection('127.0.0.1', port)\n    w.close()\n    server.close()\n    print('ok')\nasyncio.run(main())\n";
    refused_then_granted(script, "'127.0.0.1:0'", |b| b.allow_net("127.0.0.1"));
    // Connecting alone is refused when only listening was granted.
    let mut vm = Vm::builder()
        .capture_output()
        .allow(eddy::Capability::Listen, Some("127.0.0.1"))
        .build();
    let line = outcome(&mut vm, script);
    assert!(
        line.starts_with("PermissionError: network access to '127.0.0.1:"),
        "{line}"
    );
}

#[test]
fn run() {
    refused_then_granted(
        "import asyncio\nasync def main():\n    p = await asyncio.create_subprocess_exec('true')\n    assert await p.wait() == 0\n    print('ok')\nasyncio.run(main())\n",
        "permission to run 'true'",
        |b| b.allow_run("true"),
    );
}

#[test]
fn env() {
    std::env::set_var("EDDY_SANDBOX_TEST", "v");
    refused_then_granted(
        "import os\nassert os.getenv('EDDY_SANDBOX_TEST') == 'v'\nassert os.environ['EDDY_SANDBOX_TEST'] == 'v'\nprint('ok')\n",
        "environment variable 'EDDY_SANDBOX_TEST'",
        |b| b.allow_env("EDDY_SANDBOX_*"),
    );
    // os.environ holds only granted variables; asking for another is a PermissionError.
    let mut vm = Vm::builder()
        .capture_output()
        .allow_env("EDDY_SANDBOX_TEST")
        .build();
    let line = outcome(
        &mut vm,
        "import os\nprint(list(os.environ))\nos.environ['PATH']\n",
    );
    assert!(line.contains("environment variable 'PATH'"), "{line}");
    assert_eq!(vm.take_stdout(), "['EDDY_SANDBOX_TEST']\n");
}

#[test]
fn a_scoped_read_grant_admits_inside_and_refuses_outside() {
    let dir = fixture("scoped");
    let inside = dir.join("inside").display().to_string();
    let mut vm = Vm::builder().capture_output().allow_read(&inside).build();
    let a = dir.join("inside/a.txt").display().to_string();
    let b = dir.join("outside/b.txt").display().to_string();
    let escape = format!("{inside}/../outside/b.txt");
    assert_eq!(
        outcome(
            &mut vm,
            &format!("import os\nprint(os.path.getsize({a:?}))")
        ),
        "1\n"
    );
    for path in [&b, &escape] {
        let line = outcome(&mut vm, &format!("import os\nos.path.getsize({path:?})"));
        assert!(
            line.starts_with("PermissionError: read access to"),
            "{line}"
        );
    }
}

#[test]
fn the_cli_grants_all_by_default_and_scopes_with_flags() {
    let dir = fixture("cli");
    let script = dir.join("t.py");
    let a = dir.join("inside/a.txt").display().to_string();
    let b = dir.join("outside/b.txt").display().to_string();
    std::fs::write(
        &script,
        format!("import os\nprint(os.path.exists({a:?}))\nprint(os.path.exists({b:?}))\n"),
    )
    .unwrap();
    let eddy = env!("CARGO_BIN_EXE_eddy");
    let all = Command::new(eddy).arg(&script).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&all.stdout), "True\nTrue\n");
    let flag = format!("--allow-read={}", dir.join("inside").display());
    let scoped = Command::new(eddy).arg(&flag).arg(&script).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&scoped.stdout), "True\n");
    let stderr = String::from_utf8_lossy(&scoped.stderr);
    assert!(
        stderr.contains(&format!(
            "PermissionError: read access to '{b}' is not granted"
        )),
        "{stderr}"
    );
    assert_eq!(scoped.status.code(), Some(1));
    let none = Command::new(eddy)
        .args(["--sandbox", "-c", "import os\nos.getenv('HOME')"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&none.stderr).contains("PermissionError"));
}

#[test]
fn process_pool_workers_inherit_the_sandbox() {
    let mut vm = Vm::builder().capture_output().build();
    let out = outcome(
        &mut vm,
        "import os\nfrom concurrent.futures import ProcessPoolExecutor\ndef peek():\n    try:\n        return os.getenv('HOME')\n    except PermissionError:\n        return 'refused'\nwith ProcessPoolExecutor(1) as ex:\n    print(ex.submit(peek).result())\n",
    );
    assert_eq!(out, "refused\n");
}
