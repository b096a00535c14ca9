//! `layerleak scan`: every format, `--output`, stdin, `--platform`, `--baseline`, `--fail-on`,
//! determinism.

use crate::common::{cmd, code, json, root, run, scan, snapshot, TEST_RULES};

const DEMO: &str = "testdata/fixtures/demo.tar";
const ONLY_KEY: &str = "crates/layerleak-cli/tests/it/data/private-key-only.toml";

#[test]
fn help_documents_exit_codes() {
    let out = run(&["scan", "--help"]);
    assert_eq!(code(&out), 0);
    snapshot("scan_help", &out);
    let top = run(&["--help"]);
    assert!(String::from_utf8_lossy(&top.stdout).contains("2  something could not be read"));
}

#[test]
fn version_prints_the_crate_version() {
    let out = run(&["--version"]);
    assert_eq!(code(&out), 0);
    snapshot("version", &out);
}

#[test]
fn demo_table() {
    let out = scan(&[DEMO]);
    assert_eq!(code(&out), 1);
    snapshot("scan_demo_table", &out);
}

#[test]
fn demo_json() {
    let out = scan(&["--format", "json", DEMO]);
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["schema"], 1);
    snapshot("scan_demo_json", &out);
}

#[test]
fn demo_jsonl_is_findings_then_one_summary() {
    let out = scan(&["--format", "jsonl", "--jobs", "1", DEMO]);
    assert_eq!(code(&out), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    let (summary, findings) = lines.split_last().expect("at least the summary line");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["schema"], 1);
    assert_eq!(summary["stats"]["findings"].as_u64(), Some(findings.len() as u64));
    assert!(findings.iter().all(|f| f["type"] == "finding" && f["fingerprint"].is_string()));
    snapshot("scan_demo_jsonl", &out);
}

#[test]
fn demo_sarif() {
    let out = scan(&["--format", "sarif", DEMO]);
    assert_eq!(code(&out), 1);
    snapshot("scan_demo_sarif", &out);
}

#[test]
fn output_file_gets_what_stdout_would() {
    for format in ["table", "json", "jsonl", "sarif"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("report.out");
        let file_arg = file.to_string_lossy().to_string();
        let to_file = scan(&["--format", format, "--jobs", "1", "--output", &file_arg, DEMO]);
        let to_stdout = scan(&["--format", format, "--jobs", "1", DEMO]);
        assert_eq!(code(&to_file), 1, "{format}");
        assert!(to_file.stdout.is_empty(), "{format}: nothing on stdout with --output");
        let stderr = String::from_utf8_lossy(&to_file.stderr);
        assert_eq!(stderr.lines().count(), 1, "{format}: one summary line on stderr: {stderr}");
        assert!(
            stderr.starts_with("layerleak: 7 findings (4 still present; 7 high), 0 errors, "),
            "{stderr}"
        );
        assert!(stderr.contains(" s written to "), "{stderr}");
        let written = std::fs::read_to_string(&file).expect("report file written");
        let stable = |s: &str| crate::common::strip_table_seconds(&strip_seconds(s));
        assert_eq!(stable(&written), stable(&String::from_utf8_lossy(&to_stdout.stdout)), "{format}");
    }
}

/// `"seconds": 0.12` and `"seconds":0.12` -> `"seconds": 0`.
fn strip_seconds(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\"seconds\":") {
        let after = &rest[i + "\"seconds\":".len()..];
        let skip = after.find(|c: char| !(c.is_ascii_digit() || " .eE+-".contains(c))).unwrap_or(after.len());
        out.push_str(&rest[..i]);
        out.push_str("\"seconds\": 0");
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

#[test]
fn stdin_archive_is_scanned_like_the_file() {
    let demo = std::fs::read(root().join(DEMO)).expect("demo fixture");
    let out = cmd()
        .args(["scan", "--no-builtin-rules", "--rules", TEST_RULES, "-"])
        .write_stdin(demo)
        .output()
        .expect("runs");
    assert_eq!(code(&out), 1);
    snapshot("scan_stdin_table", &out);
    let from_file = scan(&[DEMO]);
    let table = |o: &std::process::Output| crate::common::table_text(o);
    assert_eq!(table(&out), table(&from_file), "same table whether read from stdin or the path");
}

#[test]
fn gzipped_archive_on_stdin_is_scanned_like_the_file() {
    // Regression: `docker save app | gzip | layerleak scan -` was read as one layer (every
    // secret present), and `layers` showed one layer without a word.
    let demo = std::fs::read(root().join(DEMO)).expect("demo fixture");
    let gz = crate::support::gzip(&demo);
    let stdin_scan = |args: &[&str]| cmd().args(args).write_stdin(gz.clone()).output().expect("runs");
    let out = stdin_scan(&["scan", "--no-builtin-rules", "--rules", TEST_RULES, "-"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        crate::common::table_text(&out),
        crate::common::table_text(&scan(&[DEMO])),
        "same table as the plain archive"
    );
    let layers = stdin_scan(&["layers", "--rules", TEST_RULES, "-"]);
    assert_eq!(code(&layers), 0);
    assert_eq!(layers.stdout, run(&["layers", "--rules", TEST_RULES, DEMO]).stdout);
}

#[test]
fn platform_selects_one_image_of_an_index() {
    let out = scan(&["--platform", "linux/arm64", "testdata/fixtures/multiarch.oci"]);
    assert_eq!(code(&out), 1);
    snapshot("scan_multiarch_arm64", &out);
    let j =
        json(&scan(&["--format", "json", "--platform", "linux/arm64", "testdata/fixtures/multiarch.oci"]));
    let images = j["images"].as_array().expect("images");
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["platform"]["os"], "linux");
    assert_eq!(images[0]["platform"]["architecture"], "arm64");
}

#[test]
fn bad_platform_is_a_usage_error() {
    let out = scan(&["--platform", "arm64", DEMO]);
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty());
    snapshot("scan_bad_platform", &out);
}

