//! The pipeline: open an input, walk every unique layer in parallel while the detectors scan each
//! file, resolve each file version's fate across layers, and attribute every finding.
//!
//! [`ScannerBuilder`] builds an immutable [`Scanner`] (`Send + Sync`, no global state). Results are
//! pushed to a [`Sink`] as each image is resolved, and collected into a [`Report`].

mod attribute;
mod audit;
mod cache;
mod cooperate;
mod pipe;
mod pipeline;
mod workers;

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::detect::{DetectOptions, Detector, Rule, RuleSet};
use crate::image::registry::RegistryOptions;
use crate::image::{Input, Platform};
use crate::layer::Flow;
use crate::report::{ErrorRecord, Finding, ImageReport, Report};
use crate::{Limits, Result};

pub use audit::{glob_match, AuditOptions, TagSelection};
#[cfg(feature = "postgres")]
pub use cache::PostgresCache;
pub use cache::{CacheKey, CachedLayer, LayerCache, MemoryCache, Place, SqliteCache};
pub use cooperate::{SharedAudit, Work, WorkQueue};

/// Progress of a scan, for front ends. Sent from worker threads while layers are read, before
/// any secret is known: its names (input, blob) are not redacted, so print counts, not names.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Progress {
    /// An input was opened: how many layers will be walked and their declared total size.
    Planned {
        /// The input.
        input: String,
        /// Distinct layers to walk.
        layers: usize,
        /// Sum of their declared compressed sizes (0 when unknown).
        bytes: u64,
    },
    /// Compressed bytes read so far from one layer.
    LayerBytes {
        /// The layer's blob (digest or archive path).
        blob: String,
        /// Bytes read so far.
        read: u64,
        /// Declared size, when known.
        total: Option<u64>,
    },
    /// A layer was walked to its end (or failed).
    LayerDone {
        /// The layer's blob.
        blob: String,
    },
}

/// Receives results as they are resolved. Every method has a default that does nothing.
///
/// An image's findings, errors and report are sent once all of its secrets are known: their texts
/// (step texts, paths, names, messages) are redacted with them and with the secrets of the images
/// sent before, unless the scanner keeps secrets. A secret first found in a later image is
/// redacted in the returned [`Report`] only.
pub trait Sink {
    /// A finding; return [`Flow::Stop`] to end the scan early (the report then says so).
    fn finding(&mut self, finding: &Finding) -> Flow {
        let _ = finding;
        Flow::Continue
    }
    /// An image is fully resolved (after its findings were sent).
    fn image(&mut self, image: &ImageReport) {
        let _ = image;
    }
    /// Something could not be read.
    fn error(&mut self, error: &ErrorRecord) {
        let _ = error;
    }
}

/// A sink that ignores everything (the [`Report`] still collects all).
pub struct NullSink;
impl Sink for NullSink {}

/// Gathers findings by distinct secret; see [`crate::report::by_secret`].
impl Sink for crate::report::by_secret::SecretIndex {
    fn finding(&mut self, finding: &Finding) -> Flow {
        self.add_finding(finding);
        Flow::Continue
    }
    fn image(&mut self, image: &ImageReport) {
        self.add_image(image);
    }
}

impl<F: FnMut(&Finding) -> Flow> Sink for F {
    fn finding(&mut self, finding: &Finding) -> Flow {
        self(finding)
    }
}

/// Every option of a scan, in one place.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ScanOptions {
    /// Bounds on untrusted input.
    pub limits: Limits,
    /// Platforms to scan from multi-platform images; empty scans all.
    pub platforms: Vec<Platform>,
    /// Worker threads; 0 uses every core.
    pub threads: usize,
    /// Keep the secret itself in findings (`--show-secrets`). Default off: findings carry only
    /// the redacted form and the fingerprint.
    pub keep_secrets: bool,
    /// Keep findings whose offline validation says `invalid`. Default off.
    pub include_invalid: bool,
    /// Raise the entropy floor of generic rules.
    pub min_entropy: Option<f64>,
    /// List packaged findings too (`--include-packaged`): those whose every occurrence is in a
    /// file that a package database of the same image (dpkg, apk, Python `RECORD`) records byte
    /// for byte. Default off: they are counted ([`crate::report::Stats::findings_packaged`]), not
    /// listed.
    pub include_packaged: bool,
    /// Do not check findings against package databases at all (`--no-package-triage`): no
    /// database is read, no file hashed, no finding is packaged. Default off.
    pub skip_package_triage: bool,
    /// How registries are reached by [`Scanner::scan_reference`] and [`Scanner::audit`].
    pub registry: RegistryOptions,
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Builds a [`Scanner`].
pub struct ScannerBuilder {
    builtin: bool,
    extra: Vec<RuleSet>,
    opts: ScanOptions,
    progress: Option<ProgressFn>,
    cache: Option<Arc<dyn LayerCache>>,
}

