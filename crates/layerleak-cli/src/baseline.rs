//! Suppression: findings already known from an earlier report (`--baseline`) or listed in an
//! ignore file (`.layerleakignore`, `--ignore-file`) are left out of the report and of the exit
//! status, counted in the summary, and listed with `--show-suppressed`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use layerleak::report::{Finding, Report};

/// The ignore file read from the current directory when `--ignore-file` is not given.
pub const DEFAULT_IGNORE_FILE: &str = ".layerleakignore";

/// The SARIF key under which layerleak reports carry the fingerprint.
const SARIF_FINGERPRINT: &str = "secretSha256/v1";

/// Why a finding was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// In the `--baseline` report.
    Baseline,
    /// Matched by the ignore file's entry on this line.
    IgnoreFile { file: String, line: usize },
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Baseline => f.write_str("baseline"),
            Why::IgnoreFile { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

/// One ignore-file entry: `fingerprint[:rule[:path]]`.
#[derive(Debug)]
struct Entry {
    fingerprint: String,
    rule: Option<String>,
    path: Option<String>,
    line: usize,
}

impl Entry {
    fn matches(&self, f: &Finding) -> bool {
        self.fingerprint == f.fingerprint
            && self.rule.as_ref().is_none_or(|r| *r == f.rule)
            && self.path.as_ref().is_none_or(|p| p.trim_start_matches('/') == f.location.path)
    }
}

/// What the report lost to suppression.
#[derive(Debug, Default)]
pub struct Suppressed {
    /// Whether a baseline or an ignore file was in use.
    pub active: bool,
    /// Each finding left out, and why.
    pub findings: Vec<(Finding, Why)>,
}

impl Suppressed {
    /// How many findings the baseline left out.
    pub fn by_baseline(&self) -> usize {
        self.findings.iter().filter(|(_, w)| *w == Why::Baseline).count()
    }

    /// How many findings the ignore file left out.
    pub fn by_ignore_file(&self) -> usize {
        self.findings.len() - self.by_baseline()
    }
}

/// The baseline's (rule, fingerprint) pairs and the ignore file's entries.
#[derive(Default)]
pub struct Baseline {
    /// Whether a baseline or an ignore file was read (even one suppressing nothing).
    active: bool,
    known: HashSet<(String, String)>,
    ignore_file: String,
    entries: Vec<Entry>,
}

impl Baseline {
    /// Reads the baseline report, if any, and the ignore file: `ignore_file`, else
    /// [`DEFAULT_IGNORE_FILE`] when the current directory has one.
    pub fn load(baseline: Option<&Path>, ignore_file: Option<&Path>) -> Result<Baseline> {
        let mut b = Baseline::default();
        if let Some(path) = baseline {
            b.known = load_report(path)?;
        }
        let default = PathBuf::from(DEFAULT_IGNORE_FILE);
        let ignore = match ignore_file {
            Some(p) => Some(p),
            None => default.is_file().then_some(default.as_path()),
        };
        b.active = baseline.is_some() || ignore.is_some();
        if let Some(path) = ignore {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading ignore file {}", path.display()))?;
            b.ignore_file = path.display().to_string();
            b.entries = parse_ignore(&text, &b.ignore_file)?;
        }
        Ok(b)
    }

    /// Whether a baseline or an ignore file was read (even one suppressing nothing).
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Whether nothing can be suppressed.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty() && self.entries.is_empty()
    }

    /// Why the finding is suppressed, if it is (the baseline first).
    pub fn why(&self, f: &Finding) -> Option<Why> {
        if self.known.contains(&(f.rule.clone(), f.fingerprint.clone())) {
            return Some(Why::Baseline);
        }
        let e = self.entries.iter().find(|e| e.matches(f))?;
        Some(Why::IgnoreFile { file: self.ignore_file.clone(), line: e.line })
    }

    /// Whether the finding is suppressed.
    pub fn contains(&self, f: &Finding) -> bool {
        self.why(f).is_some()
    }

    /// Moves suppressed findings out of `report` and recounts it.
    pub fn filter(&self, report: &mut Report) -> Suppressed {
        let mut out = Suppressed { active: self.active, findings: Vec::new() };
        if self.is_empty() {
            return out;
        }
        let mut kept = Vec::with_capacity(report.findings.len());
        for f in std::mem::take(&mut report.findings) {
            match self.why(&f) {
                Some(why) => out.findings.push((f, why)),
                None => kept.push(f),
            }
        }
        report.findings = kept;
        recount(report);
        out
    }
}