#[test]
fn baseline_suppresses_known_findings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dir.path().join("baseline.json");
    let base_arg = base.to_string_lossy().to_string();
    assert_eq!(code(&scan(&["--format", "json", "--output", &base_arg, DEMO])), 1);
    let out = scan(&["--baseline", &base_arg, DEMO]);
    assert_eq!(code(&out), 0, "every finding is in the baseline");
    snapshot("scan_demo_baseline", &out);
    let j = scan(&["--format", "jsonl", "--baseline", &base_arg, DEMO]);
    let text = String::from_utf8_lossy(&j.stdout);
    assert_eq!(text.lines().count(), 1, "only the summary line: {text}");
    assert!(text.contains("\"suppressed_by_baseline\":7"), "{text}");
}

#[test]
fn baseline_that_is_not_a_report_is_an_error() {
    let out = scan(&["--baseline", TEST_RULES, DEMO]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("baseline"));
}

#[test]
fn fail_on_decides_exit_status() {
    let only_key = |fail_on: &str| {
        code(&run(&["scan", "--no-builtin-rules", "--rules", ONLY_KEY, "--fail-on", fail_on, DEMO]))
    };
    assert_eq!(only_key("any"), 1, "the hidden key counts for any");
    assert_eq!(only_key("present"), 0, "the key is hidden, nothing is present");
    assert_eq!(only_key("none"), 0);
    assert_eq!(code(&scan(&["--fail-on", "present", DEMO])), 1, "the PAT is present");
    assert_eq!(code(&scan(&["--fail-on", "none", DEMO])), 0);
}

#[test]
fn clean_image_exits_zero() {
    let out = run(&["scan", "--no-builtin-rules", "--rules", ONLY_KEY, "testdata/fixtures/multi-image.tar"]);
    assert_eq!(code(&out), 0);
    snapshot("scan_clean", &out);
}

#[test]
fn json_report_is_deterministic() {
    let inputs = [
        "testdata/fixtures/lifecycle.oci",
        "testdata/fixtures/umoci.oci",
        "testdata/fixtures/multi-image.tar",
    ];
    let runs: Vec<String> = [["--jobs", "1"], ["--jobs", "2"], ["--jobs", "0"]]
        .iter()
        .map(|jobs| {
            let mut args = vec!["--format", "json"];
            args.extend_from_slice(jobs);
            args.extend_from_slice(&inputs);
            strip_seconds(&String::from_utf8_lossy(&scan(&args).stdout))
        })
        .collect();
    assert!(runs[0].contains("\"findings\""));
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
}

