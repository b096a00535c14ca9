//! The pipeline: open an input, walk every unique layer in parallel while the detectors scan each
//! file, resolve each file version's fate across layers, and attribute every finding.
//!
//! [`ScannerBuilder`] builds an immutable [`Scanner`] (`Send + Sync`, no global state). Results are
//! pushed to a [`Sink`] as each image is resolved, and collected into a [`Report`].

mod attribute;
#[cfg(feature = "registry")]
mod audit;
mod cache;
#[cfg(feature = "registry")]
mod cooperate;
mod file_scan;
mod outcome;
mod pipe;
mod pipeline;
mod workers;

use std::convert::Infallible;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use crate::detect::{DetectOptions, Detector, Rule, RuleSet};
use crate::image::registry::RegistryOptions;
use crate::image::{Input, Platform};
use crate::report::{ErrorRecord, Finding, ImageReport, Report};
use crate::{Limits, Result};

#[cfg(feature = "registry")]
pub use audit::{AuditOptions, TagSelection};
#[cfg(feature = "postgres")]
pub use cache::PostgresCache;
#[cfg(feature = "sqlite")]
pub use cache::SqliteCache;
pub use cache::{CacheKey, CachedLayer, LayerCache, MemoryCache, Place};
#[cfg(feature = "registry")]
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
///
/// A sink can fail (its writer's I/O, a callback that gives up): the first error ends the scan
/// at once, no method is called after it, and the scan function returns that error instead of
/// the report. Sinks that cannot fail ([`NullSink`], closures, [`SecretIndex`]) say
/// [`Infallible`].
///
/// [`SecretIndex`]: crate::report::by_secret::SecretIndex
pub trait Sink {
    /// What the sink fails with.
    type Error;

    /// A finding; return [`ControlFlow::Break`] to end the scan early (the report then says so).
    fn finding(&mut self, finding: &Finding) -> std::result::Result<ControlFlow<()>, Self::Error> {
        let _ = finding;
        Ok(ControlFlow::Continue(()))
    }
    /// An image is fully resolved (after its findings were sent).
    fn image(&mut self, image: &ImageReport) -> std::result::Result<(), Self::Error> {
        let _ = image;
        Ok(())
    }
    /// Something could not be read.
    fn error(&mut self, error: &ErrorRecord) -> std::result::Result<(), Self::Error> {
        let _ = error;
        Ok(())
    }
}

/// A sink that ignores everything (the [`Report`] still collects all).
pub struct NullSink;
impl Sink for NullSink {
    type Error = Infallible;
}

/// Gathers findings by distinct secret; see [`crate::report::by_secret`].
impl Sink for crate::report::by_secret::SecretIndex {
    type Error = Infallible;
    fn finding(&mut self, finding: &Finding) -> std::result::Result<ControlFlow<()>, Infallible> {
        self.add_finding(finding);
        Ok(ControlFlow::Continue(()))
    }
    fn image(&mut self, image: &ImageReport) -> std::result::Result<(), Infallible> {
        self.add_image(image);
        Ok(())
    }
}

impl<F: FnMut(&Finding) -> ControlFlow<()>> Sink for F {
    type Error = Infallible;
    fn finding(&mut self, finding: &Finding) -> std::result::Result<ControlFlow<()>, Infallible> {
        Ok(self(finding))
    }
}

/// The sink the pipeline talks to: the caller's sink behind [`Kept`], whose first error is kept
/// aside so the pipeline (not generic over sinks) only learns that it must end.
pub(crate) type DynSink<'a> = dyn Sink<Error = Failed> + 'a;

/// The caller's sink failed; its error is in the [`Kept`] sink that said so.
#[derive(Debug)]
pub(crate) struct Failed;

/// A caller's sink seen as a [`DynSink`].
pub(crate) struct Kept<'s, S: Sink + ?Sized> {
    sink: &'s mut S,
    error: Option<S::Error>,
}

impl<'s, S: Sink + ?Sized> Kept<'s, S> {
    pub(crate) fn new(sink: &'s mut S) -> Self {
        Kept { sink, error: None }
    }

    /// Calls the sink unless it failed before (then it is not called again), keeping its error.
    fn call<T>(
        &mut self,
        f: impl FnOnce(&mut S) -> std::result::Result<T, S::Error>,
    ) -> std::result::Result<T, Failed> {
        if self.error.is_some() {
            return Err(Failed);
        }
        f(self.sink).map_err(|e| {
            self.error = Some(e);
            Failed
        })
    }
}

impl<S: Sink + ?Sized> Sink for Kept<'_, S> {
    type Error = Failed;
    fn finding(&mut self, finding: &Finding) -> std::result::Result<ControlFlow<()>, Failed> {
        self.call(|s| s.finding(finding))
    }
    fn image(&mut self, image: &ImageReport) -> std::result::Result<(), Failed> {
        self.call(|s| s.image(image))
    }
    fn error(&mut self, error: &ErrorRecord) -> std::result::Result<(), Failed> {
        self.call(|s| s.error(error))
    }
}

