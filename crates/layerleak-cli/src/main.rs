//! `layerleak`: find secrets in container images, including the ones a later layer deleted.
//!
//! Thin over the `layerleak` library: argument parsing, printing, exit codes.

#[macro_use]
mod args;
mod audit;
mod baseline;
mod by_secret;
mod coverage;
mod output;
mod places;
mod progress;
mod rule_files;
mod rules;
mod skip_path;
mod store;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use layerleak::scan::{Scanner, ScannerBuilder};

use args::{Cli, Command, Format, Gate};

/// Exit status: nothing matching `--fail-on` was found.
const EXIT_CLEAN: u8 = 0;
/// Exit status: something could not be read (findings from the rest are still printed).
const EXIT_ERROR: u8 = 2;
/// Exit status: the scan covered nothing (no rule, no image, no readable layer).
const EXIT_NOTHING_SCANNED: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(EXIT_CLEAN);
            }
            let status = if e.is::<coverage::NothingScanned>() { EXIT_NOTHING_SCANNED } else { EXIT_ERROR };
            // Line by line: a rules file's regex error points at the problem on its own lines.
            let message = format!("{e:#}");
            let lines: Vec<_> = message.split('\n').map(output::terminal::printable).collect();
            eprintln!("layerleak: error: {}", lines.join("\n"));
            ExitCode::from(status)
        }
    }
}

/// A closed stdout (`layerleak scan ... | head -1`), however deep in the chain: serde_json's
/// error does not list the I/O error among its sources, so it is asked directly.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().is_some_and(|j| j.io_error_kind() == Some(BrokenPipe))
    })
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Scan(a) => scan(a),
        Command::Layers(a) => layers(a),
        Command::Rules(a) => rules::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Where(a) => places::run(a),
    }
}

