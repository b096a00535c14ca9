//! Resolving a root document (OCI image spec, "Image Index" and "Image Manifest"; Docker
//! manifest list and schema 2 manifest) into images, the same way for an OCI layout directory,
//! a Docker 25+ archive and a registry.
//!
//! # Security
//! Every document is untrusted. Each is size- and depth-bounded when parsed, nested indexes are
//! followed at most [`MAX_INDEX_DEPTH`] deep, a manifest digest already resolved is not resolved
//! twice (so an index cannot make the same image appear over and over), and blobs are only ever
//! named by a parsed [`Digest`].

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::config::parse_config;
use super::descriptor::{Descriptor, DOCKER_REFERENCE_DIGEST};
use super::document::parse_json;
use super::index::{parse_index, Index};
use super::manifest::{parse_manifest, Manifest};
use super::{BlobRef, Image, ImageConfig, InputKind, LayerDescriptor, MediaType, OpenOptions, Platform};
use crate::digest::{Algorithm, Digest};
use crate::{At, DigestKind, Error, LimitKind, Limits, Result};

/// How many indexes deep a root index may nest (index -> index -> … -> manifest).
pub(crate) const MAX_INDEX_DEPTH: usize = 8;

/// Resolves a root document (an index, manifest list, or manifest) into images, following nested
/// indexes (depth-bounded), choosing platforms per `opts.platforms`, skipping attestations
/// (noted), checking each fetched manifest/config against its descriptor digest.
///
/// `input` is the input as the user named it (used in names and errors); `root` the bytes of
/// `index.json` or of the tag's manifest; `root_digest` its digest when it is content-addressed
/// (a registry), which is then checked too. `fetch` returns a manifest, index or config blob by
/// digest and is expected to bound its size (see [`crate::Limits::max_json_bytes`]).
///
/// Problems with one image (a missing or malformed manifest or config, a digest mismatch) are in
/// that image's `errors`; the image is still returned. When `root` itself cannot be understood,
/// the result is one image named `input` with no layers and the error. Layer blobs are
/// [`BlobRef::Digest`]. The notes list what was deliberately skipped.
pub fn resolve_from_root(
    input: &str,
    kind: InputKind,
    root: &[u8],
    root_digest: Option<&Digest>,
    fetch: &dyn Fn(&Digest) -> Result<Vec<u8>>,
    opts: &OpenOptions,
) -> (Vec<Image>, Vec<String>) {
    match resolve_root(input, kind, root, root_digest, fetch, opts) {
        Ok((mut images, notes)) => {
            finish_images(input, &mut images);
            (images, notes)
        }
        Err(e) => {
            let mut images = vec![new_image(input, Vec::new(), None, vec![e])];
            finish_images(input, &mut images);
            (images, Vec::new())
        }
    }
}

/// [`resolve_from_root`], but a root that cannot be understood is an `Err`, and the images are
/// not named yet (the caller may add tags first, then calls [`finish_images`]).
pub(crate) fn resolve_root(
    input: &str,
    kind: InputKind,
    root: &[u8],
    root_digest: Option<&Digest>,
    fetch: &dyn Fn(&Digest) -> Result<Vec<u8>>,
    opts: &OpenOptions,
) -> Result<(Vec<Image>, Vec<String>)> {
    let what = match (root_digest, kind) {
        (Some(d), _) => format!("manifest {d}"),
        (None, InputKind::OciLayout | InputKind::OciArchive) => "index.json".to_string(),
        (None, _) => "root manifest".to_string(),
    };
    let at = At::image(input);
    let doc = classify(root, None, &what, &at, &opts.limits)?;
    let mut inherited = Vec::new();
    if let Some(d) = root_digest {
        inherited.extend(Mismatch::check(root, d, DigestKind::Manifest, &what));
    }
    let mut r = Resolver { input, fetch, opts, images: Vec::new(), notes: Vec::new() };
    match doc {
        Doc::Index(index) => r.walk_index(index, 0, &[], None, &inherited),
        Doc::Manifest(m, mt) => r.push_manifest(*m, mt, root_digest.cloned(), None, Vec::new(), inherited),
        Doc::Artifact(kind) => r.notes.push(skipped_artifact(root_digest, None, &kind)),
    }
    Ok((r.images, r.notes))
}