impl Default for ScannerBuilder {
    fn default() -> Self {
        ScannerBuilder::new()
    }
}

impl ScannerBuilder {
    /// The built-in rules and default options.
    pub fn new() -> ScannerBuilder {
        ScannerBuilder {
            builtin: true,
            extra: Vec::new(),
            opts: ScanOptions::default(),
            progress: None,
            cache: None,
        }
    }

    /// Whether the built-in rules are used (default `true`). Off, only added rules run.
    pub fn builtin_rules(mut self, on: bool) -> Self {
        self.builtin = on;
        self
    }

    /// Adds rules; a rule with the id of an earlier one replaces it.
    pub fn rules(mut self, rules: RuleSet) -> Self {
        self.extra.push(rules);
        self
    }

    /// Adds rules from a layerleak or gitleaks TOML text; `origin` names it in errors.
    pub fn rules_toml(self, text: &str, origin: &str) -> Result<Self> {
        let set = RuleSet::from_toml(text, origin)?;
        Ok(self.rules(set))
    }

    /// Replaces all options at once.
    pub fn options(mut self, opts: ScanOptions) -> Self {
        self.opts = opts;
        self
    }

    /// Bounds on untrusted input (default [`Limits::default`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.opts.limits = limits;
        self
    }

    /// Platforms to scan (default: all).
    pub fn platforms(mut self, platforms: Vec<Platform>) -> Self {
        self.opts.platforms = platforms;
        self
    }

    /// Worker threads (default 0: one per core). Layers are the unit of parallelism.
    pub fn threads(mut self, n: usize) -> Self {
        self.opts.threads = n;
        self
    }

    /// Keep secrets in findings (default `false`: redacted form and fingerprint only).
    pub fn keep_secrets(mut self, on: bool) -> Self {
        self.opts.keep_secrets = on;
        self
    }

    /// Keep findings that offline validation proves invalid (default `false`: a token whose
    /// checksum is wrong is not a token).
    pub fn include_invalid(mut self, on: bool) -> Self {
        self.opts.include_invalid = on;
        self
    }

    /// List packaged findings too (default `false`: counted, not listed). See
    /// [`ScanOptions::include_packaged`].
    pub fn include_packaged(mut self, on: bool) -> Self {
        self.opts.include_packaged = on;
        self
    }

    /// Skip the package triage (default `false`). See [`ScanOptions::skip_package_triage`].
    pub fn skip_package_triage(mut self, on: bool) -> Self {
        self.opts.skip_package_triage = on;
        self
    }

    /// Entropy floor for generic rules (default: each rule's own).
    pub fn min_entropy(mut self, bits: Option<f64>) -> Self {
        self.opts.min_entropy = bits;
        self
    }

    /// How registries are reached (default [`RegistryOptions::default`]: HTTPS, anonymous or
    /// Docker config credentials).
    pub fn registry(mut self, opts: RegistryOptions) -> Self {
        self.opts.registry = opts;
        self
    }

    /// A per-layer result cache (default none: only layers shared within one call are reused).
    /// Content-addressed layers (OCI layout, registry) found in it are neither read nor walked;
    /// every layer walked without error is stored in it as soon as it is done. It holds no secret
    /// bytes, so a scanner that keeps secrets only writes to it, never reads.
    pub fn cache(mut self, cache: Arc<dyn LayerCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// A progress callback, called from worker threads.
    pub fn progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Compiles the rules and starts the worker pool.
    pub fn build(self) -> Result<Scanner> {
        let mut rules = if self.builtin { RuleSet::builtin() } else { RuleSet::default() };
        for extra in self.extra {
            rules.extend(extra)?;
        }
        let detect = DetectOptions {
            include_invalid: self.opts.include_invalid,
            min_entropy: self.opts.min_entropy,
            limits: self.opts.limits.clone(),
            ..DetectOptions::default()
        };
        let detector = Detector::new(&rules, detect)?;
        let pool = workers::Workers::new(self.opts.threads)
            .map_err(|e| crate::Error::Internal { message: format!("cannot start worker threads: {e}") })?;
        let ruleset_hash = rules.hash();
        let cache_context = cache::context_hash(&ruleset_hash, &self.opts);
        Ok(Scanner {
            detector,
            ruleset_hash,
            cache_context,
            opts: self.opts,
            pool,
            progress: self.progress,
            cache: self.cache,
        })
    }
}

