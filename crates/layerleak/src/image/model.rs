//! What an opened image is: its layers in manifest order, its config, where each blob lives.
//! Readers of every input kind (docker-save archive, OCI layout, single layer, registry) produce
//! these types; the rest of the crate only sees them.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use crate::digest::Digest;
use crate::Result;

/// A media type (OCI image spec, "Media Types"; Docker image manifest v2 schema 2). The set is
/// open: unknown strings are kept in [`MediaType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaType {
    /// `application/vnd.oci.image.index.v1+json`
    OciIndex,
    /// `application/vnd.oci.image.manifest.v1+json`
    OciManifest,
    /// `application/vnd.oci.image.config.v1+json`
    OciConfig,
    /// `application/vnd.oci.image.layer.v1.tar`
    OciLayer,
    /// `application/vnd.oci.image.layer.v1.tar+gzip`
    OciLayerGzip,
    /// `application/vnd.oci.image.layer.v1.tar+zstd`
    OciLayerZstd,
    /// `application/vnd.docker.distribution.manifest.list.v2+json`
    DockerManifestList,
    /// `application/vnd.docker.distribution.manifest.v2+json`
    DockerManifest,
    /// `application/vnd.docker.container.image.v1+json`
    DockerConfig,
    /// `application/vnd.docker.image.rootfs.diff.tar.gzip`
    DockerLayerGzip,
    /// `application/vnd.docker.image.rootfs.diff.tar`
    DockerLayer,
    /// Anything else, kept verbatim.
    Other(String),
}

impl MediaType {
    const KNOWN: &'static [(&'static str, MediaType)] = &[
        ("application/vnd.oci.image.index.v1+json", MediaType::OciIndex),
        ("application/vnd.oci.image.manifest.v1+json", MediaType::OciManifest),
        ("application/vnd.oci.image.config.v1+json", MediaType::OciConfig),
        ("application/vnd.oci.image.layer.v1.tar", MediaType::OciLayer),
        ("application/vnd.oci.image.layer.v1.tar+gzip", MediaType::OciLayerGzip),
        ("application/vnd.oci.image.layer.v1.tar+zstd", MediaType::OciLayerZstd),
        ("application/vnd.docker.distribution.manifest.list.v2+json", MediaType::DockerManifestList),
        ("application/vnd.docker.distribution.manifest.v2+json", MediaType::DockerManifest),
        ("application/vnd.docker.container.image.v1+json", MediaType::DockerConfig),
        ("application/vnd.docker.image.rootfs.diff.tar.gzip", MediaType::DockerLayerGzip),
        ("application/vnd.docker.image.rootfs.diff.tar", MediaType::DockerLayer),
    ];

    /// Parses a media type string (never fails: unknown ones are [`MediaType::Other`]).
    pub fn parse(s: &str) -> MediaType {
        MediaType::KNOWN
            .iter()
            .find(|(k, _)| *k == s)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| MediaType::Other(s.to_string()))
    }

    /// The media type string.
    pub fn as_str(&self) -> &str {
        match self {
            MediaType::Other(s) => s,
            known => MediaType::KNOWN.iter().find(|(_, m)| m == known).map(|(k, _)| *k).unwrap_or(""),
        }
    }

    /// An index or manifest list.
    pub fn is_index(&self) -> bool {
        matches!(self, MediaType::OciIndex | MediaType::DockerManifestList)
    }

    /// An image manifest.
    pub fn is_manifest(&self) -> bool {
        matches!(self, MediaType::OciManifest | MediaType::DockerManifest)
    }

    /// An image config (OCI image spec, "Image Configuration"; Docker's container image JSON).
    /// A manifest with any other config is an artifact (OCI image spec, "Guidelines for
    /// Artifact Usage"), whatever its layers hold.
    pub fn is_image_config(&self) -> bool {
        matches!(self, MediaType::OciConfig | MediaType::DockerConfig)
    }

    /// An image layer: a tar changeset, plain, gzip or zstd, distributable or not (OCI image
    /// spec, "Image Layer Filesystem Changeset"; Docker's `rootfs.diff` and foreign layers).
    /// Other blobs listed as layers (SBOMs, signatures, charts, WASM modules) are not.
    pub fn is_layer(&self) -> bool {
        match self {
            MediaType::OciLayer
            | MediaType::OciLayerGzip
            | MediaType::OciLayerZstd
            | MediaType::DockerLayer
            | MediaType::DockerLayerGzip => true,
            MediaType::Other(s) => MediaType::OTHER_LAYERS.contains(&s.as_str()),
            _ => false,
        }
    }

    /// Content that is certainly not a tar changeset: a structured syntax suffix (RFC 6839:
    /// `+json`, `+cbor`, `+xml`, `+yaml`; WASM's `+wasm`), JSON, WASM or text. In-toto
    /// statements, cosign signatures, SBOMs and WASM modules are all such blobs. A media type
    /// neither this nor [`MediaType::is_layer`] knows may still be a layer: its bytes decide.
    pub fn is_not_layer(&self) -> bool {
        let s = self.as_str();
        let essence = s.split(';').next().unwrap_or(s).trim();
        ["+json", "+cbor", "+xml", "+yaml", "+wasm"].iter().any(|x| essence.ends_with(x))
            || matches!(essence, "application/json" | "application/wasm")
            || essence.starts_with("text/")
    }

    /// Layer media types kept as [`MediaType::Other`]: the spec discourages them, images still
    /// carry them.
    const OTHER_LAYERS: &'static [&'static str] = &[
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar",
    ];
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for MediaType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An image platform (OCI image index, `platform`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Platform {
    /// `linux`, `windows`, …
    pub os: String,
    /// `amd64`, `arm64`, `arm`, …
    pub architecture: String,
    /// `v7`, `v8`, … when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> Option<Platform> {
        let mut parts = s.split('/');
        let os = parts.next().filter(|p| !p.is_empty())?;
        let architecture = parts.next().filter(|p| !p.is_empty())?;
        let variant = parts.next().filter(|p| !p.is_empty()).map(str::to_string);
        if parts.next().is_some() {
            return None;
        }
        Some(Platform { os: os.to_string(), architecture: architecture.to_string(), variant })
    }

    /// Whether this platform is what `wanted` asks for. A wanted platform without a variant
    /// matches every variant.
    pub fn matches(&self, wanted: &Platform) -> bool {
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && (wanted.variant.is_none() || wanted.variant == self.variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One `history[]` entry of an image config.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// The Dockerfile step (`/bin/sh -c #(nop) COPY …`).
    pub created_by: Option<String>,
    /// `true` when the step made no layer (ENV, ARG, LABEL, …).
    pub empty_layer: bool,
    /// `comment`, when given.
    pub comment: Option<String>,
    /// `created` timestamp, verbatim.
    pub created: Option<String>,
}

/// The parts of an image config (OCI image spec, "Image Configuration") that matter here.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ImageConfig {
    /// `architecture`.
    pub architecture: Option<String>,
    /// `os`.
    pub os: Option<String>,
    /// `variant`.
    pub variant: Option<String>,
    /// `config.Env`.
    pub env: Vec<String>,
    /// `config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// `config.Cmd`.
    pub cmd: Vec<String>,
    /// `config.Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `config.WorkingDir`.
    pub working_dir: Option<String>,
    /// `config.User`.
    pub user: Option<String>,
    /// `history[]`, in order, empty layers included.
    pub history: Vec<HistoryEntry>,
    /// `rootfs.diff_ids[]`.
    pub diff_ids: Vec<Digest>,
}

/// Where a scannable text of the config came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ConfigSource {
    /// `config.Env[i]`.
    ConfigEnv,
    /// `config.Labels[key]`.
    ConfigLabel,
    /// `config.Cmd`.
    ConfigCmd,
    /// `config.Entrypoint`.
    ConfigEntrypoint,
    /// `config.WorkingDir`.
    ConfigWorkingDir,
    /// `config.User`.
    ConfigUser,
    /// `history[i].created_by`.
    History,
}

