//! Auditing a whole registry: list its repositories (`/v2/_catalog`) and their tags
//! (`tags/list`), open every selected image, and scan each distinct layer once across the run.
//!
//! Images are opened (manifests and configs only) in parallel, then scanned in batches: a layer
//! already walked in this run, or found in the scanner's [`super::LayerCache`], is not
//! downloaded again. A repository or image that cannot be listed or opened is an error in the
//! report and the audit goes on.

use rayon::prelude::*;

use super::pipeline::{self, Memo};
use super::{with_sink, DynSink, Failed, Scanner, Sink};
use crate::image::registry::Registry;
use crate::image::Input;
use crate::report::{ErrorRecord, Report};
use crate::{At, Error};

/// Which tags of each repository an audit scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TagSelection {
    /// Every tag.
    #[default]
    All,
    /// Only `latest` (repositories without it are skipped and noted).
    Latest,
    /// The last `n` tags in the registry's listing order (lexical for the distribution
    /// registry: registries record no push time to sort by).
    Last(usize),
}

impl std::str::FromStr for TagSelection {
    type Err = String;
    /// `all`, `latest` or a number.
    fn from_str(s: &str) -> Result<TagSelection, String> {
        match s {
            "all" => Ok(TagSelection::All),
            "latest" => Ok(TagSelection::Latest),
            n => match n.parse::<usize>() {
                Ok(n) if n > 0 => Ok(TagSelection::Last(n)),
                _ => Err(format!("expected all, latest or a positive number, not {s:?}")),
            },
        }
    }
}

/// What an audit covers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuditOptions {
    /// Repository name globs (`*` any run of characters, `?` one); empty means every repository.
    pub repos: Vec<String>,
    /// Which tags of each repository.
    pub tags: TagSelection,
    /// Whether the returned [`Report::findings`] holds every finding (default `true`). Off, each
    /// finding goes to the sink only and the report keeps its counts
    /// ([`crate::report::Stats::findings`]): what a
    /// [`SecretIndex`](crate::report::by_secret::SecretIndex) sink needs for a large registry,
    /// where every tag built on one base repeats the base's findings.
    pub collect_findings: bool,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions { repos: Vec::new(), tags: TagSelection::All, collect_findings: true }
    }
}

