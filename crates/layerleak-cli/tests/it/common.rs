//! Running the binary from the workspace root and turning a run into a stable snapshot text.

use std::path::{Path, PathBuf};
use std::process::Output;

/// The workspace root: fixture paths are given relative to it, so no machine path reaches a
/// snapshot.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The gitleaks-format rules the snapshot tests scan with (stable while built-in rules grow).
pub const TEST_RULES: &str = "crates/layerleak-cli/tests/it/data/gitleaks.toml";

/// A `layerleak` command run from the workspace root, without `NO_COLOR`, `CLICOLOR_FORCE` or
/// `COLUMNS` from the caller.
pub fn cmd() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_layerleak"));
    c.current_dir(root()).env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("COLUMNS");
    c
}

/// Runs `layerleak ARGS`.
pub fn run(args: &[&str]) -> Output {
    cmd().args(args).output().expect("the layerleak binary runs")
}

/// `layerleak scan --no-builtin-rules --rules TEST_RULES ARGS`.
pub fn scan(args: &[&str]) -> Output {
    let mut all = vec!["scan", "--no-builtin-rules", "--rules", TEST_RULES];
    all.extend_from_slice(args);
    run(&all)
}

/// Exit status, stdout and stderr as one text.
pub fn transcript(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().map_or_else(|| "signal".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Exit status of a run (panics on a signal, which is always a failure here).
pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed by a signal")
}

/// Snapshots a run, with wall time and the crate version filtered out.
pub fn snapshot(name: &str, out: &Output) {
    let version = env!("CARGO_PKG_VERSION").replace('.', r"\.");
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r#""seconds": ?[0-9.eE+-]+"#, r#""seconds": "[seconds]""#);
    settings.add_filter(r"errors, [0-9]+\.[0-9] s\b", "errors, [seconds] s");
    settings.add_filter(&format!(r#""version": ?"{version}""#), r#""version": "[version]""#);
    settings.add_filter(&format!(r"layerleak {version}\b"), "layerleak [version]");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, transcript(out)));
}

/// A table with the scan time of its summary lines (`…, 0 errors, 0.1 s`) left out, so two runs
/// compare equal.
pub fn strip_table_seconds(s: &str) -> String {
    s.lines().map(|l| l.rsplit_once(" errors, ").map_or(l, |(head, _)| head)).collect::<Vec<_>>().join("\n")
}

/// Stdout of a table run, without its scan times.
pub fn table_text(out: &Output) -> String {
    strip_table_seconds(&String::from_utf8_lossy(&out.stdout))
}

/// Parses stdout as one JSON document.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}