/// One scannable text of an image config with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigText {
    /// Which field.
    pub source: ConfigSource,
    /// `config.Env[3]`, `config.Labels["k"]`, `history[7].created_by`.
    pub location: String,
    /// The text.
    pub text: String,
    /// For `history[i]`: the index of the layer that step made, if it made one.
    pub layer: Option<usize>,
}

impl ImageConfig {
    /// Every scannable text, in a stable order.
    pub fn texts(&self) -> Vec<ConfigText> {
        let mut out = Vec::new();
        let mut push = |source, location: String, text: &str, layer| {
            out.push(ConfigText { source, location, text: text.to_string(), layer })
        };
        for (i, e) in self.env.iter().enumerate() {
            push(ConfigSource::ConfigEnv, format!("config.Env[{i}]"), e, None);
        }
        for (k, v) in &self.labels {
            push(ConfigSource::ConfigLabel, format!("config.Labels[{k:?}]"), &format!("{k}={v}"), None);
        }
        if !self.cmd.is_empty() {
            push(ConfigSource::ConfigCmd, "config.Cmd".into(), &self.cmd.join(" "), None);
        }
        if !self.entrypoint.is_empty() {
            push(
                ConfigSource::ConfigEntrypoint,
                "config.Entrypoint".into(),
                &self.entrypoint.join(" "),
                None,
            );
        }
        if let Some(w) = &self.working_dir {
            push(ConfigSource::ConfigWorkingDir, "config.WorkingDir".into(), w, None);
        }
        if let Some(u) = &self.user {
            push(ConfigSource::ConfigUser, "config.User".into(), u, None);
        }
        let layers = self.history_layers();
        for (i, h) in self.history.iter().enumerate() {
            if let Some(c) = &h.created_by {
                let layer = layers.iter().position(|l| *l == Some(i));
                push(ConfigSource::History, format!("history[{i}].created_by"), c, layer);
            }
        }
        out
    }

