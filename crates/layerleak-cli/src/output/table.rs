//! Plain text for people: findings still present first, then those hidden but still in the image,
//! each with its introducing and hiding layer and their Dockerfile steps; the layer timeline; the
//! rule list. Reports are printed from their [`terminal::for_people`] copy.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Result;
use layerleak::detect::{Rule, Severity, CATEGORIES};
use layerleak::layer::Status;
use layerleak::report::{human_bytes, place, shorten, Finding, ImageReport, LayerRef, Report, Source};

use super::{terminal, Style};
use crate::baseline::{Suppressed, Why};

const STEP_WIDTH: usize = 70;

fn severity(style: &Style, s: Severity) -> String {
    let (code, text) = match s {
        Severity::Critical => ("1;31", "CRITICAL"),
        Severity::High => ("31", "HIGH"),
        Severity::Medium => ("33", "MEDIUM"),
        _ => ("36", "LOW"),
    };
    style.paint(code, &format!("{text:<8}"))
}

fn layer_line(l: &LayerRef) -> String {
    let digest = l.digest.as_ref().map(|d| format!(" {}", d.short())).unwrap_or_default();
    let step = l.created_by.as_deref().map(|s| format!("  {}", shorten(s, STEP_WIDTH))).unwrap_or_default();
    format!("layer {}{}{}", l.index, digest, step)
}

fn where_(f: &Finding) -> String {
    let loc = &f.location;
    let mut s = place(f);
    s.push_str(&format!(" (offset {})", loc.offset));
    if !loc.aliases.is_empty() {
        let a: Vec<String> = loc.aliases.iter().map(|a| format!("/{a}")).collect();
        s.push_str(&format!(" = hardlink {}", a.join(", ")));
    }
    s
}

fn write_finding(out: &mut dyn Write, f: &Finding, style: &Style) -> Result<()> {
    // The secret itself only when the scan kept it (`--show-secrets`); else its redacted form.
    let shown = f.secret.as_deref().unwrap_or(&f.redacted);
    if style.compact {
        // One line: severity, rule, where, its fate and the layers behind it, the secret, the
        // fingerprint's first 12 digits (enough to find it in a JSON report or an ignore file).
        let added =
            f.introduced_in.as_ref().map(|l| format!(", added in layer {}", l.index)).unwrap_or_default();
        let hidden =
            f.hidden_in.as_ref().map(|h| format!(", hidden in layer {}", h.layer.index)).unwrap_or_default();
        let packaged = f.package.as_ref().map(|p| format!(" [packaged: {p}]")).unwrap_or_default();
        let fp = f.fingerprint.get(..12).unwrap_or(&f.fingerprint);
        writeln!(
            out,
            "  {} {}  {}  {}{added}{hidden}{packaged}  {shown}  {fp}",
            severity(style, f.severity),
            style.paint("1", &f.rule),
            place(f),
            status_word(if f.visible { Status::Present } else { f.status }),
        )?;
        return Ok(());
    }
    writeln!(out, "  {} {}  {}  {}", severity(style, f.severity), style.paint("1", &f.rule), f.title, shown)?;
    writeln!(out, "      at        {}", where_(f))?;
    if let Some(l) = &f.introduced_in {
        writeln!(out, "      added in  {}", layer_line(l))?;
    }
    if let Some(h) = &f.hidden_in {
        let how = match h.how {
            layerleak::layer::HiddenHow::Whiteout => "deleted (whiteout)",
            layerleak::layer::HiddenHow::Opaque => "deleted (opaque directory)",
            _ => "overwritten",
        };
        writeln!(out, "      {how} in {}", layer_line(&h.layer))?;
    }
    for o in &f.also_in {
        let layer = o.layer.map(|l| format!("layer {l} ")).unwrap_or_default();
        let path = match o.location.source {
            Source::File => format!("/{}", o.location.path),
            _ => o.location.path.clone(),
        };
        writeln!(out, "      also in   {layer}{path} ({})", status_word(o.status))?;
    }
    if let Some(p) = &f.package {
        writeln!(out, "      packaged  {p} (every copy exactly as the package installed it)")?;
    }
    if let Some(n) = &f.note {
        writeln!(out, "      note      {n}")?;
    }
    writeln!(out, "      fix       {}", f.remediation)?;
    writeln!(out, "      sha256    {}", f.fingerprint)?;
    Ok(())
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Present => "present",
        Status::Deleted => "deleted",
        _ => "shadowed",
    }
}

