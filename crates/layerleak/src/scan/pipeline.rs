//! Walking the distinct layers of one or more inputs in parallel, scanning every file as it
//! streams by, reusing what this run or a [`LayerCache`] already has for a content-addressed
//! blob.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::cache::{CacheKey, CachedLayer};
use super::{attribute, Progress, Scanner, Sink};
use crate::detect::{Match, Scratch};
use crate::image::{sha256_hex, BlobRef, BlobStore, Digest, Image, Input, LayerDescriptor};
use crate::layer::{walk_layer, EntryMeta, Flow, LayerPath, LayerWalk, WalkOptions};
use crate::report::{redact, Report};
use crate::{At, Error};

/// A match in a file version of a layer. The secret bytes are kept in `m.secret` only when the
/// scanner keeps secrets; otherwise `m.secret` is empty and only the fingerprint and redacted
/// form exist (which is also what a cached layer holds).
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
    pub files: u64,
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
enum Key {
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

pub(super) fn scan_inputs(scanner: &Scanner, inputs: &[&Input], memo: &Memo, sink: &mut dyn Sink) -> Report {
    let mut report = Report::new();
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
    report.stats.layers_reused =
        planned_layers.saturating_sub(report.stats.layers_scanned + report.stats.layers_cached);
    problems.sort();
    problems.dedup();
    report.notes.extend(problems.into_iter().map(|p| format!("layer cache not used: {p}")));

    let stopped = resolve_all(scanner, inputs, memo, &walked, sink, &mut report);
    if stopped {
        report.notes.push("scan stopped early by the caller; later results are missing".into());
    }
    report.stats.findings = report.findings.len();
    report.stats.findings_visible = report.findings.iter().filter(|f| f.visible).count();
    report.stats.errors = report.errors.len();
    report
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
    if let Some((cache, key)) = &cache {
        if let Some(entry) = CachedLayer::from_outcome(&outcome, &key.layer, rules) {
            if let Err(e) = cache.put(key, &entry) {
                cache_problem = Some(e.to_string());
            }
        }
    }
    Done { key: job.key, outcome: Arc::new(outcome), origin: Origin::Scanned, cache_problem }
}

/// Resolves and reports every image; returns whether the sink asked to stop.
fn resolve_all(
    scanner: &Scanner,
    inputs: &[&Input],
    memo: &Memo,
    walked: &HashMap<Key, Arc<LayerOutcome>>,
    sink: &mut dyn Sink,
    report: &mut Report,
) -> bool {
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
            let resolved = attribute::resolve_image(scanner, input, image, &layers);
            for e in &resolved.errors {
                sink.error(e);
            }
            let mut resolved = resolved;
            // The report holds exactly what the sink was given: after a stop, nothing more.
            let stop_at = resolved.findings.iter().position(|f| sink.finding(f) == Flow::Stop);
            let stopped = stop_at.is_some();
            if let Some(i) = stop_at {
                resolved.findings.truncate(i + 1);
                resolved.image.findings = resolved.findings.len();
            }
            sink.image(&resolved.image);
            report.stats.images += 1;
            report.stats.layers += resolved.image.layers.len();
            report.stats.findings_dropped += resolved.dropped;
            report.images.push(resolved.image);
            report.findings.extend(resolved.findings);
            report.errors.extend(resolved.errors);
            if stopped {
                return true;
            }
        }
    }
    false
}

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
        Err(e) => {
            return LayerOutcome { walk: None, hits: Vec::new(), errors: vec![e.within(&at)], files: 0 }
        }
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
    let opts = WalkOptions { limits: &scanner.opts.limits, at: at.clone(), progress };
    let keep = scanner.opts.keep_secrets;
    let mut hits = Vec::new();
    let mut errors = Vec::new();
    let mut files = 0u64;
    let mut seen: HashSet<(usize, Vec<u8>)> = HashSet::new();
    let detector = &scanner.detector;
    let walk = walk_layer(&mut blob, &opts, &mut |meta: &EntryMeta, content: &mut dyn std::io::Read| {
        files += 1;
        seen.clear();
        let outcome = detector.scan_reader(meta.path.as_bytes(), content, scratch, &mut |mut m: Match| {
            // One finding per (rule, secret) in a file version.
            if seen.insert((m.rule, m.secret.clone())) {
                let fingerprint = sha256_hex(&m.secret);
                let redacted = redact(&m.secret);
                if !keep {
                    m.secret = Vec::new();
                }
                hits.push(FileHit {
                    ordinal: meta.ordinal,
                    path: meta.path.clone(),
                    m,
                    fingerprint,
                    redacted,
                });
            }
            Flow::Continue
        });
        if !outcome.errors.is_empty() {
            let file_at = at.clone().with_path(meta.path.display().into_owned());
            errors.extend(outcome.errors.into_iter().map(|e| e.within(&file_at)));
        }
        Flow::Continue
    });
    LayerOutcome { walk: Some(walk), hits, errors, files }
}
