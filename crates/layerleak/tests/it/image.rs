//! Image readers end to end: fixtures are built here with the `tar` crate, opened through the
//! public API, and their layers read back through the input's blob store.

use std::io::{Cursor, Read};
use std::path::Path;

use layerleak::digest::Digest;

use layerleak::image::{open_path, open_reader, BlobRef, Input, InputKind, MediaType, OpenOptions, Platform};
use layerleak::{DigestKind, Error, LimitKind};

use crate::support::gzip;

const MTIME: u64 = 1_700_000_000;

/// Appends a regular member, writing short names into the header verbatim (so `../x` and `/x`
/// can be stored as hostile archives do).
fn append(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(MTIME);
    h.set_entry_type(tar::EntryType::Regular);
    if name.len() < 100 {
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, data).unwrap();
    } else {
        b.append_data(&mut h, name, data).unwrap();
    }
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        append(&mut b, name, data);
    }
    b.into_inner().unwrap()
}

fn layer(file: &str, content: &[u8]) -> Vec<u8> {
    tar_of(&[(file, content)])
}

fn config_json(diff_ids: &[Digest], os: &str, arch: &str) -> Vec<u8> {
    let ids: Vec<String> = diff_ids.iter().map(|d| format!("\"{d}\"")).collect();
    let mut history = vec![r#"{"created_by":"ENV A=1","empty_layer":true}"#.to_string()];
    history.extend((0..diff_ids.len()).map(|i| format!(r#"{{"created_by":"RUN step {i}"}}"#)));
    format!(
        r#"{{"os":"{os}","architecture":"{arch}","config":{{"Env":["PATH=/bin","API_KEY=x"]}},
           "history":[{}],"rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        history.join(","),
        ids.join(",")
    )
    .into_bytes()
}

fn read_blob(input: &Input, blob: &BlobRef) -> Vec<u8> {
    let mut out = Vec::new();
    input.store.open(blob).unwrap().read_to_end(&mut out).unwrap();
    out
}

fn write_file(dir: &Path, name: &str, data: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// A legacy `docker save` archive with `manifest.json` last; returns it and its two layers.
fn legacy_archive(manifest: &str, extra: &[(&str, &[u8])]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let l0 = layer("etc/app.env", b"API_KEY=one");
    let l1 = layer("etc/app.env", b"API_KEY=two");
    let config = config_json(&[Digest::sha256_of(&l0), Digest::sha256_of(&l1)], "linux", "amd64");
    let config_name = format!("{}.json", Digest::sha256_of(&config).hex());
    let manifest = manifest.replace("CONFIG", &config_name);
    let mut entries: Vec<(&str, &[u8])> =
        vec![(&config_name, &config), ("aaa/layer.tar", &l0), ("bbb/layer.tar", &l1)];
    entries.extend_from_slice(extra);
    entries.push(("manifest.json", manifest.as_bytes()));
    (tar_of(&entries), vec![l0, l1])
}

const LEGACY_MANIFEST: &str =
    r#"[{"Config":"CONFIG","RepoTags":["app:1"],"Layers":["aaa/layer.tar","bbb/layer.tar"]}]"#;

#[test]
fn legacy_archive_with_manifest_last_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, layers) = legacy_archive(LEGACY_MANIFEST, &[]);
    let path = write_file(dir.path(), "image.tar", &bytes);
    let input = open_path(&path, &OpenOptions::default()).unwrap();
    assert_eq!(input.kind, InputKind::DockerArchive);
    assert_eq!(input.images.len(), 1);
    let img = &input.images[0];
    assert!(img.errors.is_empty(), "{:?}", img.errors);
    assert_eq!(img.name, "app:1");
    assert_eq!(img.tags, vec!["app:1"]);
    assert_eq!(img.platform, Platform::parse("linux/amd64"));
    let config = img.config.as_ref().unwrap();
    assert_eq!(config.env, vec!["PATH=/bin", "API_KEY=x"]);
    assert_eq!(img.layers.len(), 2);
    for (i, l) in img.layers.iter().enumerate() {
        assert_eq!(l.index, i);
        assert_eq!(l.digest, None);
        assert_eq!(l.diff_id, Some(Digest::sha256_of(&layers[i])));
        assert_eq!(l.history, Some(i + 1));
        assert_eq!(l.created_by.as_deref(), Some(format!("RUN step {i}").as_str()));
        assert_eq!(l.size, Some(layers[i].len() as u64));
        assert_eq!(read_blob(&input, &l.blob), layers[i]);
    }
    assert_eq!(img.layers[0].blob, BlobRef::ArchivePath("aaa/layer.tar".into()));
}

/// A legacy archive of two images, `a:1` (linux/amd64) and `b:2` (linux/arm64), and the layer of
/// the second.
fn two_image_archive() -> (Vec<u8>, Vec<u8>) {
    let other = layer("x", b"y");
    let config2 = config_json(&[Digest::sha256_of(&other)], "linux", "arm64");
    let manifest = r#"[{"Config":"CONFIG","RepoTags":["a:1"],"Layers":["aaa/layer.tar","bbb/layer.tar"]},
                      {"Config":"c2.json","RepoTags":["b:2"],"Layers":["ccc/layer.tar"]}]"#;
    let (bytes, _) = legacy_archive(manifest, &[("c2.json", &config2), ("ccc/layer.tar", &other)]);
    (bytes, other)
}

#[test]
fn legacy_archive_with_two_images_names_each() {
    let (bytes, other) = two_image_archive();
    let input = open_reader("-", &mut Cursor::new(bytes), &OpenOptions::default()).unwrap();
    let names: Vec<&str> = input.images.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, vec!["a:1 (linux/amd64)", "b:2 (linux/arm64)"]);
    assert_eq!(input.images[0].input, "-");
    assert_eq!(input.images[1].layers[0].diff_id, Some(Digest::sha256_of(&other)));
}

#[test]
fn legacy_archive_platform_selection_uses_the_config_platform() {
    let (bytes, _) = two_image_archive();
    let mut opts = OpenOptions::default();
    opts.platforms = vec![Platform::parse("linux/arm64").unwrap()];
    let input = open_reader("-", &mut Cursor::new(bytes), &opts).unwrap();
    assert_eq!(input.images.len(), 1);
    assert_eq!(input.images[0].name, "b:2");
    assert_eq!(input.notes, vec!["skipped platform linux/amd64 (not selected): a:1"]);
}

#[test]
fn legacy_entries_with_the_same_config_are_one_image() {
    let manifest = r#"[{"Config":"CONFIG","RepoTags":["a:1"],"Layers":["aaa/layer.tar","bbb/layer.tar"]},
                      {"Config":"CONFIG","RepoTags":["a:latest"],"Layers":["aaa/layer.tar","bbb/layer.tar"]}]"#;
    let (bytes, _) = legacy_archive(manifest, &[]);
    let input = open_reader("-", &mut Cursor::new(bytes), &OpenOptions::default()).unwrap();
    assert_eq!(input.images.len(), 1);
    assert_eq!(input.images[0].tags, vec!["a:1", "a:latest"]);
}

