//! The registry client against a real CNCF distribution registry on 127.0.0.1 (anonymous,
//! htpasswd Basic and token auth), with images pushed by skopeo.

use std::io::Read;

use layerleak::digest::Digest;
use layerleak::image::registry::{Registry, RegistryBlobStore, RegistryOptions};
use layerleak::image::{BlobRef, BlobStore};
use layerleak::{Error, LimitKind};

use crate::registry_harness::{
    build_layout, cutting_proxy, push, Auth, RegistryServer, TestResult, TokenServer,
};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Plain HTTP to the test registry; no ambient Docker config; quick to give up.
fn opts(host: &str, dir: &tempfile::TempDir) -> RegistryOptions {
    let mut o = RegistryOptions::default();
    o.insecure = vec![host.to_string()];
    o.docker_config = Some(dir.path().join("no-docker-config.json"));
    o.retries = 1;
    o
}

fn read_all(mut r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    Ok(v)
}

#[test]
fn anonymous_manifest_and_blobs_are_fetched_and_verified() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let layout = build_layout("v1", &["amd64"], 0)?;
    push(&layout, "v1", &server.host(), "team/app", "v1", None)?;
    let image = &layout.images[0];
    let scratch = tempfile::tempdir()?;
    let reg = Registry::new(&server.host(), &opts(&server.host(), &scratch))?;

    let (bytes, media_type, digest) = reg.manifest("team/app", "v1")?;
    assert_eq!(media_type.as_deref(), Some(OCI_MANIFEST));
    assert_eq!(digest, Digest::sha256_of(&bytes));
    assert_eq!(digest, image.manifest_digest, "skopeo pushed the manifest unchanged");
    let (by_digest, _, d2) = reg.manifest("team/app", &digest.to_string())?;
    assert_eq!((by_digest, d2), (bytes, digest));

    let config = reg.blob_bytes("team/app", &image.config_digest, 1 << 20)?;
    assert_eq!(config, image.config);

    let (layer_digest, layer_bytes) = &image.layers[0];
    let streamed = read_all(reg.blob_reader("team/app", layer_digest)?)?;
    assert_eq!(&streamed, layer_bytes);
    let store = RegistryBlobStore::new(reg.clone(), "team/app");
    let via_store = read_all(store.open(&BlobRef::Digest(layer_digest.clone()))?)?;
    assert_eq!(Digest::sha256_of(&via_store), *layer_digest);
    Ok(())
}

#[test]
fn loopback_is_not_plain_http_without_opt_in() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let scratch = tempfile::tempdir()?;
    let mut o = opts(&server.host(), &scratch);
    o.insecure.clear();
    o.retries = 0;
    let reg = Registry::new(&server.host(), &o)?;
    match reg.manifest("team/app", "v1") {
        Err(Error::Registry { status: None, at, .. }) => {
            assert_eq!(at.image, Some(format!("{}/team/app:v1", server.host())));
        }
        other => panic!("HTTPS to a plain-HTTP registry should fail: {other:?}"),
    }
    Ok(())
}

#[test]
fn multi_arch_index_pushed_with_all() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let layout = build_layout("multi", &["amd64", "arm64"], 0)?;
    push(&layout, "multi", &server.host(), "multi/app", "multi", None)?;
    let scratch = tempfile::tempdir()?;
    let reg = Registry::new(&server.host(), &opts(&server.host(), &scratch))?;

    let (bytes, media_type, digest) = reg.manifest("multi/app", "multi")?;
    assert_eq!(media_type.as_deref(), Some(OCI_INDEX));
    assert_eq!(Some(digest), layout.index_digest);
    let index: serde_json::Value = serde_json::from_slice(&bytes)?;
    let entries = index["manifests"].as_array().ok_or("index without manifests")?;
    assert_eq!(entries.len(), 2);
    for (entry, built) in entries.iter().zip(&layout.images) {
        assert_eq!(entry["platform"]["architecture"], built.arch.as_str());
        let child = entry["digest"].as_str().ok_or("entry without digest")?;
        let (child_bytes, child_type, child_digest) = reg.manifest("multi/app", child)?;
        assert_eq!(child_type.as_deref(), Some(OCI_MANIFEST));
        assert_eq!(child_digest, built.manifest_digest);
        let child_digest_parsed: Digest = child.parse()?;
        assert_eq!(
            reg.content("multi/app", &child_digest_parsed, 1 << 20)?,
            child_bytes,
            "manifest by digest"
        );
        let manifest: serde_json::Value = serde_json::from_slice(&child_bytes)?;
        let config_digest: Digest =
            manifest["config"]["digest"].as_str().ok_or("no config digest")?.parse()?;
        let config: serde_json::Value =
            serde_json::from_slice(&reg.blob_bytes("multi/app", &config_digest, 1 << 20)?)?;
        assert_eq!(config["architecture"], built.arch.as_str());
    }
    Ok(())
}

