//! `examples/c/scan.c` compiled with the system C compiler against the committed header and the
//! built shared library, run on the demo image: by path, by file descriptor, with an early stop,
//! on a missing file, and once under valgrind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

use crate::cdylib::{fixture, lib_dir, repo_root};

/// Compiles the example once per test run; the binary lives in a temp dir kept for the run.
fn scan_binary() -> &'static Path {
    static BIN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, bin) = BIN.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().join("scan");
        let lib = lib_dir();
        let out = Command::new("cc")
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-g", "-I"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("include"))
            .arg(repo_root().join("examples/c/scan.c"))
            .arg("-L")
            .arg(&lib)
            .arg("-llayerleak_ffi")
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-o")
            .arg(&bin)
            .output()
            .expect("run cc (install a C compiler)");
        assert!(out.status.success(), "cc failed:\n{}", String::from_utf8_lossy(&out.stderr));
        (dir, bin)
    });
    bin
}

/// A command running the example. `LD_LIBRARY_PATH` is removed: cargo sets it for tests, and it
/// would win over the binary's rpath, possibly loading a stale copy of the library.
fn scan_command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_remove("LD_LIBRARY_PATH");
    cmd
}

fn run(args: &[&str], image: &Path) -> Output {
    scan_command(scan_binary()).args(args).arg(image).output().expect("run scan")
}

/// The JSON findings the example printed, one per stdout line.
fn findings(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn by_rule<'a>(found: &'a [Value], rule: &str) -> &'a Value {
    found.iter().find(|f| f["rule"] == rule).unwrap_or_else(|| panic!("no {rule} finding in {found:#?}"))
}

/// What the demo image must yield, whichever way it was read.
fn assert_demo_findings(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "findings exit 1; stderr:\n{stderr}");
    assert!(stderr.contains("status: ok"), "{stderr}");
    let found = findings(out);
    let key = by_rule(&found, "private-key");
    assert_eq!(key["status"], "deleted");
    assert_eq!(key["visible"], false);
    assert_eq!(key["location"]["path"], "root/.ssh/id_rsa");
    assert_eq!(key["introduced_in"]["index"], 1);
    assert_eq!(key["hidden_in"]["index"], 2);
    assert_eq!(key["hidden_in"]["how"], "whiteout");
    assert!(key.get("secret").is_none(), "secrets are redacted by default");
    let pat = by_rule(&found, "github-pat");
    assert_eq!(pat["status"], "present");
    assert_eq!(pat["location"]["path"], "app/config/settings.json");
    assert_eq!(pat["introduced_in"]["index"], 4);
    assert!(pat["hidden_in"].is_null());
    assert_eq!(by_rule(&found, "aws-access-key-id")["location"]["path"], "config.Env[1]");
    assert!(stderr.contains(&format!("status: ok, {} finding(s)", found.len())), "{stderr}");
}

#[test]
fn c_example_scans_the_demo_image_by_path() {
    assert_demo_findings(&run(&[], &fixture("demo.tar")));
}

#[test]
fn c_example_scans_the_demo_image_by_file_descriptor() {
    let by_fd = run(&["--fd"], &fixture("demo.tar"));
    assert_demo_findings(&by_fd);
    let by_path = run(&[], &fixture("demo.tar"));
    let fingerprints =
        |o: &Output| -> Vec<Value> { findings(o).iter().map(|f| f["fingerprint"].clone()).collect() };
    assert_eq!(fingerprints(&by_fd), fingerprints(&by_path), "same findings in the same order");
}

#[test]
fn c_example_stops_when_the_callback_returns_non_zero() {
    let out = run(&["--stop-after", "1"], &fixture("demo.tar"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(findings(&out).len(), 1, "exactly one finding delivered");
    assert!(stderr.contains("status: stopped after 1 finding(s)"), "{stderr}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn c_example_prints_the_whole_report() {
    let out = run(&["--report"], &fixture("demo.tar"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    assert_eq!(report["schema"], 1);
    assert_eq!(report["images"][0]["name"], "layerleak/demo:latest");
    let found = report["findings"].as_array().expect("findings array");
    assert_eq!(by_rule(found, "private-key")["hidden_in"]["index"], 2);
}

#[test]
fn c_example_never_receives_the_arg_token_repeated_in_step_texts() {
    // The C ABI serializes the core's report types, so it inherits their redaction.
    const NPM: &str = "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";
    let streamed = run(&[], &fixture("argleak.tar"));
    let report = run(&["--report"], &fixture("argleak.tar"));
    for out in [&streamed, &report] {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("NPM_TOKEN=npm_***** /bin/sh -c"), "{stdout}");
        assert!(!stdout.contains(NPM), "{stdout}");
    }
}

#[test]
fn c_example_reports_a_missing_file_with_the_last_error() {
    let missing = repo_root().join("testdata/fixtures/no-such-image.tar");
    let out = run(&[], &missing);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("no-such-image.tar"), "the error names the input: {stderr}");
}

#[test]
fn c_example_has_no_leaks_or_invalid_accesses_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("valgrind not installed: skipping the memory check of examples/c/scan.c");
        return;
    }
    // The callback path and the returned-string path; valgrind is slow, so not every mode.
    // "Possibly lost" is not counted: crossbeam-epoch (under rayon's deques) keeps a record of
    // every thread that used it in its global collector and frees those lazily. Freeing the
    // scanner does join its worker threads (scan::workers), so nothing of ours is left running.
    for args in [&[][..], &["--report"]] {
        let out = scan_command(Path::new("valgrind"))
            .args(["--leak-check=full", "--error-exitcode=99", "--errors-for-leak-kinds=definite,indirect"])
            .arg(scan_binary())
            .args(args)
            .arg(fixture("demo.tar"))
            .output()
            .expect("run valgrind");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let summary: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("ERROR SUMMARY") || l.contains(" lost:") || l.contains("All heap blocks"))
            .collect();
        println!("valgrind scan {args:?}:\n{}", summary.join("\n"));
        assert_ne!(out.status.code(), Some(99), "valgrind found errors for {args:?}:\n{stderr}");
        assert!(stderr.contains("status: "), "the scan ran to its end: {stderr}");
        assert!(stderr.contains("ERROR SUMMARY: 0 errors"), "{stderr}");
    }
}