/// The scan report for people.
pub fn write_scan(
    out: &mut dyn Write,
    report: &Report,
    suppressed: &Suppressed,
    listed: &[(Finding, Why)],
    style: &Style,
) -> Result<()> {
    let report = &terminal::for_people(report);
    // A long report starts with how it ends, so its gist is not scrolled away.
    if !report.findings.is_empty() || !report.errors.is_empty() {
        writeln!(out, "{}\n", summary(report, suppressed))?;
    }
    // Findings name their image, so images sharing a name (the same image given twice) are
    // printed once with all their findings, not once per copy.
    let mut printed = std::collections::HashSet::new();
    for image in &report.images {
        if !printed.insert(image.name.as_str()) {
            continue;
        }
        // Names of images in multi-platform inputs already end in their platform.
        let platform = image
            .platform
            .as_ref()
            .map(|p| format!(" [{p}]"))
            .filter(|p| !image.name.contains(p.trim_matches([' ', '[', ']'])))
            .unwrap_or_default();
        writeln!(out, "{}", heading(image, &platform, style))?;
        let mine: Vec<&Finding> = report.findings.iter().filter(|f| f.image == image.name).collect();
        if mine.is_empty() {
            let what = match (suppressed.by_baseline(), suppressed.by_ignore_file()) {
                (0, 0) => "no secrets found",
                (_, 0) => "no findings outside the baseline",
                _ => "no findings left after suppression",
            };
            writeln!(out, "  {what} in {} layers", image.layers.len())?;
            writeln!(out)?;
            continue;
        }
        let (mut present, mut hidden): (Vec<&Finding>, Vec<&Finding>) = mine.iter().partition(|f| f.visible);
        // Most severe first; the report's order (layer, path, offset) within one severity.
        present.sort_by_key(|f| f.severity);
        hidden.sort_by_key(|f| f.severity);
        if !present.is_empty() {
            writeln!(out, "{}", style.paint("1;31", &format!("STILL PRESENT ({})", present.len())))?;
            for f in &present {
                write_finding(out, f, style)?;
            }
        }
        if !hidden.is_empty() {
            writeln!(
                out,
                "{}",
                style.paint("1;33", &format!("HIDDEN BUT STILL IN THE IMAGE ({})", hidden.len()))
            )?;
            for f in &hidden {
                write_finding(out, f, style)?;
            }
        }
        writeln!(out)?;
    }
    write_suppressed(out, listed, style)?;
    if !report.errors.is_empty() {
        writeln!(out, "{}", style.paint("1;31", &format!("COULD NOT READ ({})", report.errors.len())))?;
        for e in super::errors_for_people(report) {
            writeln!(out, "  {}", e.message)?;
        }
        writeln!(out)?;
    }
    for n in &report.notes {
        writeln!(out, "note: {n}")?;
    }
    let s = &report.stats;
    writeln!(out, "{}", summary(report, suppressed))?;
    let listed = report.findings.iter().filter(|f| f.package.is_some()).count();
    if listed > 0 {
        writeln!(
            out,
            "{listed} of them packaged: in files exactly as the image's package databases record them"
        )?;
    } else if s.findings_packaged > 0 {
        writeln!(
            out,
            "{} packaged findings not listed (in files exactly as the image's package databases record \
             them); --include-packaged lists them",
            s.findings_packaged
        )?;
    }
    Ok(())
}

