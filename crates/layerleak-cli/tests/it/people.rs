//! Output for people: `-f`, `-q` on every subcommand, one summary line on stderr when the report
//! goes to a file, and an `Examples` section in each subcommand's help.

use crate::common::{cmd, code, root, run, scan, snapshot, TEST_RULES};

const DEMO: &str = "testdata/fixtures/demo.tar";

#[test]
fn f_is_short_for_format_everywhere() {
    let short = scan(&["-f", "sarif", DEMO]);
    assert_eq!(code(&short), 1);
    assert!(String::from_utf8_lossy(&short.stdout).contains("\"$schema\""), "SARIF, not the table");
    assert_eq!(
        crate::common::table_text(&scan(&["-f", "table", DEMO])),
        crate::common::table_text(&scan(&["--format", "table", DEMO]))
    );
    assert_eq!(
        run(&["layers", "-f", "json", DEMO]).stdout,
        run(&["layers", "--format", "json", DEMO]).stdout
    );
    assert_eq!(run(&["rules", "-f", "json"]).stdout, run(&["rules", "--format", "json"]).stdout);
}

#[test]
fn q_keeps_stderr_empty_on_every_subcommand() {
    let bad = "testdata/fixtures/bad/corrupt-gzip.tar";
    let layers = run(&["layers", "-q", bad]);
    assert_eq!(code(&layers), 2);
    assert!(layers.stderr.is_empty(), "{}", String::from_utf8_lossy(&layers.stderr));
    let failing = "crates/layerleak-cli/tests/it/data/failing-examples.toml";
    let loud = run(&["rules", "check", failing]);
    let quiet = run(&["rules", "-q", "check", failing]);
    let quiet_after = run(&["rules", "check", "-q", failing]);
    assert_eq!(code(&quiet), code(&loud), "the status is kept");
    assert!(!loud.stderr.is_empty());
    assert!(quiet.stderr.is_empty() && quiet_after.stderr.is_empty());
}

#[test]
fn report_to_a_file_leaves_one_summary_line_on_stderr() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = cmd()
        .current_dir(dir.path())
        .args(["scan", "--no-builtin-rules", "--rules"])
        .arg(root().join(TEST_RULES))
        .args(["-f", "json", "-o", "report.json"])
        .arg(root().join(DEMO))
        .output()
        .expect("runs");
    assert_eq!(code(&out), 1);
    snapshot("people_output_file_summary", &out);
    let quiet = scan(&["-q", "-o", &dir.path().join("q.json").to_string_lossy(), DEMO]);
    assert!(quiet.stderr.is_empty(), "-q silences it");
}

#[test]
fn every_subcommand_help_has_examples() {
    for sub in ["scan", "layers", "rules", "audit"] {
        let out = run(&[sub, "--help"]);
        assert_eq!(code(&out), 0);
        assert!(String::from_utf8_lossy(&out.stdout).contains("\nExamples:\n"), "{sub}");
    }
    snapshot("people_layers_help", &run(&["layers", "--help"]));
    snapshot("people_rules_help", &run(&["rules", "--help"]));
}

#[test]
fn compact_prints_one_line_per_finding() {
    let out = crate::common::scan(&["--compact", "--color", "never", "testdata/fixtures/demo.tar"]);
    assert_eq!(crate::common::code(&out), 1);
    crate::common::snapshot("people_compact_demo", &out);
}
