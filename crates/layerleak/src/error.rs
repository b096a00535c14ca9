//! The one public error type of the core crate.
//!
//! Every variant names *where* it happened ([`At`]: image, layer, path in layer) so that an
//! embedder can attribute it without parsing the message, and keeps its `source()` chain.

use std::fmt;

use crate::digest::Digest;

/// Where an error happened: as much of image / layer / path / offset as is known.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct At {
    /// The image, as the user named it (input path plus tag or platform when known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Index of the layer in the manifest's layer list (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// Digest of the layer blob, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_digest: Option<Digest>,
    /// Path inside the layer (or inside the archive, for archive-level errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Byte offset, when it means something (position in the stream that failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl At {
    /// Nowhere in particular.
    pub fn none() -> At {
        At::default()
    }
    /// An image, no layer.
    pub fn image(image: impl Into<String>) -> At {
        At { image: Some(image.into()), ..At::default() }
    }
    /// Sets the layer index and digest.
    pub fn with_layer(mut self, index: usize, digest: Option<Digest>) -> At {
        self.layer = Some(index);
        self.layer_digest = digest;
        self
    }
    /// Sets the path.
    pub fn with_path(mut self, path: impl Into<String>) -> At {
        self.path = Some(path.into());
        self
    }
    /// Sets the offset.
    pub fn with_offset(mut self, offset: u64) -> At {
        self.offset = Some(offset);
        self
    }
    /// Fills every field that `self` lacks from `outer`.
    pub fn or(mut self, outer: &At) -> At {
        if self.image.is_none() {
            self.image = outer.image.clone();
        }
        if self.layer.is_none() {
            self.layer = outer.layer;
        }
        if self.layer_digest.is_none() {
            self.layer_digest = outer.layer_digest.clone();
        }
        if self.path.is_none() {
            self.path = outer.path.clone();
        }
        if self.offset.is_none() {
            self.offset = outer.offset;
        }
        self
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(image) = &self.image {
            write!(f, "image {image}")?;
            sep = ", ";
        }
        if let Some(layer) = self.layer {
            write!(f, "{sep}layer {layer}")?;
            if let Some(d) = &self.layer_digest {
                write!(f, " ({})", d.short())?;
            }
            sep = ", ";
        }
        if let Some(path) = &self.path {
            write!(f, "{sep}path {path}")?;
            sep = ", ";
        }
        if let Some(offset) = self.offset {
            write!(f, "{sep}offset {offset}")?;
        }
        Ok(())
    }
}

/// Which configurable bound was hit. See [`crate::Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LimitKind {
    /// [`crate::Limits::max_json_bytes`].
    JsonBytes,
    /// [`crate::Limits::max_json_depth`].
    JsonDepth,
    /// [`crate::Limits::max_layer_bytes`]: decompressed bytes of one layer.
    LayerBytes,
    /// [`crate::Limits::max_archive_bytes`]: decompressed bytes of a compressed archive.
    ArchiveBytes,
    /// [`crate::Limits::max_header_bytes`]: long-name / PAX header entries.
    HeaderBytes,
    /// [`crate::Limits::max_entries_per_layer`].
    EntriesPerLayer,
    /// [`crate::Limits::max_layers`].
    Layers,
    /// [`crate::Limits::max_nesting_depth`]: archives inside archives.
    NestingDepth,
    /// [`crate::Limits::max_nested_bytes`]: decompressed bytes of one nested archive.
    NestedBytes,
    /// [`crate::Limits::max_findings`].
    Findings,
    /// [`crate::Limits::max_path_bytes`].
    PathBytes,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            LimitKind::JsonBytes => "max_json_bytes",
            LimitKind::JsonDepth => "max_json_depth",
            LimitKind::LayerBytes => "max_layer_bytes",
            LimitKind::ArchiveBytes => "max_archive_bytes",
            LimitKind::HeaderBytes => "max_header_bytes",
            LimitKind::EntriesPerLayer => "max_entries_per_layer",
            LimitKind::Layers => "max_layers",
            LimitKind::NestingDepth => "max_nesting_depth",
            LimitKind::NestedBytes => "max_nested_bytes",
            LimitKind::Findings => "max_findings",
            LimitKind::PathBytes => "max_path_bytes",
        };
        f.write_str(s)
    }
}

/// What a digest was computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DigestKind {
    /// The layer blob as stored (compressed): the manifest's `layers[].digest`.
    Blob,
    /// The uncompressed layer tar: the config's `rootfs.diff_ids[]`.
    DiffId,
    /// The image config blob.
    Config,
    /// A manifest or index blob.
    Manifest,
}