/// A Docker 25+ archive: an OCI layout inside the tar plus `manifest.json`.
fn docker25_archive() -> (Vec<u8>, Vec<u8>, Digest) {
    let layer_tar = gzip(&layer("app/.env", b"SECRET=1"));
    let diff = Digest::sha256_of(&layer("app/.env", b"SECRET=1"));
    let layer_d = Digest::sha256_of(&layer_tar);
    let config = config_json(&[diff], "linux", "arm64");
    let config_d = Digest::sha256_of(&config);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
           "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_d}","size":{}}},
           "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer_d}","size":{}}}]}}"#,
        config.len(),
        layer_tar.len()
    );
    let manifest_d = Digest::sha256_of(manifest.as_bytes());
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json",
           "digest":"{manifest_d}","size":{},
           "annotations":{{"io.containerd.image.name":"docker.io/library/app:1","org.opencontainers.image.ref.name":"1"}}}}]}}"#,
        manifest.len()
    );
    let legacy = format!(
        r#"[{{"Config":"blobs/sha256/{}","RepoTags":["app:1"],"Layers":["blobs/sha256/{}"]}}]"#,
        config_d.hex(),
        layer_d.hex()
    );
    let names = [
        format!("blobs/sha256/{}", config_d.hex()),
        format!("blobs/sha256/{}", layer_d.hex()),
        format!("blobs/sha256/{}", manifest_d.hex()),
    ];
    let bytes = tar_of(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        (&names[0], &config),
        (&names[1], &layer_tar),
        (&names[2], manifest.as_bytes()),
        ("index.json", index.as_bytes()),
        ("manifest.json", legacy.as_bytes()),
    ]);
    (bytes, layer_tar, layer_d)
}

