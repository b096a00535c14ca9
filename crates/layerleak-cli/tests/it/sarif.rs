//! SARIF output validates against the official SARIF 2.1.0 schema (`testdata/sarif/`) and carries
//! one result per finding, with rule metadata, image/layer/path and the fingerprint.

use serde_json::Value;

use crate::common::{code, json, root, scan};

pub(crate) fn validator() -> jsonschema::Validator {
    let path = root().join("testdata/sarif/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).expect("SARIF schema copy");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

pub(crate) fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{what}: SARIF invalid:\n{}", errors.join("\n"));
}

#[test]
fn schema_rejects_a_broken_log() {
    // Proves the validator is really checking: a result without a message is invalid.
    let v = validator();
    let bad = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"ruleId": "r"}]}]});
    assert!(!v.is_valid(&bad));
}

#[test]
fn every_fixture_validates() {
    let v = validator();
    for input in [
        "testdata/fixtures/demo.tar",
        "testdata/fixtures/lifecycle.oci",
        "testdata/fixtures/umoci.oci",
        "testdata/fixtures/multiarch.oci",
        "testdata/fixtures/lifecycle-layer.tar.gz",
        "testdata/fixtures/bad/truncated.tar",
        "testdata/fixtures/bad/bad-json.tar",
        "testdata/fixtures/bad/traversal.tar.gz",
    ] {
        for extra in [&[][..], &["--show-secrets"][..]] {
            let mut args = vec!["--format", "sarif"];
            args.extend_from_slice(extra);
            args.push(input);
            let out = scan(&args);
            assert_ne!(code(&out), 0, "{input}");
            assert_valid(&v, &json(&out), input);
        }
        // The built-in rules carry more metadata (severity, validators); validate them too.
        let out = crate::common::run(&["scan", "--format", "sarif", input]);
        assert_valid(&v, &json(&out), input);
    }
}

#[test]
fn one_result_per_finding_with_location_and_fingerprint() {
    let input = "testdata/fixtures/lifecycle.oci";
    let report = json(&scan(&["--format", "json", input]));
    let sarif = json(&scan(&["--format", "sarif", input]));
    let findings = report["findings"].as_array().expect("findings");
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().expect("results");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(results.len(), findings.len());
    for (f, r) in findings.iter().zip(results) {
        assert_eq!(r["ruleId"], f["rule"]);
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], f["rule"], "ruleIndex points at the rule");
        assert!(rules[index]["shortDescription"]["text"].is_string());
        assert_eq!(r["partialFingerprints"]["secretSha256/v1"], f["fingerprint"]);
        let loc = &r["locations"][0];
        let fq = loc["logicalLocations"][0]["fullyQualifiedName"].as_str().expect("fq name");
        let image = f["image"].as_str().expect("image");
        let path = f["location"]["path"].as_str().expect("path");
        assert!(fq.starts_with(image), "{fq} names the image");
        assert!(fq.contains(path), "{fq} names the path");
        if let Some(digest) = f["introduced_in"]["digest"].as_str() {
            assert!(fq.contains(digest), "{fq} names the layer digest");
        }
        assert!(r["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains(f["remediation"].as_str().unwrap_or("?"))));
    }
}

#[test]
fn errors_become_notifications() {
    let sarif = json(&scan(&["--format", "sarif", "testdata/fixtures/bad/corrupt-gzip.tar"]));
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().expect("notifications");
    assert_eq!(notes.len(), 1);
    assert!(notes[0]["message"]["text"].as_str().is_some_and(|t| t.contains("decompress")));
}
