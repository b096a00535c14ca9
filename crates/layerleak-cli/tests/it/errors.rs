//! Damaged inputs (`testdata/fixtures/bad/*`): findings from the readable parts are still
//! printed, every error is listed, and the exit status is 2.

use crate::common::{code, json, scan, snapshot};

const BAD: [&str; 8] = [
    "bad-json.tar",
    "corrupt-gzip.tar",
    "digest-mismatch.tar",
    "garbage-header.tar",
    "missing-blob.tar",
    "missing-fields.oci",
    "traversal.tar.gz",
    "truncated.tar",
];

#[test]
fn every_bad_fixture_table() {
    for name in BAD {
        let path = format!("testdata/fixtures/bad/{name}");
        let out = scan(&["--jobs", "1", &path]);
        let expected = match name {
            "traversal.tar.gz" => 1,
            // Nothing of it can be read: no image, so nothing was scanned.
            "bad-json.tar" => 3,
            _ => 2,
        };
        assert_eq!(code(&out), expected, "{name}");
        snapshot(&format!("bad_{}", name.replace('.', "_")), &out);
    }
}

#[test]
fn damaged_layer_keeps_findings_of_intact_layers() {
    for name in ["corrupt-gzip.tar", "garbage-header.tar", "missing-blob.tar", "truncated.tar"] {
        let out = scan(&["--format", "json", &format!("testdata/fixtures/bad/{name}")]);
        assert_eq!(code(&out), 2, "{name}");
        let j = json(&out);
        let errors = j["errors"].as_array().expect("errors array");
        assert!(!errors.is_empty(), "{name}: errors listed");
        assert!(errors.iter().all(|e| e["message"].is_string() && e["kind"].is_string()), "{name}");
        let paths: Vec<&str> = j["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["location"]["path"].as_str())
            .collect();
        assert!(paths.contains(&"app/token"), "{name}: layer 0 secret found: {paths:?}");
        assert!(paths.contains(&"etc/billing.env"), "{name}: layer 2 secret found: {paths:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for e in errors {
            let msg = e["message"].as_str().unwrap_or_default();
            assert!(stderr.contains(msg), "{name}: error {msg:?} also on stderr");
        }
    }
}

#[test]
fn a_bad_input_does_not_stop_the_next_one() {
    let out = scan(&["--format", "json", "testdata/fixtures/bad/bad-json.tar", "testdata/fixtures/demo.tar"]);
    assert_eq!(code(&out), 2);
    let j = json(&out);
    assert_eq!(j["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(j["images"][0]["name"], "layerleak/demo:latest");
    assert!(j["stats"]["findings"].as_u64().unwrap_or(0) > 0);
}

/// Fixtures cut short as an interrupted download or copy leaves them, each scanned from the
/// directory holding it (so the snapshot names no machine path): the error output leads with
/// "archive truncated", and what precedes the cut is still scanned and reported.
#[test]
fn a_truncated_input_leads_with_archive_truncated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let read = |name: &str| std::fs::read(crate::common::root().join("testdata/fixtures").join(name));
    let layer = read("lifecycle-layer.tar").expect("fixture");
    let layer_gz = read("lifecycle-layer.tar.gz").expect("fixture");
    let archive_gz =
        crate::support::gzip_at(&read("demo.tar").expect("fixture"), flate2::Compression::best());
    let cases: [(&str, &[u8], i32); 3] = [
        // A layer cut inside a tar header: the entries before it are scanned.
        ("layer.tar", &layer[..7300], 2),
        ("layer.tar.gz", &layer_gz[..layer_gz.len() / 2], 2),
        // A compressed archive cut before its index: no image can be read.
        ("demo.tar.gz", &archive_gz[..archive_gz.len() * 9 / 10], 3),
    ];
    let rules = crate::common::root().join(crate::common::TEST_RULES);
    for (name, bytes, status) in cases {
        std::fs::write(dir.path().join(name), bytes).expect("writing the cut file");
        let out = crate::common::cmd()
            .current_dir(dir.path())
            .args(["scan", "--no-builtin-rules", "--rules"])
            .arg(&rules)
            .arg(name)
            .output()
            .expect("runs");
        assert_eq!(code(&out), status, "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("layerleak: archive truncated: "), "{name}: {stderr}");
        snapshot(&format!("truncated_{}", name.replace('.', "_")), &out);
    }
}
