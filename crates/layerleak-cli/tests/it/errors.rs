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
