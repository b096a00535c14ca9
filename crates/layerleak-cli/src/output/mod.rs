//! Writing reports: JSON, JSONL, SARIF here; the table for people in [`table`], through
//! [`terminal`], which makes every text from an image safe to print.

pub mod by_secret;
pub mod table;
pub mod terminal;
pub mod wrap;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::Path;

use anyhow::{Context, Result};
use layerleak::detect::Rule;
use layerleak::report::{sarif, ErrorRecord, Finding, Report, SeverityCounts};
use layerleak::scan::Sink;
use serde::Serialize;

use crate::args::{ColorChoice, Format};
use crate::baseline::{Suppressed, Why};

/// stdout, or the `--output` file.
pub fn open(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => {
            Box::new(BufWriter::new(File::create(p).with_context(|| format!("creating {}", p.display()))?))
        }
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

/// How the table is printed: colours on a terminal (none when piped, written to a file or
/// `NO_COLOR` is set), the width lines are fitted to ([`wrap`]).
pub struct Style {
    pub color: bool,
    /// One line per finding (`--compact`).
    pub compact: bool,
    /// The width lines are fitted to; `None`: no limit.
    pub width: Option<usize>,
}

impl Style {
    pub fn detect(choice: ColorChoice, to_stdout: bool) -> Style {
        let no_color = std::env::var_os("NO_COLOR");
        let force = std::env::var_os("CLICOLOR_FORCE");
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                Style::decide(to_stdout, io::stdout().is_terminal(), no_color.as_deref(), force.as_deref())
                    .color
            }
        };
        Style { color, compact: false, width: wrap::detect(to_stdout) }
    }

    /// Colour only for stdout on a terminal, and never when `NO_COLOR` is set to anything
    /// non-empty (no-color.org).
    /// `CLICOLOR_FORCE` set to anything but empty or `0` colours even when piped or written to a
    /// file; `NO_COLOR` still wins.
    fn decide(
        to_stdout: bool,
        terminal: bool,
        no_color: Option<&std::ffi::OsStr>,
        force: Option<&std::ffi::OsStr>,
    ) -> Style {
        let no_color = no_color.is_some_and(|v| !v.is_empty());
        let force = force.is_some_and(|v| !v.is_empty() && v != "0");
        Style { color: !no_color && (force || (to_stdout && terminal)), compact: false, width: None }
    }

    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Streams findings as they are resolved (JSONL); other formats print at the end.
pub struct StreamSink<'a> {
    format: Format,
    out: &'a mut dyn Write,
    /// Whether a finding is reported (its severity is asked for, it is not suppressed).
    shown: &'a dyn Fn(&Finding) -> bool,
}

impl<'a> StreamSink<'a> {
    pub fn new(
        format: Format,
        out: &'a mut dyn Write,
        shown: &'a dyn Fn(&Finding) -> bool,
    ) -> StreamSink<'a> {
        StreamSink { format, out, shown }
    }
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

/// A write error (a closed pipe, a full disk) ends the scan, which returns it.
impl Sink for StreamSink<'_> {
    type Error = io::Error;

    fn finding(&mut self, f: &Finding) -> io::Result<ControlFlow<()>> {
        if self.format != Format::Jsonl || !(self.shown)(f) {
            return Ok(ControlFlow::Continue(()));
        }
        serde_json::to_writer(&mut *self.out, &Line { kind: "finding", body: f })?;
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        Ok(ControlFlow::Continue(()))
    }
}

/// `7 findings (4 still present; 7 high), 0 errors`: the report in one line.
pub fn short_summary(report: &Report) -> String {
    let s = &report.stats;
    let severities = match SeverityCounts::of(&report.findings).describe() {
        d if d.is_empty() => d,
        d => format!("; {d}"),
    };
    format!(
        "{} findings ({} still present{severities}), {} errors, {:.1} s",
        s.findings, s.findings_visible, s.errors, s.seconds
    )
}

/// Each error of `report` on stderr, for people.
pub fn eprint_errors(report: &Report) {
    for e in errors_for_people(&report.errors) {
        eprintln!("layerleak: {}", terminal::printable(&e.message));
    }
}

/// The report's errors in the order people read them: truncations first, since they say why
/// the rest is partial; the report's order otherwise.
pub fn errors_for_people(errors: &[ErrorRecord]) -> Vec<&ErrorRecord> {
    let mut errors: Vec<&ErrorRecord> = errors.iter().collect();
    errors.sort_by_key(|e| e.kind != "truncated");
    errors
}

