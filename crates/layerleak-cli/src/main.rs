//! `layerleak`: find secrets in container images, including the ones a later layer deleted.
//!
//! Thin over the `layerleak` library: argument parsing, printing, exit codes.

mod args;
mod baseline;
mod output;
mod progress;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use layerleak::detect::RuleSet;
use layerleak::scan::{Scanner, ScannerBuilder};

use args::{Cli, Command, FailOn, Format, RulesCommand};

/// Exit status: nothing matching `--fail-on` was found.
const EXIT_CLEAN: u8 = 0;
/// Exit status: findings matching `--fail-on`.
const EXIT_FOUND: u8 = 1;
/// Exit status: something could not be read (findings from the rest are still printed).
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(EXIT_CLEAN);
            }
            eprintln!("layerleak: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Scan(a) => scan(a),
        Command::Layers(a) => layers(a),
        Command::Rules(a) => rules(a),
    }
}

fn build_scanner(a: &args::ScanArgs, progress: Option<&progress::Bar>) -> Result<Scanner> {
    let mut b = ScannerBuilder::new()
        .builtin_rules(!a.no_builtin_rules)
        .platforms(a.platforms()?)
        .threads(a.jobs)
        .keep_secrets(a.show_secrets)
        .include_invalid(a.include_invalid)
        .min_entropy(a.min_entropy)
        .limits(a.limits());
    for path in &a.rules {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading rules file {}", path.display()))?;
        b = b.rules_toml(&text, &path.display().to_string())?;
    }
    if let Some(bar) = progress {
        b = bar.attach(b);
    }
    Ok(b.build()?)
}

fn scan(a: args::ScanArgs) -> Result<u8> {
    let bar = progress::Bar::new(a.show_progress());
    let scanner = build_scanner(&a, bar.as_ref())?;
    let baseline = match &a.baseline {
        Some(p) => Some(baseline::Baseline::load(p)?),
        None => None,
    };
    let mut out = output::open(a.output.as_deref())?;
    let mut report = layerleak::report::Report::new();
    {
        let mut sink = output::StreamSink::new(a.format, &mut *out, baseline.as_ref());
        for image in &a.images {
            let r = if image.as_os_str() == "-" {
                let stdin = std::io::stdin();
                let mut lock = stdin.lock();
                scanner.scan_reader("-", &mut lock, &mut sink)
            } else {
                scanner.scan_path_with(image, &mut sink)
            };
            report.merge(r);
        }
        sink.finish()?;
    }
    if let Some(bar) = &bar {
        bar.finish();
    }
    let suppressed = baseline.as_ref().map_or(0, |b| b.filter(&mut report));
    let style = output::Style::detect(a.output.is_none());
    match a.format {
        Format::Table => output::table::write_scan(&mut *out, &report, suppressed, &style)?,
        Format::Json => output::write_json(&mut *out, &report)?,
        Format::Jsonl => output::write_jsonl_summary(&mut *out, &report, suppressed)?,
        Format::Sarif => output::write_sarif(&mut *out, &report, scanner.rules())?,
    }
    out.flush()?;
    if !a.quiet {
        for e in &report.errors {
            eprintln!("layerleak: {}", e.message);
        }
    }
    Ok(exit_code(&report, a.fail_on))
}

fn exit_code(report: &layerleak::report::Report, fail_on: FailOn) -> u8 {
    let failing = match fail_on {
        FailOn::Any => !report.findings.is_empty(),
        FailOn::Present => report.findings.iter().any(|f| f.visible),
        FailOn::None => false,
    };
    if !report.errors.is_empty() {
        EXIT_ERROR
    } else if failing {
        EXIT_FOUND
    } else {
        EXIT_CLEAN
    }
}

fn layers(a: args::LayersArgs) -> Result<u8> {
    let scan_args = a.as_scan_args();
    let bar = progress::Bar::new(scan_args.show_progress());
    let scanner = build_scanner(&scan_args, bar.as_ref())?;
    let mut report = layerleak::report::Report::new();
    for image in &a.images {
        let r = if image.as_os_str() == "-" {
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            scanner.scan_reader("-", &mut lock, &mut layerleak::scan::NullSink)
        } else {
            scanner.scan_path(image)
        };
        report.merge(r);
    }
    if let Some(bar) = &bar {
        bar.finish();
    }
    let mut out = output::open(a.output.as_deref())?;
    let style = output::Style::detect(a.output.is_none());
    match a.format {
        args::LayersFormat::Table => output::table::write_layers(&mut *out, &report, &style)?,
        args::LayersFormat::Json => output::write_layers_json(&mut *out, &report)?,
    }
    out.flush()?;
    for e in &report.errors {
        eprintln!("layerleak: {}", e.message);
    }
    Ok(if report.errors.is_empty() { EXIT_CLEAN } else { EXIT_ERROR })
}

fn rules(a: args::RulesArgs) -> Result<u8> {
    match a.command {
        Some(RulesCommand::Check { file }) => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let origin = file.display().to_string();
            let set = RuleSet::from_toml(&text, &origin)
                .with_context(|| format!("{origin} is not a valid rules file"))?;
            // Compiling proves every regex and option works as the scanner will use it.
            let scanner = ScannerBuilder::new().builtin_rules(false).rules(set).build()?;
            println!("{origin}: {} rules OK", scanner.rules().len());
            Ok(EXIT_CLEAN)
        }
        None => {
            let set = RuleSet::builtin();
            let mut out = std::io::stdout().lock();
            match a.format {
                args::LayersFormat::Json => output::write_rules_json(&mut out, set.rules())?,
                args::LayersFormat::Table => output::table::write_rules(&mut out, set.rules())?,
            }
            out.flush()?;
            Ok(EXIT_CLEAN)
        }
    }
}
