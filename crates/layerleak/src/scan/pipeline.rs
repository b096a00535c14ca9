//! Walking the distinct layers of one or more inputs in parallel, scanning every file as it
//! streams by ([`file_scan`](super::file_scan)), reusing what this run or a [`LayerCache`]
//! already has for a content-addressed blob; each image's config texts are scanned by the same
//! pool. Then each image is resolved ([`attribute`]) and sent to the sink.
//!
//! [`LayerCache`]: super::LayerCache

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::cache::{CacheKey, CachedLayer};
use super::file_scan::{walk_pipelined, walk_serial, FileScanner};
use super::outcome::{LayerOutcome, TextHit};
use super::{attribute, DynSink, Failed, Progress, Scanner};
use crate::detect::{Detector, Scratch};
use crate::digest::Digest;
use crate::image::{BlobRef, BlobStore, Image, ImageConfig, Input, LayerDescriptor};
use crate::layer::{walk_layer, EntryMeta, LayerPath, WalkOptions};
use crate::package::{self, FileSums, SumsHasher};
use crate::report::{Report, Secrets};
use crate::At;

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

/// How a layer's outcome was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Scanned,
    Cached,
}

/// One unit of work for the pool.
enum Job<'a> {
    /// A distinct layer blob.
    Layer { input: usize, image: &'a Image, layer: &'a LayerDescriptor, key: Key },
    /// The config texts of image `image` of input `input`.
    Texts { input: usize, image: usize, config: &'a ImageConfig },
}

enum Done {
    Layer(LayerDone),
    Texts { input: usize, image: usize, hits: Vec<TextHit> },
}

struct LayerDone {
    key: Key,
    outcome: Arc<LayerOutcome>,
    origin: Origin,
    cache_problem: Option<String>,
}

/// What the jobs of one call gave, with the memo for the layers earlier calls obtained.
struct Obtained<'m> {
    memo: &'m Memo,
    walked: HashMap<Key, Arc<LayerOutcome>>,
    /// The config hits of each image with a config, by (input, image) index.
    texts: HashMap<(usize, usize), Vec<TextHit>>,
}

impl Obtained<'_> {
    /// The outcome of the layer blob `key`, walked by this call or an earlier one.
    fn layer(&self, key: &Key) -> Option<Arc<LayerOutcome>> {
        self.walked.get(key).cloned().or_else(|| match key {
            Key::Digest(d) => self.memo.get(d),
            Key::Local(..) => None,
        })
    }
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
    let obtained = gather(done, memo, &mut report);
    rehash(scanner, inputs, &obtained);
    report.stats.layers_reused =
        planned_layers.saturating_sub(report.stats.layers_scanned + report.stats.layers_cached);

    let Ok(stopped) = resolve_all(scanner, inputs, &obtained, sink, &mut report) else {
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

/// Sorts what the jobs gave, counting the layers and noting the cache's problems in `report`;
/// every content-addressed layer goes into the memo.
fn gather<'m>(done: Vec<Done>, memo: &'m Memo, report: &mut Report) -> Obtained<'m> {
    let mut obtained = Obtained { memo, walked: HashMap::new(), texts: HashMap::new() };
    let mut problems: Vec<String> = Vec::new();
    for d in done {
        let d = match d {
            Done::Layer(d) => d,
            Done::Texts { input, image, hits } => {
                obtained.texts.insert((input, image), hits);
                continue;
            }
        };
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
        obtained.walked.insert(d.key, d.outcome);
    }
    problems.sort();
    problems.dedup();
    report.notes.extend(problems.into_iter().map(|p| format!("layer cache not used: {p}")));
    obtained
}

/// Every distinct blob once, however many images share it, minus what this run already has; and
/// the config texts of every image.
fn plan<'a>(scanner: &Scanner, inputs: &[&'a Input], memo: &Memo) -> (Vec<Job<'a>>, usize) {
    let mut jobs: Vec<Job<'a>> = Vec::new();
    let mut seen: HashSet<Key> = HashSet::new();
    let mut planned_layers = 0usize;
    for (n, input) in inputs.iter().enumerate() {
        let mut layers = 0usize;
        let mut bytes = 0u64;
        for image in &input.images {
            for layer in image.layers.iter().take(scanner.config.limits.max_layers) {
                planned_layers += 1;
                let key = Key::of(n, &layer.blob);
                let known = matches!(&key, Key::Digest(d) if memo.get(d).is_some());
                if !known && seen.insert(key.clone()) {
                    layers += 1;
                    bytes += layer.size.unwrap_or(0);
                    jobs.push(Job::Layer { input: n, image, layer, key });
                }
            }
        }
        if let Some(p) = &scanner.progress {
            p(&Progress::Planned { input: input.name.clone(), layers, bytes });
        }
    }
    // Largest first, so one big layer does not start last and leave a core idle.
    jobs.sort_by_key(|j| match j {
        Job::Layer { layer, .. } => std::cmp::Reverse(layer.size.unwrap_or(0)),
        Job::Texts { .. } => std::cmp::Reverse(0),
    });
    // The texts last: they are short, and fill the cores the last layers leave idle.
    for (n, input) in inputs.iter().enumerate() {
        for (i, image) in input.images.iter().enumerate() {
            if let Some(config) = &image.config {
                jobs.push(Job::Texts { input: n, image: i, config });
            }
        }
    }
    (jobs, planned_layers)
}