/// The report, then `findings_by_severity`, then `suppressed` (counts, and the findings with
/// --show-suppressed) when a baseline or an ignore file was in use.
pub fn write_json(out: &mut dyn Write, report: &Report, suppressed: Option<serde_json::Value>) -> Result<()> {
    /// The report's own fields in their order, then the CLI's.
    #[derive(Serialize)]
    struct Full<'a> {
        #[serde(flatten)]
        report: &'a Report,
        findings_by_severity: SeverityCounts,
        #[serde(skip_serializing_if = "Option::is_none")]
        suppressed: Option<serde_json::Value>,
    }
    let full = Full { report, findings_by_severity: SeverityCounts::of(&report.findings), suppressed };
    serde_json::to_writer_pretty(&mut *out, &full)?;
    out.write_all(b"\n")?;
    Ok(())
}

#[derive(Serialize)]
struct Summary<'a> {
    schema: u32,
    images: &'a [layerleak::report::ImageReport],
    errors: &'a [ErrorRecord],
    notes: &'a [String],
    stats: &'a layerleak::report::Stats,
    findings_by_severity: SeverityCounts,
    suppressed_by_baseline: usize,
    suppressed_by_ignore_file: usize,
}

/// A suppressed finding for JSON: the finding and `suppressed_by` (`baseline`, `FILE:LINE`).
pub fn suppressed_json(f: &Finding, why: &Why) -> serde_json::Value {
    let mut v = serde_json::to_value(f).unwrap_or_default();
    v["suppressed_by"] = why.to_string().into();
    v
}

/// The JSONL end: a `suppressed` line per listed suppressed finding, then the summary.
pub fn write_jsonl_summary(
    out: &mut dyn Write,
    report: &Report,
    suppressed: &Suppressed,
    listed: &[(Finding, Why)],
) -> Result<()> {
    for (f, why) in listed {
        serde_json::to_writer(&mut *out, &Line { kind: "suppressed", body: &suppressed_json(f, why) })?;
        out.write_all(b"\n")?;
    }
    let summary = Summary {
        schema: report.schema,
        images: &report.images,
        errors: &report.errors,
        notes: &report.notes,
        stats: &report.stats,
        findings_by_severity: SeverityCounts::of(&report.findings),
        suppressed_by_baseline: suppressed.by_baseline(),
        suppressed_by_ignore_file: suppressed.by_ignore_file(),
    };
    serde_json::to_writer(&mut *out, &Line { kind: "summary", body: &summary })?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The SARIF log, with the suppressed findings listed (`--show-suppressed`) as suppressed results.
pub fn write_sarif(
    out: &mut dyn Write,
    report: &Report,
    rules: &[Rule],
    suppressed: &[layerleak::report::Suppressed],
) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, &sarif::to_sarif_with(report, rules, suppressed))?;
    out.write_all(b"\n")?;
    Ok(())
}

#[derive(Serialize)]
struct LayersDoc<'a> {
    schema: u32,
    images: &'a [layerleak::report::ImageReport],
    errors: &'a [ErrorRecord],
}

pub fn write_layers_json(out: &mut dyn Write, report: &Report) -> Result<()> {
    let doc = LayersDoc { schema: report.schema, images: &report.images, errors: &report.errors };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")?;
    Ok(())
}

#[derive(Serialize)]
struct RuleRow<'a> {
    id: &'a str,
    title: &'a str,
    provider: Option<&'a str>,
    category: Option<&'a str>,
    severity: layerleak::detect::Severity,
    keywords: &'a [String],
    validator: &'static str,
}

pub fn write_rules_json(out: &mut dyn Write, rules: &[Rule]) -> Result<()> {
    let rows: Vec<RuleRow> = rules
        .iter()
        .map(|r| RuleRow {
            id: &r.id,
            title: &r.title,
            provider: r.provider.as_deref(),
            category: r.category.as_deref(),
            severity: r.severity,
            keywords: &r.keywords,
            validator: r.validator.name(),
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::Style;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(Style::decide(true, true, None, None).color);
        assert!(Style::decide(true, true, Some(OsStr::new("")), None).color);
        assert!(!Style::decide(true, true, Some(OsStr::new("1")), None).color);
        assert!(!Style::decide(true, false, None, None).color);
        assert!(!Style::decide(false, true, None, None).color);
    }

    #[test]
    fn clicolor_force_colours_pipes_and_files_unless_no_color() {
        let one = Some(OsStr::new("1"));
        assert!(Style::decide(true, false, None, one).color);
        assert!(Style::decide(false, false, None, one).color);
        assert!(!Style::decide(true, false, None, Some(OsStr::new("0"))).color);
        assert!(!Style::decide(true, true, one, one).color);
    }

    #[test]
    fn plain_style_paints_nothing() {
        let s = Style::decide(true, false, None, None);
        assert_eq!(s.paint("31", "x"), "x");
        let c = Style::decide(true, true, None, None);
        assert_eq!(c.paint("31", "x"), "\x1b[31mx\x1b[0m");
    }
}
