//! Secrets are redacted everywhere unless `--show-secrets`: every fixture (archives, OCI
//! layouts, bare layers, damaged ones) through `scan` in every format and `layers` in both, to
//! stdout and to `--output FILE`, and through `audit` of a registry serving them, never shows a
//! secret on stdout, stderr or in the file. The secrets searched for are the planted ones of
//! `testdata/fixtures/expected/secrets.json` and every secret a `--show-secrets` JSON run
//! detects, so a secret repeated in a step text, a label, a path or a message counts as much as
//! the finding itself. With `--show-secrets` every one of them does show, which proves the search
//! would catch a leak.

use std::path::Path;

use crate::common::{code, root, run, TEST_RULES};
use crate::registry::layerleak;
use crate::served;

struct Secret {
    /// The fixture it was planted in or detected in (relative to `testdata/fixtures`); `None`
    /// when only searched for (the audit of every fixture at once).
    fixture: Option<String>,
    /// Texts any of which reveals the secret: raw, JSON-escaped, and each long line of a
    /// multi-line secret (a private key body line is secret on its own).
    forms: Vec<String>,
}

impl Secret {
    fn new(fixture: Option<&str>, secret: &str) -> Secret {
        let escaped = serde_json::to_string(secret).expect("string");
        let mut forms = vec![secret.to_string(), escaped.trim_matches('"').to_string()];
        if secret.contains('\n') {
            forms.extend(
                secret.lines().filter(|l| l.len() >= 16 && !l.starts_with("-----")).map(str::to_string),
            );
        }
        Secret { fixture: fixture.map(str::to_string), forms }
    }
}

fn planted() -> Vec<Secret> {
    let path = root().join("testdata/fixtures/expected/secrets.json");
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("secrets.json")).expect("JSON array");
    rows.iter()
        .map(|r| {
            let fixture = r["fixture"].as_str().expect("fixture");
            Secret::new(Some(fixture), r["secret"].as_str().expect("secret text"))
        })
        .collect()
}

/// The secrets of a `--show-secrets --format json` report.
fn shown_in(report: &[u8]) -> Vec<String> {
    let j: serde_json::Value = serde_json::from_slice(report).expect("a JSON report");
    // Per image (`findings`) or by distinct secret (`secrets`, an audit's default).
    let listed = j["findings"].as_array().or(j["secrets"].as_array()).cloned().unwrap_or_default();
    listed.iter().filter_map(|f| f["secret"].as_str().map(str::to_string)).collect()
}

/// Every secret `scan --show-secrets` detects in `fixture`.
fn detected(fixture: &str) -> Vec<Secret> {
    let out = run(&scan_args("json", fixture, &["--show-secrets"]));
    let name = short(fixture);
    shown_in(&out.stdout).iter().map(|s| Secret::new(Some(&name), s)).collect()
}

fn short(fixture: &str) -> String {
    let name = Path::new(fixture).strip_prefix("testdata/fixtures").expect("under fixtures");
    name.to_string_lossy().to_string()
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
    assert!(all.len() >= 20, "found the fixtures: {all:?}");
    all
}

fn leaks<'a>(secrets: &'a [Secret], bytes: &[u8]) -> Vec<&'a str> {
    let text = String::from_utf8_lossy(bytes);
    let mut found: Vec<&str> = secrets
        .iter()
        .flat_map(|p| p.forms.iter())
        .filter(|f| text.contains(f.as_str()))
        .map(String::as_str)
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

fn scan_args<'a>(format: &'a str, fixture: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["scan", "--rules", TEST_RULES, "--format", format];
    args.extend_from_slice(extra);
    args.push(fixture);
    args
}

/// Runs `args` to stdout, then again with `--output FILE`; every stream and the file are free
/// of every secret.
fn check_both_ways(what: &str, secrets: &[Secret], exec: &dyn Fn(&[&str]) -> std::process::Output) {
    let out = exec(&[]);
    assert!(matches!(code(&out), 0..=3), "{what}");
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let found = leaks(secrets, bytes);
        assert!(found.is_empty(), "{what}: {stream} shows a secret: {found:?}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("out");
    let file_arg = file.to_string_lossy().to_string();
    let out = exec(&["--output", &file_arg]);
    let written = std::fs::read(&file).unwrap_or_else(|e| panic!("{what} --output: no file ({e})"));
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr), ("--output file", &written)] {
        let found = leaks(secrets, bytes);
        assert!(found.is_empty(), "{what} --output: {stream} shows a secret: {found:?}");
    }
}

fn check_redacted(format: &str, fixtures: &[String], secrets: &[Secret]) {
    for fixture in fixtures {
        let what = format!("scan --format {format} {fixture}");
        check_both_ways(&what, secrets, &|extra| run(&scan_args(format, fixture, extra)));
        if format == "table" || format == "json" {
            let what = format!("layers --format {format} {fixture}");
            check_both_ways(&what, secrets, &|extra| {
                let mut args = vec!["layers", "--rules", TEST_RULES, "--format", format];
                args.extend_from_slice(extra);
                args.push(fixture);
                run(&args)
            });
        }
    }
}

fn check_shown(format: &str, fixtures: &[String], secrets: &[Secret]) {
    for fixture in fixtures {
        let name = short(fixture);
        let out = run(&scan_args(format, fixture, &["--show-secrets"]));
        let text = String::from_utf8_lossy(&out.stdout);
        for s in secrets.iter().filter(|s| s.fixture.as_deref() == Some(name.as_str())) {
            assert!(
                s.forms.iter().any(|f| text.contains(f.as_str())),
                "{fixture} --format {format} --show-secrets: secret {:?} not shown",
                s.forms[0]
            );
        }
    }
}