/// The one-line summary: counts by fate and severity, what was suppressed, images, layers,
/// files, errors and the scan time.
fn summary(report: &Report, suppressed: &Suppressed) -> String {
    let s = &report.stats;
    let deleted = report.findings.iter().filter(|f| !f.visible).count();
    let base = suppressed_count(suppressed);
    let severities = match super::SeverityCounts::of(&report.findings).describe() {
        d if d.is_empty() => d,
        d => format!("; {d}"),
    };
    format!(
        "{} findings ({} still present, {} hidden but extractable{severities}){} in {} image(s), {} layers ({}), {} files, {} errors, {:.1} s",
        s.findings, s.findings_visible, deleted, base, s.images, s.layers, walked(s), s.files, s.errors, s.seconds
    )
}

/// `--show-suppressed`: one line per finding left out, with why.
fn write_suppressed(out: &mut dyn Write, listed: &[(Finding, Why)], style: &Style) -> Result<()> {
    if listed.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", style.paint("1", &format!("SUPPRESSED ({})", listed.len())))?;
    for (f, why) in listed {
        let shown = terminal::printable(f.secret.as_deref().unwrap_or(&f.redacted)).into_owned();
        let at = terminal::printable(&place(f)).into_owned();
        let image = terminal::printable(&f.image).into_owned();
        writeln!(out, "  {} {}  {shown}  {image} {at}  ({why})", severity(style, f.severity), f.rule)?;
    }
    writeln!(out)?;
    Ok(())
}

/// `, N suppressed by baseline`, `, N suppressed by FILE` or both, for the summary line.
fn suppressed_count(s: &Suppressed) -> String {
    let file = s.findings.iter().find_map(|(_, w)| match w {
        Why::IgnoreFile { file, .. } => Some(terminal::printable(file).into_owned()),
        Why::Baseline => None,
    });
    match (s.by_baseline(), s.by_ignore_file(), file) {
        (0, 0, _) => String::new(),
        (b, 0, _) => format!(", {b} suppressed by baseline"),
        (0, i, Some(file)) => format!(", {i} suppressed by {file}"),
        (b, i, file) => {
            format!(", {} suppressed ({b} by baseline, {i} by {})", b + i, file.unwrap_or_default())
        }
    }
}

/// The image's first line: `name [platform] @ digest` for a local image, the pin (then the
/// platform) for a registry image, so the pin stays one copyable word.
fn heading(image: &ImageReport, platform: &str, style: &Style) -> String {
    let pinned = image.pinned();
    match pinned.split_once(" @ ") {
        Some((name, digest)) => format!("{}{platform} @ {digest}", style.paint("1", name)),
        None => format!("{}{platform}", style.paint("1", &pinned)),
    }
}

/// Layers walked, and when any were not: how many came from this run and from the cache.
fn walked(s: &layerleak::report::Stats) -> String {
    if s.layers_reused == 0 && s.layers_cached == 0 {
        return format!("{} walked", s.layers_scanned);
    }
    format!(
        "{} read and scanned, {} reused from this run, {} from the cache",
        s.layers_scanned, s.layers_reused, s.layers_cached
    )
}

