//! `layerleak rules`: the built-in rule list, one rule (`show`), and `check`, which proves a
//! rules file (TOML or a YAML pack, or a directory of them) before a scan relies on it.

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
        Some(RulesCommand::Check { files, lenient, strict }) => {
            let strictness = match (lenient, strict) {
                (true, _) => Strictness::Lenient,
                (_, true) => Strictness::Strict,
                _ => Strictness::Default,
            };
            let mut failed = false;
            for path in &files {
                for file in crate::rule_files::files(path)? {
                    failed |= !check(&file, strictness, a.quiet)?;
                }
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

/// How `rules check` weighs what it finds beyond a file that does not load (always an error):
/// one switch of three levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// `--lenient`: everything is a warning.
    Lenient,
    /// Whatever makes a loaded rule not do what its file says is an error; a rule refused
    /// (its regex means what layerleak cannot express: it is left out, the others load), gitleaks
    /// keys layerleak ignores, and one keyword of several out of the regex's reach are warnings.
    Default,
    /// `--strict`: everything is an error, a refused rule first of all.
    Strict,
}

impl Strictness {
    /// Whether a lint of `kind` fails the check.
    fn fails(self, kind: LintKind) -> bool {
        match self {
            Strictness::Lenient => false,
            Strictness::Default => !matches!(kind, LintKind::Unsupported | LintKind::UnreachableKeyword),
            Strictness::Strict => true,
        }
    }
}

/// Checks one rules file: prints each problem on stderr (`FILE: rule ID: …`, as an error or a
/// warning) unless quiet, and a summary line on stdout: rules loaded (of which translated from
/// the file's regex syntax), refused, examples run. `Ok(false)` when the file fails.
fn check(file: &Path, strictness: Strictness, quiet: bool) -> Result<bool> {
    let origin = output::terminal::printable(&file.display().to_string()).into_owned();
    let loaded = crate::rule_files::load(file).and_then(|loaded| {
        // Compiling proves every regex and option works as the scanner will use it.
        ScannerBuilder::new().builtin_rules(false).rules(loaded.set.clone()).build()?;
        Ok(loaded)
    });
    let loaded = match loaded {
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
    let set = &loaded.set;
    let examples = check_examples(set, false)?;
    let refusal_fails = strictness == Strictness::Strict;
    let mut problems: Vec<(bool, Option<String>, String)> = loaded
        .report
        .refused
        .iter()
        .map(|r| (refusal_fails, Some(r.rule.clone()), format!("refused: {}", r.message)))
        .collect();
    if let Some(text) = &loaded.toml {
        problems
            .extend(lint_toml(text, set).into_iter().map(|l| (strictness.fails(l.kind), l.rule, l.message)));
    }
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
        "{origin}: {} rules loaded ({} translated), {} refused; {} positive and {} negative examples ({} failed); {errors} errors, {} warnings",
        set.rules().len(),
        loaded.report.translated.len(),
        loaded.report.refused.len(),
        examples.positives,
        examples.negatives,
        examples.failures.len(),
        problems.len() - errors,
    );
    // What was translated, construct by construct, with how many rules (or allowlists) needed it.
    let mut constructs: Vec<(&str, usize)> = Vec::new();
    for construct in loaded.report.translated.iter().flat_map(|(_, c)| c) {
        match constructs.iter_mut().find(|(c, _)| c == construct) {
            Some((_, n)) => *n += 1,
            None => constructs.push((construct, 1)),
        }
    }
    if !constructs.is_empty() {
        let listed: Vec<String> = constructs.iter().map(|(c, n)| format!("{c} ({n})")).collect();
        println!("{origin}: translated: {}", listed.join(", "));
    }
    Ok(errors == 0)
}