#[test]
fn quiet_keeps_stderr_empty_but_keeps_the_exit_status() {
    let out = scan(&["--quiet", "testdata/fixtures/bad/corrupt-gzip.tar"]);
    assert_eq!(code(&out), 2);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn max_file_size_is_wired() {
    let full = json(&scan(&["--format", "json", DEMO]));
    let cut = json(&scan(&["--format", "json", "--max-file-size", "8", DEMO]));
    let files = |v: &serde_json::Value| {
        v["findings"].as_array().map_or(0, |f| f.iter().filter(|f| f["location"]["source"] == "file").count())
    };
    assert!(files(&full) > 0);
    assert_eq!(files(&cut), 0, "no file secret fits in 8 bytes");
}

/// Writes a one-file layer tar whose file is `size` bytes of zeros with `token` at `at`, as a
/// sparse file: the zeros are holes, so the test neither holds nor writes them.
fn sparse_layer(path: &std::path::Path, size: u64, at: u64, token: &str) {
    use std::io::{Seek, SeekFrom, Write};
    let mut h = tar::Header::new_ustar();
    h.set_path("opt/model.bin").expect("a plain name");
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    let mut f = std::fs::File::create(path).expect("creating the layer");
    f.write_all(h.as_bytes()).expect("writing the header");
    f.seek(SeekFrom::Start(512 + at)).expect("seeking");
    f.write_all(token.as_bytes()).expect("writing the token");
    // Data padded to a block, then two zero blocks end the archive.
    f.set_len(512 + size.div_ceil(512) * 512 + 1024).expect("sizing the layer");
}

#[test]
fn file_over_256_mib_is_scanned_whole_by_default() {
    // Regression: a regular file over 256 MiB hit a default per-file cap, an error, exit 2, and
    // a token past 256 MiB went unseen.
    let dir = tempfile::tempdir().expect("tempdir");
    let layer = dir.path().join("big.tar");
    let token = "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";
    sparse_layer(&layer, 300 << 20, (256 << 20) + 4096, &format!("\ntoken={token}\n"));
    let path = layer.to_str().expect("a UTF-8 temp path");
    let out = run(&["scan", "--format", "json", path]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let j = json(&out);
    assert_eq!(j["errors"].as_array().map(Vec::len), Some(0));
    let f = &j["findings"][0];
    assert_eq!(
        (f["rule"].as_str(), f["location"]["path"].as_str()),
        (Some("github-pat"), Some("opt/model.bin"))
    );
    assert_eq!(f["location"]["offset"].as_u64(), Some((256 << 20) + 4096 + 7));
}

#[test]
fn max_file_size_skips_the_rest_of_a_file_as_a_note() {
    // Opting in to a cap skips the rest of each file: a note, not an error (no exit 2).
    let dir = tempfile::tempdir().expect("tempdir");
    let layer = dir.path().join("big.tar");
    sparse_layer(&layer, 1 << 20, 900 << 10, "\ntoken=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\n");
    let path = layer.to_str().expect("a UTF-8 temp path");
    let capped = run(&["scan", "--format", "json", "--max-file-size", "512K", path]);
    assert_eq!(code(&capped), 0, "{}", String::from_utf8_lossy(&capped.stderr));
    let j = json(&capped);
    assert_eq!(j["errors"].as_array().map(Vec::len), Some(0));
    assert_eq!(j["findings"].as_array().map(Vec::len), Some(0), "the token is past the cap");
    let notes: Vec<&str> = j["notes"].as_array().expect("notes").iter().filter_map(|n| n.as_str()).collect();
    assert!(
        notes.iter().any(|n| n.contains("opt/model.bin")
            && n.contains("scanned only the first 524288 bytes")
            && n.contains("524288 bytes not scanned")),
        "{notes:?}"
    );
}

#[test]
fn missing_input_is_nothing_scanned() {
    let out = scan(&["testdata/fixtures/does-not-exist.tar"]);
    assert_eq!(code(&out), 3);
    snapshot("scan_missing_input", &out);
}

#[test]
fn same_image_twice_prints_one_section() {
    // Regression: every copy's section listed the findings of all copies (quadratic output).
    let out = scan(&[DEMO, DEMO]);
    assert_eq!(code(&out), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().filter(|l| l.starts_with("layerleak/demo:latest")).count(), 1, "{text}");
    assert_eq!(text.matches("github-pat").count(), 2, "one finding per copy: {text}");
}

#[test]
fn stdin_cannot_carry_both_a_password_and_an_image() {
    let out = scan(&["--username", "u", "--password-stdin", "-"]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--password-stdin and `-`"), "{err}");
}

#[test]
fn a_registry_user_name_needs_a_password() {
    let out = cmd()
        .args(["scan", "--username", "u", DEMO])
        .env_remove("LAYERLEAK_REGISTRY_PASSWORD")
        .output()
        .expect("the layerleak binary runs");
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a registry user name needs a password"), "{err}");
}

#[test]
fn scan_with_a_cache_reuses_its_layers_and_where_lists_each_place_it_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("scans.sqlite");
    let cache = cache.to_str().expect("UTF-8 temp dir");
    let demo = "testdata/fixtures/demo.tar";
    let first = run(&["scan", demo, "--cache", cache, "-f", "json"]);
    let second = run(&["scan", demo, "--cache", cache, "-f", "json"]);
    let (first, second) = (json(&first), json(&second));
    assert_eq!(second["stats"]["layers_scanned"], 0, "every layer came from the cache");
    assert_eq!(first["findings"].as_array().map(Vec::len), second["findings"].as_array().map(Vec::len));
    let key = first["findings"].as_array().and_then(|f| f.iter().find(|f| f["rule"] == "private-key"));
    let key = key.expect("the demo's deleted key");
    let fingerprint = key["fingerprint"].as_str().expect("a fingerprint");

    let found = run(&["where", fingerprint, "--cache", cache, "-f", "json"]);
    assert_eq!(code(&found), 1, "places found");
    let places = json(&found)["secrets"][0]["places"].clone();
    assert_eq!(places.as_array().map(Vec::len), Some(1), "{places}");
    assert_eq!(places[0]["image"], "layerleak/demo:latest");
    assert_eq!(places[0]["tag"], "latest");
    assert_eq!(places[0]["path"], "root/.ssh/id_rsa");
    assert_eq!(places[0]["status"], "deleted");
    assert_eq!(places[0]["layer"], key["introduced_in"]["digest"]);

    let bad = run(&["where", "not-a-fingerprint", "--cache", cache]);
    assert_eq!(code(&bad), 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a fingerprint (64 hex digits)"));
    let missing = run(&["where", fingerprint, "--cache", &format!("{cache}.missing")]);
    assert_eq!(code(&missing), 2);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no cache at"));
}
