//! The same image as OCI layout, Docker 25+ archive and legacy archive (converted by skopeo) must
//! give exactly the (layer, path, fate, hiding layer, how) tuples the generator promises.

use std::ops::ControlFlow;
use std::path::PathBuf;

use layerleak::image::{open_path, OpenOptions};
use layerleak::layer::{walk_layer, EntryKind, Fate, LayerWalk, Lifecycle, WalkOptions};
use layerleak::{At, Limits};
use serde_json::Value;

use crate::support::tar_of;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fixtures").join(name)
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Tuple {
    layer: usize,
    path: String,
    status: String,
    hidden_by: Option<usize>,
    how: Option<String>,
}

/// The tuples of the image of `path` whose name or tags mention `tag` (the only image when `None`).
fn tuples_of(path: &str, tag: Option<&str>) -> Vec<Tuple> {
    let input = open_path(&fixture(path), &OpenOptions::default()).expect("fixture opens");
    let image = match tag {
        None => {
            assert_eq!(input.images.len(), 1, "{path}: one image");
            &input.images[0]
        }
        Some(t) => input
            .images
            .iter()
            .find(|i| {
                i.name.ends_with(&format!(":{t}"))
                    || i.tags.iter().any(|x| x.ends_with(&format!(":{t}")) || x == t)
            })
            .unwrap_or_else(|| {
                panic!(
                    "{path}: no image tagged {t}: {:?}",
                    input.images.iter().map(|i| &i.name).collect::<Vec<_>>()
                )
            }),
    };
    assert!(image.errors.is_empty(), "{path}: {:?}", image.errors);
    let limits = Limits::default();
    let walks: Vec<LayerWalk> = image
        .layers
        .iter()
        .map(|l| {
            let mut blob = input.store.open(&l.blob).expect("layer blob opens");
            let opts = WalkOptions::new(&limits, At::none());
            let walk = walk_layer(&mut blob, &opts, &mut |_, _| ControlFlow::Continue(()));
            assert!(walk.errors.is_empty(), "{path} layer {}: {:?}", l.index, walk.errors);
            assert!(walk.complete);
            walk
        })
        .collect();
    let entries: Vec<&[_]> = walks.iter().map(|w| &w.entries[..]).collect();
    let lifecycle = Lifecycle::resolve(&entries);
    let mut out = Vec::new();
    for (i, walk) in walks.iter().enumerate() {
        for e in &walk.entries {
            if !matches!(e.kind, EntryKind::File | EntryKind::Hardlink { .. }) {
                continue;
            }
            let fate = lifecycle.fate(i, e.ordinal).expect("every entry has a fate");
            let word = |v: serde_json::Value| v.as_str().expect("serializes as a string").to_string();
            let status = word(serde_json::to_value(fate.status()).expect("status"));
            let (hidden_by, how) = match fate {
                Fate::Hidden { by, how } => (Some(by), Some(word(serde_json::to_value(how).expect("how")))),
                _ => (None, None),
            };
            out.push(Tuple { layer: i, path: e.path.display().into_owned(), status, hidden_by, how });
        }
    }
    out.sort();
    out
}

fn expected(name: &str) -> Vec<Tuple> {
    let text = std::fs::read_to_string(fixture(&format!("expected/{name}"))).expect("expected file");
    let v: Vec<Value> = serde_json::from_str(&text).expect("expected JSON");
    let mut out: Vec<Tuple> = v
        .iter()
        .map(|t| Tuple {
            layer: t["layer"].as_u64().expect("layer") as usize,
            path: t["path"].as_str().expect("path").to_string(),
            status: t["status"].as_str().expect("status").to_string(),
            hidden_by: t["hidden_by"].as_u64().map(|n| n as usize),
            how: t["how"].as_str().map(str::to_string),
        })
        .collect();
    out.sort();
    out
}

#[test]
fn oci_layout_lifecycle_matches_the_generator() {
    assert_eq!(tuples_of("lifecycle.oci", None), expected("lifecycle.json"));
}

#[test]
fn docker25_archive_lifecycle_matches_the_generator() {
    assert_eq!(tuples_of("lifecycle-docker25.tar", None), expected("lifecycle.json"));
}

#[test]
fn skopeo_legacy_archive_lifecycle_matches_the_generator() {
    assert_eq!(tuples_of("lifecycle-legacy.tar", None), expected("lifecycle.json"));
}

#[test]
fn umoci_written_whiteouts_are_resolved() {
    assert_eq!(tuples_of("umoci.oci", Some("umoci")), expected("umoci.json"));
}

