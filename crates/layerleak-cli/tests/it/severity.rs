//! `--severity`, `--fail-on LEVEL` (alone or with `present`), findings sorted by severity,
//! counts per severity in every summary.

use crate::common::{code, json, run, snapshot};

const DEMO: &str = "testdata/fixtures/demo.tar";
const MIXED: &str = "crates/layerleak-cli/tests/it/data/severities.toml";

/// `layerleak scan --no-builtin-rules --rules MIXED ARGS DEMO`.
fn scan_mixed(args: &[&str]) -> std::process::Output {
    let mut all = vec!["scan", "--no-builtin-rules", "--rules", MIXED];
    all.extend_from_slice(args);
    all.push(DEMO);
    run(&all)
}

#[test]
fn table_sorts_by_severity_and_counts_each() {
    let out = scan_mixed(&[]);
    assert_eq!(code(&out), 1);
    snapshot("severity_sorted_table", &out);
}

#[test]
fn severity_filters_what_is_reported() {
    let out = scan_mixed(&["--severity", "critical,high"]);
    assert_eq!(code(&out), 1);
    snapshot("severity_critical_high", &out);
    let j = json(&scan_mixed(&["--severity", "low", "--format", "json"]));
    let rules: Vec<&str> =
        j["findings"].as_array().expect("findings").iter().filter_map(|f| f["rule"].as_str()).collect();
    assert_eq!(rules, ["npm-access-token"]);
    assert_eq!(j["stats"]["findings"], 1);
    assert_eq!(j["findings_by_severity"]["low"], 1);
    assert_eq!(j["findings_by_severity"]["critical"], 0);
    let jsonl = scan_mixed(&["--severity", "medium", "--format", "jsonl"]);
    let text = String::from_utf8_lossy(&jsonl.stdout);
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(lines.len(), 3, "two medium findings streamed, then the summary: {text}");
    assert_eq!(lines[2]["findings_by_severity"]["medium"], 2);
}

#[test]
fn fail_on_takes_a_minimum_severity_alone_or_with_present() {
    // Hidden: stripe (critical), private-key (high), postgres (medium). Present: github-pat and
    // aws secret (critical), aws id (medium), npm (low).
    let status = |fail_on: &str| code(&scan_mixed(&["--fail-on", fail_on]));
    assert_eq!(status("critical"), 1);
    assert_eq!(status("present,critical"), 1);
    let only_low = |fail_on: &str| code(&scan_mixed(&["--severity", "low,high", "--fail-on", fail_on]));
    assert_eq!(only_low("high"), 1, "the hidden private key is high");
    assert_eq!(only_low("present,high"), 0, "nothing present is high or worse");
    assert_eq!(only_low("present"), 1, "the npm token is present");
    assert_eq!(only_low("critical"), 0);
    assert_eq!(only_low("low"), 1);
}

#[test]
fn contradictory_fail_on_is_an_error() {
    let out = scan_mixed(&["--fail-on", "none,high"]);
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty());
    snapshot("severity_fail_on_contradiction", &out);
    assert_eq!(code(&scan_mixed(&["--fail-on", "present,any"])), 2);
    assert_eq!(code(&scan_mixed(&["--fail-on", "high,low"])), 2);
    let unknown = scan_mixed(&["--severity", "urgent"]);
    assert_eq!(code(&unknown), 2);
    snapshot("severity_unknown_level", &unknown);
}
