//! Reports by distinct secret (`--group-by secret`, the default of `audit` and of the table of
//! several images): which one applies, the audit's sink that gathers them without keeping
//! per-image findings, suppression and the exit status on distinct secrets.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::ops::ControlFlow;

use anyhow::{bail, Result};
use layerleak::report::by_secret::{DistinctSecret, SecretIndex, SecretReport};
use layerleak::report::{Finding, ImageReport, Report};
use layerleak::scan::Sink;

use crate::args::{Format, GroupBy, ScanOpts};
use crate::baseline::{Baseline, Suppressed, Why};
use crate::output;

/// Whether the report is by secret: as asked, else for `audit` (any format but HTML, which has
/// its own index of images) and for the table of a scan of several images.
pub fn chosen(a: &ScanOpts, audit: bool, images: usize) -> Result<bool> {
    Ok(match (a.group_by, a.format) {
        (Some(GroupBy::Secret), Format::Html) => {
            bail!("--group-by secret: the HTML report is per image (its index links what images share)")
        }
        (Some(g), _) => g == GroupBy::Secret,
        (None, Format::Html) => false,
        (None, _) if audit => true,
        (None, f) => f == Format::Table && images > 1,
    })
}

/// The format findings are streamed in while a scan runs: none (the table's) when they are
/// grouped by secret after the run.
pub fn stream_format(a: &ScanOpts) -> Format {
    if a.group_by == Some(GroupBy::Secret) {
        Format::Table
    } else {
        a.format
    }
}

/// What suppression left out, by distinct secret.
pub struct SuppressedSecrets {
    /// Whether a baseline or an ignore file was in use.
    pub active: bool,
    pub report: SecretReport,
    /// Why each was left out (its first suppressed finding's reason).
    why: HashMap<(String, String), Why>,
}

impl SuppressedSecrets {
    pub fn why(&self, s: &DistinctSecret) -> Option<&Why> {
        self.why.get(&(s.rule.clone(), s.fingerprint.clone()))
    }

    pub fn by_baseline(&self) -> usize {
        self.report.secrets.iter().filter(|s| self.why(s) == Some(&Why::Baseline)).count()
    }

    pub fn by_ignore_file(&self) -> usize {
        self.report.secrets.len() - self.by_baseline()
    }

    /// The ignore file's name, when it left something out.
    pub fn ignore_file(&self) -> Option<&str> {
        self.why.values().find_map(|w| match w {
            Why::IgnoreFile { file, .. } => Some(file.as_str()),
            Why::Baseline => None,
        })
    }
}

/// The audit's sink: reported findings into one index, suppressed ones into another, nothing
/// kept per image.
pub struct SecretSink<'a> {
    opts: &'a ScanOpts,
    baseline: &'a Baseline,
    index: SecretIndex,
    suppressed: SecretIndex,
    why: HashMap<(String, String), Why>,
}

impl<'a> SecretSink<'a> {
    pub fn new(opts: &'a ScanOpts, baseline: &'a Baseline) -> SecretSink<'a> {
        SecretSink {
            opts,
            baseline,
            index: SecretIndex::new(),
            suppressed: SecretIndex::new(),
            why: HashMap::new(),
        }
    }

    /// The two reports, once the run is over.
    pub fn finish(self, report: &Report) -> (SecretReport, SuppressedSecrets) {
        let suppressed = SuppressedSecrets {
            active: self.baseline.is_active(),
            report: self.suppressed.finish(report),
            why: self.why,
        };
        (self.index.finish(report), suppressed)
    }
}

impl Sink for SecretSink<'_> {
    type Error = Infallible;

    fn finding(&mut self, f: &Finding) -> std::result::Result<ControlFlow<()>, Infallible> {
        if self.opts.reports(f.severity) {
            match self.baseline.why(f) {
                Some(why) => {
                    self.why.entry((f.rule.clone(), f.fingerprint.clone())).or_insert(why);
                    self.suppressed.add_finding(f);
                }
                None => self.index.add_finding(f),
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    fn image(&mut self, image: &ImageReport) -> std::result::Result<(), Infallible> {
        self.index.add_image(image);
        // Only the places of suppressed secrets need their image: the rest of a large registry
        // is not held twice.
        if self.suppressed.is_waiting() {
            self.suppressed.add_image(image);
        }
        Ok(())
    }
}

/// The by-secret reports of a scan whose findings were collected (and already filtered by
/// suppression and `--severity`).
pub fn from_report(report: &Report, suppressed: &Suppressed) -> (SecretReport, SuppressedSecrets) {
    let mut index = SecretIndex::new();
    index.add_report(report);
    let mut left_out = Report::new();
    left_out.images = report.images.clone();
    left_out.findings = suppressed.findings.iter().map(|(f, _)| f.clone()).collect();
    let mut why = HashMap::new();
    for (f, w) in &suppressed.findings {
        why.entry((f.rule.clone(), f.fingerprint.clone())).or_insert_with(|| w.clone());
    }
    let mut suppressed_index = SecretIndex::new();
    suppressed_index.add_report(&left_out);
    let suppressed =
        SuppressedSecrets { active: suppressed.active, report: suppressed_index.finish(report), why };
    (index.finish(report), suppressed)
}

/// The end of `scan` and `audit` by secret: the report in the chosen format, the errors on stderr
/// unless quiet, and the exit status, `--fail-on` counting distinct secrets.
pub fn write_report(
    a: &ScanOpts,
    out: &mut dyn Write,
    report: &Report,
    (secrets, suppressed): (SecretReport, SuppressedSecrets),
    rules: &[layerleak::detect::Rule],
) -> Result<u8> {
    let gate = a.gate()?;
    // Packaged secrets (listed with --include-packaged) are triaged: they never fail a gate.
    let failing = secrets
        .secrets
        .iter()
        .filter(|s| s.package.is_none() && gate.fails_on(s.visible(), s.severity))
        .count();
    let listed = a.suppress.show_suppressed;
    let extras = output::by_secret::Extras { failing, suppressed: &suppressed, listed };
    match a.format {
        Format::Json => output::by_secret::write_json(out, &secrets, &extras)?,
        Format::Jsonl => output::by_secret::write_jsonl(out, &secrets, &extras)?,
        Format::Sarif => output::by_secret::write_sarif(out, &secrets, rules, &extras)?,
        Format::Table | Format::Html => {
            let mut style = output::Style::detect(a.color, a.output.is_none());
            style.compact = a.compact;
            let shape = output::by_secret::Shape {
                all_places: a.all_places,
                by_repository: a.by_repository,
                show_suppressed: listed,
            };
            output::by_secret::write_table(out, &secrets, &suppressed, &style, shape)?;
        }
    }
    out.flush()?;
    crate::after_report(a, report, || output::by_secret::short_summary(&secrets))?;
    Ok(crate::exit_status(!report.errors.is_empty(), failing > 0, a.exit_code))
}