// ---------------------------------------------------------------------------------------------
// Findings over layers built here

/// Synthetic, format-valid (checksummed) GitHub token.
const GH: &str = "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";

fn scan_tar(tar: &[u8]) -> layerleak::report::Report {
    let scanner = layerleak::scan::ScannerBuilder::new().threads(2).build().expect("built-in rules");
    let Ok(report) = scanner.scan_reader("layer.tar", &mut &tar[..], &mut layerleak::scan::NullSink);
    report
}

#[test]
fn path_written_twice_in_one_layer_with_the_same_bytes_is_present() {
    // Regression: the surviving copy was dropped as a duplicate of the replaced one, so a
    // secret still in the extracted layer was reported shadowed and not visible.
    let content = format!("token = {GH}\n");
    let tar = tar_of(&[("a/b/file", content.as_bytes()), ("a/b/file", content.as_bytes())]);
    let r = scan_tar(&tar);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    let f = &r.findings[0];
    assert_eq!(f.location.path, "a/b/file");
    assert_eq!(f.status, layerleak::layer::Status::Present);
    assert!(f.hidden_in.is_none(), "{:?}", f.hidden_in);
    assert!(f.visible);
    assert_eq!(r.stats.findings_visible, 1);
}

#[test]
fn path_written_twice_in_one_layer_with_the_secret_moved_is_present() {
    // The copy extraction keeps is what the finding reports; the replaced one is listed.
    let first = format!("token = {GH}\n");
    let second = format!("# moved\ntoken = {GH}\n");
    let tar = tar_of(&[("a/b/file", first.as_bytes()), ("a/b/file", second.as_bytes())]);
    let r = scan_tar(&tar);
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    let f = &r.findings[0];
    assert_eq!((f.status, f.visible), (layerleak::layer::Status::Present, true));
    assert_eq!(f.location.offset, second.find("ghp_").expect("token") as u64);
    assert_eq!(f.also_in.len(), 1);
    assert_eq!(f.also_in[0].status, layerleak::layer::Status::Shadowed);
    assert_eq!(f.also_in[0].hidden_by, Some(0));
}

/// One entry of a layer built here.
enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Link(&'a str, &'a str),
}

fn layer_of(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_mtime(0);
        match e {
            Entry::File(name, data) => {
                h.set_size(data.len() as u64);
                b.append_data(&mut h, name, *data).expect("tar in memory");
            }
            Entry::Dir(name) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, name, &b""[..]).expect("tar in memory");
            }
            Entry::Link(name, target) => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                b.append_link(&mut h, name, target).expect("tar in memory");
            }
        }
    }
    b.into_inner().expect("tar in memory")
}

/// A legacy `docker save` archive of `layers`, lowest first.
fn archive_of(layers: &[Vec<u8>]) -> Vec<u8> {
    let names: Vec<String> = (0..layers.len()).map(|i| format!("{i}/layer.tar")).collect();
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let manifest = format!(r#"[{{"Config":"c.json","RepoTags":["t:1"],"Layers":[{}]}}]"#, quoted.join(","));
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).expect("tar in memory");
    };
    add("manifest.json", manifest.as_bytes());
    add("c.json", config);
    for (name, layer) in names.iter().zip(layers) {
        add(name, layer);
    }
    b.into_inner().expect("tar in memory")
}

#[test]
fn wasted_bytes_skip_hardlink_kept_content_and_deleted_paths_count_paths() {
    // Regression: content whited out but still visible through a hardlink counted as wasted, and
    // `rm -rf app` counted `app/` once per layer that had written it.
    let token = format!("token = {GH}\n");
    let mut layers = vec![layer_of(&[
        Entry::Dir("app"),
        Entry::File("app/x", b"12345"),
        Entry::File("secrets/token", token.as_bytes()),
        Entry::Link("keep/link", "secrets/token"),
    ])];
    layers.extend((0..5).map(|_| layer_of(&[Entry::Dir("app")])));
    layers.push(layer_of(&[Entry::File("secrets/.wh.token", b""), Entry::File(".wh.app", b"")]));
    let r = scan_tar(&archive_of(&layers));
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let stats = &r.images[0].layers;
    assert_eq!(stats[6].paths_deleted, 3, "secrets/token, app and app/x");
    assert_eq!(stats[0].bytes_wasted, 5, "app/x only: the token is still visible at keep/link");
    let f = r.findings.iter().find(|f| f.rule == "github-pat").expect("the token");
    assert!(f.visible);
    assert_eq!(f.location.aliases, vec!["keep/link".to_string()]);
}
