//! Cooperative audits: any number of processes, on any machines, audit one registry through one
//! shared store ([`WorkQueue`], [`crate::scan::PostgresCache`]), each distinct layer scanned by
//! one live process.
//!
//! Every process lists the registry and opens its images (registering their layers is
//! idempotent), claims the free layers of each batch with a lease, scans them into the shared
//! cache, then claims what is left anywhere (layers of batches it has passed, leases of dead
//! processes that expired) until no layer of the audit is outstanding. Its leases are renewed
//! by a heartbeat meanwhile. Last, each process builds the whole report from the cache, the same
//! report in every process: only timings and the per-process counters
//! ([`crate::report::Stats::layers_scanned`], `layers_cached`) differ.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::audit::select_refs;
use super::{pipeline, AuditOptions, Kept, NullSink, Scanner, Sink};
use crate::detect::Scratch;
use crate::digest::Digest;
use crate::image::registry::Registry;
use crate::image::{BlobRef, Input};
use crate::report::Report;
use crate::{At, Error, Result};

/// A layer of an audit and an image that has it (where any process can download it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Work {
    /// The layer blob's digest.
    pub layer: Digest,
    /// A repository holding it.
    pub repository: String,
    /// A tag of that repository whose image has it.
    pub tag: String,
}

/// The shared list of an audit's layers that cooperating processes claim with leases.
/// `audit` names one audit (registry, selection and cache context,
/// [`SharedAudit::audit`]); the same command run anywhere names the same audit.
pub trait WorkQueue: Send + Sync {
    /// Adds layers to the audit (those already there are left as they are); a layer whose
    /// result the store already holds for `context` is done at once.
    fn register(&self, audit: &str, context: &str, work: &[Work]) -> Result<()>;
    /// Claims up to `max` free layers (not done, not leased), among `among` when given, for this
    /// process with a fresh lease; never waits for other claimers.
    fn claim(&self, audit: &str, among: Option<&[Digest]>, max: usize) -> Result<Vec<Work>>;
    /// Marks a claimed layer done (its result is stored, or it cannot be stored).
    fn done(&self, audit: &str, layer: &Digest) -> Result<()>;
    /// Extends the leases this process holds.
    fn renew(&self, audit: &str) -> Result<()>;
    /// How many layers of the audit are not done.
    fn outstanding(&self, audit: &str) -> Result<u64>;
    /// How long to wait before looking again when others hold every outstanding layer.
    fn poll(&self) -> Duration;
    /// How often leases are renewed.
    fn renew_every(&self) -> Duration;
}

/// What [`Scanner::audit_shared`] gives.
#[derive(Debug)]
#[non_exhaustive]
pub struct SharedAudit {
    /// The whole audit's report.
    pub report: Report,
    /// Layers this process scanned.
    pub scanned: usize,
    /// The audit's name in the queue: a hex SHA-256 of the registry, the selection and the
    /// cache context.
    pub audit: String,
}