enum Doc {
    Index(Index),
    Manifest(Box<Manifest>, Option<MediaType>),
    /// Not an image, and which kind of artifact it is.
    Artifact(String),
}

/// The note for a manifest skipped because it is an artifact, naming its type.
fn skipped_artifact(digest: Option<&Digest>, tag: Option<&str>, kind: &str) -> String {
    let digest = digest.map(|d| format!(" {d}")).unwrap_or_default();
    let tag = tag.map(|t| format!(" (tag {t})")).unwrap_or_default();
    format!("skipped manifest{digest}{tag}: an artifact, not an image ({kind})")
}

/// Decides what a document is: its own `mediaType`, else the descriptor's, else its shape
/// (`manifests` => index, `layers` => manifest). A document of another media type that names an
/// `artifactType` (the OCI 1.1 release candidates' artifact manifest) is an artifact.
fn classify(bytes: &[u8], declared: Option<&str>, what: &str, at: &At, limits: &Limits) -> Result<Doc> {
    #[derive(Deserialize)]
    struct Sniff {
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<IgnoredAny>,
        #[serde(default)]
        layers: Option<IgnoredAny>,
        #[serde(rename = "fsLayers", default)]
        fs_layers: Option<IgnoredAny>,
        #[serde(rename = "artifactType", default)]
        artifact_type: Option<String>,
    }
    let sniff: Sniff = parse_json(bytes, what, at, limits)?;
    let mt = sniff.media_type.as_deref().or(declared).map(MediaType::parse);
    let is_index = match &mt {
        Some(m) if m.is_index() => true,
        Some(m) if m.is_manifest() => false,
        Some(MediaType::Other(other)) if sniff.artifact_type.is_some() => {
            let t = sniff.artifact_type.unwrap_or_default();
            return Ok(Doc::Artifact(format!("mediaType {other}, artifactType {t}")));
        }
        _ if sniff.manifests.is_some() => true,
        _ if sniff.layers.is_some() => false,
        _ if sniff.fs_layers.is_some() => {
            return Err(Error::Unsupported {
                at: at.clone().with_path(what),
                message: "Docker image manifest schema 1 is not supported".into(),
            })
        }
        _ => {
            return Err(Error::format(
                at.clone().with_path(what),
                format!("{what} is neither an image index (no `manifests`) nor a manifest (no `layers`)"),
            ))
        }
    };
    if is_index {
        Ok(Doc::Index(parse_index(bytes, what, at, limits)?))
    } else {
        Ok(Doc::Manifest(Box::new(parse_manifest(bytes, what, at, limits)?), mt))
    }
}

/// A digest mismatch found on a document that every image below it inherits.
#[derive(Clone)]
struct Mismatch {
    what: String,
    kind: DigestKind,
    expected: Digest,
    found: Digest,
}

impl Mismatch {
    /// Only sha256 can be computed; other algorithms are taken as given.
    fn check(bytes: &[u8], expected: &Digest, kind: DigestKind, what: &str) -> Option<Mismatch> {
        if *expected.algorithm() != Algorithm::Sha256 {
            return None;
        }
        let found = Digest::sha256_of(bytes);
        (found != *expected).then(|| Mismatch {
            what: what.to_string(),
            kind,
            expected: expected.clone(),
            found,
        })
    }

    fn error(&self) -> Error {
        Error::DigestMismatch {
            at: At::none().with_path(self.what.clone()),
            kind: self.kind,
            expected: self.expected.clone(),
            found: self.found.clone(),
        }
    }
}

struct Resolver<'a> {
    input: &'a str,
    fetch: &'a dyn Fn(&Digest) -> Result<Vec<u8>>,
    opts: &'a OpenOptions,
    images: Vec<Image>,
    notes: Vec<String>,
}

