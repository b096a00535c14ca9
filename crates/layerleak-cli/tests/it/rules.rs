//! `layerleak rules` and `layerleak rules check`.

use crate::common::{code, run, snapshot, TEST_RULES};

#[test]
fn rules_list_names_every_builtin_rule() {
    // Not a snapshot: the built-in rule set grows independently of the CLI.
    let listed = run(&["rules", "--format", "json"]);
    assert_eq!(code(&listed), 0);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).expect("JSON array");
    assert!(!rows.is_empty());
    let table = run(&["rules"]);
    assert_eq!(code(&table), 0);
    let text = String::from_utf8_lossy(&table.stdout);
    let mut lines = text.lines();
    assert!(lines.next().is_some_and(|h| h.starts_with("ID") && h.contains("SEVERITY")), "{text}");
    for r in &rows {
        let id = r["id"].as_str().expect("id");
        assert!(text.lines().any(|l| l.starts_with(&format!("{id} "))), "{id} listed");
        assert!(r["severity"].is_string() && r["title"].is_string() && r["keywords"].is_array());
    }
    let providers: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|r| r["provider"].as_str()).collect();
    let last = format!("{} rules, {} providers", rows.len(), providers.len());
    assert_eq!(text.lines().last(), Some(last.as_str()));
    assert!(text.lines().any(|l| l.starts_with("CATEGORY ") && l.contains("PROVIDERS")), "{text}");
    assert!(table.stderr.is_empty());
}

#[test]
fn check_runs_the_examples_and_fails_on_one_that_does_not_match() {
    let out = run(&["rules", "check", "crates/layerleak-cli/tests/it/data/failing-examples.toml"]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rule acme-token: positive example gave no finding") && err.contains("acme_short"),
        "{err}"
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("1 rules loaded (0 translated), 0 refused; 2 positive and 1 negative examples (1 failed); 1 errors"),
        "{summary}"
    );
}

#[test]
fn check_is_strict_unless_lenient() {
    let files =
        ["crates/layerleak-cli/tests/it/data/lint.toml", "crates/layerleak-cli/tests/it/data/no-rules.toml"];
    let strict = run(&["rules", "check", files[0], files[1]]);
    assert_eq!(code(&strict), 2);
    snapshot("rules_check_strict", &strict);
    let lenient = run(&["rules", "check", "--lenient", files[0], files[1]]);
    assert_eq!(code(&lenient), 0);
    let err = String::from_utf8_lossy(&lenient.stderr);
    assert!(err.lines().all(|l| l.starts_with("layerleak: warning: ")), "{err}");
    snapshot("rules_check_lenient", &lenient);
    // The failing example of failing-examples.toml is a warning too; a file that does not load is
    // still an error.
    let failing =
        run(&["rules", "check", "--lenient", "crates/layerleak-cli/tests/it/data/failing-examples.toml"]);
    assert_eq!(code(&failing), 0);
    let broken =
        run(&["rules", "check", "--lenient", "crates/layerleak-cli/tests/it/data/bad-gitleaks.toml"]);
    assert_eq!(code(&broken), 2);
}

#[test]
fn errors_name_the_file_and_the_rule() {
    // A rules file given to a scan names itself and the rule; a file that is not TOML names no
    // rule at all (it used to be named as one).
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("not-toml.toml"), "[[rules]\nid = 'x'\n").expect("writing");
    let out = crate::common::cmd()
        .current_dir(dir.path())
        .args(["rules", "check", "not-toml.toml"])
        .output()
        .expect("runs");
    assert_eq!(code(&out), 2);
    snapshot("rules_check_not_toml", &out);
    let scan = run(&[
        "scan",
        "--rules",
        "crates/layerleak-cli/tests/it/data/bad-gitleaks.toml",
        "testdata/fixtures/demo.tar",
    ]);
    let err = String::from_utf8_lossy(&scan.stderr);
    assert!(
        err.starts_with("layerleak: error: crates/layerleak-cli/tests/it/data/bad-gitleaks.toml: rule broken-group: bad regex"),
        "{err}"
    );
}

