//! Walking the distinct layers of one or more inputs in parallel, scanning every file as it
//! streams by, reusing what this run or a [`LayerCache`] already has for a content-addressed
//! blob.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use super::cache::{CacheKey, CachedLayer};
use super::{attribute, pipe, DynSink, Failed, Progress, Scanner};
use crate::detect::{Detector, Match, Scratch};
use crate::digest::{sha256_hex, Digest};
use crate::image::{BlobRef, BlobStore, Image, Input, LayerDescriptor};
use crate::layer::{walk_layer, EntryMeta, LayerPath, LayerWalk, WalkOptions};
use crate::package::{self, DbKind, DbRecord, FileSums, HashingRead, SumsHasher};
use crate::report::{redact, Report, Secrets};
use crate::{At, Error, Skipped};

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
    /// lists them with a digest they lack ([`rehash`]).
    pub pending: Vec<(u64, LayerPath)>,
    /// What the second read gave.
    pub rehashed: OnceLock<HashMap<u64, FileSums>>,
}

impl LayerOutcome {
    /// The content digests of file version `ordinal`, if known.
    pub fn sums_of(&self, ordinal: u64) -> Option<&FileSums> {
        self.rehashed.get().and_then(|r| r.get(&ordinal)).or_else(|| self.sums.get(&ordinal))
    }

    fn failed(e: Error) -> LayerOutcome {
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

/// Outcomes of content-addressed layers already obtained in this run, shared by every image that
/// has them (across the inputs of one call and across calls sharing the memo, as an audit does).
#[derive(Default)]
pub(super) struct Memo {
    map: Mutex<HashMap<Digest, Arc<LayerOutcome>>>,
}

impl Memo {
    fn get(&self, d: &Digest) -> Option<Arc<LayerOutcome>> {
        self.map.lock().ok()?.get(d).cloned()
    }
    fn insert(&self, d: Digest, o: Arc<LayerOutcome>) {
        if let Ok(mut m) = self.map.lock() {
            m.insert(d, o);
        }
    }
}

/// Which blob a job reads: a content-addressed blob is the same wherever it comes from; any other
/// blob (a docker-save member, a whole-file layer) belongs to its input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    Digest(Digest),
    Local(usize, BlobRef),
}

impl Key {
    fn of(input: usize, blob: &BlobRef) -> Key {
        match blob {
            BlobRef::Digest(d) => Key::Digest(d.clone()),
            other => Key::Local(input, other.clone()),
        }
    }
}

/// How a job's outcome was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Scanned,
    Cached,
}

struct Job<'a> {
    input: usize,
    image: &'a Image,
    layer: &'a LayerDescriptor,
    key: Key,
}

struct Done {
    key: Key,
    outcome: Arc<LayerOutcome>,
    origin: Origin,
    cache_problem: Option<String>,
}

/// Scans `inputs`; the flag says whether the sink asked to stop (the report then says so too) or
/// failed (the scan then ends at once and its caller returns the sink's error).
/// `known` are secrets detected earlier in the same run (an audit's earlier batches): they are
/// redacted from what this call gives the sink too.
pub(super) fn scan_inputs(
    scanner: &Scanner,
    inputs: &[&Input],
    memo: &Memo,
    known: &Secrets,
    sink: &mut DynSink<'_>,
) -> (Report, bool) {
    let mut report = Report::new();
    report.add_secrets(known);
    for input in inputs {
        report.notes.extend(input.notes.iter().cloned());
    }
    let (jobs, planned_layers) = plan(scanner, inputs, memo);
    let done = run_jobs(scanner, inputs, jobs);

    let mut walked: HashMap<Key, Arc<LayerOutcome>> = HashMap::new();
    let mut problems: Vec<String> = Vec::new();
    for d in done {
        match d.origin {
            Origin::Scanned => {
                report.stats.layers_scanned += 1;
                report.stats.files += d.outcome.files;
                if let Some(w) = &d.outcome.walk {
                    report.stats.bytes_compressed += w.blob_bytes;
                    report.stats.bytes_uncompressed += w.tar_bytes;
                }
            }
            Origin::Cached => report.stats.layers_cached += 1,
        }
        problems.extend(d.cache_problem);
        if let Key::Digest(dg) = &d.key {
            memo.insert(dg.clone(), Arc::clone(&d.outcome));
        }
        walked.insert(d.key, d.outcome);
    }
    rehash(scanner, inputs, memo, &walked);
    report.stats.layers_reused =
        planned_layers.saturating_sub(report.stats.layers_scanned + report.stats.layers_cached);
    problems.sort();
    problems.dedup();
    report.notes.extend(problems.into_iter().map(|p| format!("layer cache not used: {p}")));

    let Ok(stopped) = resolve_all(scanner, inputs, memo, &walked, sink, &mut report) else {
        return (report, true);
    };
    if stopped {
        report.notes.push("scan stopped early by the caller; later results are missing".into());
    }
    // The notes, and images resolved before a later image found a secret they also show.
    report.redact_texts();
    report.recount();
    if let Some(cache) = &scanner.cache {
        if let Err(e) = super::cache::record_report(cache.as_ref(), &report) {
            report.notes.push(format!("places of secrets not recorded in the layer cache: {e}"));
        }
    }
    (report, stopped)
}