impl Resolver<'_> {
    fn selected(&self, p: &Platform) -> bool {
        self.opts.platforms.is_empty() || self.opts.platforms.iter().any(|w| p.matches(w))
    }

    fn walk_index(
        &mut self,
        index: Index,
        depth: usize,
        tags: &[String],
        platform: Option<&Platform>,
        inherited: &[Mismatch],
    ) {
        for d in index.manifests {
            if let Some(kind) = d.not_an_image() {
                let of =
                    d.annotation(DOCKER_REFERENCE_DIGEST).map(|s| format!(" (of {s})")).unwrap_or_default();
                self.notes.push(if d.is_attestation() {
                    format!("skipped attestation manifest {}{of}", d.digest)
                } else {
                    skipped_artifact(Some(&d.digest), d.ref_name(), &format!("{kind}{of}"))
                });
                continue;
            }
            let platform = d.platform.clone().or_else(|| platform.cloned());
            if let Some(p) = platform.as_ref().filter(|p| !self.selected(p)) {
                self.notes.push(format!("skipped platform {p} (not selected): manifest {}", d.digest));
                continue;
            }
            let tags = d.ref_name().map(|n| vec![n.to_string()]).unwrap_or_else(|| tags.to_vec());
            if let Some(seen) = self.images.iter_mut().find(|i| i.manifest_digest.as_ref() == Some(&d.digest))
            {
                for t in tags {
                    if !seen.tags.contains(&t) {
                        seen.tags.push(t);
                    }
                }
                continue;
            }
            self.follow(&d, depth, tags, platform, inherited);
        }
    }

    /// Fetches what an index entry points to and resolves it.
    fn follow(
        &mut self,
        d: &Descriptor,
        depth: usize,
        tags: Vec<String>,
        platform: Option<Platform>,
        inherited: &[Mismatch],
    ) {
        let what = format!("manifest {}", d.digest);
        let failed = |e: Error, errs: &[Mismatch]| {
            let mut errors: Vec<Error> = errs.iter().map(Mismatch::error).collect();
            errors.push(e);
            let mut img = new_image(self.input, tags.clone(), platform.clone(), errors);
            img.manifest_digest = Some(d.digest.clone());
            img.manifest_media_type = d.media_type();
            img
        };
        let bytes = match (self.fetch)(&d.digest) {
            Ok(b) => b,
            Err(e) => {
                let img = failed(e, inherited);
                self.images.push(img);
                return;
            }
        };
        let mut mismatches = inherited.to_vec();
        mismatches.extend(Mismatch::check(&bytes, &d.digest, DigestKind::Manifest, &what));
        match classify(&bytes, d.media_type.as_deref(), &what, &At::none(), &self.opts.limits) {
            Ok(Doc::Index(_)) if depth + 1 >= MAX_INDEX_DEPTH => {
                let e = Error::Limit {
                    at: At::none().with_path(what),
                    limit: LimitKind::NestingDepth,
                    max: MAX_INDEX_DEPTH as u64,
                };
                let img = failed(e, &mismatches);
                self.images.push(img);
            }
            Ok(Doc::Index(index)) => self.walk_index(index, depth + 1, &tags, platform.as_ref(), &mismatches),
            Ok(Doc::Manifest(m, mt)) => self.push_manifest(
                *m,
                mt.or_else(|| d.media_type()),
                Some(d.digest.clone()),
                platform,
                tags,
                mismatches,
            ),
            Ok(Doc::Artifact(kind)) => {
                self.notes.push(skipped_artifact(Some(&d.digest), tags.first().map(String::as_str), &kind))
            }
            Err(e) => {
                let img = failed(e, &mismatches);
                self.images.push(img);
            }
        }
    }

    fn push_manifest(
        &mut self,
        m: Manifest,
        media_type: Option<MediaType>,
        manifest_digest: Option<Digest>,
        platform: Option<Platform>,
        tags: Vec<String>,
        mismatches: Vec<Mismatch>,
    ) {
        if let Some(kind) = m.artifact_kind() {
            // Nothing of an artifact is read, not even its config: it has no filesystem.
            let tag = tags.first().map(String::as_str);
            self.notes.push(skipped_artifact(manifest_digest.as_ref(), tag, &kind));
            return;
        }
        let mut errors: Vec<Error> = mismatches.iter().map(Mismatch::error).collect();
        let config_digest = m.config.digest.clone();
        let what = format!("config {config_digest}");
        let config = match (self.fetch)(&config_digest) {
            Ok(bytes) => {
                if let Some(mm) = Mismatch::check(&bytes, &config_digest, DigestKind::Config, &what) {
                    errors.push(mm.error());
                }
                match parse_config(&bytes, &At::none().with_path(what), &self.opts.limits) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                }
            }
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let platform = platform.or_else(|| config.as_ref().and_then(ImageConfig::platform));
        if let Some(p) = platform.as_ref().filter(|p| !self.selected(p)) {
            let of = manifest_digest.as_ref().map(|d| format!(": manifest {d}")).unwrap_or_default();
            self.notes.push(format!("skipped platform {p} (not selected){of}"));
            return;
        }
        let sources = m
            .layers
            .into_iter()
            .map(|l| LayerSource {
                media_type: l.media_type(),
                size: l.size,
                blob: BlobRef::Digest(l.digest.clone()),
                digest: Some(l.digest),
            })
            .collect();
        let layers = describe_layers(sources, config.as_ref(), &self.opts.limits, &mut errors);
        let mut img = new_image(self.input, tags, platform, errors);
        img.manifest_digest = manifest_digest;
        img.manifest_media_type = media_type;
        img.config_digest = Some(config_digest);
        img.config = config;
        img.layers = layers;
        self.images.push(img);
    }
}

