//! `Scanner::audit` against a real registry: twenty images sharing one base layer, each layer
//! downloaded once per run, and a second run served entirely from the SQLite layer cache.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use layerleak::digest::Digest;
use layerleak::report::by_secret::SecretIndex;
use layerleak::report::Report;
use layerleak::scan::{AuditOptions, NullSink, ScannerBuilder, SqliteCache};
use serde_json::json;

use crate::registry_harness::{noise, put_blob, require, Auth, RegistryServer, TestResult};
use crate::registry_scan::registry_opts;
use crate::support::gzip_layer;

const IMAGES: usize = 20;
/// A synthetic GitHub token with a valid checksum (also planted in the lifecycle fixture).
const PAT: &str = "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";

fn planted(i: usize) -> bool {
    i.is_multiple_of(4)
}

/// One OCI layout holding `IMAGES` images tagged `img00`…: a shared 4 MiB base layer and one
/// small distinct top layer each; every fourth top layer holds a token.
fn build_shared_base() -> TestResult<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("blobs/sha256"))?;
    std::fs::write(dir.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let big = noise(4 << 20, 11);
    let (base_gz, base_diff) =
        gzip_layer(&[("usr/lib/base.bin", &big), ("etc/os-release", b"ID=testbase\n".as_slice())]);
    let base = put_blob(dir.path(), &base_gz)?;
    let mut entries = Vec::new();
    for i in 0..IMAGES {
        let body = if planted(i) { format!("GITHUB_TOKEN={PAT}\n") } else { format!("APP={i}\n") };
        let (top_gz, top_diff) = gzip_layer(&[(&format!("app/{i}.env"), body.as_bytes())]);
        let top = put_blob(dir.path(), &top_gz)?;
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64", "os": "linux", "config": {},
            "rootfs": {"type": "layers", "diff_ids": [base_diff.to_string(), top_diff.to_string()]},
            "history": [{"created_by": "ADD base"}, {"created_by": format!("COPY {i}.env /app/")}]
        }))?;
        let config_digest = put_blob(dir.path(), &config)?;
        let layer = |d: &Digest, len: usize| json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d.to_string(), "size": len});
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config.len()},
            "layers": [layer(&base, base_gz.len()), layer(&top, top_gz.len())]
        }))?;
        let md = put_blob(dir.path(), &manifest)?;
        entries.push(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md.to_string(),
            "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": format!("img{i:02}")}
        }));
    }
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries});
    std::fs::write(dir.path().join("index.json"), serde_json::to_vec(&index)?)?;
    Ok(dir)
}

