//! `docker save` archives: the legacy layout (`manifest.json`, `<id>.json`, `<id>/layer.tar`)
//! and the Docker 25+ layout (an OCI image layout inside the tar, plus `manifest.json`).
//!
//! # Security
//! The archive is untrusted. Its members are indexed once, by header only
//! ([`super::tar_index`]); member names are looked up, never used as filesystem paths; every
//! JSON member is size-bounded before it is read; blob members of the OCI layout are named only
//! from parsed digests.

use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use serde::Deserialize;

use super::config::parse_config;
use super::document::{parse_json, read_bounded};
use super::resolve::{describe_layers, finish_images, new_image, resolve_root, LayerSource};
use super::tar_index::{normalize, Section, TarIndex};
use super::{BlobRef, BlobStore, Image, Input, InputKind, OpenOptions, Platform};
use crate::digest::{Algorithm, Digest};
use crate::{At, DigestKind, Error, Limits, Result};

/// Reads blobs out of one tar file: archive members by name, OCI blobs by digest
/// (`blobs/<alg>/<hex>`), or the whole file. Every reader is an independent positioned reader
/// over the shared file, so layers can be read from several threads at once.
pub(crate) struct ArchiveStore {
    file: Arc<File>,
    len: u64,
    index: TarIndex,
}

/// The member name of a content-addressed blob (OCI image spec, "Image Layout", `blobs`).
fn blob_member(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm(), d.hex())
}

/// The digest a member name promises: `blobs/<alg>/<hex>`, or `<sha256 hex>.json` (a legacy
/// config, named after the image id, which is its digest).
fn named_digest(name: &str) -> Option<Digest> {
    let name = normalize(name);
    if let Some(rest) = name.strip_prefix("blobs/") {
        let (alg, hex) = rest.split_once('/')?;
        return Digest::parse(&format!("{alg}:{hex}"));
    }
    let hex = name.strip_suffix(".json")?;
    Digest::parse(&format!("sha256:{hex}"))
}

impl ArchiveStore {
    pub(crate) fn new(file: Arc<File>, len: u64, index: TarIndex) -> ArchiveStore {
        ArchiveStore { file, len, index }
    }

    /// A reader over a member. A member the file cuts short reads up to the cut, then fails with
    /// [`super::MemberCut`]: a layer is scanned as far as it goes, and its truncation is reported
    /// once, from the index.
    fn member(&self, name: &str) -> Result<Section> {
        match self.index.file(name) {
            None => Err(Error::MissingBlob { at: At::none().with_path(name), what: name.to_string() }),
            Some((_, m)) => Ok(Section::new(Arc::clone(&self.file), m.offset, m.size)),
        }
    }

    /// A whole JSON member; one the file cuts short is an error, since half a document is none.
    fn read_json(&self, name: &str, limits: &Limits) -> Result<Vec<u8>> {
        let at = At::none().with_path(name);
        if let Some((_, m)) = self.index.file(name).filter(|(_, m)| m.truncated) {
            let present = self.len.saturating_sub(m.offset);
            let message = format!("the file ends inside this member: {present} of its {} bytes", m.size);
            return Err(Error::Truncated { at, message });
        }
        let size = self.index.file(name).map(|(_, m)| m.size);
        let mut r = self.member(name)?;
        read_bounded(&mut r, size, name, &at, limits)
    }
}

impl BlobStore for ArchiveStore {
    fn open(&self, blob: &BlobRef) -> Result<Box<dyn Read + Send + '_>> {
        let section = match blob {
            BlobRef::ArchivePath(p) => self.member(p)?,
            BlobRef::Digest(d) => self.member(&blob_member(d))?,
            BlobRef::Whole => Section::new(Arc::clone(&self.file), 0, self.len),
        };
        Ok(Box::new(section))
    }
}

/// One entry of a `docker save` `manifest.json`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LegacyEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Whether the members look like a `docker save` archive even without its manifest (so a
/// truncated archive is reported as such instead of being taken for a single layer).
pub(crate) fn looks_like_docker_save(index: &TarIndex) -> bool {
    index.names().any(|n| {
        n == "repositories" || n == "oci-layout" || n.ends_with("/layer.tar") || n.starts_with("blobs/")
    })
}

/// Whether the archive has the members that make it a `docker save` archive.
pub(crate) fn is_docker_save(index: &TarIndex) -> bool {
    index.contains("manifest.json") || (index.contains("index.json") && index.contains("oci-layout"))
}

