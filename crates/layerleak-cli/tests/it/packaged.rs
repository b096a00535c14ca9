//! Packaged findings: counted, not listed, unless `--include-packaged`; never failing the gate.

use md5::Digest as _;

use crate::common::{cmd, code, snapshot};
use crate::support::tar_of;

/// Synthetic, checksummed GitHub token: the vendor's sample in a packaged README.
const VENDOR: &str = "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";

/// A one-layer `docker save` archive: a dpkg database vouching for a README with a sample token,
/// plus `app_env` at `app/.env` when given.
fn image(app_env: Option<&str>) -> Vec<u8> {
    let readme = format!("Example token: {VENDOR}\n");
    let sum: String = md5::Md5::digest(readme.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let status = "Package: libfoo\nStatus: install ok installed\nArchitecture: all\nVersion: 1.2-3\n";
    let md5sums = format!("{sum}  usr/share/doc/libfoo/README\n");
    let mut files = vec![("usr/share/doc/libfoo/README", readme.as_bytes())];
    if let Some(env) = app_env {
        files.push(("app/.env", env.as_bytes()));
    }
    files.push(("var/lib/dpkg/status", status.as_bytes()));
    files.push(("var/lib/dpkg/info/libfoo.md5sums", md5sums.as_bytes()));
    let layer = tar_of(&files);
    let config = r#"{"os":"linux","architecture":"amd64","config":{},"history":[{"created_by":"RUN apt-get install libfoo"}],"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let manifest = r#"[{"Config":"config.json","RepoTags":["test/packaged:1"],"Layers":["layer.tar"]}]"#;
    tar_of(&[
        ("layer.tar", &layer),
        ("config.json", config.as_bytes()),
        ("manifest.json", manifest.as_bytes()),
    ])
}

fn scan_stdin(archive: Vec<u8>, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["scan", "-"];
    args.extend_from_slice(extra);
    cmd().args(&args).write_stdin(archive).output().expect("the layerleak binary runs")
}

#[test]
fn packaged_findings_are_counted_not_listed_and_never_fail_the_gate() {
    let out = scan_stdin(image(None), &[]);
    assert_eq!(code(&out), 0, "only a packaged finding: clean");
    snapshot("packaged_default_table", &out);
    let out = scan_stdin(image(None), &["--include-packaged"]);
    assert_eq!(code(&out), 0, "listed, still not failing");
    snapshot("packaged_included_table", &out);
    let out = scan_stdin(image(None), &["--include-packaged", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["stats"]["findings_packaged"], 1);
    assert_eq!(json["findings"][0]["package"]["name"], "libfoo");
    let out = scan_stdin(image(None), &["--include-packaged", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(sarif["runs"][0]["results"][0]["suppressions"][0]["kind"], "external");
    let out = scan_stdin(image(None), &["--include-packaged", "--format", "html"]);
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(html.contains("packaged: exactly as dpkg libfoo 1.2-3 installed it"), "the HTML report marks it");
}

#[test]
fn no_package_triage_lists_every_finding_as_before() {
    let out = scan_stdin(image(None), &["--no-package-triage", "--format", "json"]);
    assert_eq!(code(&out), 1, "the vendor sample is an ordinary finding again");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["stats"]["findings_packaged"], 0);
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(1));
    assert!(json["findings"][0].get("package").is_none());
    assert_eq!(json["notes"], serde_json::json!([]), "no note about databases it did not look for");
}

#[test]
fn a_secret_the_image_added_still_fails_beside_packaged_ones() {
    let out = scan_stdin(image(Some("STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dcQ9vW2kXy\n")), &[]);
    assert_eq!(code(&out), 1);
    let out = cmd()
        .args(["layers", "-"])
        .write_stdin(image(Some("STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dcQ9vW2kXy\n")))
        .output()
        .expect("runs");
    snapshot("packaged_layers_table", &out);
}