#[test]
fn docker25_archive_prefers_the_oci_index_and_scans_each_image_once() {
    let (bytes, layer_tar, layer_d) = docker25_archive();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "no-extension", &bytes);
    let input = open_path(&path, &OpenOptions::default()).unwrap();
    assert_eq!(input.kind, InputKind::OciArchive);
    assert_eq!(input.images.len(), 1, "{:?}", input.images);
    let img = &input.images[0];
    assert!(img.errors.is_empty(), "{:?}", img.errors);
    assert_eq!(img.name, "app:1");
    assert!(img.tags.contains(&"docker.io/library/app:1".to_string()));
    assert_eq!(img.manifest_media_type, Some(MediaType::OciManifest));
    let l = &img.layers[0];
    assert_eq!(l.blob, BlobRef::Digest(layer_d.clone()));
    assert_eq!(l.digest, Some(layer_d));
    assert_eq!(l.media_type, Some(MediaType::OciLayerGzip));
    assert_eq!(read_blob(&input, &l.blob), layer_tar);
}

fn write_blob(dir: &Path, data: &[u8]) -> Digest {
    let d = Digest::sha256_of(data);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(blobs.join(d.hex()), data).unwrap();
    d
}

fn manifest_doc(config: &Digest, layers: &[(&Digest, &str)]) -> String {
    let ls: Vec<String> =
        layers.iter().map(|(d, mt)| format!(r#"{{"mediaType":"{mt}","digest":"{d}","size":1}}"#)).collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
           "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":1}},
           "layers":[{}]}}"#,
        ls.join(",")
    )
}

/// An OCI layout: index.json -> nested image index -> amd64, arm64 and an attestation manifest.
fn oci_layout(dir: &Path) -> Digest {
    let layer_bytes = gzip(&layer("a", b"b"));
    let layer_d = write_blob(dir, &layer_bytes);
    let mut entries = Vec::new();
    for arch in ["amd64", "arm64"] {
        let config = write_blob(dir, &config_json(&[Digest::sha256_of(&layer("a", b"b"))], "linux", arch));
        let m = manifest_doc(&config, &[(&layer_d, "application/x-custom-layer")]);
        let md = write_blob(dir, m.as_bytes());
        entries.push(format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{},
               "platform":{{"os":"linux","architecture":"{arch}"}}}}"#,
            m.len()
        ));
    }
    let att_config = write_blob(dir, b"{}");
    let att = manifest_doc(&att_config, &[]);
    let att_d = write_blob(dir, att.as_bytes());
    entries.push(format!(
        r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{att_d}","size":1,
           "platform":{{"os":"unknown","architecture":"unknown"}},
           "annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}"#
    ));
    let nested = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
        entries.join(",")
    );
    let nested_d = write_blob(dir, nested.as_bytes());
    let root = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json",
           "digest":"{nested_d}","size":1,"annotations":{{"org.opencontainers.image.ref.name":"x:1"}}}}]}}"#
    );
    std::fs::write(dir.join("index.json"), root).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    layer_d
}

#[test]
fn oci_layout_with_nested_multi_platform_index_skips_attestations() {
    let dir = tempfile::tempdir().unwrap();
    let layer_d = oci_layout(dir.path());
    let input = open_path(dir.path(), &OpenOptions::default()).unwrap();
    assert_eq!(input.kind, InputKind::OciLayout);
    let names: Vec<&str> = input.images.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, vec!["x:1 (linux/amd64)", "x:1 (linux/arm64)"]);
    assert!(input.notes.iter().any(|n| n.starts_with("skipped attestation manifest")), "{:?}", input.notes);
    for img in &input.images {
        assert!(img.errors.is_empty(), "{:?}", img.errors);
        let l = &img.layers[0];
        assert_eq!(l.media_type, Some(MediaType::Other("application/x-custom-layer".into())));
        assert_eq!(l.blob, BlobRef::Digest(layer_d.clone()));
        assert_eq!(l.history, Some(1));
    }
    assert_eq!(read_blob(&input, &input.images[0].layers[0].blob), gzip(&layer("a", b"b")));
}