/// Opens an indexed `docker save` archive. Prefers the OCI index (media types, digests) when
/// there is one and adds `manifest.json` `RepoTags` to the images it describes; images only
/// `manifest.json` describes are read the legacy way.
pub(crate) fn open_archive(
    name: &str,
    file: File,
    len: u64,
    index: TarIndex,
    opts: &OpenOptions,
) -> Result<Input> {
    let limits = &opts.limits;
    let store = Arc::new(ArchiveStore::new(Arc::new(file), len, index));
    let at = At::image(name);
    let mut notes = Vec::new();
    if !store.index.contains("manifest.json") && !store.index.problems.is_empty() {
        return Err(no_manifest(&store.index, at));
    }
    let legacy = store.index.contains("manifest.json").then(|| {
        store
            .read_json("manifest.json", limits)
            .and_then(|b| parse_json::<Vec<LegacyEntry>>(&b, "manifest.json", &At::none(), limits))
            .map_err(|e| e.within(&at))
    });
    let mut kind = InputKind::DockerArchive;
    let mut images = Vec::new();
    if store.index.contains("index.json") && store.index.contains("oci-layout") {
        let fetch = |d: &Digest| store.read_json(&blob_member(d), limits);
        let oci = store
            .read_json("index.json", limits)
            .and_then(|root| resolve_root(name, InputKind::OciArchive, &root, None, &fetch, opts))
            .map_err(|e| e.within(&at));
        match (oci, &legacy) {
            (Ok((found, n)), _) => {
                kind = InputKind::OciArchive;
                images = found;
                notes.extend(n);
            }
            (Err(e), Some(Ok(_))) => {
                notes.push(format!("OCI index not used, reading manifest.json instead: {e}"))
            }
            (Err(e), _) => return Err(e),
        }
    }
    let from_index = images.len();
    match legacy {
        Some(Ok(entries)) => add_legacy(&mut images, from_index, entries, &store, name, limits),
        Some(Err(e)) if images.is_empty() => return Err(e),
        Some(Err(e)) => notes.push(format!("manifest.json not used: {e}")),
        None => {}
    }
    let mut images = drop_unselected(images, from_index, opts, &mut notes);
    for img in &mut images {
        let damage = index_damage(&store, img);
        img.errors.splice(0..0, damage);
    }
    finish_images(name, &mut images);
    Ok(Input { name: name.to_string(), kind, images, notes, store })
}

/// Adds the images `manifest.json` describes: tags onto images already found (the first
/// `from_index` came from the OCI index), new images for the others.
fn add_legacy(
    images: &mut Vec<Image>,
    from_index: usize,
    entries: Vec<LegacyEntry>,
    store: &ArchiveStore,
    name: &str,
    limits: &Limits,
) {
    for e in entries {
        let config_digest = named_digest(&e.config);
        let tags = e.repo_tags.clone().unwrap_or_default();
        let known = images.iter().position(|i| config_digest.is_some() && i.config_digest == config_digest);
        match known {
            // The OCI index described it: `RepoTags` are the names people use, put them first.
            Some(i) if i < from_index => {
                let img = &mut images[i];
                let mut merged = tags;
                merged.extend(img.tags.drain(..).filter(|t| !e.repo_tags.iter().flatten().any(|r| r == t)));
                img.tags = merged;
            }
            // A second entry for the same config is the same image under more tags.
            Some(i) => {
                let img = &mut images[i];
                for t in tags {
                    if !img.tags.contains(&t) {
                        img.tags.push(t);
                    }
                }
            }
            None => images.push(legacy_image(store, name, e, config_digest, limits)),
        }
    }
}

/// Applies `opts.platforms` to the images read from `manifest.json` (from `from_index` on; the
/// resolver already filtered the others), using the platform of their config.
fn drop_unselected(
    images: Vec<Image>,
    from_index: usize,
    opts: &OpenOptions,
    notes: &mut Vec<String>,
) -> Vec<Image> {
    let mut kept = Vec::with_capacity(images.len());
    for (i, img) in images.into_iter().enumerate() {
        let unwanted = img.platform.as_ref().filter(|p| {
            i >= from_index && !opts.platforms.is_empty() && !opts.platforms.iter().any(|w| p.matches(w))
        });
        // An archive with an OCI index describes its images twice; the index already noted
        // the platforms it skipped, which `manifest.json` then lists again.
        let noted = |p: &Platform| {
            notes.iter().any(|n| n.starts_with(&format!("skipped platform {p} (not selected)")))
        };
        match unwanted {
            Some(p) if noted(p) => {}
            Some(p) => notes.push(format!("skipped platform {p} (not selected): {}", img.tags.join(", "))),
            None => kept.push(img),
        }
    }
    kept
}

