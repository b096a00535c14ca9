//! What the pipeline's jobs give and the attribution takes: the outcome of walking one layer
//! ([`LayerOutcome`], also what the layer cache stores and gives back), the matches in its files
//! ([`FileHit`]) and in an image config's texts ([`TextHit`]).
//!
//! A hit's fingerprint and redacted form are computed once, where the hit is made; everything
//! downstream (the cache, the attribution, the report's redaction of its texts) takes them from
//! the hit.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::detect::Match;
use crate::digest::sha256_hex;
use crate::image::ConfigText;
use crate::layer::{LayerPath, LayerWalk};
use crate::package::{DbRecord, FileSums};
use crate::report::{redact, Source};
use crate::{Error, Skipped};

/// A match in a file version of a layer. `m.secret` holds the secret bytes after a scan, whether
/// or not the scanner keeps secrets: without them the report could not redact the secret where
/// else it occurs (a step text, a path). A cached layer has only the fingerprint and redacted
/// form (`m.secret` empty).
pub(super) struct FileHit {
    pub ordinal: u64,
    pub path: LayerPath,
    pub m: Match,
    /// Hex SHA-256 of the secret bytes.
    pub fingerprint: String,
    /// [`redact`] of the secret bytes.
    pub redacted: String,
}

impl FileHit {
    /// A fresh match in file version `ordinal` at `path`.
    pub fn new(ordinal: u64, path: LayerPath, m: Match) -> FileHit {
        let fingerprint = sha256_hex(&m.secret);
        let redacted = redact(&m.secret);
        FileHit { ordinal, path, m, fingerprint, redacted }
    }
}

/// A match in one text of an image config (an `Env` entry, a label, a history step).
pub(super) struct TextHit {
    pub source: Source,
    /// `config.Env[3]`, `history[7].created_by`.
    pub location: String,
    /// For a history step: the index of the layer it made, if any.
    pub layer: Option<usize>,
    pub m: Match,
    /// Hex SHA-256 of the secret bytes.
    pub fingerprint: String,
    /// [`redact`] of the secret bytes.
    pub redacted: String,
}

impl TextHit {
    /// A match in `text`.
    pub fn new(text: &ConfigText, m: Match) -> TextHit {
        let fingerprint = sha256_hex(&m.secret);
        let redacted = redact(&m.secret);
        TextHit {
            source: text.source.into(),
            location: text.location.clone(),
            layer: text.layer,
            m,
            fingerprint,
            redacted,
        }
    }
}

/// What walking one layer blob gave.
pub(super) struct LayerOutcome {
    /// `None` when the blob could not even be opened.
    pub walk: Option<LayerWalk>,
    pub hits: Vec<FileHit>,
    pub errors: Vec<Error>,
    /// Files the detector cut at `max_file_bytes` (inside archives; the walker's own cuts are in
    /// the walk).
    pub skipped: Vec<Skipped>,
    pub files: u64,
    /// The package database files of the layer, parsed.
    pub packages: Vec<DbRecord>,
    /// Content digests of the file versions with hits, by ordinal, where the whole file was at
    /// hand when it was scanned.
    pub sums: HashMap<u64, FileSums>,
    /// File versions with hits too large to have been kept while scanned (with no digest, or
    /// only the speculative MD5): hashed by a second read of the layer when a package database
    /// lists them with a digest they lack (the pipeline's `rehash`).
    pub pending: Vec<(u64, LayerPath)>,
    /// What the second read gave.
    pub rehashed: OnceLock<HashMap<u64, FileSums>>,
}

impl LayerOutcome {
    /// The content digests of file version `ordinal`, if known.
    pub fn sums_of(&self, ordinal: u64) -> Option<&FileSums> {
        self.rehashed.get().and_then(|r| r.get(&ordinal)).or_else(|| self.sums.get(&ordinal))
    }

    /// A blob that could not be opened.
    pub fn failed(e: Error) -> LayerOutcome {
        LayerOutcome {
            walk: None,
            hits: Vec::new(),
            errors: vec![e],
            skipped: Vec::new(),
            files: 0,
            packages: Vec::new(),
            sums: HashMap::new(),
            pending: Vec::new(),
            rehashed: OnceLock::new(),
        }
    }
}
