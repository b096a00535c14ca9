//! `layerleak rules`: the built-in rule list, one rule (`show`), and `check`, which proves a
//! rules file before a scan relies on it.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use layerleak::detect::{check_examples, lint_toml, LintKind, RuleSet};
use layerleak::scan::ScannerBuilder;

use crate::args::{LayersFormat, RulesArgs, RulesCommand};
use crate::output;
use crate::{EXIT_CLEAN, EXIT_ERROR};

pub fn run(a: RulesArgs) -> Result<u8> {
    match a.command {
        Some(RulesCommand::Check { files, lenient }) => {
            let strictness = if lenient { Strictness::Lenient } else { Strictness::Default };
            let mut failed = false;
            for file in &files {
                failed |= !check(file, strictness, a.quiet)?;
            }
            Ok(if failed { EXIT_ERROR } else { EXIT_CLEAN })
        }
        Some(RulesCommand::Show { id }) => {
            let set = RuleSet::builtin();
            let Some(rule) = set.rules().iter().find(|r| r.id == id) else {
                let id = output::terminal::printable(&id).into_owned();
                anyhow::bail!("no built-in rule has the id {id:?} (`layerleak rules` lists them)");
            };
            let mut out = std::io::stdout().lock();
            match a.format {
                LayersFormat::Json => output::write_rules_json(&mut out, std::slice::from_ref(rule))?,
                LayersFormat::Table => output::table::write_rule(&mut out, rule, output::wrap::detect(true))?,
            }
            out.flush()?;
            Ok(EXIT_CLEAN)
        }
        None => {
            let set = RuleSet::builtin();
            let mut out = std::io::stdout().lock();
            match a.format {
                LayersFormat::Json => output::write_rules_json(&mut out, set.rules())?,
                LayersFormat::Table => {
                    output::table::write_rules(&mut out, set.rules(), output::wrap::detect(true))?
                }
            }
            out.flush()?;
            Ok(EXIT_CLEAN)
        }
    }
}

/// How `rules check` weighs what it finds beyond a file that does not load (always an error).
/// One switch, so that stricter checks (refusing what a foreign rule format means but layerleak
/// cannot express) join as one more level rather than one more flag to combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// `--lenient`: everything is a warning.
    Lenient,
    /// Whatever makes a rule not do what its file says is an error; gitleaks keys layerleak
    /// ignores, and one keyword of several out of the regex's reach, are warnings.
    Default,
}

impl Strictness {
    /// Whether a lint of `kind` fails the check.
    fn fails(self, kind: LintKind) -> bool {
        match self {
            Strictness::Lenient => false,
            Strictness::Default => !matches!(kind, LintKind::Unsupported | LintKind::UnreachableKeyword),
        }
    }
}

/// Checks one rules file: prints each problem on stderr (`FILE: rule ID: …`, as an error or a
/// warning) unless quiet, and a summary line on stdout. `Ok(false)` when the file fails.
fn check(file: &Path, strictness: Strictness, quiet: bool) -> Result<bool> {
    let origin = output::terminal::printable(&file.display().to_string()).into_owned();
    let loaded = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("reading {origin}: {e}"))
        .and_then(|text| {
            let set = RuleSet::from_toml(&text, &origin)?;
            // Compiling proves every regex and option works as the scanner will use it.
            ScannerBuilder::new().builtin_rules(false).rules(set.clone()).build()?;
            Ok((text, set))
        });
    let (text, set) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            // Line by line: a regex error points at the problem on its own lines.
            let message = format!("{e:#}");
            let lines: Vec<_> = message.split('\n').map(output::terminal::printable).collect();
            eprintln!("layerleak: error: {}", lines.join("\n"));
            println!("{origin}: not loaded");
            return Ok(false);
        }
    };
    let examples = check_examples(&set, false)?;
    let mut problems: Vec<(bool, Option<String>, String)> =
        lint_toml(&text, &set).into_iter().map(|l| (strictness.fails(l.kind), l.rule, l.message)).collect();
    let example_fails = strictness != Strictness::Lenient;
    problems
        .extend(examples.failures.iter().map(|f| (example_fails, Some(f.rule.clone()), f.message.clone())));
    let errors = problems.iter().filter(|(fails, ..)| *fails).count();
    if !quiet {
        for (fails, rule, message) in &problems {
            let level = if *fails { "error" } else { "warning" };
            let rule = rule.as_ref().map(|r| format!("rule {r}: ")).unwrap_or_default();
            let text = output::terminal::printable(&format!("{origin}: {rule}{message}")).into_owned();
            eprintln!("layerleak: {level}: {text}");
        }
    }
    println!(
        "{origin}: {} rules, {} positive and {} negative examples ({} failed); {errors} errors, {} warnings",
        set.rules().len(),
        examples.positives,
        examples.negatives,
        examples.failures.len(),
        problems.len() - errors,
    );
    Ok(errors == 0)
}