fn push_all(dir: &std::path::Path, host: &str) -> TestResult {
    for i in 0..IMAGES {
        let out = std::process::Command::new(require("skopeo"))
            .args(["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:img{i:02}", dir.display()))
            .arg(format!("docker://{host}/team/app{i:02}:v1"))
            .stdin(std::process::Stdio::null())
            .output()?;
        if !out.status.success() {
            return Err(format!("skopeo: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
    }
    Ok(())
}

fn finding_keys(r: &Report) -> BTreeSet<(String, String, String, String)> {
    r.findings
        .iter()
        .map(|f| (f.image.clone(), f.rule.clone(), f.fingerprint.clone(), f.location.path.clone()))
        .collect()
}

fn audit(
    host: &str,
    scratch: &tempfile::TempDir,
    cache: &std::path::Path,
    keep_secrets: bool,
) -> TestResult<(Report, f64)> {
    let scanner = ScannerBuilder::new()
        .threads(2)
        .keep_secrets(keep_secrets)
        .registry(registry_opts(&[host.to_string()], scratch))
        .cache(Arc::new(SqliteCache::open(cache)?))
        .build()?;
    let start = Instant::now();
    let Ok(report) = scanner.audit(host, &AuditOptions::default(), &mut NullSink);
    Ok((report, start.elapsed().as_secs_f64()))
}

#[test]
fn audit_scans_each_shared_layer_once_and_a_second_audit_nothing() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let layout = build_shared_base()?;
    push_all(layout.path(), &server.host())?;
    let scratch = tempfile::tempdir()?;
    let cache = scratch.path().join("cache/layers.sqlite");
    let unique = IMAGES + 1;

    let (first, first_secs) = audit(&server.host(), &scratch, &cache, false)?;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let s = &first.stats;
    assert_eq!((s.images, s.layers), (IMAGES, 2 * IMAGES));
    assert_eq!((s.layers_scanned, s.layers_reused, s.layers_cached), (unique, IMAGES - 1, 0));
    let with_token = (0..IMAGES).filter(|i| planted(*i)).count();
    assert_eq!(first.findings.len(), with_token, "{:#?}", first.findings);
    assert!(first.findings.iter().all(|f| f.rule == "github-pat" && f.visible && f.secret.is_none()));
    assert!(first.images.iter().all(|i| i.manifest_digest.is_some()));

    let (second, second_secs) = audit(&server.host(), &scratch, &cache, false)?;
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    let s2 = &second.stats;
    assert_eq!((s2.images, s2.layers), (IMAGES, 2 * IMAGES));
    assert_eq!((s2.layers_scanned, s2.layers_reused, s2.layers_cached), (0, IMAGES - 1, unique));
    assert_eq!(s2.bytes_compressed, 0, "nothing downloaded");
    assert_eq!(finding_keys(&second), finding_keys(&first));
    for (a, b) in first.findings.iter().zip(&second.findings) {
        assert_eq!((&a.redacted, a.status, &a.introduced_in), (&b.redacted, b.status, &b.introduced_in));
    }
    let stored = std::fs::read(&cache)?;
    assert!(!stored.windows(PAT.len()).any(|w| w == PAT.as_bytes()), "the cache holds no secret bytes");

    // A sink that stops at the first finding ends the audit there, batches still to come included.
    let stopping =
        ScannerBuilder::new().threads(1).registry(registry_opts(&[server.host()], &scratch)).build()?;
    let mut first_only = |_: &layerleak::report::Finding| std::ops::ControlFlow::Break(());
    let Ok(stopped) = stopping.audit(&server.host(), &AuditOptions::default(), &mut first_only);
    assert_eq!(stopped.findings.len(), 1);
    assert!(stopped.images.len() < IMAGES, "no image after the stop: {}", stopped.images.len());
    assert!(stopped.notes.iter().any(|n| n.contains("stopped early")), "{:?}", stopped.notes);

    // Showing secrets needs the bytes: every layer is downloaded again.
    let (shown, _) = audit(&server.host(), &scratch, &cache, true)?;
    assert_eq!((shown.stats.layers_scanned, shown.stats.layers_cached), (unique, 0));
    assert!(shown.findings.iter().all(|f| f.secret.as_deref() == Some(PAT)));

    // By secret, without keeping per-image findings: one entry, one place per planted image, each
    // from the image's own top layer (no shared root cause).
    let mut index = SecretIndex::new();
    let mut lean = AuditOptions::default();
    lean.collect_findings = false;
    let bare =
        ScannerBuilder::new().threads(2).registry(registry_opts(&[server.host()], &scratch)).build()?;
    let Ok(report) = bare.audit(&server.host(), &lean, &mut index);
    assert!(report.findings.is_empty());
    assert_eq!((report.stats.findings, report.stats.findings_visible), (with_token, with_token));
    let by_secret = index.finish(&report);
    let [token] = &by_secret.secrets[..] else { return Err("one distinct secret".into()) };
    assert_eq!((token.images(), token.places(), token.visible_in), (with_token, with_token, with_token));
    assert_eq!(by_secret.introduced_by(token).len(), with_token);
    assert!(by_secret.root_cause(token).is_none());
    assert_eq!((by_secret.summary.images, by_secret.summary.repositories), (IMAGES, IMAGES));

    let naive_bytes: u64 = first.images.iter().flat_map(|i| &i.layers).map(|l| l.compressed_size).sum();
    let mib = |b: u64| b as f64 / 1048576.0;
    println!(
        "audit of {IMAGES} images: an image-by-image scan downloads and scans {} layers ({:.1} MiB); \
         the first audit downloaded and scanned {} ({:.1} MiB) in {first_secs:.2} s; \
         the cached second audit downloaded and scanned {} ({:.1} MiB) in {second_secs:.2} s",
        s.layers,
        mib(naive_bytes),
        s.layers_scanned,
        mib(s.bytes_compressed),
        s2.layers_scanned,
        mib(s2.bytes_compressed),
    );
    Ok(())
}