fn run_jobs(scanner: &Scanner, inputs: &[&Input], jobs: Vec<Job<'_>>) -> Vec<Done> {
    scanner.pool.install(|| {
        jobs.into_par_iter()
            .map_init(Scratch::new, |scratch, job| match job {
                Job::Layer { input, image, layer, key } => {
                    let store: &dyn BlobStore = &*inputs[input].store;
                    let done = obtain(scanner, store, image, layer, key, scratch);
                    if let Some(p) = &scanner.progress {
                        p(&Progress::LayerDone { blob: done.key_name() });
                    }
                    Done::Layer(done)
                }
                Job::Texts { input, image, config } => {
                    Done::Texts { input, image, hits: scan_texts(&scanner.detector, config, scratch) }
                }
            })
            .collect()
    })
}

/// The matches in the texts of an image config (env, labels, history steps), in their order.
fn scan_texts(detector: &Detector, config: &ImageConfig, scratch: &mut Scratch) -> Vec<TextHit> {
    let mut hits = Vec::new();
    for text in config.texts() {
        detector.scan_bytes(text.location.as_bytes(), text.text.as_bytes(), scratch, &mut |m| {
            hits.push(TextHit::new(&text, m));
            ControlFlow::Continue(())
        });
    }
    hits
}

impl LayerDone {
    fn key_name(&self) -> String {
        match &self.key {
            Key::Digest(d) => d.to_string(),
            Key::Local(_, b) => b.to_string(),
        }
    }
}

/// The cached outcome of a content-addressed layer, else a fresh scan (stored right away).
fn obtain(
    scanner: &Scanner,
    store: &dyn BlobStore,
    image: &Image,
    layer: &LayerDescriptor,
    key: Key,
    scratch: &mut Scratch,
) -> LayerDone {
    let rules = scanner.detector.rules();
    let cache = match (&key, &scanner.cache) {
        (Key::Digest(d), Some(c)) => {
            Some((c.as_ref(), CacheKey { layer: d.clone(), context: scanner.cache_context.clone() }))
        }
        _ => None,
    };
    let mut cache_problem = None;
    // A scanner that shows secrets must read them: cached layers hold no secret bytes.
    if let Some((cache, cache_key)) = cache.as_ref().filter(|_| !scanner.config.keep_secrets) {
        match cache.get(cache_key) {
            Ok(Some(hit)) => {
                if let Some(outcome) = hit.to_outcome(rules) {
                    let outcome = Arc::new(outcome);
                    return LayerDone { key, outcome, origin: Origin::Cached, cache_problem };
                }
            }
            Ok(None) => {}
            Err(e) => cache_problem = Some(e.to_string()),
        }
    }
    let outcome = scan_layer(scanner, store, image, layer, scratch);
    if let Key::Digest(d) = &key {
        if let Err(e) = store_outcome(scanner, d, &outcome) {
            cache_problem = Some(e.to_string());
        }
    }
    LayerDone { key, outcome: Arc::new(outcome), origin: Origin::Scanned, cache_problem }
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
    obtained: &Obtained<'_>,
    sink: &mut DynSink<'_>,
    report: &mut Report,
) -> Result<bool, Failed> {
    for (n, input) in inputs.iter().enumerate() {
        for (i, image) in input.images.iter().enumerate() {
            let layers: Vec<Option<Arc<LayerOutcome>>> = image
                .layers
                .iter()
                .take(scanner.config.limits.max_layers)
                .map(|l| obtained.layer(&Key::of(n, &l.blob)))
                .collect();
            let texts = obtained.texts.get(&(n, i)).map_or(&[][..], |t| &t[..]);
            let mut resolved = attribute::resolve_image(
                scanner.detector.rules(),
                &scanner.config,
                input,
                image,
                &layers,
                texts,
            );
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
        WalkOptions { limits: &scanner.config.limits, at: at.clone(), progress, declared_size: desc.size };
    let max_db = (!scanner.config.skip_package_triage).then_some(scanner.config.limits.max_package_db_bytes);
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

/// File versions with hits that were neither kept whole nor hashed as they streamed by (large
/// files outside the places packages install) are hashed by reading their layers again, but
/// only where some package database of the scan lists their path: the common image pays
/// nothing, and the digests are computed once per layer however many images share it.
fn rehash(scanner: &Scanner, inputs: &[&Input], obtained: &Obtained<'_>) {
    // Every layer of the images being resolved, walked now or earlier in the run, once.
    let mut layers: Vec<(usize, &LayerDescriptor, Arc<LayerOutcome>)> = Vec::new();
    let mut seen: HashSet<Key> = HashSet::new();
    for (n, input) in inputs.iter().enumerate() {
        for image in &input.images {
            for desc in image.layers.iter().take(scanner.config.limits.max_layers) {
                let key = Key::of(n, &desc.blob);
                if let Some(o) = obtained.layer(&key).filter(|_| seen.insert(key)) {
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
    let opts = WalkOptions::new(&scanner.config.limits, At::default());
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