#[test]
fn missing_manifests_and_blobs_and_bounds() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let layout = build_layout("v1", &["amd64"], 0)?;
    push(&layout, "v1", &server.host(), "team/app", "v1", None)?;
    let scratch = tempfile::tempdir()?;
    let reg = Registry::new(&server.host(), &opts(&server.host(), &scratch))?;

    match reg.manifest("team/app", "nope") {
        Err(Error::Registry { status: Some(404), at, message }) => {
            assert_eq!(at.image, Some(format!("{}/team/app:nope", server.host())));
            assert!(message.contains("nope") && message.contains("team/app"), "{message}");
        }
        other => panic!("expected 404: {other:?}"),
    }
    match reg.manifest("nobody/here", "v1") {
        Err(Error::Registry { status: Some(404), .. }) => {}
        other => panic!("expected 404 for an unknown repository: {other:?}"),
    }
    let absent = Digest::sha256_of(b"not pushed");
    assert!(matches!(
        reg.blob_bytes("team/app", &absent, 1024),
        Err(Error::Registry { status: Some(404), .. })
    ));
    assert!(matches!(reg.blob_reader("team/app", &absent), Err(Error::Registry { status: Some(404), .. })));
    assert!(matches!(reg.content("team/app", &absent, 1024), Err(Error::Registry { status: Some(404), .. })));

    let image = &layout.images[0];
    let mut small = opts(&server.host(), &scratch);
    small.max_manifest_bytes = 64;
    let bounded = Registry::new(&server.host(), &small)?;
    assert!(image.manifest.len() > 64);
    match bounded.manifest("team/app", "v1") {
        Err(Error::Limit { limit: LimitKind::JsonBytes, max: 64, at }) => {
            assert_eq!(at.image, Some(format!("{}/team/app:v1", server.host())));
        }
        other => panic!("expected a limit error: {other:?}"),
    }
    assert!(matches!(
        reg.blob_bytes("team/app", &image.config_digest, 10),
        Err(Error::Limit { limit: LimitKind::JsonBytes, max: 10, .. })
    ));
    Ok(())
}

#[test]
fn catalog_and_tags_follow_pagination() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let layout = build_layout("v1", &["amd64"], 0)?;
    let host = server.host();
    for (repo, tag) in
        [("list/a", "t1"), ("list/b", "t1"), ("list/c", "t1"), ("list/a", "t2"), ("list/a", "t3")]
    {
        push(&layout, "v1", &host, repo, tag, None)?;
    }
    let scratch = tempfile::tempdir()?;
    let mut o = opts(&host, &scratch);
    o.page_size = Some(2);
    let reg = Registry::new(&host, &o)?;
    assert_eq!(reg.catalog()?, vec!["list/a", "list/b", "list/c"]);
    let mut tags = reg.tags("list/a")?;
    tags.sort();
    assert_eq!(tags, vec!["t1", "t2", "t3"]);
    assert!(matches!(reg.tags("list/none"), Err(Error::Registry { status: Some(404), .. })));
    Ok(())
}

#[test]
fn htpasswd_basic_auth() -> TestResult {
    let (user, password) = ("alice", "s3cr3t-basic-7f3a");
    let server = RegistryServer::start(Auth::Htpasswd { user: user.into(), password: password.into() })?;
    let host = server.host();
    let layout = build_layout("v1", &["amd64"], 0)?;
    push(&layout, "v1", &host, "basic/app", "v1", Some(&format!("{user}:{password}")))?;
    let scratch = tempfile::tempdir()?;

    let mut good = opts(&host, &scratch);
    good.username = Some(user.into());
    good.password = Some(password.into());
    let reg = Registry::new(&host, &good)?;
    let (_, _, digest) = reg.manifest("basic/app", "v1")?;
    assert_eq!(digest, layout.images[0].manifest_digest);
    let config = reg.blob_bytes("basic/app", &layout.images[0].config_digest, 1 << 20)?;
    assert_eq!(config, layout.images[0].config);

    let wrong_password = "s3cr3t-wrong-91bd";
    let mut bad = opts(&host, &scratch);
    bad.username = Some(user.into());
    bad.password = Some(wrong_password.into());
    let err = match Registry::new(&host, &bad)?.manifest("basic/app", "v1") {
        Err(e @ Error::Registry { status: Some(401), .. }) => e,
        other => panic!("expected 401: {other:?}"),
    };
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(wrong_password), "password leaked: {shown}");
    assert!(!shown.contains(password), "password leaked: {shown}");

    match Registry::new(&host, &opts(&host, &scratch))?.manifest("basic/app", "v1") {
        Err(Error::Registry { status: Some(401), message, .. }) => {
            assert!(message.contains("no credentials"), "{message}");
        }
        other => panic!("expected 401 without credentials: {other:?}"),
    }

    // The same credentials from a Docker client config `auths` entry.
    let config_path = scratch.path().join("config.json");
    let auth =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{user}:{password}"));
    std::fs::write(
        &config_path,
        serde_json::to_vec(&serde_json::json!({"auths": {host.clone(): {"auth": auth}}}))?,
    )?;
    let mut from_config = opts(&host, &scratch);
    from_config.docker_config = Some(config_path);
    let (_, _, digest) = Registry::new(&host, &from_config)?.manifest("basic/app", "v1")?;
    assert_eq!(digest, layout.images[0].manifest_digest);
    Ok(())
}