/// Every distinct blob once, however many images share it, minus what this run already has.
fn plan<'a>(scanner: &Scanner, inputs: &[&'a Input], memo: &Memo) -> (Vec<Job<'a>>, usize) {
    let mut jobs: Vec<Job<'a>> = Vec::new();
    let mut seen: HashSet<Key> = HashSet::new();
    let mut planned_layers = 0usize;
    for (n, input) in inputs.iter().enumerate() {
        let mut layers = 0usize;
        let mut bytes = 0u64;
        for image in &input.images {
            for layer in image.layers.iter().take(scanner.opts.limits.max_layers) {
                planned_layers += 1;
                let key = Key::of(n, &layer.blob);
                let known = matches!(&key, Key::Digest(d) if memo.get(d).is_some());
                if !known && seen.insert(key.clone()) {
                    layers += 1;
                    bytes += layer.size.unwrap_or(0);
                    jobs.push(Job { input: n, image, layer, key });
                }
            }
        }
        if let Some(p) = &scanner.progress {
            p(&Progress::Planned { input: input.name.clone(), layers, bytes });
        }
    }
    // Largest first, so one big layer does not start last and leave a core idle.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.layer.size.unwrap_or(0)));
    (jobs, planned_layers)
}

fn run_jobs(scanner: &Scanner, inputs: &[&Input], jobs: Vec<Job<'_>>) -> Vec<Done> {
    scanner.pool.install(|| {
        jobs.into_par_iter()
            .map_init(Scratch::new, |scratch, job| {
                let store: &dyn BlobStore = &*inputs[job.input].store;
                let done = obtain(scanner, store, job, scratch);
                if let Some(p) = &scanner.progress {
                    p(&Progress::LayerDone { blob: done.key_name() });
                }
                done
            })
            .collect()
    })
}

impl Done {
    fn key_name(&self) -> String {
        match &self.key {
            Key::Digest(d) => d.to_string(),
            Key::Local(_, b) => b.to_string(),
        }
    }
}

/// The cached outcome of a content-addressed layer, else a fresh scan (stored right away).
fn obtain(scanner: &Scanner, store: &dyn BlobStore, job: Job<'_>, scratch: &mut Scratch) -> Done {
    let rules = scanner.detector.rules();
    let cache = match (&job.key, &scanner.cache) {
        (Key::Digest(d), Some(c)) => {
            Some((c.as_ref(), CacheKey { layer: d.clone(), context: scanner.cache_context.clone() }))
        }
        _ => None,
    };
    let mut cache_problem = None;
    // A scanner that shows secrets must read them: cached layers hold no secret bytes.
    if let Some((cache, key)) = cache.as_ref().filter(|_| !scanner.opts.keep_secrets) {
        match cache.get(key) {
            Ok(Some(hit)) => {
                if let Some(outcome) = hit.to_outcome(rules) {
                    return Done {
                        key: job.key,
                        outcome: Arc::new(outcome),
                        origin: Origin::Cached,
                        cache_problem,
                    };
                }
            }
            Ok(None) => {}
            Err(e) => cache_problem = Some(e.to_string()),
        }
    }
    let outcome = scan_layer(scanner, store, job.image, job.layer, scratch);
    if let Key::Digest(d) = &job.key {
        if let Err(e) = store_outcome(scanner, d, &outcome) {
            cache_problem = Some(e.to_string());
        }
    }
    Done { key: job.key, outcome: Arc::new(outcome), origin: Origin::Scanned, cache_problem }
}

