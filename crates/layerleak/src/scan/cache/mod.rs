//! The per-layer result cache: what walking and scanning one layer blob gave, stored by the
//! blob's digest so a layer shared by many images (or seen in an earlier run) is downloaded and
//! scanned once.
//!
//! A cached layer holds every fact the attribution needs (every tar entry with its kind, size and
//! mode; every match with its rule, path, offset, line, validation and note; the computed blob
//! digest and diff_id), so each image's lifecycle is still resolved from its own layer list.
//!
//! # Security
//!
//! A cache never holds secret bytes: a match is stored as its fingerprint (SHA-256 of the secret)
//! and its redacted form. A scanner that keeps secrets ([`crate::scan::ScannerBuilder::keep_secrets`])
//! therefore never reads from a cache (it rescans, so the secrets can be shown); it still writes
//! to it. Without secret bytes, a cached layer's secrets are redacted from the report's other
//! texts (step texts, paths) only where the detector finds them there again: config texts are
//! scanned on every run, so a token repeated in a step text still is.
//!
//! Only layers walked to their end without any error, whose bytes hashed to the digest they are
//! stored under, are stored: a cached result always describes exactly the bytes of that digest,
//! and a layer that failed is retried on the next run. Entries are read back through bounded JSON
//! (a damaged or foreign entry is a miss, never a panic).

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::outcome::{FileHit, LayerOutcome};
use crate::detect::{Match, Validation};
use crate::digest::Digest;
use crate::layer::{Compression, EntryKind, EntryMeta, LayerPath, LayerWalk, PathFlags};
use crate::package::{DbRecord, FileSums};
use crate::report::Report;
use crate::{Error, Result};

mod place;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use self::postgres::PostgresCache;
pub use place::Place;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteCache;

/// Bumped whenever [`CachedLayer`]'s stored form changes; part of every key.
const FORMAT_VERSION: u32 = 3;

/// What a cached layer is stored under: the blob digest and everything else that changes the
/// result of scanning it (crate version and detector revision, rule set, limits and detection
/// options).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// The layer blob's digest.
    pub layer: Digest,
    /// Hex SHA-256 over the engine version, [`crate::scan::Scanner::ruleset_hash`] and every
    /// result-affecting option; see [`crate::scan::Scanner::cache_context`].
    pub context: String,
}