#[test]
fn check_accepts_a_gitleaks_file() {
    let out = run(&["rules", "check", TEST_RULES]);
    assert_eq!(code(&out), 0);
    snapshot("rules_check_good", &out);
}

#[test]
fn check_names_the_bad_rule_and_the_problem() {
    let out = run(&["rules", "check", "crates/layerleak-cli/tests/it/data/bad-gitleaks.toml"]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken-group") && err.contains("unclosed group"), "{err}");
    snapshot("rules_check_bad", &out);
}

#[test]
fn check_of_a_missing_file_is_an_error() {
    let out = run(&["rules", "check", "crates/layerleak-cli/tests/it/data/no-such-rules.toml"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-rules.toml"));
}

#[test]
fn bad_rules_file_stops_a_scan_before_it_starts() {
    let out = run(&[
        "scan",
        "--rules",
        "crates/layerleak-cli/tests/it/data/bad-gitleaks.toml",
        "testdata/fixtures/demo.tar",
    ]);
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken-group"));
}

#[test]
fn rules_show_prints_one_rule() {
    // Not a snapshot of the text: built-in rules are refined independently of the CLI.
    let out = run(&["rules", "show", "github-pat"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for field in ["title", "provider", "category", "severity", "keywords", "regex", "fix", "examples"] {
        assert!(text.contains(&format!("\n{field:<12}")), "{field}: {text}");
    }
    assert!(text.starts_with("id          github-pat\n"), "{text}");
    let j = run(&["rules", "show", "github-pat", "-f", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&j.stdout).expect("JSON array");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], "github-pat");
    let unknown = run(&["rules", "show", "no-such-rule"]);
    assert_eq!(code(&unknown), 2);
    snapshot("rules_show_unknown", &unknown);
}

#[test]
fn check_counts_loaded_translated_and_refused_rules_per_file_of_a_directory() {
    let dir = "crates/layerleak-cli/tests/it/data/packs";
    let out = run(&["rules", "check", dir]);
    assert_eq!(code(&out), 0, "a refused rule is a warning: {}", String::from_utf8_lossy(&out.stderr));
    snapshot("rules_check_packs", &out);
    let strict = run(&["rules", "check", "--strict", dir]);
    assert_eq!(code(&strict), 2);
    let err = String::from_utf8_lossy(&strict.stderr);
    assert!(
        err.contains("rule zeq.key.2: refused: regex: look-ahead (?=…) at byte 17"),
        "the rule, the construct and its offset: {err}"
    );
    let both = crate::common::cmd().args(["rules", "check", "--strict", "--lenient", dir]).output().unwrap();
    assert_eq!(code(&both), 2, "--strict and --lenient conflict");
}

#[test]
fn a_scan_loads_a_yaml_pack_and_leaves_out_what_it_cannot_express() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layer = dir.path().join("layer.tar");
    let files: [(&str, &[u8]); 2] = [
        ("app/.env", b"ZEQ_TOKEN=zeq_Xk93LmPq7Rt2Vw8Yb4Nc6Hd1Fg5Js0\n"),
        ("etc/ssl/app.p12", b"\x30\x82 not really a keystore"),
    ];
    std::fs::write(&layer, crate::support::tar_of(&files)).expect("writing the layer");
    let pack = crate::common::root().join("crates/layerleak-cli/tests/it/data/packs");
    let out = crate::common::cmd()
        .args(["scan", "--no-builtin-rules", "--rules"])
        .arg(&pack)
        .args(["-f", "json"])
        .arg(&layer)
        .output()
        .expect("runs");
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rule zeq.key.2: regex: look-ahead (?=…) at byte 17 (left out)"), "{err}");
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(json.contains("\"zeq.token.1\""), "{json}");
    assert!(json.contains("\"keystore-file\""), "the path-only rule reports the file: {json}");
}
