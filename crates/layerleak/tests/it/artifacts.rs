//! OCI layouts hold artifacts next to images (OCI image spec, "Guidelines for Artifact Usage"):
//! SBOMs, signatures, Helm charts, WASM modules, buildx attestations. They are skipped with a
//! note naming their type; the images beside them are scanned. The layout is built here.

use std::path::Path;

use layerleak::digest::Digest;
use layerleak::report::Report;
use layerleak::scan::ScannerBuilder;

use crate::support::{gzip, tar_of};

/// Synthetic, format-valid (checksummed) GitHub token.
const GH: &str = "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";
const EMPTY: &str = "application/vnd.oci.empty.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

fn put(dir: &Path, data: &[u8]) -> Digest {
    let d = Digest::sha256_of(data);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("creating blobs/");
    std::fs::write(blobs.join(d.hex()), data).expect("writing a blob");
    d
}

fn desc(media_type: &str, d: &Digest, size: usize, extra: &str) -> String {
    format!(r#"{{"mediaType":"{media_type}","digest":"{d}","size":{size}{extra}}}"#)
}

/// Writes a manifest; `artifact_type` is written when given. Returns its descriptor fields.
fn manifest(
    dir: &Path,
    artifact_type: Option<&str>,
    config: (&str, &[u8]),
    layers: &[(&str, &[u8])],
) -> (Digest, usize) {
    let config_d = put(dir, config.1);
    let ls: Vec<String> = layers.iter().map(|(mt, b)| desc(mt, &put(dir, b), b.len(), "")).collect();
    let at = artifact_type.map(|t| format!(r#","artifactType":"{t}""#)).unwrap_or_default();
    let doc = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST}"{at},"config":{},"layers":[{}]}}"#,
        desc(config.0, &config_d, config.1.len(), ""),
        ls.join(",")
    );
    (put(dir, doc.as_bytes()), doc.len())
}

fn layer_with_token() -> (Vec<u8>, Digest) {
    let tar = tar_of(&[("app/token", format!("token = {GH}\n").as_bytes())]);
    let diff = Digest::sha256_of(&tar);
    (tar, diff)
}

fn ref_name(tag: &str) -> String {
    format!(r#","annotations":{{"org.opencontainers.image.ref.name":"{tag}"}}"#)
}

/// The layout: an image (tag `app`), a nested index holding a platform image and its buildx
/// attestation, and artifacts: an SBOM (artifactType, empty config), a Helm chart, a cosign-style
/// signature (image config, signature layer), a WASM module, and one known from its index entry.
fn layout(dir: &Path) {
    let (tar, diff) = layer_with_token();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{diff}"]}}}}"#
    );
    let layer_mt = "application/vnd.oci.image.layer.v1.tar";
    let (app, app_size) = manifest(dir, None, (IMAGE_CONFIG, config.as_bytes()), &[(layer_mt, &tar)]);
    let in_toto = br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}"#;
    let (att, att_size) = manifest(
        dir,
        None,
        (IMAGE_CONFIG, br#"{"architecture":"unknown","os":"unknown"}"#),
        &[("application/vnd.in-toto+json", in_toto)],
    );
    let nested = format!(
        r#"{{"schemaVersion":2,"mediaType":"{INDEX}","manifests":[{},{}]}}"#,
        desc(MANIFEST, &app, app_size, r#","platform":{"os":"linux","architecture":"amd64"}"#),
        desc(
            MANIFEST,
            &att,
            att_size,
            &format!(
                r#","platform":{{"os":"unknown","architecture":"unknown"}},"annotations":{{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"{app}"}}"#
            )
        )
    );
    let nested_d = put(dir, nested.as_bytes());
    let spdx = br#"{"spdxVersion":"SPDX-2.3","name":"app"}"#;
    let (sbom, sbom_size) =
        manifest(dir, Some("application/spdx+json"), (EMPTY, b"{}"), &[("application/spdx+json", spdx)]);
    let chart = gzip(b"not a layer, a chart");
    let (helm, helm_size) = manifest(
        dir,
        None,
        ("application/vnd.cncf.helm.config.v1+json", br#"{"name":"app","version":"1.0.0"}"#),
        &[("application/vnd.cncf.helm.chart.content.v1.tar+gzip", &chart)],
    );
    let (sig, sig_size) = manifest(
        dir,
        None,
        (IMAGE_CONFIG, b"{}"),
        &[("application/vnd.dev.cosign.simplesigning.v1+json", br#"{"critical":{}}"#)],
    );
    let (wasm, wasm_size) = manifest(
        dir,
        None,
        ("application/vnd.wasm.config.v0+json", b"{}"),
        &[("application/wasm", b"\0asm\x01\0\0\0")],
    );
    // Known from the index entry alone: the manifest is never read (it is not even there).
    let unread = Digest::sha256_of(b"an artifact manifest not in the layout");
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{INDEX}","manifests":[{}]}}"#,
        [
            desc(INDEX, &nested_d, nested.len(), &ref_name("app")),
            desc(MANIFEST, &sbom, sbom_size, &ref_name("sbom")),
            desc(MANIFEST, &helm, helm_size, &ref_name("chart")),
            desc(MANIFEST, &sig, sig_size, &ref_name("sha256-1.sig")),
            desc(MANIFEST, &wasm, wasm_size, &ref_name("wasm")),
            desc(MANIFEST, &unread, 10, r#","artifactType":"application/vnd.example.sbom+json""#),
        ]
        .join(",")
    );
    std::fs::write(dir.join("index.json"), index).expect("writing index.json");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
}

fn scan(dir: &Path) -> Report {
    ScannerBuilder::new().threads(2).build().expect("built-in rules").scan_path(dir)
}

#[test]
fn artifacts_in_an_oci_layout_are_skipped_with_a_note_and_the_image_scanned() {
    // Regression: each artifact blob was walked as a layer ("bad tar stream"), exit 2 for the
    // whole layout.
    let dir = tempfile::tempdir().expect("tempdir");
    layout(dir.path());
    let r = scan(dir.path());
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    assert_eq!(r.images.len(), 1, "{:#?}", r.images.iter().map(|i| &i.name).collect::<Vec<_>>());
    assert_eq!(r.images[0].name, "app");
    assert!(r.findings.iter().any(|f| f.rule == "github-pat" && f.location.path == "app/token"));
    let notes = r.notes.join("\n");
    let skipped = r.notes.iter().filter(|n| n.starts_with("skipped")).count();
    assert_eq!(skipped, 6, "one note per skipped manifest:\n{notes}");
    for kind in [
        "skipped attestation manifest",
        "(tag sbom): an artifact, not an image (artifactType application/spdx+json)",
        "(tag chart): an artifact, not an image (config application/vnd.cncf.helm.config.v1+json)",
        "(tag sha256-1.sig): an artifact, not an image (layers application/vnd.dev.cosign.simplesigning.v1+json)",
        "(tag wasm): an artifact, not an image (config application/vnd.wasm.config.v0+json)",
        "an artifact, not an image (artifactType application/vnd.example.sbom+json)",
    ] {
        assert!(notes.contains(kind), "no note {kind:?} in:\n{notes}");
    }
}