/// A layer as a manifest (or `manifest.json`) lists it, before the config is joined in.
pub(crate) struct LayerSource {
    pub(crate) blob: BlobRef,
    pub(crate) digest: Option<Digest>,
    pub(crate) media_type: Option<MediaType>,
    pub(crate) size: Option<u64>,
}

/// Joins layers with the config's `rootfs.diff_ids` and `history`, keeping at most
/// [`Limits::max_layers`] (the cut is recorded in `errors`).
pub(crate) fn describe_layers(
    sources: Vec<LayerSource>,
    config: Option<&ImageConfig>,
    limits: &Limits,
    errors: &mut Vec<Error>,
) -> Vec<LayerDescriptor> {
    if sources.len() > limits.max_layers {
        errors.push(Error::Limit { at: At::none(), limit: LimitKind::Layers, max: limits.max_layers as u64 });
    }
    if let Some(c) = config.filter(|c| !c.diff_ids.is_empty() && c.diff_ids.len() != sources.len()) {
        errors.push(Error::format(
            At::none(),
            format!("config lists {} diff_ids for {} layers", c.diff_ids.len(), sources.len()),
        ));
    }
    let history = config.map(ImageConfig::history_layers).unwrap_or_default();
    sources
        .into_iter()
        .take(limits.max_layers)
        .enumerate()
        .map(|(index, s)| {
            let step = history.get(index).copied().flatten();
            LayerDescriptor {
                index,
                blob: s.blob,
                digest: s.digest,
                diff_id: config.and_then(|c| c.diff_ids.get(index).cloned()),
                media_type: s.media_type,
                size: s.size,
                history: step,
                created_by: step
                    .and_then(|h| config.and_then(|c| c.history.get(h)))
                    .and_then(|e| e.created_by.clone()),
            }
        })
        .collect()
}

/// An image with nothing resolved yet; `name` is set by [`finish_images`].
pub(crate) fn new_image(
    input: &str,
    tags: Vec<String>,
    platform: Option<Platform>,
    errors: Vec<Error>,
) -> Image {
    Image {
        input: input.to_string(),
        name: String::new(),
        tags,
        platform,
        manifest_digest: None,
        manifest_media_type: None,
        config_digest: None,
        config: None,
        layers: Vec::new(),
        errors,
    }
}