impl Scanner {
    /// Audits `registry` together with every other process auditing it through `queue`, whose
    /// store must also be this scanner's cache ([`super::ScannerBuilder::cache`]): each layer
    /// is scanned by one process, and each process returns the report of the whole audit once
    /// no layer is left. A process that dies loses nothing: its leases expire and others redo
    /// its layers.
    ///
    /// # Errors
    ///
    /// The queue's error when the store fails (unreachable, gone mid-audit): running the same
    /// audit again resumes it. [`Error::Unsupported`] when the scanner has no cache. Inside
    /// `Ok`, the sink's first error: the audit's report pass ended there (the layers this
    /// process scanned are in the store).
    pub fn audit_shared<S: Sink + ?Sized>(
        &self,
        registry: &str,
        opts: &AuditOptions,
        queue: &dyn WorkQueue,
        sink: &mut S,
    ) -> Result<std::result::Result<SharedAudit, S::Error>> {
        if self.cache.is_none() {
            return Err(Error::Unsupported {
                at: At::none(),
                message: "a shared audit needs the queue's store as the scanner's cache".into(),
            });
        }
        let audit = crate::digest::sha256_hex(
            format!(
                "registry={registry}\nrepos={:?}\ntags={:?}\ncontext={}\n",
                opts.repos, opts.tags, self.cache_context
            )
            .as_bytes(),
        );
        let scanned = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| heartbeat(queue, &audit, &stop));
            let shared = self.share_work(registry, opts, queue, &audit, &scanned);
            stop.store(true, Ordering::Relaxed);
            shared
        })?;
        let mut report = match self.audit(registry, opts, sink) {
            Ok(report) => report,
            Err(e) => return Ok(Err(e)),
        };
        let scanned = scanned.into_inner();
        let st = &mut report.stats;
        let mine = scanned.min(st.layers_cached);
        st.layers_cached -= mine;
        st.layers_scanned += mine;
        Ok(Ok(SharedAudit { report, scanned, audit }))
    }

    /// Scans this process's share of the audit's layers into the cache.
    fn share_work(
        &self,
        registry: &str,
        opts: &AuditOptions,
        queue: &dyn WorkQueue,
        audit: &str,
        scanned: &AtomicUsize,
    ) -> Result<()> {
        // What cannot be listed or opened is reported by the report's own pass.
        let mut unreported = Report::new();
        let mut null = NullSink;
        let quiet = &mut Kept::new(&mut null);
        let Ok(reg) = Registry::new(registry, &self.config.registry) else { return Ok(()) };
        let Ok(Some(refs)) = select_refs(&reg, opts, &mut unreported, quiet) else { return Ok(()) };
        for batch in refs.chunks(self.batch_size()) {
            let Ok(inputs) = self.open_batch(&reg, batch, &mut unreported, quiet) else { return Ok(()) };
            let mut work: Vec<Work> = Vec::new();
            for (n, input) in &inputs {
                for d in self.digests(input) {
                    if !work.iter().any(|w| w.layer == d) {
                        work.push(Work {
                            layer: d,
                            repository: batch[*n].0.clone(),
                            tag: batch[*n].1.clone(),
                        });
                    }
                }
            }
            queue.register(audit, &self.cache_context, &work)?;
            let digests: Vec<Digest> = work.into_iter().map(|w| w.layer).collect();
            let claimed = queue.claim(audit, Some(&digests), digests.len())?;
            self.scan_claimed(queue, audit, &claimed, &inputs, scanned)?;
        }
        let threads = self.pool.current_num_threads().max(1);
        loop {
            let claimed = queue.claim(audit, None, threads)?;
            if claimed.is_empty() {
                if queue.outstanding(audit)? == 0 {
                    return Ok(());
                }
                std::thread::sleep(queue.poll());
                continue;
            }
            let mut refs: Vec<(String, String)> =
                claimed.iter().map(|w| (w.repository.clone(), w.tag.clone())).collect();
            refs.sort();
            refs.dedup();
            let Ok(inputs) = self.open_batch(&reg, &refs, &mut unreported, quiet) else { return Ok(()) };
            self.scan_claimed(queue, audit, &claimed, &inputs, scanned)?;
        }
    }

    /// The content-addressed layer digests of `input`'s images.
    fn digests(&self, input: &Input) -> Vec<Digest> {
        let layers = input.images.iter().flat_map(|i| i.layers.iter().take(self.config.limits.max_layers));
        layers
            .filter_map(|l| match &l.blob {
                BlobRef::Digest(d) => Some(d.clone()),
                _ => None,
            })
            .collect()
    }

    /// Scans the claimed layers found in `inputs` in parallel, each stored and then marked done.
    /// A claimed layer none of them has (its image is gone or moved) is marked done unscanned:
    /// the report's pass reports that image.
    fn scan_claimed(
        &self,
        queue: &dyn WorkQueue,
        audit: &str,
        claimed: &[Work],
        inputs: &[(usize, Input)],
        scanned: &AtomicUsize,
    ) -> Result<()> {
        self.pool.install(|| {
            claimed.par_iter().try_for_each_init(Scratch::new, |scratch, w| {
                let found = inputs.iter().find_map(|(_, input)| {
                    input.images.iter().find_map(|image| {
                        let layer =
                            image.layers.iter().find(|l| l.blob == BlobRef::Digest(w.layer.clone()))?;
                        Some((input, image, layer))
                    })
                });
                if let Some((input, image, layer)) = found {
                    pipeline::scan_and_store(self, &*input.store, image, layer, &w.layer, scratch)?;
                    scanned.fetch_add(1, Ordering::Relaxed);
                }
                queue.done(audit, &w.layer)
            })
        })
    }
}

/// Renews this process's leases every [`WorkQueue::renew_every`] until `stop`. A failed renewal
/// is left to the main path, which meets the same store.
fn heartbeat(queue: &dyn WorkQueue, audit: &str, stop: &AtomicBool) {
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if last.elapsed() >= queue.renew_every() {
            let _ = queue.renew(audit);
            last = Instant::now();
        }
    }
}
