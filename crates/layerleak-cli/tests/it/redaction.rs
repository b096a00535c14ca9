//! Secrets are redacted everywhere unless `--show-secrets`: every fixture (archives, OCI
//! layouts, bare layers, damaged ones) through every format, to stdout and to `--output FILE`,
//! never shows a planted secret from `testdata/fixtures/expected/secrets.json` on stdout, stderr
//! or in the file; with `--show-secrets` every planted secret of the fixture does show, which
//! proves the search below would catch a leak.

use std::path::Path;

use crate::common::{code, root, run, TEST_RULES};

struct Planted {
    fixture: String,
    /// Texts any of which reveals the secret: raw, JSON-escaped, and each long line of a
    /// multi-line secret (a private key body line is secret on its own).
    forms: Vec<String>,
}

fn planted() -> Vec<Planted> {
    let path = root().join("testdata/fixtures/expected/secrets.json");
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("secrets.json")).expect("JSON array");
    rows.iter()
        .map(|r| {
            let secret = r["secret"].as_str().expect("secret text").to_string();
            let escaped = serde_json::to_string(&secret).expect("string");
            let mut forms = vec![secret.clone(), escaped.trim_matches('"').to_string()];
            if secret.contains('\n') {
                forms.extend(
                    secret.lines().filter(|l| l.len() >= 16 && !l.starts_with("-----")).map(str::to_string),
                );
            }
            Planted { fixture: r["fixture"].as_str().expect("fixture").to_string(), forms }
        })
        .collect()
}

/// Every fixture, relative to the workspace root: files and OCI layout directories.
fn fixtures() -> Vec<String> {
    let mut all = Vec::new();
    for dir in ["testdata/fixtures", "testdata/fixtures/bad"] {
        let entries = std::fs::read_dir(root().join(dir)).expect("fixture dir");
        for e in entries {
            let e = e.expect("dir entry");
            let name = e.file_name().to_string_lossy().to_string();
            let is_layout = e.path().join("oci-layout").is_file();
            if e.path().is_file() || is_layout {
                all.push(format!("{dir}/{name}"));
            }
        }
    }
    all.sort();
    assert!(all.len() >= 19, "found the fixtures: {all:?}");
    all
}

fn leaks<'a>(planted: &'a [Planted], text: &str) -> Vec<&'a str> {
    planted
        .iter()
        .flat_map(|p| p.forms.iter())
        .filter(|f| text.contains(f.as_str()))
        .map(String::as_str)
        .collect()
}

fn scan_args<'a>(format: &'a str, fixture: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["scan", "--rules", TEST_RULES, "--format", format];
    args.extend_from_slice(extra);
    args.push(fixture);
    args
}

fn check_redacted(format: &str, fixtures: &[String], planted: &[Planted]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("out");
    let file_arg = file.to_string_lossy().to_string();
    for fixture in fixtures {
        let out = run(&scan_args(format, fixture, &[]));
        assert!(matches!(code(&out), 0..=2), "{fixture} {format}");
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let found = leaks(planted, &String::from_utf8_lossy(bytes));
            assert!(found.is_empty(), "{fixture} --format {format}: {what} shows a secret: {found:?}");
        }
        let _ = std::fs::remove_file(&file);
        let out = run(&scan_args(format, fixture, &["--output", &file_arg]));
        let written = std::fs::read(&file).unwrap_or_default();
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr), ("--output file", &written)] {
            let found = leaks(planted, &String::from_utf8_lossy(bytes));
            assert!(
                found.is_empty(),
                "{fixture} --format {format} --output: {what} shows a secret: {found:?}"
            );
        }
        if format == "table" || format == "json" {
            let out = run(&["layers", "--rules", TEST_RULES, "--format", format, fixture]);
            let text =
                format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            let found = leaks(planted, &text);
            assert!(found.is_empty(), "{fixture} layers --format {format} shows a secret: {found:?}");
        }
    }
}

fn check_shown(format: &str, fixtures: &[String], planted: &[Planted]) {
    for fixture in fixtures {
        let name = Path::new(fixture).strip_prefix("testdata/fixtures").expect("under fixtures");
        let name = name.to_string_lossy();
        let mine: Vec<&Planted> = planted.iter().filter(|p| p.fixture == name).collect();
        let out = run(&scan_args(format, fixture, &["--show-secrets"]));
        let text = String::from_utf8_lossy(&out.stdout);
        for p in mine {
            assert!(
                p.forms.iter().any(|f| text.contains(f.as_str())),
                "{fixture} --format {format} --show-secrets: secret {:?} not shown",
                p.forms[0]
            );
        }
    }
}

#[test]
fn no_planted_secret_in_any_output_unless_asked() {
    let planted = planted();
    let fixtures = fixtures();
    assert!(planted.len() > 50);
    std::thread::scope(|s| {
        for format in ["table", "json", "jsonl", "sarif"] {
            let (planted, fixtures) = (&planted, &fixtures);
            s.spawn(move || {
                check_redacted(format, fixtures, planted);
                check_shown(format, fixtures, planted);
            });
        }
    });
}