/// Names the images of one input (first tag, else the input; plus the platform when the input
/// holds several, plus a short digest if that is still ambiguous) and fills that name into
/// every error of the image.
pub(crate) fn finish_images(input: &str, images: &mut [Image]) {
    let several = images.len() > 1;
    for img in images.iter_mut() {
        let mut name = img.tags.first().cloned().unwrap_or_else(|| input.to_string());
        if let Some(p) = img.platform.as_ref().filter(|_| several) {
            name = format!("{name} ({p})");
        }
        img.name = name;
    }
    let names: Vec<String> = images.iter().map(|i| i.name.clone()).collect();
    for img in images.iter_mut() {
        if names.iter().filter(|n| **n == img.name).count() > 1 {
            if let Some(d) = img.manifest_digest.as_ref().or(img.config_digest.as_ref()) {
                img.name = format!("{} [{}]", img.name, d.short());
            }
        }
        let at = At::image(img.name.clone());
        img.errors = std::mem::take(&mut img.errors).into_iter().map(|e| e.within(&at)).collect();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn blobs(docs: &[&str]) -> (HashMap<Digest, Vec<u8>>, Vec<Digest>) {
        let mut map = HashMap::new();
        let mut ds = Vec::new();
        for d in docs {
            let dg = Digest::sha256_of(d.as_bytes());
            map.insert(dg.clone(), d.as_bytes().to_vec());
            ds.push(dg);
        }
        (map, ds)
    }

    fn fetcher(map: HashMap<Digest, Vec<u8>>) -> impl Fn(&Digest) -> Result<Vec<u8>> {
        move |d| map.get(d).cloned().ok_or_else(|| Error::MissingBlob { at: At::none(), what: d.to_string() })
    }

    /// Resolves `root` as a registry input with the default options.
    fn registry_root(
        input: &str,
        root: &[u8],
        root_digest: Option<&Digest>,
        fetch: &dyn Fn(&Digest) -> Result<Vec<u8>>,
    ) -> (Vec<Image>, Vec<String>) {
        resolve_from_root(input, InputKind::Registry, root, root_digest, fetch, &OpenOptions::default())
    }

    /// The blobs of one image (its config and manifest) and the manifest's digest.
    fn one_manifest() -> (HashMap<Digest, Vec<u8>>, Digest) {
        let (mut map, ds) = blobs(&[CONFIG]);
        let m = manifest(&ds[0], &Digest::sha256_of(b"l"));
        let md = Digest::sha256_of(m.as_bytes());
        map.insert(md.clone(), m.into_bytes());
        (map, md)
    }

    fn manifest(config: &Digest, layer: &Digest) -> String {
        format!(
            r#"{{"schemaVersion":2,"config":{{"digest":"{config}","size":1}},
               "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer}","size":3}}]}}"#
        )
    }

    const CONFIG: &str = r#"{"os":"linux","architecture":"amd64","history":[{"created_by":"ADD x /"}],
        "rootfs":{"diff_ids":["sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"]}}"#;

    #[test]
    fn root_manifest_resolves_to_one_image_with_joined_layers() {
        let (map, ds) = blobs(&[CONFIG]);
        let layer = Digest::sha256_of(b"layer");
        let root = manifest(&ds[0], &layer);
        let root_digest = Digest::sha256_of(root.as_bytes());
        let f = fetcher(map);
        let (images, notes) = registry_root("reg/x:1", root.as_bytes(), Some(&root_digest), &f);
        assert!(notes.is_empty());
        assert_eq!(images.len(), 1);
        let img = &images[0];
        assert!(img.errors.is_empty(), "{:?}", img.errors);
        assert_eq!(img.name, "reg/x:1");
        assert_eq!(img.manifest_digest.as_ref(), Some(&root_digest));
        assert_eq!(img.platform.as_ref().map(ToString::to_string).as_deref(), Some("linux/amd64"));
        let l = &img.layers[0];
        assert_eq!(l.blob, BlobRef::Digest(layer.clone()));
        assert_eq!(l.digest.as_ref(), Some(&layer));
        assert_eq!(l.media_type, Some(MediaType::OciLayerGzip));
        assert_eq!(l.size, Some(3));
        assert_eq!(l.history, Some(0));
        assert_eq!(l.created_by.as_deref(), Some("ADD x /"));
        assert!(l.diff_id.is_some());
    }

    #[test]
    fn unreadable_root_becomes_one_image_carrying_the_error() {
        let f = |_: &Digest| -> Result<Vec<u8>> { Err(Error::format(At::none(), "unused")) };
        let (images, _) = registry_root("in", b"not json", None, &f);
        assert_eq!(images.len(), 1);
        assert!(matches!(images[0].errors[0], Error::Json { .. }));
        assert_eq!(images[0].errors[0].at().and_then(|a| a.image.as_deref()), Some("in"));
    }

    #[test]
    fn root_digest_mismatch_is_recorded_and_image_still_resolved() {
        let (map, ds) = blobs(&[CONFIG]);
        let root = manifest(&ds[0], &Digest::sha256_of(b"l"));
        let wrong = Digest::sha256_of(b"other");
        let f = fetcher(map);
        let (images, _) = registry_root("in", root.as_bytes(), Some(&wrong), &f);
        assert_eq!(images[0].layers.len(), 1);
        assert!(matches!(images[0].errors[0], Error::DigestMismatch { kind: DigestKind::Manifest, .. }));
    }

    #[test]
    fn long_index_chain_stops_at_the_depth_bound() {
        // An index cannot contain its own digest, but a chain of distinct indexes can be long.
        let mut map = HashMap::new();
        let mut child = Digest::sha256_of(b"leaf");
        for i in 0..(MAX_INDEX_DEPTH + 2) {
            let doc = format!(r#"{{"manifests":[{{"digest":"{child}"}}],"n":{i}}}"#);
            let d = Digest::sha256_of(doc.as_bytes());
            map.insert(d.clone(), doc.into_bytes());
            child = d;
        }
        let root = format!(r#"{{"manifests":[{{"digest":"{child}"}}]}}"#);
        let f = fetcher(map);
        let (images, _) = registry_root("deep", root.as_bytes(), None, &f);
        assert_eq!(images.len(), 1);
        assert!(
            matches!(images[0].errors.last(), Some(Error::Limit { limit: LimitKind::NestingDepth, .. })),
            "{:?}",
            images[0].errors
        );
    }

    #[test]
    fn docker_manifest_list_and_undeclared_manifest_type_are_resolved() {
        // No mediaType anywhere: the manifest is recognised by its `layers`.
        let (map, md) = one_manifest();
        let root = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
               "manifests":[{{"digest":"{md}","platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}},
                            {{"digest":"{md}","platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}}]}}"#
        );
        let f = fetcher(map);
        let opts =
            OpenOptions { platforms: vec![Platform::parse("linux/arm").unwrap()], ..Default::default() };
        let (images, notes) = resolve_from_root("r", InputKind::Registry, root.as_bytes(), None, &f, &opts);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(images.len(), 1, "the same manifest twice is one image");
        assert_eq!(images[0].manifest_media_type, None);
        assert_eq!(images[0].platform, Platform::parse("linux/arm/v7"));
    }

    #[test]
    fn missing_manifest_blob_is_an_error_of_that_image_only() {
        let (map, md) = one_manifest();
        let gone = Digest::sha256_of(b"gone");
        let root = format!(
            r#"{{"manifests":[{{"digest":"{gone}","platform":{{"os":"linux","architecture":"amd64"}}}},
                             {{"digest":"{md}","platform":{{"os":"linux","architecture":"arm64"}}}}]}}"#
        );
        let f = fetcher(map);
        let (images, _) = registry_root("r:1", root.as_bytes(), None, &f);
        assert_eq!(images.len(), 2);
        assert_eq!(images[0].name, "r:1 (linux/amd64)");
        assert!(matches!(&images[0].errors[0], Error::MissingBlob { at, .. }
            if at.image.as_deref() == Some("r:1 (linux/amd64)")));
        assert!(images[1].errors.is_empty());
        assert_eq!(images[1].layers.len(), 1);
    }

    #[test]
    fn artifact_manifest_at_a_registry_tag_is_a_note_not_an_image() {
        // A tag of a Helm chart: nothing of it is fetched, not even its config.
        let config = Digest::sha256_of(b"{}");
        let root = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
               "config":{{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"{config}","size":2}},
               "layers":[{{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"{config}","size":2}}]}}"#
        );
        let root_digest = Digest::sha256_of(root.as_bytes());
        let f = |_: &Digest| -> Result<Vec<u8>> { panic!("an artifact's blobs are never fetched") };
        let (images, notes) = registry_root("reg/chart:1", root.as_bytes(), Some(&root_digest), &f);
        assert!(images.is_empty());
        assert_eq!(
            notes,
            vec![format!(
                "skipped manifest {root_digest}: an artifact, not an image \
                 (config application/vnd.cncf.helm.config.v1+json)"
            )]
        );
    }

    #[test]
    fn too_many_layers_are_cut_at_max_layers() {
        let limits = Limits { max_layers: 2, ..Limits::default() };
        let sources = (0..5)
            .map(|_| LayerSource { blob: BlobRef::Whole, digest: None, media_type: None, size: None })
            .collect();
        let mut errors = Vec::new();
        let layers = describe_layers(sources, None, &limits, &mut errors);
        assert_eq!(layers.len(), 2);
        assert!(matches!(errors[0], Error::Limit { limit: LimitKind::Layers, max: 2, .. }));
    }
}
