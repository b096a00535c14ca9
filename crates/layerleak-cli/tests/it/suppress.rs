//! Suppression: `.layerleakignore` / `--ignore-file`, `--baseline` from any report format,
//! `--show-suppressed`, `--skip-path`.

use std::path::Path;

use crate::common::{cmd, code, json, root, scan, snapshot, TEST_RULES};

const DEMO: &str = "testdata/fixtures/demo.tar";
const PAT: &str = "f218b89088c67c35135c472a4ca93ee1491033f27ecb0433da118012c006800a";
const AWS_ID: &str = "43e0a8f6164f07e2d76cc54ac94fc3f0983890dd019bcaaa9a9148d23bad4559";
const KEY: &str = "cd8108c84083116d214307334b7f95c88e00e1cac0f3167c4a993e71b425c7e8";

/// `layerleak scan --no-builtin-rules --rules TEST_RULES ARGS DEMO` run in `dir`.
fn scan_in(dir: &Path, args: &[&str]) -> std::process::Output {
    cmd()
        .current_dir(dir)
        .args(["scan", "--no-builtin-rules", "--rules"])
        .arg(root().join(TEST_RULES))
        .args(args)
        .arg(root().join(DEMO))
        .output()
        .expect("runs")
}

#[test]
fn layerleakignore_in_the_current_directory_suppresses_and_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ignore = format!(
        "# reviewed: test fixtures\n{PAT}\n\n{AWS_ID}:aws-access-key-id:config.Env[1]\n{KEY}:another-rule\n"
    );
    std::fs::write(dir.path().join(".layerleakignore"), ignore).expect("writing the ignore file");
    let out = scan_in(dir.path(), &[]);
    assert_eq!(code(&out), 1, "the key's entry names another rule: still reported");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(
        "5 findings (2 still present, 3 hidden but extractable; 5 high), 2 suppressed by .layerleakignore"
    ));
    assert!(!text.contains(PAT) && text.contains(KEY), "{text}");
    let listed = scan_in(dir.path(), &["--show-suppressed"]);
    snapshot("suppress_ignore_file_listed", &listed);
    let out = scan_in(dir.path(), &["--format", "json", "--show-suppressed"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("{\n  \"schema\": 1,"), "the report's fields keep their order: {text}");
    let j = json(&out);
    assert_eq!(j["suppressed"]["ignore_file"], 2);
    assert_eq!(j["suppressed"]["findings"][0]["suppressed_by"], ".layerleakignore:2");
    assert_eq!(j["stats"]["findings"], 5);
}

