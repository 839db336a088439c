//! Snapshot tests of what a person sees on stderr: one fixture per mistake in
//! `tests/diagnostics/NAME.eddy`, run by the real `eddy` binary without colour, its exit status and
//! stderr compared with `tests/diagnostics/snapshots/NAME.snap`. Fixtures named `check_*.eddy` are
//! run with `eddy check` instead of being run.
//! To accept a changed rendering: `INSTA_UPDATE=always cargo test --release --test diagnostics`,
//! then review the `.snap` diff before committing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[test]
fn diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    fixtures.retain(|p| p.extension().is_some_and(|e| e == "eddy"));
    fixtures.sort();
    assert!(!fixtures.is_empty(), "no fixtures in {}", dir.display());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for fixture in &fixtures {
            let name = fixture
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            insta::assert_snapshot!(name.clone(), render(&dir, fixture, &name));
        }
    });
}

/// `exit: N` then the stderr of the fixture, run from its folder.
fn render(dir: &Path, fixture: &Path, name: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eddy"));
    if name.starts_with("check_") {
        cmd.arg("check");
    }
    let output = cmd
        .arg(fixture.file_name().unwrap_or_default())
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("could not run eddy: {e}"));
    let status = output
        .status
        .code()
        .map_or("killed".to_string(), |c| c.to_string());
    format!(
        "exit: {status}\n{}",
        String::from_utf8_lossy(&output.stderr)
    )
}
