//! A scan that covered nothing (no rule, no image, no readable layer) must not pass: exit 3
//! with its own message, never a clean 0. `--exit-code` sets the status for findings.

use crate::common::{code, run, scan, snapshot};

const DEMO: &str = "testdata/fixtures/demo.tar";

#[test]
fn platform_matching_no_image_is_nothing_scanned() {
    // Regression: an amd64-only image with --platform linux/arm64 scanned 0 images, printed the
    // skipped-platform note twice and exited 0.
    let out = scan(&["--platform", "linux/arm64", DEMO]);
    assert_eq!(code(&out), 3);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("skipped platform linux/amd64").count(), 1, "{stdout}");
    snapshot("coverage_no_platform_matched", &out);
}

#[test]
fn no_rule_loaded_is_nothing_scanned() {
    // Regression: --no-builtin-rules without --rules scanned with no rule and exited 0.
    let out = run(&["scan", "--no-builtin-rules", DEMO]);
    assert_eq!(code(&out), 3);
    assert!(out.stdout.is_empty(), "refused before reading anything");
    snapshot("coverage_no_rule", &out);
    let quiet = run(&["scan", "-q", "--no-builtin-rules", DEMO]);
    assert_eq!(code(&quiet), 3);
    assert!(!quiet.stderr.is_empty(), "the reason is printed even with --quiet");
}

#[test]
fn no_readable_input_is_nothing_scanned() {
    let out = scan(&["testdata/fixtures/bad/bad-json.tar"]);
    assert_eq!(code(&out), 3);
    snapshot("coverage_no_input_readable", &out);
}

/// A `docker save` archive whose only layer is a corrupt gzip stream.
fn every_layer_corrupt(path: &std::path::Path) {
    let manifest = br#"[{"Config":"config.json","RepoTags":["t/broken:1"],"Layers":["l/layer.tar"]}]"#;
    let config = br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}"#;
    let archive = crate::support::tar_of(&[
        ("manifest.json", manifest),
        ("config.json", config),
        ("l/layer.tar", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03not deflate at all"),
    ]);
    std::fs::write(path, archive).expect("writing the archive");
}

#[test]
fn every_layer_unreadable_is_nothing_scanned() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("broken.tar");
    every_layer_corrupt(&path);
    let out = crate::common::cmd()
        .current_dir(dir.path())
        .args(["scan", "--no-builtin-rules", "--rules"])
        .arg(crate::common::root().join(crate::common::TEST_RULES))
        .arg("broken.tar")
        .output()
        .expect("runs");
    assert_eq!(code(&out), 3);
    snapshot("coverage_no_layer_readable", &out);
    let layers = crate::common::cmd().current_dir(dir.path()).args(["layers", "broken.tar"]).output();
    assert_eq!(code(&layers.expect("runs")), 3, "layers refuses to pass too");
}

#[test]
fn exit_code_sets_the_status_for_findings_only() {
    assert_eq!(code(&scan(&["--exit-code", "9", DEMO])), 9);
    snapshot("coverage_exit_code_for_findings", &scan(&["--exit-code", "9", "-q", "-o", "/dev/null", DEMO]));
    assert_eq!(code(&scan(&["--exit-code", "0", DEMO])), 0, "report without failing");
    assert_eq!(code(&scan(&["--exit-code", "9", "--fail-on", "none", DEMO])), 0);
    let partial = scan(&["--exit-code", "9", "testdata/fixtures/bad/corrupt-gzip.tar"]);
    assert_eq!(code(&partial), 2, "unreadable parts win over findings");
    let nothing = scan(&["--exit-code", "9", "--platform", "linux/arm64", DEMO]);
    assert_eq!(code(&nothing), 3);
}

#[test]
fn exit_code_out_of_range_is_a_usage_error() {
    let out = scan(&["--exit-code", "256", DEMO]);
    assert_eq!(code(&out), 2);
    snapshot("coverage_bad_exit_code", &out);
}

#[test]
fn an_input_neither_a_path_nor_a_reference_says_which_it_looked_like() {
    let out = crate::common::run(&["scan", "not a ref!!"]);
    assert_eq!(crate::common::code(&out), 3);
    crate::common::snapshot("coverage_invalid_reference", &out);
    let out = crate::common::run(&["scan", "./no/such/image.tar"]);
    assert_eq!(crate::common::code(&out), 3);
    crate::common::snapshot("coverage_no_such_file", &out);
}

#[test]
fn empty_stdin_is_an_empty_input_not_an_unknown_format() {
    let out = crate::common::cmd().args(["scan", "-"]).write_stdin(Vec::new()).output().expect("runs");
    assert_eq!(crate::common::code(&out), 3);
    crate::common::snapshot("coverage_empty_stdin", &out);
}

#[test]
fn scan_of_stdin_on_a_terminal_says_what_it_waits_for() {
    // A pseudo-terminal as stdin (util-linux `script`); nothing is typed, so the scan waits and
    // `timeout` ends it once the hint had time to show.
    let bin = env!("CARGO_BIN_EXE_layerleak");
    let out = std::process::Command::new("timeout")
        .args(["3", "script", "-qec", &format!("'{bin}' scan -"), "/dev/null"])
        .stdin(std::process::Stdio::null())
        .env_remove("COLUMNS")
        .output()
        .expect("timeout and script run");
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let hint = text.lines().find(|l| l.starts_with("layerleak: ")).unwrap_or_default();
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("coverage_stdin_terminal_hint", hint);
    });
}