    /// For layer `n` (0-based, manifest order), the index of the `history[]` entry that made it:
    /// the n-th entry that is not `empty_layer`. The result has one element per non-empty history
    /// entry; callers index it by layer and treat a missing element as "unknown step".
    pub fn history_layers(&self) -> Vec<Option<usize>> {
        self.history.iter().enumerate().filter(|(_, h)| !h.empty_layer).map(|(i, _)| Some(i)).collect()
    }

    /// The platform the config declares, when it declares os and architecture.
    pub fn platform(&self) -> Option<Platform> {
        Some(Platform {
            os: self.os.clone()?,
            architecture: self.architecture.clone()?,
            variant: self.variant.clone(),
        })
    }
}

/// How to open a blob from the input it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlobRef {
    /// A content-addressed blob (OCI layout `blobs/<alg>/<hex>`, registry).
    Digest(Digest),
    /// A member of a docker-save archive by its path (`<id>/layer.tar`).
    ArchivePath(String),
    /// The whole input is the blob (a single layer tarball).
    Whole,
}

impl fmt::Display for BlobRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobRef::Digest(d) => write!(f, "{d}"),
            BlobRef::ArchivePath(p) => f.write_str(p),
            BlobRef::Whole => f.write_str("(whole input)"),
        }
    }
}

/// One layer of an image, as the manifest and config describe it (nothing read yet).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayerDescriptor {
    /// 0-based index in the manifest's layer list.
    pub index: usize,
    /// Where its bytes are.
    pub blob: BlobRef,
    /// The blob digest the manifest promises (`layers[].digest`), when there is one.
    pub digest: Option<Digest>,
    /// The diff_id the config promises (`rootfs.diff_ids[index]`), when there is one.
    pub diff_id: Option<Digest>,
    /// The declared media type (reported; compression is detected from the bytes).
    pub media_type: Option<MediaType>,
    /// The declared size in bytes.
    pub size: Option<u64>,
    /// Index of the `history[]` entry that made this layer.
    pub history: Option<usize>,
    /// That entry's `created_by`.
    pub created_by: Option<String>,
}

/// One image found in an input, resolved down to its layers.
#[derive(Debug)]
#[non_exhaustive]
pub struct Image {
    /// The input as the user named it (path, `-`, registry reference).
    pub input: String,
    /// A name for people: `repo:tag` from the archive or `org.opencontainers.image.ref.name`,
    /// else the input, plus the platform when the input holds several.
    pub name: String,
    /// Tags the input gives this image (`RepoTags`, ref names).
    pub tags: Vec<String>,
    /// The platform, from the index entry or the config.
    pub platform: Option<Platform>,
    /// Digest of the manifest, when the image has one.
    pub manifest_digest: Option<Digest>,
    /// Media type of the manifest.
    pub manifest_media_type: Option<MediaType>,
    /// Digest of the config blob, when known.
    pub config_digest: Option<Digest>,
    /// The parsed config; `None` when there is none (single layer) or it could not be read (the
    /// error is in `errors`).
    pub config: Option<ImageConfig>,
    /// The layers, in manifest order (lowest first).
    pub layers: Vec<LayerDescriptor>,
    /// What could not be read while resolving this image (it is still scanned as far as
    /// possible).
    pub errors: Vec<crate::Error>,
}

/// Where blobs of an input are read from. Implementations are cheap to share across threads:
/// each `open` returns an independent reader, so layers can be read in parallel.
pub trait BlobStore: Send + Sync {
    /// Opens a blob for streaming. The reader yields the blob's stored bytes (still compressed).
    fn open(&self, blob: &BlobRef) -> Result<Box<dyn Read + Send + '_>>;
}

/// How to open an input.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OpenOptions {
    /// Platforms to keep from a multi-platform index; empty keeps all.
    pub platforms: Vec<Platform>,
    /// Bounds on what is read.
    pub limits: crate::Limits,
}

/// An opened input: the images it holds and where to read their blobs.
#[non_exhaustive]
pub struct Input {
    /// The input as the user named it.
    pub name: String,
    /// What kind of input it turned out to be.
    pub kind: InputKind,
    /// Every image found (several for a multi-image archive or multi-platform index).
    pub images: Vec<Image>,
    /// Things deliberately left out, for the report (`skipped attestation manifest sha256:…`,
    /// `skipped platform linux/s390x (not selected)`).
    pub notes: Vec<String>,
    /// Reads blobs of `images`.
    pub store: std::sync::Arc<dyn BlobStore>,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("images", &self.images)
            .field("notes", &self.notes)
            .finish_non_exhaustive()
    }
}

/// The kinds of input layerleak reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum InputKind {
    /// `docker save` archive, legacy layout (`manifest.json`, `<id>/layer.tar`).
    DockerArchive,
    /// `docker save` archive of Docker 25+: an OCI image layout inside a tar.
    OciArchive,
    /// An OCI image layout directory.
    OciLayout,
    /// A single layer tarball (plain, gzip or zstd).
    Layer,
    /// An image pulled from a registry.
    Registry,
}