#[test]
fn bearer_token_auth() -> TestResult {
    let (user, password) = ("bob", "s3cr3t-token-44c1");
    let tokens = TokenServer::start(user, password)?;
    let server = RegistryServer::start(tokens.auth())?;
    let host = server.host();
    let layout = build_layout("v1", &["amd64"], 0)?;
    push(&layout, "v1", &host, "bearer/app", "v1", Some(&format!("{user}:{password}")))
        .map_err(|e| format!("{e}\nregistry log:\n{}", server.log()))?;
    let scratch = tempfile::tempdir()?;
    let count = || tokens.requests.lock().map(|r| r.len()).unwrap_or(0);

    let mut good = opts(&host, &scratch);
    good.username = Some(user.into());
    good.password = Some(password.into());
    let reg = Registry::new(&host, &good)?;
    let before = count();
    let (_, media_type, digest) = reg.manifest("bearer/app", "v1")?;
    assert_eq!(media_type.as_deref(), Some(OCI_MANIFEST));
    assert_eq!(digest, layout.images[0].manifest_digest);
    reg.manifest("bearer/app", &digest.to_string())?;
    let (layer_digest, layer) = &layout.images[0].layers[0];
    assert_eq!(&read_all(reg.blob_reader("bearer/app", layer_digest)?)?, layer);
    assert_eq!(count() - before, 1, "one token per scope, then cached");
    let last = tokens.requests.lock().map(|r| r.last().cloned()).unwrap_or_default().unwrap_or_default();
    assert!(last.contains("scope=repository%3Abearer%2Fapp%3Apull"), "{last}");
    assert!(last.contains(&format!("service={}", tokens.service)), "{last}");

    let wrong_password = "s3cr3t-wrong-token-0d2e";
    let mut bad = opts(&host, &scratch);
    bad.username = Some(user.into());
    bad.password = Some(wrong_password.into());
    let err = match Registry::new(&host, &bad)?.manifest("bearer/app", "v1") {
        Err(e @ Error::Registry { status: Some(401), .. }) => e,
        other => panic!("expected 401 from the token endpoint: {other:?}"),
    };
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(wrong_password) && !shown.contains(password), "password leaked: {shown}");
    Ok(())
}

#[test]
fn connection_cut_mid_blob_is_a_read_error() -> TestResult {
    let server = RegistryServer::start(Auth::None)?;
    let layout = build_layout("big", &["amd64"], 512 << 10)?;
    push(&layout, "big", &server.host(), "big/app", "big", None)?;
    let (big_digest, big) = &layout.images[0].layers[1];
    assert!(big.len() > 256 << 10);
    let proxy = cutting_proxy(server.port, 64 << 10)?;
    let scratch = tempfile::tempdir()?;
    let mut o = opts("", &scratch);
    o.retries = 0;
    let reg = Registry::new(&format!("http://127.0.0.1:{proxy}"), &o)?;
    let mut reader = reg.blob_reader("big/app", big_digest)?;
    let mut got = Vec::new();
    let err = match reader.read_to_end(&mut got) {
        Err(e) => e,
        Ok(n) => panic!("read {n} bytes of a cut connection without error"),
    };
    assert!(got.len() < big.len(), "{err}");
    match reg.blob_bytes("big/app", big_digest, 1 << 20) {
        Err(Error::Io { .. }) => {}
        other => panic!("expected an I/O error: {other:?}"),
    }
    Ok(())
}