/// Runs `scan` with `sink` behind [`Kept`]: the sink's error if it failed (the scan ended there),
/// else what the scan returned.
pub(crate) fn with_sink<S: Sink + ?Sized, T>(
    sink: &mut S,
    scan: impl FnOnce(&mut DynSink<'_>) -> T,
) -> std::result::Result<T, S::Error> {
    let mut kept = Kept::new(sink);
    let out = scan(&mut kept);
    match kept.error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Every option of a scan, in one place. Only [`ScannerBuilder`] writes it (its setters say what
/// each option does, its default and its trade-off); a [`Scanner`] holds the built copy, read by
/// the pipeline and, where outside code needs an option, by a getter of the scanner.
#[derive(Debug, Clone, Default)]
struct Config {
    limits: Limits,
    /// Empty: every platform.
    platforms: Vec<Platform>,
    /// 0: one per core.
    threads: usize,
    keep_secrets: bool,
    include_invalid: bool,
    min_entropy: Option<f64>,
    include_packaged: bool,
    skip_package_triage: bool,
    registry: RegistryOptions,
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Builds a [`Scanner`]; cloned, it builds another with the same rules and options.
#[derive(Clone)]
pub struct ScannerBuilder {
    builtin: bool,
    extra: Vec<RuleSet>,
    config: Config,
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
            config: Config::default(),
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

    /// Bounds on untrusted input (default [`Limits::default`]): sizes of JSON documents, files,
    /// layers, nesting depth, findings per image. Lower bounds cost less on hostile input and
    /// report what they cut.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Changes some bounds in place, keeping the others:
    /// `.limits_with(|l| l.max_file_bytes = 1 << 20)`. See [`ScannerBuilder::limits`].
    pub fn limits_with(mut self, f: impl FnOnce(&mut Limits)) -> Self {
        f(&mut self.config.limits);
        self
    }

    /// Platforms to scan from multi-platform images (default: empty, every platform); replaces
    /// those given before.
    pub fn platforms(mut self, platforms: Vec<Platform>) -> Self {
        self.config.platforms = platforms;
        self
    }

    /// Adds one platform to scan (see [`ScannerBuilder::platforms`]).
    pub fn platform(mut self, platform: Platform) -> Self {
        self.config.platforms.push(platform);
        self
    }

    /// Worker threads (default 0: one per core). Layers are the unit of parallelism.
    pub fn threads(mut self, n: usize) -> Self {
        self.config.threads = n;
        self
    }

    /// Keep secrets in findings (default `false`: redacted form and fingerprint only). On, the
    /// report's texts are not redacted either, and a [`ScannerBuilder::cache`] is only written,
    /// never read (it holds no secret bytes).
    pub fn keep_secrets(mut self, on: bool) -> Self {
        self.config.keep_secrets = on;
        self
    }

    /// Keep findings that offline validation proves invalid (default `false`: a token whose
    /// checksum is wrong is not a token).
    pub fn include_invalid(mut self, on: bool) -> Self {
        self.config.include_invalid = on;
        self
    }

    /// List packaged findings too (default `false`: counted
    /// ([`crate::report::Stats::findings_packaged`]), not listed). Packaged findings are those
    /// whose every occurrence is in a file that a package database of the same image (dpkg, apk,
    /// Python `RECORD`) records byte for byte: a vendor's file, rarely the image builder's secret.
    pub fn include_packaged(mut self, on: bool) -> Self {
        self.config.include_packaged = on;
        self
    }

    /// Skip the package triage (default `false`): no package database is read, no file hashed,
    /// no finding is packaged. Faster on images with large databases; every vendor's sample key
    /// is then listed as a finding.
    pub fn skip_package_triage(mut self, on: bool) -> Self {
        self.config.skip_package_triage = on;
        self
    }

    /// Entropy floor for generic rules (default: each rule's own).
    pub fn min_entropy(mut self, bits: Option<f64>) -> Self {
        self.config.min_entropy = bits;
        self
    }

    /// How registries are reached (default [`RegistryOptions::default`]: HTTPS, anonymous or
    /// Docker config credentials).
    pub fn registry(mut self, opts: RegistryOptions) -> Self {
        self.config.registry = opts;
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
            include_invalid: self.config.include_invalid,
            min_entropy: self.config.min_entropy,
            limits: self.config.limits.clone(),
            ..DetectOptions::default()
        };
        let detector = Detector::new(&rules, detect)?;
        let pool = workers::Workers::new(self.config.threads)
            .map_err(|e| crate::Error::Internal { message: format!("cannot start worker threads: {e}") })?;
        let ruleset_hash = rules.hash();
        let cache_context = cache::context_hash(&ruleset_hash, &self.config);
        Ok(Scanner {
            detector,
            ruleset_hash,
            cache_context,
            config: self.config,
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
    config: Config,
    pool: workers::Workers,
    progress: Option<ProgressFn>,
    cache: Option<Arc<dyn LayerCache>>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("rules", &self.detector.rules().len())
            .field("config", &self.config)
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

    /// The bounds on untrusted input it was built with ([`ScannerBuilder::limits`]).
    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    /// The entropy floor of generic rules, when raised ([`ScannerBuilder::min_entropy`]).
    pub fn min_entropy(&self) -> Option<f64> {
        self.config.min_entropy
    }

    /// Whether findings keep the secret itself ([`ScannerBuilder::keep_secrets`]).
    pub fn keeps_secrets(&self) -> bool {
        self.config.keep_secrets
    }

    /// Scans a docker-save archive, OCI layout directory or layer tarball.
    /// What could not be read is in [`Report::errors`]; the rest is still scanned.
    pub fn scan_path(&self, path: impl AsRef<Path>) -> Report {
        let Ok(report) = self.scan_path_with(path.as_ref(), &mut NullSink);
        report
    }

    /// [`Scanner::scan_path`], pushing results to `sink` as they are resolved.
    ///
    /// # Errors
    ///
    /// The sink's first error: the scan ends there.
    pub fn scan_path_with<S: Sink + ?Sized>(
        &self,
        path: &Path,
        sink: &mut S,
    ) -> std::result::Result<Report, S::Error> {
        let name = path.display().to_string();
        let opened = crate::image::open_path(path, &self.open_options());
        with_sink(sink, |sink| self.scan_opened(&name, opened, sink))
    }

    /// Scans a stream (e.g. stdin). It is spooled to an anonymous temporary file first (see
    /// [`crate::image::open_reader`]).
    ///
    /// # Errors
    ///
    /// The sink's first error: the scan ends there.
    pub fn scan_reader<S: Sink + ?Sized>(
        &self,
        name: &str,
        reader: &mut dyn Read,
        sink: &mut S,
    ) -> std::result::Result<Report, S::Error> {
        let opened = crate::image::open_reader(name, reader, &self.open_options());
        with_sink(sink, |sink| self.scan_opened(name, opened, sink))
    }

    /// Pulls and scans an image from a registry (the `registry` feature): `registry.example.com/team/app:1.2`,
    /// `…@sha256:…`, `alpine:3.20` (Docker Hub). Every platform of a multi-platform image is
    /// scanned unless [`ScannerBuilder::platforms`] selects some. Layers stream from the socket into
    /// the walker, nothing is written to disk, and every digest is checked while streaming.
    /// [`crate::report::ImageReport::manifest_digest`] is the digest the tag resolved to.
    ///
    /// # Errors
    ///
    /// The sink's first error: the scan ends there.
    #[cfg(feature = "registry")]
    pub fn scan_reference<S: Sink + ?Sized>(
        &self,
        reference: &str,
        sink: &mut S,
    ) -> std::result::Result<Report, S::Error> {
        let opened = crate::image::registry::Reference::parse(reference).and_then(|r| {
            crate::image::registry::open_reference(&r, &self.open_options(), &self.config.registry)
        });
        with_sink(sink, |sink| self.scan_opened(reference, opened, sink))
    }

    /// Scans an already opened input.
    ///
    /// # Errors
    ///
    /// The sink's first error: the scan ends there.
    pub fn scan_input<S: Sink + ?Sized>(
        &self,
        input: &Input,
        sink: &mut S,
    ) -> std::result::Result<Report, S::Error> {
        self.scan_inputs(&[input], sink)
    }

    /// Scans several opened inputs as one run: a content-addressed layer shared by images of
    /// different inputs is read once ([`crate::report::Stats::layers_reused`]).
    ///
    /// # Errors
    ///
    /// The sink's first error: the scan ends there.
    pub fn scan_inputs<S: Sink + ?Sized>(
        &self,
        inputs: &[&Input],
        sink: &mut S,
    ) -> std::result::Result<Report, S::Error> {
        with_sink(sink, |sink| self.scan_opened_inputs(inputs, sink))
    }

    fn scan_opened_inputs(&self, inputs: &[&Input], sink: &mut DynSink<'_>) -> Report {
        let start = std::time::Instant::now();
        let (mut report, _) =
            pipeline::scan_inputs(self, inputs, &pipeline::Memo::default(), &Default::default(), sink);
        report.stats.seconds = start.elapsed().as_secs_f64();
        report
    }

    fn scan_opened(&self, name: &str, opened: Result<Input>, sink: &mut DynSink<'_>) -> Report {
        match opened {
            Ok(input) => self.scan_opened_inputs(&[&input], sink),
            Err(e) => {
                let e = e.within(&crate::At::image(name));
                let rec = ErrorRecord::from(&e);
                // A failing sink is the caller's error ([`with_sink`]); the report is dropped.
                let _ = sink.error(&rec);
                let mut report = Report::new();
                report.errors.push(rec);
                report.recount();
                report
            }
        }
    }

    fn open_options(&self) -> crate::image::OpenOptions {
        crate::image::OpenOptions {
            platforms: self.config.platforms.clone(),
            limits: self.config.limits.clone(),
        }
    }
}