impl fmt::Display for DigestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DigestKind::Blob => "blob digest",
            DigestKind::DiffId => "diff_id",
            DigestKind::Config => "config digest",
            DigestKind::Manifest => "manifest digest",
        })
    }
}

/// The error type of the core crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading failed (file, archive member, network body).
    #[error("{at}: {what}: {source}")]
    Io {
        /// Where.
        at: At,
        /// What was being read.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON document (manifest, index, config, report) is not valid or misses fields.
    #[error("{at}: {what} is not valid: {source}")]
    Json {
        /// Where.
        at: At,
        /// Which document (`manifest.json`, `index.json`, `config sha256:…`).
        what: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The image does not have the structure its format requires.
    #[error("{at}: {message}")]
    Format {
        /// Where.
        at: At,
        /// What is wrong.
        message: String,
    },
    /// A blob the image refers to is not there.
    #[error("{at}: missing blob {what}")]
    MissingBlob {
        /// Where.
        at: At,
        /// The digest or archive path that was looked for.
        what: String,
    },
    /// What was read is not what the manifest or config promised.
    #[error("{at}: {kind} mismatch: expected {expected}, found {found}")]
    DigestMismatch {
        /// Where.
        at: At,
        /// Which digest.
        kind: DigestKind,
        /// What the manifest / config says.
        expected: Digest,
        /// What the bytes hash to.
        found: Digest,
    },
    /// A compressed stream is corrupt or truncated.
    #[error("{at}: cannot decompress ({compression}): {source}")]
    Decompress {
        /// Where.
        at: At,
        /// `gzip` or `zstd`.
        compression: String,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },
    /// A tar stream is corrupt or truncated.
    #[error("{at}: bad tar stream: {message}")]
    Tar {
        /// Where.
        at: At,
        /// What is wrong.
        message: String,
    },
    /// The input ends before what it declares: an archive, one of its members or a layer stream
    /// cut short (an interrupted download or copy). What precedes the cut is still read.
    #[error("archive truncated: {}{message}", located(.at))]
    Truncated {
        /// Where: the image, and when known the layer, the member or entry, and the offset.
        at: At,
        /// What ends early, and what was read of it.
        message: String,
    },
    /// A configured bound was hit; the item was cut short or skipped.
    #[error("{at}: limit {limit} ({max}) reached")]
    Limit {
        /// Where.
        at: At,
        /// Which limit.
        limit: LimitKind,
        /// Its configured value.
        max: u64,
    },
    /// A rule (built-in or from a rules file) is invalid.
    #[error("rule {rule}: {message}")]
    Rule {
        /// Rule id (or `#N` when it has none).
        rule: String,
        /// What is wrong.
        message: String,
    },
    /// A rules file cannot be used: it is not TOML of the rules format, or one of its rules or
    /// allowlists is invalid.
    #[error("{file}: {}{message}", rule_prefix(.rule))]
    RulesFile {
        /// The file, as the caller named it.
        file: String,
        /// The rule's id (`#N`, its position, when it has none); `None` for the whole file.
        rule: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The input is not of any kind layerleak reads.
    #[error("{at}: unsupported input: {message}")]
    Unsupported {
        /// Where.
        at: At,
        /// Why.
        message: String,
    },
    /// A registry request failed.
    #[error("{at}: registry: {message}")]
    Registry {
        /// Where.
        at: At,
        /// What happened (never includes credentials).
        message: String,
        /// HTTP status, when there was one.
        status: Option<u16>,
    },
    /// A result cache (a SQLite file, a PostgreSQL database) could not be opened, read, written
    /// or migrated, or was written by a newer layerleak. Names the store, not an image: the
    /// scan itself goes on without the cache where it can.
    #[error("cache {store}: {what}: {source}")]
    Cache {
        /// The store: the SQLite file's path, or the PostgreSQL server (never a password).
        store: String,
        /// What was being done.
        what: String,
        /// The store's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A failure of layerleak itself, not of its input: a lock poisoned by a panicked thread,
    /// worker threads that could not start.
    #[error("internal error: {message}")]
    Internal {
        /// What failed.
        message: String,
    },
    /// The scan was stopped by the caller (sink returned stop).
    #[error("scan stopped by the caller")]
    Stopped,
}

/// The location an error carries, by reference or mutable reference (as `$e` is): one list of
/// the variants that have one, for both [`Error::at`] and [`Error::within`].
macro_rules! location_of {
    ($e:expr) => {
        match $e {
            Error::Io { at, .. }
            | Error::Json { at, .. }
            | Error::Format { at, .. }
            | Error::MissingBlob { at, .. }
            | Error::DigestMismatch { at, .. }
            | Error::Decompress { at, .. }
            | Error::Tar { at, .. }
            | Error::Truncated { at, .. }
            | Error::Limit { at, .. }
            | Error::Unsupported { at, .. }
            | Error::Registry { at, .. } => Some(at),
            Error::Rule { .. }
            | Error::RulesFile { .. }
            | Error::Cache { .. }
            | Error::Internal { .. }
            | Error::Stopped => None,
        }
    };
}

impl Error {
    /// Where the error happened.
    pub fn at(&self) -> Option<&At> {
        location_of!(self)
    }

    /// Fills in location fields this error lacks from `outer` (e.g. the image name known only
    /// to the caller).
    pub fn within(mut self, outer: &At) -> Error {
        let slot = location_of!(&mut self);
        if let Some(at) = slot {
            *at = std::mem::take(at).or(outer);
        }
        self
    }

    /// A short stable name of the variant, for reports (`"digest_mismatch"`, `"limit"`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Json { .. } => "json",
            Error::Format { .. } => "format",
            Error::MissingBlob { .. } => "missing_blob",
            Error::DigestMismatch { .. } => "digest_mismatch",
            Error::Decompress { .. } => "decompress",
            Error::Tar { .. } => "tar",
            Error::Truncated { .. } => "truncated",
            Error::Limit { .. } => "limit",
            Error::Rule { .. } | Error::RulesFile { .. } => "rule",
            Error::Unsupported { .. } => "unsupported",
            Error::Registry { .. } => "registry",
            Error::Cache { .. } => "cache",
            Error::Internal { .. } => "internal",
            Error::Stopped => "stopped",
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(at: At, what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io { at, what: what.into(), source }
    }

    /// Shorthand for [`Error::Cache`].
    #[cfg(any(feature = "sqlite", feature = "postgres", test))]
    pub(crate) fn cache(
        store: impl Into<String>,
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::Cache { store: store.into(), what: what.into(), source: source.into() }
    }

    /// Shorthand for [`Error::Format`].
    pub fn format(at: At, message: impl Into<String>) -> Error {
        Error::Format { at, message: message.into() }
    }

    /// A copy of an error that has no source (damage an archive index records is reported on
    /// every image of the archive); `None` for the variants that keep an underlying error.
    pub(crate) fn duplicate(&self) -> Option<Error> {
        Some(match self {
            Error::Format { at, message } => Error::Format { at: at.clone(), message: message.clone() },
            Error::Tar { at, message } => Error::Tar { at: at.clone(), message: message.clone() },
            Error::Truncated { at, message } => Error::Truncated { at: at.clone(), message: message.clone() },
            Error::Limit { at, limit, max } => Error::Limit { at: at.clone(), limit: *limit, max: *max },
            Error::MissingBlob { at, what } => Error::MissingBlob { at: at.clone(), what: what.clone() },
            _ => return None,
        })
    }
}

/// `rule ID: `, or nothing for a problem with the whole file.
fn rule_prefix(rule: &Option<String>) -> String {
    rule.as_ref().map(|r| format!("rule {r}: ")).unwrap_or_default()
}

/// `at` and a colon, or nothing when nothing is known of where.
fn located(at: &At) -> String {
    if *at == At::none() {
        String::new()
    } else {
        format!("{at}: ")
    }
}

/// Result alias of the core crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::{At, Error};

    #[test]
    fn cache_and_internal_errors_have_their_own_kinds() {
        let io = std::io::Error::other("disk I/O error");
        let e = Error::cache("/tmp/c.sqlite", "reading cache", io);
        assert_eq!(e.kind(), "cache");
        assert_eq!(e.at(), None, "a cache store is no image");
        assert_eq!(e.to_string(), "cache /tmp/c.sqlite: reading cache: disk I/O error");
        assert!(std::error::Error::source(&e).is_some(), "the store's error stays the source");
        let e = e.within(&At::image("app:1"));
        assert!(matches!(&e, Error::Cache { store, .. } if store == "/tmp/c.sqlite"), "{e}");

        let newer =
            Error::cache("db", "checking the schema version", "the cache has schema version 9".to_string());
        assert_eq!(
            newer.to_string(),
            "cache db: checking the schema version: the cache has schema version 9"
        );

        let e = Error::Internal { message: "layer cache lock poisoned by a panicked thread".into() };
        assert_eq!(e.kind(), "internal");
        assert_eq!(e.at(), None);
        assert_eq!(e.to_string(), "internal error: layer cache lock poisoned by a panicked thread");
        let record = crate::report::ErrorRecord::from(&e);
        assert_eq!((record.kind.as_str(), record.at), ("internal", At::none()));
    }
}
