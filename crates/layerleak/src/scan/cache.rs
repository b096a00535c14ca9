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
//! and its redacted form. A scanner that keeps secrets ([`crate::scan::ScanOptions::keep_secrets`])
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
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::pipeline::{FileHit, LayerOutcome};
use crate::detect::{Match, Validation};
use crate::image::Digest;
use crate::layer::{Compression, EntryKind, EntryMeta, LayerPath, LayerWalk, PathFlags};
use crate::package::{DbRecord, FileSums};
use crate::{At, Error, Result};

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
    Error::Unsupported { at: At::none(), message: "layer cache lock poisoned by a panicked thread".into() }
}

/// Largest stored entry read back (a layer of a million entries stays well below).
const MAX_ENTRY_BYTES: usize = 512 << 20;

/// A cache in one SQLite file, shared between runs (`layerleak audit --cache PATH`). Each `put`
/// is its own transaction, so an interrupted run keeps every layer it finished.
pub struct SqliteCache {
    conn: Mutex<rusqlite::Connection>,
    path: String,
}

impl std::fmt::Debug for SqliteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteCache").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteCache {
    /// Opens (creating it and its directory when missing) the cache file at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the file when it cannot be created or is not a layerleak cache.
    pub fn open(path: &Path) -> Result<SqliteCache> {
        let name = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(At::image(&name), "creating cache directory", e))?;
        }
        let conn = rusqlite::Connection::open(path).map_err(|e| sql_error(&name, "opening cache", e))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| sql_error(&name, "opening cache", e))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS layers (
                 layer TEXT NOT NULL,
                 context TEXT NOT NULL,
                 value BLOB NOT NULL,
                 stored INTEGER NOT NULL,
                 PRIMARY KEY (layer, context)
             );",
        )
        .map_err(|e| sql_error(&name, "preparing cache", e))?;
        Ok(SqliteCache { conn: Mutex::new(conn), path: name })
    }

    /// The default location: `$XDG_CACHE_HOME/layerleak/cache.sqlite`, else
    /// `~/.cache/layerleak/cache.sqlite`; `None` when neither variable is set.
    pub fn default_path() -> Option<std::path::PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| Path::new(&h).join(".cache"))
            })?;
        Some(base.join("layerleak").join("cache.sqlite"))
    }

    /// How many layers it holds (all contexts).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read.
    pub fn len(&self) -> Result<usize> {
        let conn = self.conn.lock().map_err(|_| poisoned())?;
        conn.query_row("SELECT COUNT(*) FROM layers", [], |r| r.get::<_, i64>(0))
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| sql_error(&self.path, "counting cache entries", e))
    }

    /// Whether it holds nothing.
    ///
    /// # Errors
    ///
    /// As [`SqliteCache::len`].
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

fn sql_error(path: &str, what: &str, e: rusqlite::Error) -> Error {
    Error::io(At::image(path), what, std::io::Error::other(e))
}

impl LayerCache for SqliteCache {
    fn get(&self, key: &CacheKey) -> Result<Option<CachedLayer>> {
        let conn = self.conn.lock().map_err(|_| poisoned())?;
        let found: Option<Vec<u8>> = match conn.query_row(
            "SELECT value FROM layers WHERE layer = ?1 AND context = ?2",
            [key.layer.to_string(), key.context.clone()],
            |r| r.get(0),
        ) {
            Ok(v) => Some(v),
            Err(rusqlite::Error::QueryReturnedNoRows) => None,
            Err(e) => return Err(sql_error(&self.path, "reading cache", e)),
        };
        // Other workers may read while this entry is decoded.
        drop(conn);
        // A damaged or oversized entry is a miss: the layer is scanned again and overwritten.
        Ok(found.filter(|v| v.len() <= MAX_ENTRY_BYTES).and_then(|v| serde_json::from_slice(&v).ok()))
    }

    fn put(&self, key: &CacheKey, layer: &CachedLayer) -> Result<()> {
        let value = serde_json::to_vec(layer).map_err(|e| {
            Error::io(At::image(&self.path), "encoding cache entry", std::io::Error::other(e))
        })?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let conn = self.conn.lock().map_err(|_| poisoned())?;
        conn.execute(
            "INSERT OR REPLACE INTO layers (layer, context, value, stored) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![key.layer.to_string(), key.context, value, now],
        )
        .map_err(|e| sql_error(&self.path, "writing cache", e))?;
        Ok(())
    }
}

/// The hex SHA-256 naming everything that changes a layer's scan result besides its bytes.
pub(super) fn context_hash(ruleset_hash: &str, opts: &super::ScanOptions) -> String {
    context_hash_for(crate::detect::DETECTOR_REVISION, ruleset_hash, opts)
}

fn context_hash_for(detector: u32, ruleset_hash: &str, opts: &super::ScanOptions) -> String {
    let text = format!(
        "format={FORMAT_VERSION}\nengine={}+{detector}\nrules={ruleset_hash}\nlimits={:?}\ninclude_invalid={}\nmin_entropy={:?}\nskip_package_triage={}\n",
        env!("CARGO_PKG_VERSION"),
        opts.limits,
        opts.include_invalid,
        opts.min_entropy,
        opts.skip_package_triage,
    );
    crate::image::sha256_hex(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CachedLayer {
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

    #[test]
    fn sqlite_cache_persists_and_treats_damage_as_a_miss() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io(At::none(), "tempdir", e))?;
        let path = dir.path().join("sub/cache.sqlite");
        let key = CacheKey { layer: Digest::sha256_of(b"blob"), context: "ctx".into() };
        {
            let cache = SqliteCache::open(&path)?;
            assert!(cache.is_empty()?);
            cache.put(&key, &sample())?;
        }
        let cache = SqliteCache::open(&path)?;
        assert_eq!(cache.get(&key)?, Some(sample()));
        assert_eq!(cache.len()?, 1);
        {
            let conn = cache.conn.lock().map_err(|_| poisoned())?;
            conn.execute("UPDATE layers SET value = x'7b6e6f'", [])
                .map_err(|e| sql_error("test", "damaging", e))?;
        }
        assert_eq!(cache.get(&key)?, None, "a damaged entry is a miss");
        Ok(())
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_an_error() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io(At::none(), "tempdir", e))?;
        let path = dir.path().join("cache.sqlite");
        std::fs::write(&path, vec![b'x'; 4096]).map_err(|e| Error::io(At::none(), "write", e))?;
        match SqliteCache::open(&path) {
            Err(Error::Io { at, .. }) => assert_eq!(at.image, Some(path.display().to_string())),
            other => panic!("{other:?}"),
        }
        Ok(())
    }

    /// A cached layer must give the same findings as a walked one; the layout is content-addressed.
    #[test]
    fn a_layout_scanned_twice_is_served_from_the_cache_with_the_same_findings() -> Result<()> {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fixtures/lifecycle.oci");
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
        let base = super::super::ScanOptions::default();
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
        let base = super::super::ScanOptions::default();
        assert_ne!(
            context_hash_for(1, "rules1", &base),
            context_hash_for(2, "rules1", &base),
            "a new detector revision does not reuse what an older detector found"
        );
    }
}
