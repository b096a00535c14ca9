//! Scanning images pulled from a real registry (`docker-registry` on 127.0.0.1, pushed with
//! skopeo): the same findings as from the layout on disk, multi-platform indexes, a connection
//! lost mid-blob.

use std::collections::BTreeSet;

use layerleak::image::registry::RegistryOptions;
use layerleak::image::Platform;
use layerleak::report::{Report, Verified};
use layerleak::scan::{NullSink, Scanner, ScannerBuilder};

use crate::registry_harness::{build_layout, cutting_proxy, require, Auth, RegistryServer, TestResult};

/// Plain HTTP to `hosts`; no ambient Docker config; quick to give up.
pub fn registry_opts(hosts: &[String], scratch: &tempfile::TempDir) -> RegistryOptions {
    let mut o = RegistryOptions::default();
    o.insecure = hosts.to_vec();
    o.docker_config = Some(scratch.path().join("no-docker-config.json"));
    o.retries = 1;
    o
}

fn scanner(hosts: &[String], scratch: &tempfile::TempDir) -> TestResult<Scanner> {
    Ok(ScannerBuilder::new().threads(2).registry(registry_opts(hosts, scratch)).build()?)
}

type Key = (String, String, String, String, Option<usize>, Option<usize>);

/// What must agree between two scans of the same image: rule, fingerprint, path, status,
/// introducing and hiding layer.
fn keys(report: &Report) -> BTreeSet<Key> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.clone(),
                f.fingerprint.clone(),
                f.location.path.clone(),
                format!("{:?}", f.status),
                f.introduced_in.as_ref().map(|l| l.index),
                f.hidden_in.as_ref().map(|h| h.layer.index),
            )
        })
        .collect()
}

/// `skopeo copy oci:DIR:TAG docker://HOST/REPO:TAG` for a committed layout.
fn push_dir(dir: &std::path::Path, tag: &str, host: &str, repo: &str) -> TestResult {
    let out = std::process::Command::new(require("skopeo"))
        .args(["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:{tag}", dir.display()))
        .arg(format!("docker://{host}/{repo}:{tag}"))
        .stdin(std::process::Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(format!("skopeo: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

#[test]
fn registry_scan_finds_what_the_layout_scan_finds() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fixtures/lifecycle.oci");
    push_dir(&fixture, "v1", &server.host(), "layerleak/lifecycle")?;
    let scratch = tempfile::tempdir()?;
    let s = scanner(&[server.host()], &scratch)?;

    let local = s.scan_path(&fixture);
    let reference = format!("{}/layerleak/lifecycle:v1", server.host());
    let Ok(pulled) = s.scan_reference(&reference, &mut NullSink);
    assert!(pulled.errors.is_empty(), "{:?}", pulled.errors);
    assert!(!local.findings.is_empty());
    assert_eq!(keys(&pulled), keys(&local));

    let image = &pulled.images[0];
    assert_eq!(image.kind, layerleak::image::InputKind::Registry);
    assert_eq!(image.name, reference);
    assert_eq!(
        image.manifest_digest, local.images[0].manifest_digest,
        "the tag resolved to the pushed manifest"
    );
    assert!(image
        .layers
        .iter()
        .all(|l| l.digest_verified == Verified::Ok && l.diff_id_verified == Verified::Ok));
    assert!(pulled.findings.iter().all(|f| f.secret.is_none()), "secrets are redacted by default");

    // By digest, the same image.
    let Some(digest) = &image.manifest_digest else { return Err("no manifest digest".into()) };
    let Ok(pinned) =
        s.scan_reference(&format!("{}/layerleak/lifecycle@{digest}", server.host()), &mut NullSink);
    assert_eq!(keys(&pinned), keys(&local));
    Ok(())
}

#[test]
fn registry_scan_reads_every_platform_of_an_index_or_the_chosen_one() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let layout = build_layout("multi", &["amd64", "arm64"], 0)?;
    crate::registry_harness::push(&layout, "multi", &server.host(), "multi/app", "multi", None)?;
    let scratch = tempfile::tempdir()?;
    let reference = format!("{}/multi/app:multi", server.host());

    let Ok(all) = scanner(&[server.host()], &scratch)?.scan_reference(&reference, &mut NullSink);
    assert!(all.errors.is_empty(), "{:?}", all.errors);
    let platforms: BTreeSet<String> =
        all.images.iter().filter_map(|i| i.platform.as_ref().map(|p| p.architecture.clone())).collect();
    assert_eq!(platforms, BTreeSet::from(["amd64".to_string(), "arm64".to_string()]));
    for built in &layout.images {
        assert!(all.images.iter().any(|i| i.manifest_digest.as_ref() == Some(&built.manifest_digest)));
    }

    let Ok(arm) = ScannerBuilder::new()
        .threads(2)
        .registry(registry_opts(&[server.host()], &scratch))
        .platforms(vec![Platform::parse("linux/arm64").ok_or("platform")?])
        .build()?
        .scan_reference(&reference, &mut NullSink);
    assert_eq!(arm.images.len(), 1);
    assert_eq!(arm.images[0].platform.as_ref().map(|p| p.architecture.as_str()), Some("arm64"));
    Ok(())
}

#[test]
fn connection_lost_mid_blob_fails_that_layer_only() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let layout = build_layout("v1", &["amd64"], 1 << 20)?;
    crate::registry_harness::push(&layout, "v1", &server.host(), "team/big", "v1", None)?;
    let proxy = cutting_proxy(server.port, 64 << 10)?;
    let host = format!("127.0.0.1:{proxy}");
    let scratch = tempfile::tempdir()?;
    let Ok(report) = scanner(std::slice::from_ref(&host), &scratch)?
        .scan_reference(&format!("{host}/team/big:v1"), &mut NullSink);

    let image = &report.images[0];
    assert_eq!(image.layers.len(), 2);
    assert!(image.layers[0].complete && image.layers[0].digest_verified == Verified::Ok);
    assert!(!image.layers[1].complete);
    assert_eq!(image.layers[1].digest_verified, Verified::NotComputed);
    assert!(!report.errors.is_empty());
    for e in &report.errors {
        assert_eq!(e.at.layer, Some(1), "only the cut layer fails: {e:?}");
    }
    Ok(())
}

#[test]
fn missing_image_is_an_error_naming_it() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let scratch = tempfile::tempdir()?;
    let reference = format!("{}/no/such:tag", server.host());
    let Ok(report) = scanner(&[server.host()], &scratch)?.scan_reference(&reference, &mut NullSink);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].kind, "registry");
    assert!(report.errors[0].message.contains("404"), "{}", report.errors[0].message);
    assert!(report.errors[0].at.image.as_deref().is_some_and(|i| i.contains("no/such")));
    Ok(())
}