#[test]
fn oci_layout_platform_selection_notes_the_others() {
    let dir = tempfile::tempdir().unwrap();
    oci_layout(dir.path());
    let mut opts = OpenOptions::default();
    opts.platforms = vec![Platform::parse("linux/arm64").unwrap()];
    let input = open_path(dir.path(), &opts).unwrap();
    assert_eq!(input.images.len(), 1);
    assert_eq!(input.images[0].name, "x:1");
    assert!(input.notes.iter().any(|n| n.starts_with("skipped platform linux/amd64")), "{:?}", input.notes);
}

#[test]
fn oci_layout_missing_layer_blob_fails_only_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let layer_d = oci_layout(dir.path());
    std::fs::remove_file(dir.path().join("blobs/sha256").join(layer_d.hex())).unwrap();
    let input = open_path(dir.path(), &OpenOptions::default()).unwrap();
    assert!(input.images[0].errors.is_empty());
    let err = input.store.open(&input.images[0].layers[0].blob).err().unwrap();
    assert!(matches!(&err, Error::MissingBlob { what, .. } if *what == layer_d.to_string()), "{err}");
}

#[test]
fn config_digest_mismatch_is_recorded_and_image_still_returned() {
    let dir = tempfile::tempdir().unwrap();
    let layer_d = write_blob(dir.path(), b"layer");
    let claimed = Digest::sha256_of(b"the real config");
    let blobs = dir.path().join("blobs/sha256");
    std::fs::write(blobs.join(claimed.hex()), br#"{"os":"linux","architecture":"amd64"}"#).unwrap();
    let m = manifest_doc(&claimed, &[(&layer_d, "application/vnd.oci.image.layer.v1.tar")]);
    let md = write_blob(dir.path(), m.as_bytes());
    std::fs::write(dir.path().join("index.json"), format!(r#"{{"manifests":[{{"digest":"{md}"}}]}}"#))
        .unwrap();
    std::fs::write(dir.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let input = open_path(dir.path(), &OpenOptions::default()).unwrap();
    let img = &input.images[0];
    assert_eq!(img.layers.len(), 1);
    assert!(img.config.is_some());
    match &img.errors[..] {
        [Error::DigestMismatch { kind: DigestKind::Config, expected, at, .. }] => {
            assert_eq!(*expected, claimed);
            assert_eq!(at.image.as_deref(), Some(img.name.as_str()));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn manifest_missing_config_field_is_an_image_error() {
    let dir = tempfile::tempdir().unwrap();
    let md = write_blob(dir.path(), br#"{"schemaVersion":2,"layers":[]}"#);
    std::fs::write(dir.path().join("index.json"), format!(r#"{{"manifests":[{{"digest":"{md}"}}]}}"#))
        .unwrap();
    std::fs::write(dir.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let input = open_path(dir.path(), &OpenOptions::default()).unwrap();
    let img = &input.images[0];
    assert!(img.layers.is_empty());
    let err = &img.errors[0];
    assert!(matches!(err, Error::Json { .. }) && err.to_string().contains("config"), "{err}");
    assert!(err.to_string().contains(&md.to_string()), "{err}");
}

#[test]
fn index_json_not_json_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.json"), b"\x00garbage").unwrap();
    std::fs::write(dir.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let err = open_path(dir.path(), &OpenOptions::default()).unwrap_err();
    assert!(matches!(&err, Error::Json { what, .. } if what == "index.json"), "{err}");
}

#[test]
fn oversized_index_json_is_refused_by_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    oci_layout(dir.path());
    let mut opts = OpenOptions::default();
    opts.limits.max_json_bytes = 64;
    let err = open_path(dir.path(), &opts).unwrap_err();
    match &err {
        Error::Limit { at, limit: LimitKind::JsonBytes, max: 64 } => {
            assert_eq!(at.path.as_deref(), Some("index.json"))
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn oversized_config_in_archive_is_an_image_error() {
    let (bytes, _) = legacy_archive(LEGACY_MANIFEST, &[]);
    let mut opts = OpenOptions::default();
    opts.limits.max_json_bytes = 200;
    let input = open_reader("big", &mut Cursor::new(bytes), &opts).unwrap();
    let img = &input.images[0];
    assert!(img.config.is_none());
    assert_eq!(img.layers.len(), 2);
    assert!(
        matches!(img.errors[0], Error::Limit { limit: LimitKind::JsonBytes, max: 200, .. }),
        "{:?}",
        img.errors
    );
}

#[test]
fn manifest_json_nested_100k_deep_is_a_limit_error() {
    let deep = "[".repeat(100_000);
    let bytes = tar_of(&[("aaa/layer.tar", b"x"), ("manifest.json", deep.as_bytes())]);
    let err = open_reader("deep", &mut Cursor::new(bytes), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Limit { limit: LimitKind::JsonDepth, .. }), "{err}");
    assert_eq!(err.at().and_then(|a| a.image.as_deref()), Some("deep"));
}

#[test]
fn manifest_json_not_json_is_an_error_naming_it() {
    let bytes = tar_of(&[("manifest.json", b"not json at all")]);
    let err = open_reader("in", &mut Cursor::new(bytes), &OpenOptions::default()).unwrap_err();
    assert!(matches!(&err, Error::Json { what, .. } if what == "manifest.json"), "{err}");
}

#[test]
fn manifest_json_missing_layers_field_is_an_error() {
    let (bytes, _) = legacy_archive(r#"[{"Config":"CONFIG"}]"#, &[]);
    let err = open_reader("in", &mut Cursor::new(bytes), &OpenOptions::default()).unwrap_err();
    assert!(err.to_string().contains("Layers"), "{err}");
}

#[test]
fn config_not_json_is_an_image_error() {
    let manifest = r#"[{"Config":"bad.json","RepoTags":["t:1"],"Layers":["aaa/layer.tar"]}]"#;
    let (bytes, _) = legacy_archive(manifest, &[("bad.json", b"{{{{ nope")]);
    let input = open_reader("in", &mut Cursor::new(bytes), &OpenOptions::default()).unwrap();
    let img = &input.images[0];
    assert_eq!(img.layers.len(), 1);
    assert!(
        matches!(&img.errors[0], Error::Json { at, .. } if at.image.as_deref() == Some("t:1")),
        "{:?}",
        img.errors
    );
}

#[test]
fn missing_config_member_is_an_image_error() {
    let manifest = r#"[{"Config":"gone.json","RepoTags":["t:1"],"Layers":["aaa/layer.tar"]}]"#;
    let (bytes, _) = legacy_archive(manifest, &[]);
    let input = open_reader("in", &mut Cursor::new(bytes), &OpenOptions::default()).unwrap();
    let err = &input.images[0].errors[0];
    assert!(matches!(err, Error::MissingBlob { what, .. } if what == "gone.json"), "{err}");
}

#[test]
fn missing_layer_member_fails_when_opened_through_the_store() {
    let manifest = r#"[{"Config":"CONFIG","RepoTags":["t:1"],"Layers":["aaa/layer.tar","zzz/layer.tar"]}]"#;
    let (bytes, _) = legacy_archive(manifest, &[]);
    let input = open_reader("in", &mut Cursor::new(bytes), &OpenOptions::default()).unwrap();
    let img = &input.images[0];
    assert_eq!(img.layers.len(), 2);
    let err = input.store.open(&img.layers[1].blob).err().unwrap();
    assert!(matches!(&err, Error::MissingBlob { what, .. } if what == "zzz/layer.tar"), "{err}");
}

#[test]
fn truncated_archive_is_an_error_naming_the_missing_manifest() {
    let (bytes, _) = legacy_archive(LEGACY_MANIFEST, &[]);
    // Inside the data of manifest.json, the last member (before 1024 bytes of end blocks).
    let cut = bytes.len() - 1024 - 512 + 20;
    let err = open_reader("cut.tar", &mut Cursor::new(&bytes[..cut]), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
    assert!(err.to_string().starts_with("archive truncated: "), "{err}");
    let at = err.at().unwrap();
    assert_eq!(at.image.as_deref(), Some("cut.tar"));
    assert_eq!(at.path.as_deref(), Some("manifest.json"));
}

#[test]
fn truncated_layer_member_is_reported_on_the_image_and_reads_up_to_the_cut() {
    let l0 = layer("f", &[b'x'; 4000]);
    let config = config_json(&[Digest::sha256_of(&l0)], "linux", "amd64");
    let manifest = r#"[{"Config":"c.json","RepoTags":["t:1"],"Layers":["aaa/layer.tar"]}]"#;
    let bytes =
        tar_of(&[("manifest.json", manifest.as_bytes()), ("c.json", &config), ("aaa/layer.tar", &l0)]);
    let cut = bytes.len() - 1024 - 2000;
    let input = open_reader("cut.tar", &mut Cursor::new(&bytes[..cut]), &OpenOptions::default()).unwrap();
    let img = &input.images[0];
    assert!(
        matches!(&img.errors[..], [Error::Truncated { at, .. }] if at.layer == Some(0)),
        "reported once, on the layer: {:?}",
        img.errors
    );
    // What the file holds of the member is read, then the read fails.
    let mut r = input.store.open(&img.layers[0].blob).unwrap();
    let mut got = Vec::new();
    let err = r.read_to_end(&mut got).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(got, l0[..got.len()]);
    assert!(got.len() > 512, "{} bytes", got.len());
}

#[test]
fn dot_dot_and_absolute_member_names_are_only_archive_data() {
    let manifest = r#"[{"Config":"CONFIG","RepoTags":["t:1"],"Layers":["../evil/layer.tar","/etc/passwd"]}]"#;
    let (bytes, _) =
        legacy_archive(manifest, &[("../evil/layer.tar", b"EVIL"), ("/etc/passwd", b"ARCHIVED")]);
    let input = open_reader("in", &mut Cursor::new(bytes), &OpenOptions::default()).unwrap();
    let img = &input.images[0];
    assert_eq!(img.layers[0].blob, BlobRef::ArchivePath("../evil/layer.tar".into()));
    assert_eq!(read_blob(&input, &img.layers[0].blob), b"EVIL");
    assert_eq!(read_blob(&input, &img.layers[1].blob), b"ARCHIVED");
}

#[test]
fn single_gzip_layer_is_one_image_with_one_whole_layer() {
    let data = gzip(&layer("etc/shadow", b"root:x"));
    let input = open_reader("layer.bin", &mut Cursor::new(data.clone()), &OpenOptions::default()).unwrap();
    assert_eq!(input.kind, InputKind::Layer);
    assert_eq!(input.images.len(), 1);
    let img = &input.images[0];
    assert_eq!(img.name, "layer.bin");
    assert!(img.config.is_none());
    assert_eq!(img.layers.len(), 1);
    assert_eq!(img.layers[0].blob, BlobRef::Whole);
    assert_eq!(read_blob(&input, &BlobRef::Whole), data);
}

#[test]
fn compressed_docker_save_archive_is_read_as_the_archive() {
    // Regression: `docker save app | gzip` was read as one layer holding the whole archive.
    let (bytes, layer_tar, layer_d) = docker25_archive();
    let zst = zstd::encode_all(&bytes[..], 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, packed) in [("img.tar.gz", gzip(&bytes)), ("img.tar.zst", zst)] {
        let from_path = open_path(&write_file(dir.path(), name, &packed), &OpenOptions::default()).unwrap();
        let from_stream = open_reader(name, &mut Cursor::new(packed), &OpenOptions::default()).unwrap();
        for input in [from_path, from_stream] {
            assert_eq!(input.kind, InputKind::OciArchive, "{name}");
            assert!(input.notes.is_empty(), "{name}: {:?}", input.notes);
            assert_eq!(input.images.len(), 1);
            let img = &input.images[0];
            assert!(img.errors.is_empty(), "{name}: {:?}", img.errors);
            assert_eq!(img.name, "app:1");
            assert_eq!(img.layers.len(), 1);
            assert_eq!(img.layers[0].digest.as_ref(), Some(&layer_d));
            assert_eq!(read_blob(&input, &img.layers[0].blob), layer_tar);
        }
    }
    let plain = open_reader("l.gz", &mut Cursor::new(gzip(&layer("etc/x", b"y"))), &OpenOptions::default());
    assert_eq!(plain.unwrap().kind, InputKind::Layer, "a compressed layer is still one layer");
}

#[test]
fn truncated_gzip_docker_save_archive_keeps_what_came_before_the_cut() {
    // The layer before the cut is whole; the image carries the decompression error.
    let l0 = layer("etc/app.env", b"API_KEY=one");
    let noise = crate::hostile::noise(&mut 0x9e37_79b9_7f4a_7c15, 200_000);
    let config = config_json(&[Digest::sha256_of(&l0), Digest::sha256_of(&noise)], "linux", "amd64");
    let manifest = r#"[{"Config":"c.json","RepoTags":["app:1"],"Layers":["aaa/layer.tar","bbb/layer.tar"]}]"#;
    let bytes = tar_of(&[
        ("manifest.json", manifest.as_bytes()),
        ("c.json", &config),
        ("aaa/layer.tar", &l0),
        ("bbb/layer.tar", &noise),
    ]);
    let packed = gzip(&bytes);
    let cut = packed[..packed.len() * 3 / 4].to_vec();
    let input = open_reader("cut.tar.gz", &mut Cursor::new(cut), &OpenOptions::default()).unwrap();
    assert_eq!(input.kind, InputKind::DockerArchive);
    let img = &input.images[0];
    // One error: the decompression's; the tar it left ends inside the second layer's member.
    assert!(matches!(&img.errors[..], [Error::Truncated { .. }]), "{:?}", img.errors);
    assert_eq!(read_blob(&input, &img.layers[0].blob), l0);
    let mut rest = Vec::new();
    let cut_layer = input.store.open(&img.layers[1].blob).unwrap().read_to_end(&mut rest);
    assert!(cut_layer.is_err(), "the cut layer reads up to the cut, then fails");
}

#[test]
fn single_zstd_layer_is_detected_by_magic() {
    let data = zstd::encode_all(&layer("a", b"b")[..], 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "blob", &data);
    let input = open_path(&path, &OpenOptions::default()).unwrap();
    assert_eq!(input.kind, InputKind::Layer);
    assert_eq!(read_blob(&input, &input.images[0].layers[0].blob), data);
}

#[test]
fn plain_tar_without_manifest_is_a_single_layer() {
    let data = layer("home/u/.aws/credentials", b"[default]");
    let input = open_reader("x", &mut Cursor::new(data.clone()), &OpenOptions::default()).unwrap();
    assert_eq!(input.kind, InputKind::Layer);
    assert_eq!(read_blob(&input, &BlobRef::Whole), data);
}

#[test]
fn unknown_bytes_are_unsupported() {
    let err = open_reader("x", &mut Cursor::new(vec![b'Z'; 2000]), &OpenOptions::default()).unwrap_err();
    assert!(matches!(&err, Error::Unsupported { at, .. } if at.image.as_deref() == Some("x")), "{err}");
    let err = open_reader("empty", &mut Cursor::new(Vec::new()), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}

#[test]
fn missing_path_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.tar");
    let err = open_path(&path, &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope.tar"), "{err}");
}

#[test]
fn a_layer_can_be_read_from_two_threads_at_once() {
    let big = layer("big", &vec![7u8; 300_000]);
    let manifest = r#"[{"Config":"CONFIG","RepoTags":["t:1"],"Layers":["big/layer.tar"]}]"#;
    let (bytes, _) = legacy_archive(manifest, &[("big/layer.tar", &big)]);
    let input = open_reader("in", &mut Cursor::new(bytes), &OpenOptions::default()).unwrap();
    let blob = &input.images[0].layers[0].blob;
    let expected = Digest::sha256_of(&big);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut r = input.store.open(blob).unwrap();
                    let mut out = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = r.read(&mut buf).unwrap();
                        if n == 0 {
                            break;
                        }
                        out.extend_from_slice(&buf[..n]);
                        std::thread::yield_now();
                    }
                    Digest::sha256_of(&out)
                })
            })
            .collect();
        for r in readers {
            assert_eq!(r.join().unwrap(), expected);
        }
    });
}

#[test]
fn input_and_images_can_cross_threads() {
    fn check<T: Send + Sync>() {}
    check::<Input>();
    check::<layerleak::image::Image>();
}

#[test]
fn empty_stream_is_an_empty_input_not_an_unknown_format() {
    let e = open_reader("-", &mut &b""[..], &OpenOptions::default()).expect_err("nothing to open");
    assert!(e.to_string().contains("empty input"), "{e}");
}
