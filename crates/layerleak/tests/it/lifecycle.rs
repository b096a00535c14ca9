//! The same image as OCI layout, Docker 25+ archive and legacy archive (converted by skopeo) must
//! give exactly the (layer, path, fate, hiding layer, how) tuples the generator promises.

use std::path::PathBuf;

use layerleak::image::{open_path, OpenOptions};
use layerleak::layer::{
    walk_layer, EntryKind, Fate, Flow, HiddenHow, LayerWalk, Lifecycle, Status, WalkOptions,
};
use layerleak::{At, Limits};
use serde_json::Value;

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
            let walk = walk_layer(&mut blob, &opts, &mut |_, _| Flow::Continue);
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
            let (status, hidden_by, how) = match fate {
                Fate::Present => ("present", None, None),
                Fate::Hidden { by, how } => {
                    let status = match fate.status() {
                        Status::Deleted => "deleted",
                        Status::Shadowed => "shadowed",
                        Status::Present => "present",
                    };
                    let how = match how {
                        HiddenHow::Whiteout => "whiteout",
                        HiddenHow::Opaque => "opaque",
                        HiddenHow::Overwrite => "overwrite",
                    };
                    (status, Some(by), Some(how.to_string()))
                }
            };
            out.push(Tuple {
                layer: i,
                path: e.path.display().into_owned(),
                status: status.into(),
                hidden_by,
                how,
            });
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
