//! The rules files named on the command line (`--rules`, `rules check`): layerleak or gitleaks
//! TOML and kingfisher / Nosey Parker YAML packs (`.yml`, `.yaml`), each a file or a directory
//! of them, with gitleaks' `[extend] path` followed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use layerleak::detect::{LoadReport, RuleSet};

use crate::output::terminal::printable;

/// How many `[extend] path` files deep a chain may go (gitleaks stops at two).
const MAX_EXTEND_DEPTH: usize = 4;

/// One rules file, loaded.
pub struct Loaded {
    /// The file as named on the command line (printable).
    pub origin: String,
    /// The text, for a TOML file (what `rules check` lints).
    pub toml: Option<String>,
    /// Its rules, after those of the file it extends.
    pub set: RuleSet,
    /// What was translated and refused, in it and in the files it extends.
    pub report: LoadReport,
}

/// The rules files `path` names: itself, or the `.toml`, `.yml` and `.yaml` files of a directory
/// (not its subdirectories), by name.
pub fn files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let origin = printable(&path.display().to_string()).into_owned();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).with_context(|| format!("reading {origin}"))? {
        let p = entry.with_context(|| format!("reading {origin}"))?.path();
        if p.is_file() && (is_yaml(&p) || p.extension().is_some_and(|e| e == "toml")) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yml" || e == "yaml")
}

/// Loads one rules file.
pub fn load(path: &Path) -> Result<Loaded> {
    load_at(path, 0)
}

fn load_at(path: &Path, depth: usize) -> Result<Loaded> {
    let origin = printable(&path.display().to_string()).into_owned();
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {origin}: {e}"))?;
    if is_yaml(path) {
        let (set, report) = RuleSet::load_yaml(&text, &origin)?;
        return Ok(Loaded { origin, toml: None, set, report });
    }
    let (set, mut report) = RuleSet::load_toml(&text, &origin)?;
    let Some(base) = report.extends.take() else {
        return Ok(Loaded { origin, toml: Some(text), set, report });
    };
    if depth >= MAX_EXTEND_DEPTH {
        anyhow::bail!("{origin}: [extend] path: more than {MAX_EXTEND_DEPTH} files extend one another");
    }
    let base_path = path.parent().unwrap_or(Path::new("")).join(&base);
    let mut loaded =
        load_at(&base_path, depth + 1).with_context(|| format!("{origin}: [extend] path {base:?}"))?;
    loaded.set.extend(set)?;
    loaded.report.translated.extend(report.translated);
    loaded.report.refused.extend(report.refused);
    Ok(Loaded { origin, toml: Some(text), set: loaded.set, report: loaded.report })
}

/// The rules of every file `paths` name, for a scan: a rule refused is left out with a warning
/// on stderr.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<RuleSet>> {
    let mut out = Vec::new();
    for path in paths {
        for file in files(path)? {
            let loaded = load(&file)?;
            for r in &loaded.report.refused {
                let text =
                    printable(&format!("{}: rule {}: {} (left out)", loaded.origin, r.rule, r.message))
                        .into_owned();
                eprintln!("layerleak: warning: {text}");
            }
            out.push(loaded.set);
        }
    }
    Ok(out)
}