/// The outcome of scanning one layer, without secret bytes, in a serializable form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedLayer {
    compression: Compression,
    blob_digest: Digest,
    blob_bytes: u64,
    diff_id: Digest,
    tar_bytes: u64,
    files: u64,
    entries: Vec<CachedEntry>,
    hits: Vec<CachedHit>,
    /// The layer's package database files, parsed.
    packages: Vec<DbRecord>,
    /// Content digests of the files with hits that were hashed while scanned.
    sums: Vec<(u64, FileSums)>,
    /// Files with hits left to hash by a second read, with their paths.
    pending: Vec<(u64, Bytes)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CachedEntry {
    ordinal: u64,
    path: Bytes,
    flags: u8,
    kind: CachedKind,
    size: u64,
    mode: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum CachedKind {
    File,
    Dir,
    Symlink(Bytes),
    Hardlink(Bytes),
    Whiteout(Bytes),
    Opaque(Bytes),
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CachedHit {
    ordinal: u64,
    path: Bytes,
    rule: String,
    fingerprint: String,
    redacted: String,
    offset: u64,
    line: Option<u64>,
    column: Option<u64>,
    entropy: f64,
    validation: u8,
    inner: Vec<String>,
    note: Option<String>,
}

/// Path bytes: a string when UTF-8 (compact and readable), raw bytes otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Bytes {
    Text(String),
    Raw(Vec<u8>),
}

impl Bytes {
    fn of(b: &[u8]) -> Bytes {
        match std::str::from_utf8(b) {
            Ok(s) => Bytes::Text(s.to_string()),
            Err(_) => Bytes::Raw(b.to_vec()),
        }
    }
    fn as_bytes(&self) -> &[u8] {
        match self {
            Bytes::Text(s) => s.as_bytes(),
            Bytes::Raw(b) => b,
        }
    }
    /// Stored paths were normalized when walked; normalizing again gives them back unchanged.
    fn path(&self) -> LayerPath {
        LayerPath::new(self.as_bytes()).0
    }
}

const FLAG_BITS: [fn(&mut PathFlags) -> &mut bool; 5] = [
    |f| &mut f.escaped_root,
    |f| &mut f.absolute,
    |f| &mut f.invalid_utf8,
    |f| &mut f.had_nul,
    |f| &mut f.truncated,
];

fn flags_to_bits(mut f: PathFlags) -> u8 {
    FLAG_BITS.iter().enumerate().fold(0, |acc, (i, get)| acc | (u8::from(*get(&mut f)) << i))
}

fn flags_from_bits(bits: u8) -> PathFlags {
    let mut f = PathFlags::default();
    for (i, get) in FLAG_BITS.iter().enumerate() {
        *get(&mut f) = bits & (1 << i) != 0;
    }
    f
}

fn validation_code(v: Validation) -> u8 {
    match v {
        Validation::Valid => 1,
        Validation::Invalid => 2,
        Validation::Unknown => 0,
    }
}

fn validation_of(code: u8) -> Validation {
    match code {
        1 => Validation::Valid,
        2 => Validation::Invalid,
        _ => Validation::Unknown,
    }
}

impl CachedLayer {
    /// The cacheable form of an outcome, or `None` when it must not be cached: not walked to its
    /// end, any error, or bytes that did not hash to `digest`.
    pub(super) fn from_outcome(
        outcome: &LayerOutcome,
        digest: &Digest,
        rules: &[crate::detect::Rule],
    ) -> Option<Self> {
        let walk = outcome.walk.as_ref()?;
        // A cut file's note is not stored, so a layer with one is scanned again each time.
        let cut = !walk.skipped.is_empty() || !outcome.skipped.is_empty();
        if !walk.complete || !walk.errors.is_empty() || !outcome.errors.is_empty() || walk.stopped || cut {
            return None;
        }
        if walk.blob_digest.as_ref() != Some(digest) {
            return None;
        }
        let entries = walk
            .entries
            .iter()
            .map(|e| CachedEntry {
                ordinal: e.ordinal,
                path: Bytes::of(e.path.as_bytes()),
                flags: flags_to_bits(e.flags),
                kind: match &e.kind {
                    EntryKind::File => CachedKind::File,
                    EntryKind::Dir => CachedKind::Dir,
                    EntryKind::Symlink { target } => CachedKind::Symlink(Bytes::of(target)),
                    EntryKind::Hardlink { target } => CachedKind::Hardlink(Bytes::of(target.as_bytes())),
                    EntryKind::Whiteout { target } => CachedKind::Whiteout(Bytes::of(target.as_bytes())),
                    EntryKind::OpaqueWhiteout { dir } => CachedKind::Opaque(Bytes::of(dir.as_bytes())),
                    EntryKind::Other => CachedKind::Other,
                },
                size: e.size,
                mode: e.mode,
            })
            .collect();
        let hits = outcome
            .hits
            .iter()
            .map(|h| {
                Some(CachedHit {
                    ordinal: h.ordinal,
                    path: Bytes::of(h.path.as_bytes()),
                    rule: rules.get(h.m.rule)?.id.clone(),
                    fingerprint: h.fingerprint.clone(),
                    redacted: h.redacted.clone(),
                    offset: h.m.offset,
                    line: h.m.line,
                    column: h.m.column,
                    entropy: h.m.entropy,
                    validation: validation_code(h.m.validation),
                    inner: h.m.inner.clone(),
                    note: h.m.note.clone(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(CachedLayer {
            compression: walk.compression,
            blob_digest: digest.clone(),
            blob_bytes: walk.blob_bytes,
            diff_id: walk.diff_id.clone()?,
            tar_bytes: walk.tar_bytes,
            files: outcome.files,
            entries,
            hits,
            packages: outcome.packages.clone(),
            sums: {
                let mut v: Vec<(u64, FileSums)> = outcome.sums.iter().map(|(k, v)| (*k, *v)).collect();
                v.sort_by_key(|x| x.0);
                v
            },
            pending: outcome.pending.iter().map(|(o, p)| (*o, Bytes::of(p.as_bytes()))).collect(),
        })
    }

    /// Back to an outcome the attribution takes, or `None` when the entry names a rule this
    /// scanner does not have (a foreign or stale entry: treated as a miss).
    pub(super) fn to_outcome(&self, rules: &[crate::detect::Rule]) -> Option<LayerOutcome> {
        let entries = self
            .entries
            .iter()
            .map(|e| EntryMeta {
                ordinal: e.ordinal,
                path: e.path.path(),
                flags: flags_from_bits(e.flags),
                kind: match &e.kind {
                    CachedKind::File => EntryKind::File,
                    CachedKind::Dir => EntryKind::Dir,
                    CachedKind::Symlink(t) => EntryKind::Symlink { target: t.as_bytes().to_vec() },
                    CachedKind::Hardlink(t) => EntryKind::Hardlink { target: t.path() },
                    CachedKind::Whiteout(t) => EntryKind::Whiteout { target: t.path() },
                    CachedKind::Opaque(t) => EntryKind::OpaqueWhiteout { dir: t.path() },
                    CachedKind::Other => EntryKind::Other,
                },
                size: e.size,
                mode: e.mode,
            })
            .collect();
        let hits = self
            .hits
            .iter()
            .map(|h| {
                let rule = rules.iter().position(|r| r.id == h.rule)?;
                Some(FileHit {
                    ordinal: h.ordinal,
                    path: h.path.path(),
                    fingerprint: h.fingerprint.clone(),
                    redacted: h.redacted.clone(),
                    m: Match {
                        rule,
                        secret: Vec::new(),
                        offset: h.offset,
                        line: h.line,
                        column: h.column,
                        entropy: h.entropy,
                        validation: validation_of(h.validation),
                        inner: h.inner.clone(),
                        note: h.note.clone(),
                    },
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let walk = LayerWalk {
            compression: self.compression,
            blob_digest: Some(self.blob_digest.clone()),
            blob_bytes: self.blob_bytes,
            diff_id: Some(self.diff_id.clone()),
            tar_bytes: self.tar_bytes,
            entries,
            errors: Vec::new(),
            skipped: Vec::new(),
            complete: true,
            stopped: false,
        };
        Some(LayerOutcome {
            walk: Some(walk),
            hits,
            errors: Vec::new(),
            skipped: Vec::new(),
            files: self.files,
            packages: self.packages.clone(),
            sums: self.sums.iter().copied().collect(),
            pending: self.pending.iter().map(|(o, p)| (*o, p.path())).collect(),
            rehashed: std::sync::OnceLock::new(),
        })
    }

    /// How many secrets (matches) the layer holds.
    pub fn hits(&self) -> usize {
        self.hits.len()
    }

    /// How many tar entries the layer holds.
    pub fn entries(&self) -> usize {
        self.entries.len()
    }
}

/// Where per-layer results are kept between scans. Implementations must be cheap to call from
/// several worker threads at once. A failing `get` or `put` never fails the scan: the layer is
/// scanned (or not stored) and the problem is noted in the report.
pub trait LayerCache: Send + Sync {
    /// The stored result for `key`, if any.
    fn get(&self, key: &CacheKey) -> Result<Option<CachedLayer>>;
    /// Stores `layer` under `key` (replacing what was there). Called as soon as a layer is
    /// scanned, so an interrupted run keeps what it finished.
    fn put(&self, key: &CacheKey, layer: &CachedLayer) -> Result<()>;
    /// Records where secrets were seen (image, tag, platform, layer, path, status of each
    /// finding), for [`LayerCache::places`]; called once per scanned batch of images. Recording
    /// the same place again only refreshes it. Default: nothing is recorded.
    fn record(&self, places: &[Place]) -> Result<()> {
        let _ = places;
        Ok(())
    }
    /// Every recorded place of the secret with this fingerprint (lowercase hex SHA-256 of its
    /// bytes), sorted. Default: none.
    fn places(&self, fingerprint: &str) -> Result<Vec<Place>> {
        let _ = fingerprint;
        Ok(Vec::new())
    }
}

/// Records the places of `report`'s findings in `cache`.
pub(super) fn record_report(cache: &dyn LayerCache, report: &Report) -> Result<()> {
    let places = place::of_report(report);
    if places.is_empty() {
        return Ok(());
    }
    cache.record(&places)
}

/// A cache in memory, for one process (an embedder scanning many images in a loop).
#[derive(Debug, Default)]
pub struct MemoryCache {
    map: Mutex<HashMap<CacheKey, CachedLayer>>,
}

impl MemoryCache {
    /// An empty cache.
    pub fn new() -> MemoryCache {
        MemoryCache::default()
    }

    /// How many layers it holds.
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl LayerCache for MemoryCache {
    fn get(&self, key: &CacheKey) -> Result<Option<CachedLayer>> {
        Ok(self.map.lock().map_err(|_| poisoned())?.get(key).cloned())
    }

    fn put(&self, key: &CacheKey, layer: &CachedLayer) -> Result<()> {
        self.map.lock().map_err(|_| poisoned())?.insert(key.clone(), layer.clone());
        Ok(())
    }
}

fn poisoned() -> Error {
    Error::Internal { message: "layer cache lock poisoned by a panicked thread".into() }
}

/// Largest stored entry read back (a layer of a million entries stays well below).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const MAX_ENTRY_BYTES: usize = 512 << 20;

/// The stored form of a layer.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn encode(layer: &CachedLayer, store: &str) -> Result<Vec<u8>> {
    serde_json::to_vec(layer).map_err(|e| Error::cache(store, "encoding cache entry", e))
}

/// A stored layer back; a damaged or oversized entry is a miss (scanned again and overwritten).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn decode(value: &[u8]) -> Option<CachedLayer> {
    if value.len() > MAX_ENTRY_BYTES {
        return None;
    }
    serde_json::from_slice(value).ok()
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A store written by a newer layerleak: its tables may mean something this build cannot read.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn newer_schema(store: &str, found: i64, known: usize) -> Error {
    let why = format!(
        "the cache has schema version {found}, this layerleak knows {known}: upgrade layerleak to use it"
    );
    Error::cache(store, "checking the schema version", why)
}

/// The hex SHA-256 naming everything that changes a layer's scan result besides its bytes.
pub(super) fn context_hash(ruleset_hash: &str, opts: &super::Config) -> String {
    context_hash_for(crate::detect::DETECTOR_REVISION, ruleset_hash, opts)
}

fn context_hash_for(detector: u32, ruleset_hash: &str, opts: &super::Config) -> String {
    let text = format!(
        "format={FORMAT_VERSION}\nengine={}+{detector}\nrules={ruleset_hash}\nlimits={:?}\ninclude_invalid={}\nmin_entropy={:?}\nskip_package_triage={}\n",
        env!("CARGO_PKG_VERSION"),
        opts.limits,
        opts.include_invalid,
        opts.min_entropy,
        opts.skip_package_triage,
    );
    crate::digest::sha256_hex(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn place(fingerprint: &str) -> Place {
        Place {
            fingerprint: fingerprint.into(),
            rule: "github-pat".into(),
            image: "reg:5000/team/app:v1".into(),
            tag: Some("v1".into()),
            platform: Some("linux/amd64".into()),
            manifest: Some(Digest::sha256_of(b"manifest").to_string()),
            layer: Some(Digest::sha256_of(b"blob").to_string()),
            path: "app/.env".into(),
            status: "deleted".into(),
        }
    }

    pub(super) fn sample() -> CachedLayer {
        CachedLayer {
            compression: Compression::Gzip,
            blob_digest: Digest::sha256_of(b"blob"),
            blob_bytes: 4,
            diff_id: Digest::sha256_of(b"tar"),
            tar_bytes: 3,
            files: 1,
            entries: vec![CachedEntry {
                ordinal: 0,
                path: Bytes::of(b"etc/\xffodd"),
                flags: 0b00101,
                kind: CachedKind::Whiteout(Bytes::of(b"etc/x")),
                size: 0,
                mode: 0o644,
            }],
            hits: vec![CachedHit {
                ordinal: 0,
                path: Bytes::of(b"etc/app.conf"),
                rule: "aws-access-key".into(),
                fingerprint: "ab".repeat(32),
                redacted: "AKIA*****".into(),
                offset: 7,
                line: Some(1),
                column: Some(8),
                entropy: 3.5,
                validation: 1,
                inner: vec!["a.jar".into()],
                note: None,
            }],
            packages: vec![
                DbRecord {
                    ordinal: 1,
                    path: "lib/apk/db/installed".into(),
                    content: crate::package::parse(
                        crate::package::DbKind::ApkInstalled,
                        b"lib/apk/db/installed",
                        b"P:a\nV:1\nF:etc\nR:app.conf\nZ:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
                    ),
                },
                DbRecord {
                    ordinal: 2,
                    path: "var/lib/dpkg/status".into(),
                    content: Err("line 1: bad".into()),
                },
            ],
            sums: vec![(0, FileSums::of(b"x"))],
            pending: vec![(3, Bytes::of(b"usr/lib/big.a"))],
        }
    }

    #[test]
    fn path_flags_round_trip_through_bits() {
        for bits in 0u8..32 {
            assert_eq!(flags_to_bits(flags_from_bits(bits)), bits);
        }
    }

    #[test]
    fn non_utf8_paths_round_trip_through_json() -> std::result::Result<(), serde_json::Error> {
        let layer = sample();
        let back: CachedLayer = serde_json::from_slice(&serde_json::to_vec(&layer)?)?;
        assert_eq!(back, layer);
        assert_eq!(back.entries[0].path.as_bytes(), b"etc/\xffodd");
        Ok(())
    }

    #[test]
    fn memory_cache_separates_contexts() -> Result<()> {
        let cache = MemoryCache::new();
        let key = CacheKey { layer: Digest::sha256_of(b"blob"), context: "a".into() };
        cache.put(&key, &sample())?;
        assert_eq!(cache.get(&key)?, Some(sample()));
        let other = CacheKey { context: "b".into(), ..key };
        assert_eq!(cache.get(&other)?, None);
        assert_eq!(cache.len(), 1);
        Ok(())
    }

    /// A cached layer must give the same findings as a walked one; the layout is content-addressed.
    #[test]
    fn a_layout_scanned_twice_is_served_from_the_cache_with_the_same_findings() -> Result<()> {
        let fixture =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fixtures/lifecycle.oci");
        let cache = std::sync::Arc::new(MemoryCache::new());
        let scanner = super::super::ScannerBuilder::new().threads(1).cache(cache.clone()).build()?;
        let first = scanner.scan_path(&fixture);
        let layers = first.stats.layers_scanned;
        assert!(layers > 0 && first.errors.is_empty(), "{:?}", first.errors);
        assert_eq!(cache.len(), layers);
        let second = scanner.scan_path(&fixture);
        assert_eq!((second.stats.layers_scanned, second.stats.layers_cached), (0, layers));
        let view = |r: &crate::report::Report| -> Vec<String> {
            r.findings
                .iter()
                .map(|f| {
                    let mut f = f.clone();
                    f.entropy = (f.entropy * 100.0).round();
                    serde_json::to_string(&f).unwrap_or_default()
                })
                .collect()
        };
        assert_eq!(view(&second), view(&first));
        let layer_view = |r: &crate::report::Report| serde_json::to_string(&r.images).unwrap_or_default();
        assert_eq!(layer_view(&second), layer_view(&first));
        Ok(())
    }

    #[test]
    fn context_changes_with_result_affecting_options() {
        let base = super::super::Config::default();
        let a = context_hash("rules1", &base);
        assert_eq!(a, context_hash("rules1", &base));
        assert_ne!(a, context_hash("rules2", &base));
        let mut o = base.clone();
        o.include_invalid = true;
        assert_ne!(a, context_hash("rules1", &o));
        let mut o = base.clone();
        o.limits.max_file_bytes = 1;
        assert_ne!(a, context_hash("rules1", &o));
        let mut o = base;
        o.threads = 7;
        o.keep_secrets = true;
        assert_eq!(a, context_hash("rules1", &o), "threads and secret display do not change results");
        let base = super::super::Config::default();
        assert_ne!(
            context_hash_for(1, "rules1", &base),
            context_hash_for(2, "rules1", &base),
            "a new detector revision does not reuse what an older detector found"
        );
    }
}