/// The error for a `docker save` archive whose `manifest.json` is not among the members read:
/// "archive truncated" when the file ends early (the manifest usually comes last), else the
/// damage that ended the index.
pub(crate) fn no_manifest(index: &TarIndex, at: At) -> Error {
    let at = at.with_path("manifest.json");
    // The problems' own text without their "archive truncated: " lead, which this error has.
    let cause = index.problems.iter().map(|e| e.to_string().replacen("archive truncated: ", "", 1));
    let cause = cause.collect::<Vec<_>>().join("; ");
    let cut = index.problems.iter().any(|e| matches!(e, Error::Truncated { .. }));
    if cut || index.problems.is_empty() {
        let why =
            if cause.is_empty() { "the file ends without the end-of-archive blocks".into() } else { cause };
        let message =
            format!("manifest.json is not among the members before the cut, so no image can be read ({why})");
        return Error::Truncated { at, message };
    }
    Error::Tar { at, message: format!("docker save archive is damaged: manifest.json not found ({cause})") }
}

/// What the archive index found damaged (a truncation, a bad header), reported on every image,
/// attributed to the layer whose blob it cut. An image that already carries an error on the same
/// member (its config could not be read) gets no second one.
fn index_damage(store: &ArchiveStore, img: &Image) -> Vec<Error> {
    let layer_of = |name: &str| {
        img.layers.iter().find(|l| match &l.blob {
            BlobRef::ArchivePath(p) => normalize(p) == name,
            BlobRef::Digest(d) => blob_member(d) == name,
            BlobRef::Whole => false,
        })
    };
    let mut out = Vec::new();
    for problem in &store.index.problems {
        let Some(mut e) = problem.duplicate() else { continue };
        let path = e.at().and_then(|at| at.path.clone());
        if path
            .as_ref()
            .is_some_and(|p| img.errors.iter().any(|o| o.at().and_then(|a| a.path.as_ref()) == Some(p)))
        {
            continue;
        }
        if let Some(l) = path.as_deref().and_then(layer_of) {
            e = e.within(&At::none().with_layer(l.index, l.digest.clone()));
            if let Error::Truncated { message, .. } = &mut e {
                message.push_str("; the layer is scanned up to the cut");
            }
        }
        out.push(e);
    }
    out
}

/// An image from a `manifest.json` entry (legacy layout, or Docker 25+ entries the OCI index
/// does not describe).
fn legacy_image(
    store: &ArchiveStore,
    name: &str,
    e: LegacyEntry,
    config_digest: Option<Digest>,
    limits: &Limits,
) -> Image {
    let mut errors = Vec::new();
    let config_at = At::none().with_path(e.config.clone());
    let config = match store.read_json(&e.config, limits) {
        Ok(bytes) => {
            if let Some(expected) = config_digest.as_ref().filter(|d| *d.algorithm() == Algorithm::Sha256) {
                let found = Digest::sha256_of(&bytes);
                if found != *expected {
                    errors.push(Error::DigestMismatch {
                        at: config_at.clone(),
                        kind: DigestKind::Config,
                        expected: expected.clone(),
                        found,
                    });
                }
            }
            match parse_config(&bytes, &config_at, limits) {
                Ok(c) => Some(c),
                Err(err) => {
                    errors.push(err);
                    None
                }
            }
        }
        Err(err) => {
            errors.push(err);
            None
        }
    };
    let sources = e
        .layers
        .iter()
        .map(|l| LayerSource {
            blob: BlobRef::ArchivePath(normalize(l)),
            // `<id>/layer.tar` is not content-addressed; its diff_id is checked instead.
            digest: normalize(l).starts_with("blobs/").then(|| named_digest(l)).flatten(),
            media_type: None,
            size: store.index.file(l).map(|(_, m)| m.size),
        })
        .collect();
    let layers = describe_layers(sources, config.as_ref(), limits, &mut errors);
    let platform = config.as_ref().and_then(|c| c.platform());
    let mut img = new_image(name, e.repo_tags.unwrap_or_default(), platform, errors);
    img.config_digest = config_digest;
    img.config = config;
    img.layers = layers;
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_give_digests() {
        let hex = "f".repeat(64);
        assert_eq!(named_digest(&format!("blobs/sha256/{hex}")).unwrap().hex(), hex);
        assert_eq!(named_digest(&format!("./{hex}.json")).unwrap().hex(), hex);
        assert!(named_digest("abc/layer.tar").is_none());
        assert!(named_digest("blobs/sha256/../../x").is_none());
    }
}