/// Scans one content-addressed layer and stores its result in the scanner's cache (a layer that
/// cannot be cached, having failed, is left for the report's own pass to scan and report), for a
/// cooperative audit. Fails only when the cache does: the layer's result would be lost.
#[cfg(feature = "registry")]
pub(super) fn scan_and_store(
    scanner: &Scanner,
    store: &dyn BlobStore,
    image: &Image,
    layer: &LayerDescriptor,
    digest: &Digest,
    scratch: &mut Scratch,
) -> crate::Result<()> {
    let outcome = scan_layer(scanner, store, image, layer, scratch);
    store_outcome(scanner, digest, &outcome)
}

/// Stores a fresh scan of layer `digest` in the scanner's cache, when there is one and the
/// outcome can be cached (a failed layer cannot).
fn store_outcome(scanner: &Scanner, digest: &Digest, outcome: &LayerOutcome) -> crate::Result<()> {
    let (Some(cache), Some(entry)) =
        (&scanner.cache, CachedLayer::from_outcome(outcome, digest, scanner.detector.rules()))
    else {
        return Ok(());
    };
    cache.put(&CacheKey { layer: digest.clone(), context: scanner.cache_context.clone() }, &entry)
}

/// Resolves and reports every image; returns whether the sink asked to stop, or that it failed.
fn resolve_all(
    scanner: &Scanner,
    inputs: &[&Input],
    memo: &Memo,
    walked: &HashMap<Key, Arc<LayerOutcome>>,
    sink: &mut DynSink<'_>,
    report: &mut Report,
) -> Result<bool, Failed> {
    for (n, input) in inputs.iter().enumerate() {
        for image in &input.images {
            let layers: Vec<Option<Arc<LayerOutcome>>> = image
                .layers
                .iter()
                .take(scanner.opts.limits.max_layers)
                .map(|l| {
                    let key = Key::of(n, &l.blob);
                    walked.get(&key).cloned().or_else(|| match &key {
                        Key::Digest(d) => memo.get(d),
                        Key::Local(..) => None,
                    })
                })
                .collect();
            let mut resolved = attribute::resolve_image(scanner, input, image, &layers);
            // The image's texts are redacted before the sink sees any of them, with its own
            // secrets and those of the images before it.
            report.add_secrets(&resolved.secrets);
            report.secrets.redact_texts(&mut resolved);
            for e in &resolved.errors {
                sink.error(e)?;
            }
            // The report holds exactly what the sink was given: after a stop, nothing more.
            let mut stop_at = None;
            for (i, f) in resolved.findings.iter().enumerate() {
                if sink.finding(f)?.is_break() {
                    stop_at = Some(i);
                    break;
                }
            }
            let stopped = stop_at.is_some();
            if let Some(i) = stop_at {
                resolved.findings.truncate(i + 1);
                resolved.image.findings = resolved.findings.len();
            }
            sink.image(&resolved.image)?;
            report.stats.images += 1;
            report.stats.layers += resolved.image.layers.len();
            report.stats.findings_dropped += resolved.dropped;
            report.stats.findings_packaged += resolved.packaged;
            report.images.push(resolved.image);
            report.findings.extend(resolved.findings);
            report.errors.extend(resolved.errors);
            report.notes.extend(resolved.notes);
            if stopped {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Layers whose blob is known to be smaller than this are walked and scanned on one thread:
/// starting a second one costs more than it saves.
const PIPELINE_MIN_BLOB: u64 = 1 << 20;

fn scan_layer(
    scanner: &Scanner,
    store: &dyn BlobStore,
    image: &Image,
    desc: &LayerDescriptor,
    scratch: &mut Scratch,
) -> LayerOutcome {
    let at = At::image(image.name.clone()).with_layer(desc.index, desc.digest.clone());
    let mut blob = match store.open(&desc.blob) {
        Ok(r) => r,
        Err(e) => return LayerOutcome::failed(e.within(&at)),
    };
    let blob_name = desc.blob.to_string();
    let progress_cb;
    let progress: Option<&(dyn Fn(u64) + Sync)> = match &scanner.progress {
        Some(p) => {
            let total = desc.size;
            progress_cb = move |read: u64| p(&Progress::LayerBytes { blob: blob_name.clone(), read, total });
            Some(&progress_cb)
        }
        None => None,
    };
    let opts =
        WalkOptions { limits: &scanner.opts.limits, at: at.clone(), progress, declared_size: desc.size };
    let max_db = (!scanner.opts.skip_package_triage).then_some(scanner.opts.limits.max_package_db_bytes);
    let files = || FileScanner::new(&scanner.detector, at.clone(), max_db);
    // One worker asked for means one thread; otherwise the pool's other workers share the cores
    // with the scanning threads.
    let pipelined =
        scanner.pool.current_num_threads() > 1 && desc.size.is_none_or(|n| n >= PIPELINE_MIN_BLOB);
    if pipelined {
        if let Some(outcome) = walk_pipelined(&mut blob, &opts, files(), scratch) {
            return outcome;
        }
    }
    walk_serial(&mut blob, &opts, files(), scratch)
}

/// Walks and scans on the calling thread, one file after the other.
fn walk_serial(
    blob: &mut dyn Read,
    opts: &WalkOptions,
    mut files: FileScanner<'_>,
    scratch: &mut Scratch,
) -> LayerOutcome {
    let mut count = 0u64;
    let mut walker_sums: Vec<(u64, FileSums)> = Vec::new();
    let walk = walk_layer(blob, opts, &mut |meta: &EntryMeta, content: &mut dyn Read| {
        count += 1;
        if speculative(files.max_db_bytes, &meta.path, meta.size) {
            let mut hashing = HashingRead { inner: content, hasher: SumsHasher::new(false), done: false };
            files.scan(meta.ordinal, &meta.path, meta.size, &mut hashing, scratch);
            // The rest of the file too, if the detector stopped early (`max_file_bytes`).
            if std::io::copy(&mut hashing, &mut std::io::sink()).is_ok() && hashing.done {
                walker_sums.push((meta.ordinal, hashing.hasher.finish()));
            }
        } else {
            files.scan(meta.ordinal, &meta.path, meta.size, content, scratch);
        }
        ControlFlow::Continue(())
    });
    files.outcome(walk, count, walker_sums)
}

/// Walks on the calling thread while a second thread scans: the walker copies file contents into
/// a bounded set of chunks ([`pipe`]) that the scanner reads in the same order, so findings,
/// errors and their order are those of [`walk_serial`]. `None`, with nothing read, when no
/// thread can be started.
fn walk_pipelined(
    blob: &mut dyn Read,
    opts: &WalkOptions,
    mut files: FileScanner<'_>,
    scratch: &mut Scratch,
) -> Option<LayerOutcome> {
    let max_db = files.max_db_bytes;
    std::thread::scope(|s| {
        let (mut writer, mut feed) = pipe::channel();
        let scanning =
            std::thread::Builder::new().name("layerleak-detect".into()).spawn_scoped(s, move || {
                while let Some(start) = feed.next_file() {
                    files.scan(
                        start.ordinal,
                        &start.path,
                        start.size,
                        &mut pipe::FileReader { feed: &mut feed },
                        scratch,
                    );
                    feed.finish_file();
                }
                files
            });
        let scanning = match scanning {
            Ok(handle) => handle,
            Err(_) => return None,
        };
        let mut count = 0u64;
        // Large files where packages install are hashed here, on the walking thread, which
        // mostly waits for the scanning one.
        let mut walker_sums: Vec<(u64, FileSums)> = Vec::new();
        let walk = walk_layer(blob, opts, &mut |meta: &EntryMeta, content: &mut dyn Read| {
            count += 1;
            let start = pipe::FileStart { ordinal: meta.ordinal, path: meta.path.clone(), size: meta.size };
            if speculative(max_db, &meta.path, meta.size) {
                let mut hashing = HashingRead { inner: content, hasher: SumsHasher::new(false), done: false };
                writer.copy_file(start, &mut hashing);
                if hashing.done {
                    walker_sums.push((meta.ordinal, hashing.hasher.finish()));
                }
            } else {
                writer.copy_file(start, content);
            }
            ControlFlow::Continue(())
        });
        writer.finish();
        let files = match scanning.join() {
            Ok(files) => files,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        Some(files.outcome(walk, count, walker_sums))
    })
}

/// Files up to this size are kept while scanned, so the content digests of one with a hit cost
/// nothing more than hashing it; larger ones with a hit are hashed by a second read when a
/// package database may vouch for them.
const KEEP_WHOLE: u64 = 4 << 20;

/// Scans file versions one after the other, keeping one hit per (rule, secret) in each, and
/// reading the package databases that stream by.
struct FileScanner<'a> {
    detector: &'a Detector,
    at: At,
    /// Bound on a database file kept to be parsed; `None`: no package triage.
    max_db_bytes: Option<u64>,
    seen: HashSet<(usize, Vec<u8>)>,
    hits: Vec<FileHit>,
    errors: Vec<Error>,
    skipped: Vec<Skipped>,
    packages: Vec<DbRecord>,
    sums: HashMap<u64, FileSums>,
    pending: Vec<(u64, LayerPath)>,
    /// The current file's bytes, while it may be kept whole.
    kept: Vec<u8>,
}

impl<'a> FileScanner<'a> {
    fn new(detector: &'a Detector, at: At, max_db_bytes: Option<u64>) -> Self {
        FileScanner {
            detector,
            at,
            max_db_bytes,
            seen: HashSet::new(),
            hits: Vec::new(),
            errors: Vec::new(),
            skipped: Vec::new(),
            packages: Vec::new(),
            sums: HashMap::new(),
            pending: Vec::new(),
            kept: Vec::new(),
        }
    }

    fn scan(
        &mut self,
        ordinal: u64,
        path: &LayerPath,
        size: u64,
        content: &mut dyn Read,
        scratch: &mut Scratch,
    ) {
        let db = self.max_db_bytes.and_then(|_| DbKind::of(path.as_bytes()));
        // A database is kept up to its own bound (and refused past it); any other file while it
        // fits [`KEEP_WHOLE`].
        let keep = match (self.max_db_bytes, db) {
            (None, _) => 0,
            (Some(max), Some(_)) => max,
            (Some(_), None) if size <= KEEP_WHOLE => KEEP_WHOLE,
            _ => 0,
        };
        self.kept.clear();
        let mut tee = Tee { inner: content, kept: &mut self.kept, cap: keep, over: keep == 0 };
        let before = self.hits.len();
        let FileScanner { detector, seen, hits, .. } = self;
        seen.clear();
        let outcome = detector.scan_reader(path.as_bytes(), &mut tee, scratch, &mut |m: Match| {
            // One finding per (rule, secret) in a file version.
            if seen.insert((m.rule, m.secret.clone())) {
                let fingerprint = sha256_hex(&m.secret);
                let redacted = redact(&m.secret);
                hits.push(FileHit { ordinal, path: path.clone(), m, fingerprint, redacted });
            }
            ControlFlow::Continue(())
        });
        // The whole file, not only what the detector read (it may stop at `max_file_bytes`); a
        // layer cut short ends the content early without an error, so the length tells.
        let complete = !tee.over && drain(&mut tee) && tee.kept.len() as u64 == size;
        let over = tee.over;
        if self.hits.len() > before && self.max_db_bytes.is_some() {
            if complete && !over {
                self.sums.insert(ordinal, FileSums::of(&self.kept));
            } else {
                self.pending.push((ordinal, path.clone()));
            }
        }
        if let Some(kind) = db {
            let content = if over {
                Err(format!("larger than max_package_db_bytes ({} bytes)", self.max_db_bytes.unwrap_or(0)))
            } else if !complete {
                Err("could not be read to its end".to_string())
            } else {
                package::parse(kind, path.as_bytes(), &self.kept)
            };
            self.packages.push(DbRecord { ordinal, path: path.display().into_owned(), content });
        }
        if self.kept.capacity() > KEEP_WHOLE as usize * 2 {
            self.kept = Vec::new();
        }
        if !outcome.errors.is_empty() || !outcome.skipped.is_empty() {
            let file_at = self.at.clone().with_path(path.display().into_owned());
            self.errors.extend(outcome.errors.into_iter().map(|e| e.within(&file_at)));
            self.skipped.extend(outcome.skipped.into_iter().map(|mut s| {
                s.at = std::mem::take(&mut s.at).or(&file_at);
                s
            }));
        }
    }

    /// The outcome, with the digests the walker computed for files that turned out to have hits.
    fn outcome(mut self, walk: LayerWalk, files: u64, walker_sums: Vec<(u64, FileSums)>) -> LayerOutcome {
        let walker_sums: HashMap<u64, FileSums> = walker_sums.into_iter().collect();
        for (ordinal, _) in &self.pending {
            if let Some(s) = walker_sums.get(ordinal) {
                self.sums.insert(*ordinal, *s);
            }
        }
        LayerOutcome {
            walk: Some(walk),
            hits: self.hits,
            errors: self.errors,
            skipped: self.skipped,
            files,
            packages: self.packages,
            sums: self.sums,
            pending: self.pending,
            rehashed: OnceLock::new(),
        }
    }
}

/// Whether a file too large to keep is hashed (MD5, what dpkg records) as it streams by: with
/// package triage on, a file over [`KEEP_WHOLE`] where packages install
/// ([`package::likely_packaged`]). Hashing it costs less than reading its layer a second time
/// should it turn out to hold a finding.
fn speculative(max_db: Option<u64>, path: &LayerPath, size: u64) -> bool {
    max_db.is_some() && size > KEEP_WHOLE && package::likely_packaged(path.as_bytes())
}

/// Copies what passes through into `kept` while it stays within `cap` bytes; past that, `over`
/// is set and nothing more is kept.
struct Tee<'r, 'k> {
    inner: &'r mut dyn Read,
    kept: &'k mut Vec<u8>,
    cap: u64,
    over: bool,
}

impl Read for Tee<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.over {
            if (self.kept.len() + n) as u64 > self.cap {
                self.over = true;
                self.kept.clear();
            } else {
                self.kept.extend_from_slice(&buf[..n]);
            }
        }
        Ok(n)
    }
}

/// Reads the rest of a kept file (the detector may have stopped early); whether it ended cleanly.
fn drain(tee: &mut Tee<'_, '_>) -> bool {
    let mut buf = [0u8; 8192];
    loop {
        match tee.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) if tee.over => return false,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// File versions with hits that were neither kept whole nor hashed as they streamed by (large
/// files outside the places packages install) are hashed by reading their layers again, but
/// only where some package database of the scan lists their path: the common image pays
/// nothing, and the digests are computed once per layer however many images share it.
pub(super) fn rehash(
    scanner: &Scanner,
    inputs: &[&Input],
    memo: &Memo,
    walked: &HashMap<Key, Arc<LayerOutcome>>,
) {
    // Every layer of the images being resolved, walked now or earlier in the run, once.
    let mut layers: Vec<(usize, &LayerDescriptor, Arc<LayerOutcome>)> = Vec::new();
    let mut seen: HashSet<Key> = HashSet::new();
    for (n, input) in inputs.iter().enumerate() {
        for image in &input.images {
            for desc in image.layers.iter().take(scanner.opts.limits.max_layers) {
                let key = Key::of(n, &desc.blob);
                let outcome = walked.get(&key).cloned().or_else(|| match &key {
                    Key::Digest(d) => memo.get(d),
                    Key::Local(..) => None,
                });
                if let Some(o) = outcome.filter(|_| seen.insert(key)) {
                    layers.push((n, desc, o));
                }
            }
        }
    }
    if !layers.iter().any(|(_, _, o)| !o.pending.is_empty() && o.rehashed.get().is_none()) {
        return;
    }
    let mut listed: HashMap<&str, u8> = HashMap::new();
    for (_, _, o) in &layers {
        for r in &o.packages {
            package::listed_keys(r, &mut listed);
        }
    }
    if listed.is_empty() {
        return;
    }
    let jobs: Vec<(usize, &LayerDescriptor, &Arc<LayerOutcome>, HashSet<u64>)> = layers
        .iter()
        .filter(|(_, _, o)| o.rehashed.get().is_none())
        .filter_map(|(n, desc, o)| {
            // Listed with a digest the file version does not have yet.
            let lacking = |ord: u64, p: &LayerPath| {
                let Ok(p) = std::str::from_utf8(p.as_bytes()) else { return false };
                let have = o.sums.get(&ord).map_or(0, FileSums::kinds);
                listed.get(package::loose_key(p)).is_some_and(|need| need & !have != 0)
            };
            let wanted: HashSet<u64> =
                o.pending.iter().filter(|(ord, p)| lacking(*ord, p)).map(|(ord, _)| *ord).collect();
            (!wanted.is_empty()).then_some((*n, *desc, o, wanted))
        })
        .collect();
    scanner.pool.install(|| {
        jobs.into_par_iter().for_each(|(n, desc, outcome, wanted)| {
            let got = hash_members(scanner, &*inputs[n].store, desc, &wanted);
            let _ = outcome.rehashed.set(got);
        })
    });
}

/// The content digests of the members `wanted` of one layer, read again.
fn hash_members(
    scanner: &Scanner,
    store: &dyn BlobStore,
    desc: &LayerDescriptor,
    wanted: &HashSet<u64>,
) -> HashMap<u64, FileSums> {
    let mut got = HashMap::new();
    let Ok(mut blob) = store.open(&desc.blob) else { return got };
    let opts = WalkOptions::new(&scanner.opts.limits, At::default());
    walk_layer(&mut blob, &opts, &mut |meta: &EntryMeta, content: &mut dyn Read| {
        if wanted.contains(&meta.ordinal) {
            let mut h = SumsHasher::new(true);
            if std::io::copy(content, &mut h).is_ok() {
                got.insert(meta.ordinal, h.finish());
            }
            if got.len() == wanted.len() {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    got
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::detect::{DetectOptions, RuleSet};
    use crate::Limits;

    const KEYS: [&str; 2] = [
        "\nAWS_KEY=AKIAQ3EGRT5LWZ2XH7NB\n",
        "\nhook: https://hooks.slack.com/services/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\n",
    ];

    /// Text of `len` bytes with the keys planted around `at` (straddling it when possible).
    fn text(len: usize, at: &[usize]) -> Vec<u8> {
        let mut b: Vec<u8> =
            (0..len).map(|i| if i % 61 == 60 { b'\n' } else { b'a' + (i % 26) as u8 }).collect();
        for (n, &p) in at.iter().enumerate() {
            let key = KEYS[n % KEYS.len()].as_bytes();
            let s = p.saturating_sub(key.len() / 2).min(len.saturating_sub(key.len()));
            if key.len() <= len {
                b[s..s + key.len()].copy_from_slice(key);
            }
        }
        b
    }

    /// A layer mixing big files (secrets across chunk and window edges), many small ones and a
    /// repeated secret, as a tar.
    fn layer() -> Vec<u8> {
        let chunk = pipe::CHUNK;
        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("big/a.env".into(), text(3 * chunk + 100, &[chunk, 2 * chunk, (1 << 20) - 10])),
            ("empty".into(), Vec::new()),
        ];
        for i in 0..300 {
            let at: &[usize] = if i % 7 == 0 { &[40] } else { &[] };
            files.push((format!("small/{i}.txt"), text(100 + i * 13, at)));
        }
        files.push(("big/b.env".into(), text(chunk + 1, &[chunk - 3, 7000, 7000])));
        files.push(("bin/zeros".into(), vec![0u8; 2 * chunk + 5]));
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in &files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, &data[..]).expect("tar in memory");
        }
        b.into_inner().expect("tar in memory")
    }

    type Seen =
        (Vec<(u64, Vec<u8>, usize, u64, Option<u64>, Option<u64>, String)>, Vec<String>, Vec<String>, u64);

    fn run(blob: &[u8], pipelined: bool) -> Seen {
        let detector = Detector::new(&RuleSet::builtin(), DetectOptions::default()).expect("builtin rules");
        let limits = Limits::default();
        let at = At::image("test");
        let opts = WalkOptions::new(&limits, at.clone());
        let files = FileScanner::new(&detector, at, Some(limits.max_package_db_bytes));
        let mut scratch = Scratch::new();
        let out = if pipelined {
            walk_pipelined(&mut &blob[..], &opts, files, &mut scratch).expect("a thread starts")
        } else {
            walk_serial(&mut &blob[..], &opts, files, &mut scratch)
        };
        let hits = out
            .hits
            .iter()
            .map(|h| {
                let m = &h.m;
                (
                    h.ordinal,
                    h.path.as_bytes().to_vec(),
                    m.rule,
                    m.offset,
                    m.line,
                    m.column,
                    h.fingerprint.clone(),
                )
            })
            .collect();
        let walk_errors =
            out.walk.map(|w| w.errors.iter().map(|e| e.to_string()).collect()).unwrap_or_default();
        (hits, out.errors.iter().map(|e| e.to_string()).collect(), walk_errors, out.files)
    }

    /// A database cut short by a truncated layer is not used: half a status would drop the
    /// packages listed after the cut.
    #[test]
    fn a_database_cut_by_a_truncated_layer_is_not_used() {
        let status = "Package: a\nStatus: install ok installed\nVersion: 1\n\n".repeat(200);
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(status.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, "var/lib/dpkg/status", status.as_bytes()).expect("tar in memory");
        let tar = b.into_inner().expect("tar in memory");
        let cut = &tar[..512 + status.len() / 2];
        let detector = Detector::new(&RuleSet::builtin(), DetectOptions::default()).expect("builtin rules");
        let limits = Limits::default();
        let opts = WalkOptions::new(&limits, At::image("test"));
        let files = FileScanner::new(&detector, At::image("test"), Some(limits.max_package_db_bytes));
        let out = walk_serial(&mut &cut[..], &opts, files, &mut Scratch::new());
        assert_eq!(out.packages.len(), 1);
        let why = out.packages[0].content.as_ref().expect_err("cut short");
        assert!(why.contains("could not be read to its end"), "{why}");
    }

    /// Large files with a hit get their digests as they stream by where packages install, on
    /// either walk; elsewhere they wait for a second read.
    #[test]
    fn large_files_where_packages_install_are_hashed_as_they_stream() {
        let big = text(KEEP_WHOLE as usize + 5000, &[KEEP_WHOLE as usize]);
        let mut b = tar::Builder::new(Vec::new());
        for name in ["usr/lib/big.a", "app/big.bin", "usr/share/small.txt"] {
            let data = if name.ends_with(".txt") { &big[KEEP_WHOLE as usize - 100..] } else { &big[..] };
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, data).expect("tar in memory");
        }
        let tar = b.into_inner().expect("tar in memory");
        let detector = Detector::new(&RuleSet::builtin(), DetectOptions::default()).expect("builtin rules");
        let limits = Limits::default();
        for pipelined in [false, true] {
            let opts = WalkOptions::new(&limits, At::image("test"));
            let files = FileScanner::new(&detector, At::image("test"), Some(limits.max_package_db_bytes));
            let mut scratch = Scratch::new();
            let out = if pipelined {
                walk_pipelined(&mut &tar[..], &opts, files, &mut scratch).expect("a thread starts")
            } else {
                walk_serial(&mut &tar[..], &opts, files, &mut scratch)
            };
            let mut hashed: Vec<u64> = out.sums.keys().copied().collect();
            hashed.sort_unstable();
            assert_eq!(hashed, [0, 2], "pipelined {pipelined}: usr/lib/big.a whole, small.txt kept");
            assert_eq!(out.sums[&0], FileSums::of(&big).speculative());
            let pending: Vec<u64> = out.pending.iter().map(|p| p.0).collect();
            assert_eq!(pending, [0, 1], "pipelined {pipelined}: both may still need a second read");
        }
    }

    #[test]
    fn pipelined_scan_finds_exactly_what_the_serial_one_does() {
        let tar = layer();
        let serial = run(&tar, false);
        assert!(serial.0.len() >= 10, "the planted keys are found: {}", serial.0.len());
        assert_eq!(serial.3, 304);
        assert_eq!(run(&tar, true), serial);
    }

    /// A gzip layer damaged part-way: the walk reports the damage once, and the detector, which
    /// meets it reading a file, does not report it again, serially or pipelined.
    /// Where a corrupt deflate stream fails depends on read sizes (a decoder drops what it
    /// inflated in the call that fails), so the pipelined walk, reading in chunks, may get further
    /// and find more; it never finds less.
    #[test]
    fn pipelined_scan_reports_the_same_errors_on_a_damaged_layer() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&layer()).expect("gzip in memory");
        let mut gz = gz.finish().expect("gzip in memory");
        let mid = gz.len() / 3;
        for b in &mut gz[mid..mid + 64] {
            *b ^= 0x5a;
        }
        let no_offset = |v: &[String]| -> Vec<String> {
            v.iter().map(|e| e.split(": ").skip(1).collect::<Vec<_>>().join(": ")).collect()
        };
        let serial = run(&gz, false);
        let piped = run(&gz, true);
        assert!(!serial.2.is_empty(), "the damage is reported");
        assert_eq!(serial.1, Vec::<String>::new(), "once, by the walk");
        assert_eq!(no_offset(&piped.1), no_offset(&serial.1));
        assert_eq!(no_offset(&piped.2), no_offset(&serial.2));
        assert_eq!(piped.3, serial.3);
        assert!(serial.0.iter().all(|h| piped.0.contains(h)));
        let cut = &layer()[..(1 << 20) + 77];
        assert!(run(cut, true) == run(cut, false));
    }
}
