//! `layerleak layers`: the per-layer timeline.

use crate::common::{code, json, run, snapshot, TEST_RULES};

#[test]
fn demo_layers_table() {
    let out = run(&["layers", "--rules", TEST_RULES, "testdata/fixtures/demo.tar"]);
    assert_eq!(code(&out), 0);
    snapshot("layers_demo_table", &out);
}

#[test]
fn demo_layers_json() {
    let out = run(&["layers", "--format", "json", "--rules", TEST_RULES, "testdata/fixtures/demo.tar"]);
    assert_eq!(code(&out), 0);
    let j = json(&out);
    assert_eq!(j["schema"], 1);
    let layers = j["images"][0]["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 5);
    for key in [
        "index",
        "digest",
        "uncompressed_size",
        "created_by",
        "files_added",
        "files_overwritten",
        "paths_deleted",
        "secrets_introduced",
        "secrets_hidden",
        "bytes_wasted",
    ] {
        assert!(layers.iter().all(|l| l.get(key).is_some()), "every layer has {key}");
    }
    snapshot("layers_demo_json", &out);
}

#[test]
fn lifecycle_layers_count_hidden_secrets() {
    let out = run(&["layers", "--format", "json", "--rules", TEST_RULES, "testdata/fixtures/lifecycle.oci"]);
    assert_eq!(code(&out), 0);
    let j = json(&out);
    let layers = j["images"][0]["layers"].as_array().expect("layers");
    let hidden: u64 = layers.iter().filter_map(|l| l["secrets_hidden"].as_u64()).sum();
    let deleted: u64 = layers.iter().filter_map(|l| l["paths_deleted"].as_u64()).sum();
    assert!(hidden > 0 && deleted > 0, "layers 2-4 delete and hide secrets");
    snapshot(
        "layers_lifecycle_table",
        &run(&["layers", "--rules", TEST_RULES, "testdata/fixtures/lifecycle.oci"]),
    );
}

#[test]
fn layers_of_a_damaged_image_exit_two() {
    let out = run(&["layers", "testdata/fixtures/bad/corrupt-gzip.tar"]);
    assert_eq!(code(&out), 2);
    snapshot("layers_corrupt_gzip", &out);
}
