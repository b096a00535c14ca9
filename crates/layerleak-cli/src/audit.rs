//! `layerleak audit REGISTRY`: every selected image of a registry, each distinct layer once,
//! with a per-layer result cache so a second audit only downloads new layers.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use layerleak::report::Report;
use layerleak::scan::{AuditOptions, PostgresCache, Scanner, Sink, SqliteCache, TagSelection};

use crate::args::ScanOpts;
use crate::store::{self, Spec};
use crate::{output, progress};

const CACHE_HELP: &str = concat!(
    audit_examples!(),
    "

The cache holds, per layer digest, rule set and options, every fact a finding needs except the
secret itself (fingerprint and redacted form only), and where each secret was seen (for
`layerleak where`). With --show-secrets cached layers are downloaded and scanned again so the
secrets can be shown.

With --cache postgres://…, every process running the same command, on any machine, shares the
work: each layer is claimed with a lease (renewed while it is scanned) and scanned by one
process; each process prints the whole report once no layer is left. A process that dies holds
its layers until the lease expires, then another redoes them. If the database fails, run the
same command again: it resumes where the store left off."
);

/// `layerleak audit` arguments.
#[derive(Debug, Args)]
#[command(after_long_help = CACHE_HELP)]
pub struct AuditArgs {
    /// The registry: `host[:port]`, or `http://host[:port]` for plain HTTP.
    #[arg(value_name = "REGISTRY")]
    pub registry: String,
    /// Only repositories matching this glob (`*` any run, `?` one character); repeatable.
    #[arg(long = "repo", value_name = "GLOB")]
    pub repos: Vec<String>,
    /// Which tags of each repository: `all`, `latest`, or the last N listed.
    #[arg(long, default_value = "all", value_name = "all|latest|N")]
    pub tags: TagSelection,
    /// Per-layer result cache: a SQLite file, a `postgres://` URL shared by cooperating
    /// processes, or `none`. Default: `$XDG_CACHE_HOME/layerleak/cache.sqlite` (else
    /// `~/.cache/layerleak/cache.sqlite`).
    #[arg(long, value_name = "PATH|URL|none")]
    pub cache: Option<String>,
    /// With a PostgreSQL cache: how long a claimed layer stays claimed without renewal, so how
    /// long a dead process's layers wait before another process redoes them (`30s`, `2m`).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = store::parse_duration)]
    pub lease: Duration,
    #[command(flatten)]
    pub opts: ScanOpts,
}

/// Runs an audit; exit status as for `scan`.
pub fn run(audit: AuditArgs) -> Result<u8> {
    let a = &audit.opts;
    let bar = progress::Bar::new(a.show_progress());
    let mut builder = crate::scanner_builder(crate::ScannerArgs::Scan(a), bar.as_ref())?;
    let mut shared: Option<Arc<PostgresCache>> = None;
    match Spec::of(audit.cache.as_deref(), SqliteCache::default_path()) {
        Spec::None => {}
        Spec::Postgres(url) => {
            let cache = store::postgres(&url, audit.lease)?;
            builder = builder.cache(cache.clone());
            shared = Some(cache);
        }
        // A cache that cannot be opened slows the audit down but does not stop it.
        Spec::Sqlite(path) => match SqliteCache::open(&path) {
            Ok(cache) => builder = builder.cache(Arc::new(cache)),
            Err(e) => {
                if !a.quiet {
                    let why = e.to_string();
                    eprintln!(
                        "layerleak: warning: not using the layer cache: {}",
                        output::terminal::printable(&why)
                    );
                }
            }
        },
    }
    let scanner = builder.build()?;
    if scanner.rules().is_empty() {
        return Err(crate::coverage::no_rules().into());
    }
    let mut opts = AuditOptions::default();
    opts.repos = audit.repos.clone();
    opts.tags = audit.tags;
    let baseline =
        crate::baseline::Baseline::load(a.suppress.baseline.as_deref(), a.suppress.ignore_file.as_deref())?;
    let mut out = output::open(a.output.as_deref())?;
    if crate::by_secret::chosen(a, true, 0)? {
        // One entry per distinct secret, and no per-image finding kept: 200 tags of one base
        // cost one entry and 200 place records, not 200 findings.
        opts.collect_findings = false;
        let mut sink = crate::by_secret::SecretSink::new(a, &baseline);
        let report = run_audit(&scanner, &audit, &opts, shared.as_deref(), &mut sink)?;
        if let Some(bar) = &bar {
            bar.finish();
        }
        let secrets = sink.finish(&report);
        return crate::by_secret::write_report(a, &mut *out, &report, secrets, scanner.rules());
    }
    let mut report = {
        let shown = |f: &layerleak::report::Finding| a.reports(f.severity) && !baseline.contains(f);
        let mut sink = output::StreamSink::new(a.format, &mut *out, &shown);
        run_audit(&scanner, &audit, &opts, shared.as_deref(), &mut sink)?
    };
    if let Some(bar) = &bar {
        bar.finish();
    }
    let suppressed = baseline.filter(&mut report);
    crate::baseline::retain(&mut report, |f| a.reports(f.severity));
    crate::write_report(a, &mut *out, &report, &suppressed, scanner.rules())
}

/// The audit, shared with every process using the same PostgreSQL store when there is one.
fn run_audit<S>(
    scanner: &Scanner,
    audit: &AuditArgs,
    opts: &AuditOptions,
    shared: Option<&PostgresCache>,
    sink: &mut S,
) -> Result<Report>
where
    S: Sink,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    let Some(queue) = shared else {
        return Ok(scanner.audit(&audit.registry, opts, sink)?);
    };
    let done = scanner.audit_shared(&audit.registry, opts, queue, sink).map_err(|e| {
        anyhow::Error::new(e).context("the shared audit stopped; run the same command again to resume it")
    })??;
    if !audit.opts.quiet {
        eprintln!(
            "layerleak: this process scanned {} layer(s) of the shared audit {} in {}",
            done.scanned,
            &done.audit[..12],
            queue.name()
        );
    }
    Ok(done.report)
}