/// `audit` of a registry serving the fixtures: nothing shown unless asked, in every format and
/// both ways, from runs that read the layers from the cache (which holds no secret bytes) and
/// from one that scans them.
fn check_audit(fixtures: &[String], secrets: &[Secret]) {
    let (url, served) = served::serve(fixtures).expect("the scripted registry serves the fixtures");
    assert!(served.iter().any(|f| f.ends_with("argleak.tar")), "{served:?}");
    let home = tempfile::tempdir().expect("temp dir");
    let cache = home.path().join("cache.sqlite").to_string_lossy().to_string();
    let audit = |format: &str, cache: &str, extra: &[&str]| {
        let base = ["audit", url.as_str(), "--rules", TEST_RULES, "--cache", cache, "--format", format];
        layerleak(&[&base[..], extra].concat(), home.path(), None).expect("layerleak runs")
    };
    // Scans every layer and fills the cache.
    let shown = audit("json", &cache, &["--show-secrets"]);
    let mine: Vec<Secret> = shown_in(&shown.stdout).iter().map(|s| Secret::new(None, s)).collect();
    assert!(mine.len() >= 20, "the audit finds the fixtures' secrets: {}", mine.len());
    let all: Vec<Secret> =
        secrets.iter().map(|s| Secret { fixture: None, forms: s.forms.clone() }).chain(mine).collect();
    for format in ["table", "json", "jsonl", "sarif"] {
        check_both_ways(&format!("audit --format {format}"), &all, &|extra| audit(format, &cache, extra));
        let by_image = |extra: &[&str]| audit(format, &cache, &[&["--group-by", "image"], extra].concat());
        check_both_ways(&format!("audit --format {format} --group-by image"), &all, &by_image);
    }
    check_both_ways("audit --cache none", &all, &|extra| audit("table", "none", extra));
    let mine = &all[secrets.len()..];
    for format in ["table", "json", "jsonl", "sarif"] {
        for group in ["secret", "image"] {
            let out = audit(format, &cache, &["--show-secrets", "--group-by", group]);
            let text = String::from_utf8_lossy(&out.stdout);
            let missing: Vec<&str> = mine
                .iter()
                .filter(|s| !s.forms.iter().any(|f| text.contains(f.as_str())))
                .map(|s| s.forms[0].as_str())
                .collect();
            assert!(
                missing.is_empty(),
                "audit -f {format} --group-by {group} --show-secrets hides {missing:?}"
            );
        }
    }
}

#[test]
fn no_detected_secret_in_any_output_unless_asked() {
    let fixtures = fixtures();
    let mut secrets = planted();
    assert!(secrets.len() > 50);
    std::thread::scope(|s| {
        let found: Vec<_> = fixtures.iter().map(|f| s.spawn(move || detected(f))).collect();
        for f in found {
            secrets.extend(f.join().expect("no panic"));
        }
    });
    std::thread::scope(|s| {
        let (secrets, fixtures) = (&secrets, &fixtures);
        for format in ["table", "json", "jsonl", "sarif"] {
            s.spawn(move || {
                check_redacted(format, fixtures, secrets);
                check_shown(format, fixtures, secrets);
            });
        }
        s.spawn(move || check_audit(fixtures, secrets));
    });
}

/// The npm token of `argleak.tar`: its ARG value, repeated in later step texts, a label and a
/// directory name.
const ARGLEAK_NPM: &str = "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";

#[test]
fn arg_token_is_redacted_in_every_step_text_of_the_table() {
    // Regression: each "added in" and "hidden in" line printed the ARG token in clear.
    let out = crate::common::scan(&["testdata/fixtures/argleak.tar"]);
    assert_eq!(code(&out), 1);
    crate::common::snapshot("scan_argleak_table", &out);
    let layers = run(&["layers", "--rules", TEST_RULES, "testdata/fixtures/argleak.tar"]);
    assert_eq!(code(&layers), 0);
    crate::common::snapshot("layers_argleak_table", &layers);
    let shown = crate::common::scan(&["--show-secrets", "testdata/fixtures/argleak.tar"]);
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout).matches(ARGLEAK_NPM).count(),
        7,
        "5 step lines, 1 path, the secret"
    );
}

#[test]
fn a_secret_in_a_path_is_redacted_in_notes() {
    // Files cut at 64 bytes name their path in a note; one path holds the token, which the
    // step texts still show within their first 64 bytes.
    let args = |format| vec!["--format", format, "--max-file-size", "64", "testdata/fixtures/argleak.tar"];
    let table = crate::common::scan(&args("table"));
    assert_eq!(code(&table), 1);
    let shown = crate::common::transcript(&table);
    assert!(shown.contains("path root/.npm/_cacache/npm_*****/session.json"), "{shown}");
    let json = crate::common::scan(&args("json"));
    let report = crate::common::json(&json);
    let notes = report["notes"].as_array().cloned().unwrap_or_default();
    let redacted = |n: &serde_json::Value| {
        n.as_str().is_some_and(|t| t.contains("path root/.npm/_cacache/npm_*****/session.json"))
    };
    assert!(notes.iter().any(redacted), "{notes:?}");
    for out in [&table, &json] {
        let text = crate::common::transcript(out);
        assert!(!text.contains(ARGLEAK_NPM), "{text}");
    }
}