/// The arguments that configure the scanner: every option of `scan` and `audit`; `layers` lists
/// no finding, so it has only platforms, rules and threads, and the rest keep their defaults.
#[derive(Clone, Copy)]
enum ScannerArgs<'a> {
    Scan(&'a args::ScanOpts),
    Layers(&'a args::LayersArgs),
}

fn build_scanner(
    a: ScannerArgs<'_>,
    progress: Option<&progress::Bar>,
    cache: Option<std::sync::Arc<dyn layerleak::scan::LayerCache>>,
) -> Result<Scanner> {
    let mut builder = scanner_builder(a, progress)?;
    if let Some(cache) = cache {
        builder = builder.cache(cache);
    }
    let scanner = builder.build()?;
    if scanner.rules().is_empty() {
        return Err(coverage::no_rules().into());
    }
    Ok(scanner)
}

/// The one place command-line arguments become scanner options.
fn scanner_builder(a: ScannerArgs<'_>, progress: Option<&progress::Bar>) -> Result<ScannerBuilder> {
    let (platform, rules, jobs) = match a {
        ScannerArgs::Scan(o) => (&o.platform, &o.rules, o.jobs),
        ScannerArgs::Layers(l) => (&l.platform, &l.rules, l.jobs),
    };
    let mut b = ScannerBuilder::new();
    b = match a {
        ScannerArgs::Scan(o) => {
            o.gate()?;
            b.registry(o.registry.options()?).builtin_rules(!o.no_builtin_rules)
        }
        // No registry flags: the credentials of the environment, as for `scan` without flags.
        ScannerArgs::Layers(_) => b.registry(args::RegistryArgs::default().options()?),
    };
    b = b.platforms(args::platforms(platform)?).threads(jobs);
    if let ScannerArgs::Scan(o) = a {
        b = b
            .keep_secrets(o.show_secrets)
            .include_invalid(o.include_invalid)
            .include_packaged(o.include_packaged)
            .skip_package_triage(o.no_package_triage)
            .min_entropy(o.min_entropy)
            .limits(o.limits());
    }
    for set in rule_files::load_all(rules)? {
        b = b.rules(set);
    }
    if let ScannerArgs::Scan(o) = a {
        if let Some(toml) = skip_path::allowlist_toml(&o.suppress.skip_path) {
            b = b.rules_toml(&toml, "--skip-path")?;
        }
    }
    if let Some(bar) = progress {
        b = bar.attach(b);
    }
    Ok(b)
}

/// An input that is neither `-`, an existing path, nor something that reads as an image
/// reference is "nothing scanned" before anything is read, with a message that says which of
/// the two it looked like (a missing file that could also be a reference is tried as one).
fn check_input(image: &std::path::Path) -> Result<()> {
    let text = image.to_string_lossy();
    if image.as_os_str() == "-"
        || image.exists()
        || layerleak::image::registry::Reference::looks_like_reference(&text)
    {
        return Ok(());
    }
    let shown = output::terminal::printable(&text);
    let pathlike = text.starts_with(['/', '.', '~'])
        || [".tar", ".tar.gz", ".tgz", ".tar.zst"].iter().any(|ext| text.ends_with(ext));
    let why = if pathlike {
        format!("no such file or directory: {shown}")
    } else {
        format!(
            "invalid image reference {shown:?}: neither an existing file or directory nor an image \
             reference (registry.example.com/team/app:1.2, alpine:3.20, …@sha256:…)"
        )
    };
    Err(coverage::NothingScanned(why).into())
}

/// An existing path is read as a path; anything else that reads as an image reference is
/// pulled; the rest is tried as a path (and reported as not found).
fn scan_one(
    scanner: &Scanner,
    image: &std::path::Path,
    sink: &mut output::StreamSink<'_>,
) -> std::io::Result<layerleak::report::Report> {
    let text = image.to_str().unwrap_or_default();
    if !image.exists() && layerleak::image::registry::Reference::looks_like_reference(text) {
        scanner.scan_reference(text, sink)
    } else {
        scanner.scan_path_with(image, sink)
    }
}

/// The cache of `scan --cache` (none by default); one that cannot be opened is an error.
fn scan_cache(arg: Option<&str>) -> Result<Option<std::sync::Arc<dyn layerleak::scan::LayerCache>>> {
    Ok(match store::Spec::of(arg, None) {
        store::Spec::None => None,
        store::Spec::Sqlite(path) => {
            Some(std::sync::Arc::new(layerleak::scan::SqliteCache::open(&path).context("opening the cache")?))
        }
        store::Spec::Postgres(url) => Some(store::postgres(&url, std::time::Duration::from_secs(30))?),
    })
}

fn scan(args: args::ScanArgs) -> Result<u8> {
    let a = &args.opts;
    if a.registry.password_stdin && args.images.iter().any(|i| i.as_os_str() == "-") {
        anyhow::bail!("--password-stdin and `-` (an image on stdin) cannot both read stdin");
    }
    for image in &args.images {
        check_input(image)?;
    }
    let bar = progress::Bar::new(a.show_progress());
    let scanner = build_scanner(ScannerArgs::Scan(a), bar.as_ref(), scan_cache(args.cache.as_deref())?)?;
    let baseline =
        baseline::Baseline::load(a.suppress.baseline.as_deref(), a.suppress.ignore_file.as_deref())?;
    let shown = |f: &layerleak::report::Finding| a.reports(f.severity) && !baseline.contains(f);
    let mut out = output::open(a.output.as_deref())?;
    let mut report = layerleak::report::Report::new();
    {
        let mut sink = output::StreamSink::new(by_secret::stream_format(a), &mut *out, &shown);
        for image in &args.images {
            let r = if image.as_os_str() == "-" {
                let stdin = std::io::stdin();
                if std::io::IsTerminal::is_terminal(&stdin) && !a.quiet {
                    eprintln!("layerleak: reading an image from stdin (e.g. `docker save IMAGE | layerleak scan -`)");
                }
                let mut lock = stdin.lock();
                scanner.scan_reader("-", &mut lock, &mut sink)?
            } else {
                scan_one(&scanner, image, &mut sink)?
            };
            report.merge(r);
        }
    }
    if let Some(bar) = &bar {
        bar.finish();
    }
    let suppressed = baseline.filter(&mut report);
    baseline::retain(&mut report, |f| a.reports(f.severity));
    // The same image given twice is one image.
    let images: std::collections::HashSet<&str> = report.images.iter().map(|i| i.name.as_str()).collect();
    if by_secret::chosen(a, false, images.len())? {
        let secrets = by_secret::from_report(&report, &suppressed);
        return by_secret::write_report(a, &mut *out, &report, secrets, scanner.rules());
    }
    write_report(a, &mut *out, &report, &suppressed, scanner.rules())
}

/// The end of `scan` and `audit`: the report in the chosen format after what was streamed, the
/// errors on stderr unless quiet, and the exit status.
fn write_report(
    a: &args::ScanOpts,
    out: &mut dyn Write,
    report: &layerleak::report::Report,
    suppressed: &baseline::Suppressed,
    rules: &[layerleak::detect::Rule],
) -> Result<u8> {
    let mut style = output::Style::detect(a.color, a.output.is_none());
    style.compact = a.compact;
    let listed = if a.suppress.show_suppressed { &suppressed.findings[..] } else { &[] };
    let reasons: Vec<String> = listed.iter().map(|(_, why)| why.to_string()).collect();
    let views: Vec<layerleak::report::Suppressed> =
        listed.iter().zip(&reasons).map(|((f, _), why)| layerleak::report::Suppressed::new(f, why)).collect();
    match a.format {
        Format::Table => output::table::write_scan(out, report, suppressed, listed, &style)?,
        Format::Json => output::write_json(out, report, suppression_json(a, suppressed))?,
        Format::Jsonl => output::write_jsonl_summary(out, report, suppressed, listed)?,
        Format::Sarif => output::write_sarif(out, report, rules, &views)?,
        Format::Html => layerleak::report::html::write_with(out, report, &views)?,
    }
    out.flush()?;
    after_report(a, report, || output::short_summary(report))?;
    Ok(exit_code(report, a.gate()?, a.exit_code))
}

/// Once the report is written: unless quiet, one line on stderr saying what is in it when it went
/// to a file, and the errors; then whether the scan covered nothing.
fn after_report(
    a: &args::ScanOpts,
    report: &layerleak::report::Report,
    summary: impl FnOnce() -> String,
) -> Result<()> {
    if !a.quiet {
        if let Some(path) = &a.output {
            let path = path.display().to_string();
            eprintln!("layerleak: {} written to {}", summary(), output::terminal::printable(&path));
        }
        output::eprint_errors(report);
    }
    match coverage::check(report, &a.platform) {
        Some(nothing) => Err(nothing.into()),
        None => Ok(()),
    }
}

/// The `suppressed` member of a JSON report when --baseline or an ignore file was used: counts,
/// and with --show-suppressed each finding with why.
fn suppression_json(a: &args::ScanOpts, s: &baseline::Suppressed) -> Option<serde_json::Value> {
    if !s.active {
        return None;
    }
    let mut v = serde_json::json!({"baseline": s.by_baseline(), "ignore_file": s.by_ignore_file()});
    if a.suppress.show_suppressed {
        v["findings"] = s.findings.iter().map(|(f, why)| output::suppressed_json(f, why)).collect();
    }
    Some(v)
}

/// 2 when something could not be read (it wins over findings: the scan is incomplete), else
/// `findings` (`--exit-code`, default 1) when a finding matches `--fail-on`, else 0.
fn exit_code(report: &layerleak::report::Report, gate: Gate, findings: u8) -> u8 {
    // Packaged findings (listed with --include-packaged) are triaged: they never fail a gate.
    let failing = report.findings.iter().filter(|f| f.package.is_none()).any(|f| gate.fails(f));
    exit_status(!report.errors.is_empty(), failing, findings)
}

/// The exit status of a scan with or without errors and with or without something failing the
/// gate; `findings` is `--exit-code`.
fn exit_status(errors: bool, failing: bool, findings: u8) -> u8 {
    if errors {
        EXIT_ERROR
    } else if failing {
        findings
    } else {
        EXIT_CLEAN
    }
}

fn layers(a: args::LayersArgs) -> Result<u8> {
    let bar = progress::Bar::new(a.show_progress());
    let scanner = build_scanner(ScannerArgs::Layers(&a), bar.as_ref(), None)?;
    let mut report = layerleak::report::Report::new();
    for image in &a.images {
        let r = if image.as_os_str() == "-" {
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            let Ok(r) = scanner.scan_reader("-", &mut lock, &mut layerleak::scan::NullSink);
            r
        } else {
            scanner.scan_path(image)
        };
        report.merge(r);
    }
    if let Some(bar) = &bar {
        bar.finish();
    }
    let mut out = output::open(a.output.as_deref())?;
    let style = output::Style::detect(a.color, a.output.is_none());
    match a.format {
        args::LayersFormat::Table => output::table::write_layers(&mut *out, &report, &style)?,
        args::LayersFormat::Json => output::write_layers_json(&mut *out, &report)?,
    }
    out.flush()?;
    if !a.quiet {
        output::eprint_errors(&report);
    }
    if let Some(nothing) = coverage::check(&report, &a.platform) {
        return Err(nothing.into());
    }
    Ok(if report.errors.is_empty() { EXIT_CLEAN } else { EXIT_ERROR })
}

#[cfg(test)]
mod tests {
    use std::io::{self, Write};

    use super::is_broken_pipe;

    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn broken_pipe_inside_a_json_error_is_recognised() {
        // Regression: `--format json | head -1` printed "Broken pipe" and exited 2.
        let err = serde_json::to_writer(ClosedPipe, &[1, 2, 3]).expect_err("the pipe is closed");
        assert!(is_broken_pipe(&anyhow::Error::from(err)));
        let io = ClosedPipe.write_all(b"x").expect_err("closed");
        assert!(is_broken_pipe(&anyhow::Error::from(io).context("writing the report")));
        assert!(!is_broken_pipe(&anyhow::anyhow!("something else")));
    }
}