#[test]
fn ignore_file_flag_and_a_bad_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("known.txt"), format!("{PAT}:github-pat:/app/config/settings.json\n"))
        .expect("writing");
    let out = scan_in(dir.path(), &["--ignore-file", "known.txt", "--format", "jsonl", "--show-suppressed"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert!(lines.iter().all(|l| l["fingerprint"] != PAT || l["type"] == "suppressed"), "{text}");
    let summary = lines.last().expect("a summary");
    assert_eq!(summary["suppressed_by_ignore_file"], 1);
    std::fs::write(dir.path().join("bad.txt"), "# fine\nghp_notafingerprint\n").expect("writing");
    let bad = scan_in(dir.path(), &["--ignore-file", "bad.txt"]);
    assert_eq!(code(&bad), 2);
    snapshot("suppress_bad_ignore_line", &bad);
    let missing = scan_in(dir.path(), &["--ignore-file", "nope.txt"]);
    assert_eq!(code(&missing), 2, "an ignore file asked for must exist");
}

#[test]
fn baseline_reads_json_jsonl_and_sarif_reports() {
    let dir = tempfile::tempdir().expect("temp dir");
    for format in ["json", "jsonl", "sarif"] {
        let file = format!("base.{format}");
        assert_eq!(code(&scan_in(dir.path(), &["--format", format, "-o", &file])), 1);
        let out = scan_in(dir.path(), &["--baseline", &file]);
        assert_eq!(code(&out), 0, "{format}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("7 suppressed by baseline"), "{format}: {text}");
    }
    std::fs::write(dir.path().join("other.jsonl"), "{\"a\": 1}\n").expect("writing");
    let other = scan_in(dir.path(), &["--baseline", "other.jsonl"]);
    assert_eq!(code(&other), 2);
    snapshot("suppress_baseline_not_a_report", &other);
}

#[test]
fn skip_path_drops_findings_under_a_glob() {
    let out = scan(&["--skip-path", "/app", "--skip-path", "root/.ssh/*", DEMO]);
    assert_eq!(code(&out), 1);
    snapshot("suppress_skip_path", &out);
}

/// A single-layer tar with `path` holding a gzip-compressed GitHub token.
fn layer_with_gz(dir: &Path, path: &str) -> String {
    let data = crate::support::gzip(b"token=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\n");
    let file = dir.join("layer.tar");
    std::fs::write(&file, crate::support::tar_of(&[(path, &data)])).expect("writing the layer");
    file.to_string_lossy().into_owned()
}

#[test]
fn skip_path_and_allowlist_paths_cover_the_members_of_an_archive() {
    // Regression: allowlist paths saw only the member inside a `.gz`, so a `^usr/share/doc/`
    // allowlist missed the compressed changelogs there.
    let dir = tempfile::tempdir().expect("temp dir");
    let layer = layer_with_gz(dir.path(), "usr/share/doc/tool/changelog.gz");
    let findings = |extra: &[&str]| {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(extra);
        args.push(&layer);
        json(&scan(&args))["findings"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(findings(&[]), 1, "the token inside the .gz is found");
    assert_eq!(findings(&["--skip-path", "usr/share/doc"]), 0);
    assert_eq!(findings(&["--skip-path", "**/*.gz"]), 0);
    assert_eq!(findings(&["--skip-path", "usr/share/man"]), 1);
    let rules = dir.path().join("doc-allowlist.toml");
    std::fs::write(&rules, "[[allowlists]]\npaths = ['''^usr/share/doc/''']\n").expect("writing");
    let rules = rules.to_string_lossy().into_owned();
    assert_eq!(findings(&["--rules", &rules]), 0, "a rules file's allowlist paths too");
}

#[test]
fn show_suppressed_lists_them_in_sarif_as_suppressed_results_and_in_html() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(".layerleakignore"), format!("{PAT}\n")).expect("writing the ignore file");
    let results = |args: &[&str]| {
        let doc = json(&scan_in(dir.path(), args));
        crate::sarif::assert_valid(&crate::sarif::validator(), &doc, &format!("{args:?}"));
        doc["runs"][0]["results"].as_array().expect("results").clone()
    };
    let hidden = results(&["-f", "sarif"]);
    assert_eq!(hidden.len(), 6, "suppressed findings are left out");
    assert!(hidden.iter().all(|r| r.get("suppressions").is_none()));
    let shown = results(&["-f", "sarif", "--show-suppressed"]);
    assert_eq!(shown.len(), 7);
    let pat = shown.iter().find(|r| r["partialFingerprints"]["secretSha256/v1"] == PAT).expect("listed");
    assert_eq!(
        pat["suppressions"],
        serde_json::json!([{"kind": "external", "status": "accepted", "justification": "suppressed by .layerleakignore:1"}])
    );
    assert_eq!(shown.iter().filter(|r| r.get("suppressions").is_some()).count(), 1);
    let html = scan_in(dir.path(), &["-f", "html", "--show-suppressed"]);
    assert_eq!(code(&html), 1);
    let page = String::from_utf8_lossy(&html.stdout);
    let table = page.split("<details class=\"suppressed\">").nth(1).expect("a table of suppressed findings");
    let table = table.split("</details>").next().unwrap_or_default();
    assert!(table.contains("Suppressed (1)") && table.contains(".layerleakignore:1"), "{table}");
    assert!(table.contains(PAT) && table.contains("ghp_*****"), "redacted like every finding: {table}");
    let without = scan_in(dir.path(), &["-f", "html"]);
    assert!(!String::from_utf8_lossy(&without.stdout).contains("class=\"suppressed\""));
}
