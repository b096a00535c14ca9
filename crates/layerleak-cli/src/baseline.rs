//! `--baseline`: findings already known from an earlier JSON report are suppressed.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use layerleak::report::{Finding, Report};

/// The (rule, fingerprint) pairs of an earlier report.
pub struct Baseline {
    known: HashSet<(String, String)>,
}

impl Baseline {
    /// Reads an earlier `--format json` report.
    pub fn load(path: &Path) -> Result<Baseline> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading baseline {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("baseline {} is not JSON", path.display()))?;
        let Some(findings) = v.get("findings").and_then(|f| f.as_array()) else {
            bail!("baseline {} is not a layerleak JSON report (no \"findings\" array)", path.display());
        };
        let mut known = HashSet::new();
        for f in findings {
            match (f.get("rule").and_then(|r| r.as_str()), f.get("fingerprint").and_then(|r| r.as_str())) {
                (Some(rule), Some(fp)) => {
                    known.insert((rule.to_string(), fp.to_string()));
                }
                _ => bail!("baseline {}: a finding lacks \"rule\" or \"fingerprint\"", path.display()),
            }
        }
        Ok(Baseline { known })
    }

    /// Whether the finding was already in the baseline.
    pub fn contains(&self, f: &Finding) -> bool {
        self.known.contains(&(f.rule.clone(), f.fingerprint.clone()))
    }

    /// Drops known findings from `report`; returns how many.
    pub fn filter(&self, report: &mut Report) -> usize {
        let before = report.findings.len();
        report.findings.retain(|f| !self.contains(f));
        let dropped = before - report.findings.len();
        report.stats.findings = report.findings.len();
        report.stats.findings_visible = report.findings.iter().filter(|f| f.visible).count();
        for image in &mut report.images {
            image.findings = report.findings.iter().filter(|f| f.image == image.name).count();
        }
        dropped
    }
}