/// An immutable, thread-safe scanner. Build one with [`ScannerBuilder`] and reuse it.
pub struct Scanner {
    detector: Detector,
    ruleset_hash: String,
    cache_context: String,
    opts: ScanOptions,
    pool: workers::Workers,
    progress: Option<ProgressFn>,
    cache: Option<Arc<dyn LayerCache>>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("rules", &self.detector.rules().len())
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Scanner {
    /// The rules this scanner runs.
    pub fn rules(&self) -> &[Rule] {
        self.detector.rules()
    }

    /// A stable hash of the rules (for result caches).
    pub fn ruleset_hash(&self) -> &str {
        &self.ruleset_hash
    }

    /// What, besides a layer's digest, keys its cached result: a hex SHA-256 over the engine
    /// version, [`Scanner::ruleset_hash`], the limits and the detection options.
    pub fn cache_context(&self) -> &str {
        &self.cache_context
    }

    /// The options.
    pub fn options(&self) -> &ScanOptions {
        &self.opts
    }

    /// Scans a docker-save archive, OCI layout directory or layer tarball.
    /// What could not be read is in [`Report::errors`]; the rest is still scanned.
    pub fn scan_path(&self, path: impl AsRef<Path>) -> Report {
        self.scan_path_with(path.as_ref(), &mut NullSink)
    }

    /// [`Scanner::scan_path`], pushing results to `sink` as they are resolved.
    pub fn scan_path_with(&self, path: &Path, sink: &mut dyn Sink) -> Report {
        let name = path.display().to_string();
        let opened = crate::image::open_path(path, &self.open_options());
        self.scan_opened(&name, opened, sink)
    }

    /// Scans a stream (e.g. stdin). It is spooled to an anonymous temporary file first (see
    /// [`crate::image::open_reader`]).
    pub fn scan_reader(&self, name: &str, reader: &mut dyn Read, sink: &mut dyn Sink) -> Report {
        let opened = crate::image::open_reader(name, reader, &self.open_options());
        self.scan_opened(name, opened, sink)
    }

    /// Pulls and scans an image from a registry: `registry.example.com/team/app:1.2`,
    /// `…@sha256:…`, `alpine:3.20` (Docker Hub). Every platform of a multi-platform image is
    /// scanned unless [`ScanOptions::platforms`] selects some. Layers stream from the socket into
    /// the walker, nothing is written to disk, and every digest is checked while streaming.
    /// [`crate::report::ImageReport::manifest_digest`] is the digest the tag resolved to.
    pub fn scan_reference(&self, reference: &str, sink: &mut dyn Sink) -> Report {
        let opened = crate::image::registry::Reference::parse(reference).and_then(|r| {
            crate::image::registry::open_reference(&r, &self.open_options(), &self.opts.registry)
        });
        self.scan_opened(reference, opened, sink)
    }

    /// Scans an already opened input.
    pub fn scan_input(&self, input: &Input, sink: &mut dyn Sink) -> Report {
        self.scan_inputs(&[input], sink)
    }

    /// Scans several opened inputs as one run: a content-addressed layer shared by images of
    /// different inputs is read once ([`crate::report::Stats::layers_reused`]).
    pub fn scan_inputs(&self, inputs: &[&Input], sink: &mut dyn Sink) -> Report {
        let start = std::time::Instant::now();
        let (mut report, _) =
            pipeline::scan_inputs(self, inputs, &pipeline::Memo::default(), &Default::default(), sink);
        report.stats.seconds = start.elapsed().as_secs_f64();
        report
    }

    fn scan_opened(&self, name: &str, opened: Result<Input>, sink: &mut dyn Sink) -> Report {
        match opened {
            Ok(input) => self.scan_input(&input, sink),
            Err(e) => {
                let e = e.within(&crate::At::image(name));
                let rec = ErrorRecord::from(&e);
                sink.error(&rec);
                let mut report = Report::new();
                report.errors.push(rec);
                report.recount();
                report
            }
        }
    }

    fn open_options(&self) -> crate::image::OpenOptions {
        crate::image::OpenOptions { platforms: self.opts.platforms.clone(), limits: self.opts.limits.clone() }
    }
}