/// Whether `name` matches `glob`: `*` matches any run of characters (`/` included), `?` any one
/// character, everything else itself.
pub(crate) fn glob_match(glob: &str, name: &str) -> bool {
    let (g, n): (Vec<char>, Vec<char>) = (glob.chars().collect(), name.chars().collect());
    let (mut gi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match g.get(gi) {
            Some('*') => {
                star = Some((gi, ni));
                gi += 1;
            }
            Some(c) if *c == '?' || *c == n[ni] => {
                gi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sg, sn)) => {
                    gi = sg + 1;
                    ni = sn + 1;
                    star = Some((sg, sn + 1));
                }
                None => return false,
            },
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

/// Images opened per scan batch: enough to keep every worker busy, few enough that the layer
/// lists of a huge registry are not all held at once.
const BATCH_PER_THREAD: usize = 4;

impl Scanner {
    /// Audits every selected image of `registry` (`host[:port]`, `http://host` for plain HTTP).
    /// Each distinct layer is downloaded and walked once per run
    /// ([`crate::report::Stats::layers_reused`] counts the others) and not at all when the
    /// scanner's cache has it ([`crate::report::Stats::layers_cached`]). The report covers every
    /// image; what could not be listed or opened is in [`Report::errors`].
    ///
    /// # Errors
    ///
    /// The sink's first error: the audit ends there.
    pub fn audit<S: Sink + ?Sized>(
        &self,
        registry: &str,
        opts: &AuditOptions,
        sink: &mut S,
    ) -> std::result::Result<Report, S::Error> {
        with_sink(sink, |sink| {
            let start = std::time::Instant::now();
            let mut report = Report::new();
            // A failing sink ends the audit here; `with_sink` returns its error instead.
            let _ = self.audit_into(registry, opts, &mut report, sink);
            finish(report, start, opts)
        })
    }

    fn audit_into(
        &self,
        registry: &str,
        opts: &AuditOptions,
        report: &mut Report,
        sink: &mut DynSink<'_>,
    ) -> std::result::Result<(), Failed> {
        let reg = match Registry::new(registry, &self.config.registry) {
            Ok(r) => r,
            Err(e) => return fail(report, e, sink),
        };
        let Some(refs) = select_refs(&reg, opts, report, sink)? else { return Ok(()) };
        let memo = Memo::default();
        for batch in refs.chunks(self.batch_size()) {
            let inputs: Vec<Input> =
                self.open_batch(&reg, batch, report, sink)?.into_iter().map(|(_, i)| i).collect();
            let refs: Vec<&Input> = inputs.iter().collect();
            let (mut part, stopped) = pipeline::scan_inputs(self, &refs, &memo, &report.secrets, sink);
            if !opts.collect_findings {
                // The part's counts (merged below) still count them.
                part.findings = Vec::new();
            }
            report.merge(part);
            if stopped {
                break;
            }
        }
        Ok(())
    }
}

impl Scanner {
    /// Images opened per batch.
    pub(super) fn batch_size(&self) -> usize {
        self.pool.current_num_threads().max(1) * BATCH_PER_THREAD
    }

    /// Opens the images of `batch` in parallel (manifests and configs only), each with its
    /// position in `batch`; what cannot be opened is an error in `report`.
    pub(super) fn open_batch(
        &self,
        reg: &Registry,
        batch: &[(String, String)],
        report: &mut Report,
        sink: &mut DynSink<'_>,
    ) -> std::result::Result<Vec<(usize, Input)>, Failed> {
        let open = self.open_options();
        let opened: Vec<Result<Input, Error>> = self.pool.install(|| {
            batch
                .par_iter()
                .map(|(repo, tag)| {
                    let name = format!("{}/{repo}:{tag}", reg.host());
                    reg.open_image(repo, tag, &name, &open).map_err(|e| e.within(&At::image(name)))
                })
                .collect()
        });
        let mut inputs = Vec::new();
        for (n, o) in opened.into_iter().enumerate() {
            match o {
                Ok(input) => inputs.push((n, input)),
                Err(e) => fail(report, e, sink)?,
            }
        }
        Ok(inputs)
    }
}

/// The selected (repository, tag) pairs of the registry, in listing order; a repository whose
/// tags cannot be listed is an error in `report`. `None` when the catalog cannot be read (an
/// error in `report` too).
pub(super) fn select_refs(
    reg: &Registry,
    opts: &AuditOptions,
    report: &mut Report,
    sink: &mut DynSink<'_>,
) -> std::result::Result<Option<Vec<(String, String)>>, Failed> {
    let repos = match reg.catalog() {
        Ok(repos) => repos,
        Err(e) => {
            fail(report, e, sink)?;
            return Ok(None);
        }
    };
    let mut refs: Vec<(String, String)> = Vec::new();
    for repo in
        repos.into_iter().filter(|r| opts.repos.is_empty() || opts.repos.iter().any(|g| glob_match(g, r)))
    {
        match reg.tags(&repo) {
            Ok(tags) => {
                let chosen = select_tags(tags, opts.tags);
                if chosen.is_empty() {
                    report.notes.push(format!("{}/{repo}: no tag selected", reg.host()));
                }
                refs.extend(chosen.into_iter().map(|t| (repo.clone(), t)));
            }
            Err(e) => fail(report, e, sink)?,
        }
    }
    Ok(Some(refs))
}

/// An error of the audit, to the sink and the report.
pub(super) fn fail(report: &mut Report, e: Error, sink: &mut DynSink<'_>) -> std::result::Result<(), Failed> {
    let rec = ErrorRecord::from(&e);
    let sent = sink.error(&rec);
    report.errors.push(rec);
    sent
}

fn select_tags(mut tags: Vec<String>, sel: TagSelection) -> Vec<String> {
    match sel {
        TagSelection::All => tags,
        TagSelection::Latest => tags.into_iter().filter(|t| t == "latest").collect(),
        TagSelection::Last(n) => {
            let skip = tags.len().saturating_sub(n);
            tags.drain(..skip);
            tags
        }
    }
}

pub(super) fn finish(mut report: Report, start: std::time::Instant, opts: &AuditOptions) -> Report {
    if opts.collect_findings {
        report.recount();
    } else {
        report.stats.errors = report.errors.len();
    }
    report.stats.seconds = start.elapsed().as_secs_f64();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_runs_and_single_characters() {
        assert!(glob_match("*", "team/app"));
        assert!(glob_match("team/*", "team/app"));
        assert!(!glob_match("team/*", "other/app"));
        assert!(glob_match("*/app", "a/b/app"));
        assert!(glob_match("app-?", "app-1"));
        assert!(!glob_match("app-?", "app-10"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("", ""));
        assert!(!glob_match("", "x"));
    }

    #[test]
    fn tag_selection_parses_and_selects() {
        let tags = || vec!["1.0".to_string(), "1.1".into(), "latest".into()];
        assert_eq!("all".parse(), Ok(TagSelection::All));
        assert_eq!("2".parse(), Ok(TagSelection::Last(2)));
        assert!("0".parse::<TagSelection>().is_err());
        assert!("newest".parse::<TagSelection>().is_err());
        assert_eq!(select_tags(tags(), TagSelection::All).len(), 3);
        assert_eq!(select_tags(tags(), TagSelection::Latest), vec!["latest".to_string()]);
        assert_eq!(select_tags(tags(), TagSelection::Last(2)), vec!["1.1".to_string(), "latest".into()]);
        assert_eq!(select_tags(tags(), TagSelection::Last(9)).len(), 3);
    }

    #[test]
    fn unreachable_registry_is_one_error() -> crate::Result<()> {
        let opts = crate::image::registry::RegistryOptions { retries: 0, ..Default::default() };
        let scanner = super::super::ScannerBuilder::new().registry(opts).threads(1).build()?;
        // Port 9 (discard) is closed on test machines: the connection is refused at once.
        let Ok(report) =
            scanner.audit("http://127.0.0.1:9", &AuditOptions::default(), &mut super::super::NullSink);
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        assert_eq!(report.errors[0].kind, "registry");
        assert_eq!(report.stats.errors, 1);
        assert!(report.images.is_empty());
        Ok(())
    }
}