/// Keeps the findings of `report` that `keep` accepts (`--severity`), and recounts it.
pub fn retain(report: &mut Report, keep: impl Fn(&Finding) -> bool) {
    let before = report.findings.len();
    report.findings.retain(|f| keep(f));
    if report.findings.len() != before {
        recount(report);
    }
}

/// The finding counts of the report and its images, after findings were taken out.
fn recount(report: &mut Report) {
    report.stats.findings = report.findings.len();
    report.stats.findings_visible = report.findings.iter().filter(|f| f.visible).count();
    for image in &mut report.images {
        image.findings = report.findings.iter().filter(|f| f.image == image.name).count();
    }
}

/// The (rule, fingerprint) pairs of an earlier layerleak report: `--format json`, `jsonl` or
/// `sarif`.
fn load_report(path: &Path) -> Result<HashSet<(String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading baseline {}", path.display()))?;
    let shown = path.display();
    let pair = |rule: Option<&str>, fp: Option<&str>, what: &str| match (rule, fp) {
        (Some(r), Some(f)) => Ok((r.to_string(), f.to_string())),
        _ => bail!("baseline {shown}: a {what} lacks its rule or fingerprint"),
    };
    let mut known = HashSet::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        // Per image (`findings`) or by distinct secret (`secrets`).
        for (list, what) in [("findings", "finding"), ("secrets", "secret")] {
            if let Some(items) = v.get(list).and_then(|f| f.as_array()) {
                for f in items {
                    known.insert(pair(str_at(f, &["rule"]), str_at(f, &["fingerprint"]), what)?);
                }
                return Ok(known);
            }
        }
        if let Some(runs) = v.get("runs").and_then(|r| r.as_array()) {
            for result in runs.iter().filter_map(|r| r.get("results")?.as_array()).flatten() {
                let fp = str_at(result, &["partialFingerprints", SARIF_FINGERPRINT]);
                known.insert(pair(str_at(result, &["ruleId"]), fp, "SARIF result")?);
            }
            return Ok(known);
        }
    }
    let not_a_report = || format!("baseline {shown} is not a layerleak report (JSON, JSONL or SARIF)");
    let mut lines = 0;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}: line {} is not JSON", not_a_report(), i + 1))?;
        match v.get("type").and_then(|t| t.as_str()) {
            Some(what @ ("finding" | "secret")) => {
                known.insert(pair(str_at(&v, &["rule"]), str_at(&v, &["fingerprint"]), what)?);
            }
            Some("summary" | "suppressed") => {}
            _ => bail!("{}: line {} is neither a finding, a secret nor a summary", not_a_report(), i + 1),
        }
        lines += 1;
    }
    if lines == 0 {
        bail!("{}: it is empty", not_a_report());
    }
    Ok(known)
}

/// The string at `keys` inside `v`.
fn str_at<'a>(v: &'a serde_json::Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Ignore-file lines: `fingerprint`, `fingerprint:rule` or `fingerprint:rule:path`; blank lines
/// and `#` comments are skipped. A fingerprint is the 64-digit hex SHA-256 reports carry.
fn parse_ignore(text: &str, origin: &str) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, ':');
        let fingerprint = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        if fingerprint.len() != 64 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "{origin}:{}: expected a fingerprint (64 hex digits), optionally followed by :rule and \
                 :path, found {:?}",
                i + 1,
                crate::output::terminal::printable(line)
            );
        }
        let rule = parts.next().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
        let path = parts.next().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string);
        entries.push(Entry { fingerprint, rule, path, line: i + 1 });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::parse_ignore;

    const FP: &str = "f218b89088c67c35135c472a4ca93ee1491033f27ecb0433da118012c006800a";

    #[test]
    fn ignore_lines_take_a_rule_and_a_path() {
        let text = format!("# known\n\n{FP}\n{FP}:github-pat\n{}:github-pat:/app/a:b\n", FP.to_uppercase());
        let e = parse_ignore(&text, "x").expect("valid");
        assert_eq!(e.len(), 3);
        assert_eq!((e[0].line, e[0].rule.as_deref()), (3, None));
        assert_eq!(e[1].rule.as_deref(), Some("github-pat"));
        assert_eq!((e[2].fingerprint.as_str(), e[2].path.as_deref()), (FP, Some("/app/a:b")));
    }

    #[test]
    fn a_bad_ignore_line_names_the_file_and_line() {
        let err = parse_ignore("# ok\nnot-a-fingerprint\n", ".layerleakignore").expect_err("invalid");
        assert!(err.to_string().starts_with(".layerleakignore:2: expected a fingerprint"), "{err}");
    }
}