/// The per-layer timeline for people.
pub fn write_layers(out: &mut dyn Write, report: &Report, style: &Style) -> Result<()> {
    let report = &terminal::for_people(report);
    for image in &report.images {
        writeln!(out, "{}", heading(image, "", style))?;
        writeln!(
            out,
            "{:>3}  {:<19}  {:>10}  {:>6}  {:>6}  {:>6}  {:>7}  {:>6}  {:>8}  {:>10}  CREATED BY",
            "#", "DIGEST", "SIZE", "ADDED", "OVERWR", "DELETD", "SECRETS", "HIDDEN", "PACKAGED", "WASTED"
        )?;
        for l in &image.layers {
            let digest = l.digest.as_ref().map(|d| d.short()).unwrap_or_else(|| "-".into());
            let step = l.created_by.as_deref().map(|s| shorten(s, STEP_WIDTH)).unwrap_or_default();
            let secrets = if l.secrets_introduced > 0 {
                style.paint("31", &format!("{:>7}", l.secrets_introduced))
            } else {
                format!("{:>7}", 0)
            };
            writeln!(
                out,
                "{:>3}  {:<19}  {:>10}  {:>6}  {:>6}  {:>6}  {}  {:>6}  {:>8}  {:>10}  {}",
                l.index,
                digest,
                human_bytes(l.uncompressed_size),
                l.files_added,
                l.files_overwritten,
                l.paths_deleted,
                secrets,
                l.secrets_hidden,
                l.secrets_packaged,
                human_bytes(l.bytes_wasted),
                step
            )?;
        }
        let wasted: u64 = image.layers.iter().map(|l| l.bytes_wasted).sum();
        let total: u64 = image.layers.iter().map(|l| l.uncompressed_size).sum();
        writeln!(
            out,
            "wasted: {} of {} ({} findings{})",
            human_bytes(wasted),
            human_bytes(total),
            image.findings,
            match image.findings_packaged {
                0 => String::new(),
                n => format!(", {n} packaged"),
            }
        )?;
        writeln!(out)?;
    }
    Ok(())
}

/// The rule list.
pub fn write_rules(out: &mut dyn Write, rules: &[Rule]) -> Result<()> {
    writeln!(out, "{:<36}  {:<9}  {:<12}  {:<50}  KEYWORDS", "ID", "SEVERITY", "VALIDATOR", "TITLE")?;
    for r in rules {
        writeln!(
            out,
            "{:<36}  {:<9}  {:<12}  {:<50}  {}",
            r.id,
            r.severity.name(),
            r.validator.name(),
            shorten(&r.title, 50),
            r.keywords.join(",")
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{:<14}  {:>5}  {:>9}  DESCRIPTION", "CATEGORY", "RULES", "PROVIDERS")?;
    let mut categories: Vec<(&str, &str)> = CATEGORIES.to_vec();
    for r in rules {
        if let Some(c) = r.category.as_deref().filter(|c| !categories.iter().any(|(k, _)| k == c)) {
            categories.push((c, ""));
        }
    }
    categories.push(("(none)", "rules without a category"));
    for (category, description) in categories {
        let of = |r: &&Rule| r.category.as_deref().unwrap_or("(none)") == category;
        let count = rules.iter().filter(of).count();
        if count == 0 {
            continue;
        }
        let providers: BTreeSet<&str> =
            rules.iter().filter(of).filter_map(|r| r.provider.as_deref()).collect();
        writeln!(out, "{category:<14}  {count:>5}  {:>9}  {description}", providers.len())?;
    }
    let providers: BTreeSet<&str> = rules.iter().filter_map(|r| r.provider.as_deref()).collect();
    writeln!(out, "{} rules, {} providers", rules.len(), providers.len())?;
    Ok(())
}

/// One rule in full, for `rules show`.
pub fn write_rule(out: &mut dyn Write, r: &Rule) -> Result<()> {
    let none = "-";
    writeln!(out, "id          {}", r.id)?;
    writeln!(out, "title       {}", r.title)?;
    writeln!(out, "provider    {}", r.provider.as_deref().unwrap_or(none))?;
    writeln!(out, "category    {}", r.category.as_deref().unwrap_or(none))?;
    writeln!(out, "severity    {}", r.severity.name())?;
    writeln!(out, "validator   {}", r.validator.name())?;
    writeln!(out, "keywords    {}", r.keywords.join(", "))?;
    writeln!(out, "regex       {}", r.regex)?;
    writeln!(out, "group       {}", r.secret_group)?;
    if let Some(e) = r.min_entropy {
        writeln!(out, "entropy     {e} bits per byte at least")?;
    }
    if let Some(p) = &r.path {
        writeln!(out, "path        {p}")?;
    }
    writeln!(out, "fix         {}", r.remediation.as_deref().unwrap_or(none))?;
    writeln!(
        out,
        "examples    {} positive, {} negative (run by `layerleak rules check`)",
        r.examples.positive.len(),
        r.examples.negative.len()
    )?;
    Ok(())
}
