//! Writing a report by distinct secret: the table (groups by root-cause layer, each secret with
//! its status across images and its first places), the `"schema": 2` JSON document, JSONL lines
//! after the run, and SARIF. Every text from an image goes through [`terminal::printable`] in the
//! table; the JSON formats keep the exact text.

use std::collections::HashSet;
use std::io::Write;

use anyhow::Result;
use layerleak::detect::Rule;
use layerleak::report::by_secret::{DistinctSecret, IntroducingLayer, Place, SecretReport, SecretSummary};
use layerleak::report::{sarif, shorten, Source};
use serde::Serialize;

use super::table::{put, severity, status_word, DETAIL};
use super::{terminal, Style};
use crate::by_secret::SuppressedSecrets;

/// Places of a secret the table shows unless `--all-places`.
const FIRST_PLACES: usize = 3;
const STEP_WIDTH: usize = 60;

/// What the table shows besides the secrets.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Every place, not the first [`FIRST_PLACES`].
    pub all_places: bool,
    /// The per-repository counts.
    pub by_repository: bool,
    /// Each suppressed secret, with why.
    pub show_suppressed: bool,
}

fn p(text: &str) -> String {
    terminal::printable(text).into_owned()
}

/// `1 image`, `3 images`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A layer for people: short digest and its step.
fn layer_text(l: &IntroducingLayer<'_>) -> String {
    let digest = l.digest.map(short).unwrap_or_else(|| "(no digest)".into());
    match l.created_by {
        Some(step) => format!("{digest}  {}", p(&shorten(step, STEP_WIDTH))),
        None => digest,
    }
}

/// `sha256:` and the first 12 hex digits.
fn short(digest: &str) -> String {
    match digest.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", hex.get(..12).unwrap_or(hex)),
        None => digest.to_string(),
    }
}

/// `/path!inner:line:column` or the config field.
fn where_(place: &Place<'_>) -> String {
    let mut s = match place.source {
        Source::File => format!("/{}", place.path),
        _ => place.path.to_string(),
    };
    if let Some(i) = place.inner {
        s.push('!');
        s.push_str(i);
    }
    match (place.line, place.column) {
        (Some(l), Some(c)) => s.push_str(&format!(":{l}:{c}")),
        (Some(l), None) => s.push_str(&format!(":{l}")),
        _ => {}
    }
    p(&s)
}

/// The table.
pub fn write_table(
    out: &mut dyn Write,
    r: &SecretReport,
    suppressed: &SuppressedSecrets,
    style: &Style,
    shape: Shape,
) -> Result<()> {
    if !r.secrets.is_empty() || !r.errors.is_empty() {
        put(out, style, &summary(r, suppressed), 2)?;
        writeln!(out)?;
    }
    // Compact lines of secrets with causes of their own run on without blank lines between.
    let mut open_run = false;
    for group in r.groups() {
        // A layer shared by several images is one fix for all of them: said once, above its
        // secrets. A layer of one image is named beside each secret instead.
        let shared = group.root.filter(|root| root.images > 1);
        if open_run && shared.is_some() {
            writeln!(out)?;
        }
        open_run = style.compact && shared.is_none();
        if let Some(root) = &shared {
            put(out, style, &style.paint("1", &format!("SHARED LAYER {}", layer_text(root))), 4)?;
            let introduces = format!(
                "  introduces {} into {} of {}: fix it once, in the build that makes this layer",
                count(group.secrets.len(), "secret", "secrets"),
                count(root.images, "image", "images"),
                count(group.repositories, "repository", "repositories")
            );
            put(out, style, &introduces, 4)?;
            if let Some(first) = group.secrets.first().filter(|_| !style.compact && !shape.all_places) {
                write_group_images(out, r, first, style)?;
            }
        }
        // As in the per-image table: each run of secrets sharing a remediation is headed by it,
        // once.
        let mut last_fix: Option<&str> = None;
        for s in &group.secrets {
            if last_fix != Some(s.remediation.as_str()) {
                put(out, style, &format!("  {} {}", style.paint("1", "fix:"), p(&s.remediation)), 7)?;
                last_fix = Some(&s.remediation);
            }
            write_secret(out, r, s, shared.is_none(), style, shape)?;
        }
        if !open_run {
            writeln!(out)?;
        }
    }
    if open_run {
        writeln!(out)?;
    }
    if r.secrets.is_empty() {
        let what = match (suppressed.by_baseline(), suppressed.by_ignore_file()) {
            (0, 0) => "no secrets found",
            (_, 0) => "no secrets outside the baseline",
            _ => "no secrets left after suppression",
        };
        put(out, style, &format!("{what} in {}", count(r.summary.images, "image", "images")), 2)?;
        writeln!(out)?;
    }
    if shape.by_repository {
        write_repositories(out, r, style)?;
    }
    if shape.show_suppressed {
        write_suppressed(out, suppressed, style)?;
    }
    if !r.errors.is_empty() {
        put(out, style, &style.paint("1;31", &format!("COULD NOT READ ({})", r.errors.len())), 2)?;
        for e in super::errors_for_people(&r.errors) {
            put(out, style, &format!("  {}", p(&e.message)), 4)?;
        }
        writeln!(out)?;
    }
    for (note, images) in r.folded_notes() {
        match images {
            0 | 1 => put(out, style, &format!("note: {}", p(&note)), 6)?,
            n => put(out, style, &format!("note: {} ({n} images)", p(&note)), 6)?,
        }
    }
    put(out, style, &summary(r, suppressed), 2)?;
    let packaged = r.secrets.iter().filter(|s| s.package.is_some()).count();
    if packaged > 0 {
        let line = format!(
            "{packaged} of them packaged: in files exactly as the images' package databases record them"
        );
        put(out, style, &line, 2)?;
    } else if r.stats.findings_packaged > 0 {
        let line = format!(
            "{} packaged findings not listed (in files exactly as the images' package databases record \
             them); --include-packaged lists them",
            r.stats.findings_packaged
        );
        put(out, style, &line, 2)?;
    }
    Ok(())
}

fn write_secret(
    out: &mut dyn Write,
    r: &SecretReport,
    s: &DistinctSecret,
    own_cause: bool,
    style: &Style,
    shape: Shape,
) -> Result<()> {
    let shown = p(s.secret.as_deref().unwrap_or(&s.redacted));
    let status = match (s.visible_in, s.hidden_in) {
        (v, 0) => format!("present in {}", count(v, "image", "images")),
        (0, h) => format!("hidden but extractable in {}", count(h, "image", "images")),
        (v, h) => format!("present in {}, hidden but extractable in {h}", count(v, "image", "images")),
    };
    let repos = count(s.repositories(), "repository", "repositories");
    let (sev, rule) = (severity(style, s.severity), style.paint("1", &p(&s.rule)));
    if style.compact {
        // One line: enough to find the secret in a JSON report or an ignore file.
        let fp = s.fingerprint.get(..12).unwrap_or(&s.fingerprint);
        put(out, style, &format!("  {sev} {rule}  {status} ({repos})  {shown}  {fp}"), 4)?;
        return Ok(());
    }
    put(out, style, &format!("  {sev} {rule}  {}  {shown}", p(&s.title)), 6)?;
    put(out, style, &format!("      status    {status} ({repos})"), DETAIL)?;
    if own_cause {
        for l in r.introduced_by(s) {
            let images = count(l.images, "image", "images");
            put(out, style, &format!("      added by  {} in {images}", layer_text(&l)), DETAIL)?;
        }
        if r.config_images(s) > 0 {
            let images = count(r.config_images(s), "image", "images");
            put(
                out,
                style,
                &format!("      added by  the image config (env, labels, history) of {images}"),
                DETAIL,
            )?;
        }
    }
    if own_cause || shape.all_places {
        write_places(out, r, s, shape.all_places, style)?;
    } else {
        write_paths(out, r, s, style)?;
    }
    if let Some(pkg) = &s.package {
        let line = format!(
            "      packaged  {} (every copy exactly as the package installed it)",
            p(&pkg.to_string())
        );
        put(out, style, &line, DETAIL)?;
    }
    if let Some(n) = &s.note {
        put(out, style, &format!("      note      {}", p(n)), DETAIL)?;
    }
    put(out, style, &format!("      sha256    {}", s.fingerprint), DETAIL)?;
    Ok(())
}

fn write_places(
    out: &mut dyn Write,
    r: &SecretReport,
    s: &DistinctSecret,
    all: bool,
    style: &Style,
) -> Result<()> {
    let shown = if all { usize::MAX } else { FIRST_PLACES };
    let mut label = "places   ";
    for place in r.places(s).take(shown) {
        let layer = place.layer_index.map(|i| format!("  layer {i}")).unwrap_or_default();
        let line = format!(
            "      {label} {}  {}{layer}  {}",
            p(place.image),
            where_(&place),
            status_word(place.status)
        );
        put(out, style, &line, DETAIL)?;
        label = "         ";
    }
    let more = s.places().saturating_sub(shown);
    if more > 0 {
        let repos: HashSet<&str> = r.places(s).skip(shown).map(|p| p.repository).collect();
        let repos = count(repos.len(), "repository", "repositories");
        put(
            out,
            style,
            &format!("                and {more} more in {repos} (--all-places lists them)"),
            DETAIL,
        )?;
    }
    Ok(())
}

/// A secret of a shared layer, whose images its group names: where it is in them (usually one
/// path, the same in every image) and the fate of each.
fn write_paths(out: &mut dyn Write, r: &SecretReport, s: &DistinctSecret, style: &Style) -> Result<()> {
    let mut seen: Vec<(String, &'static str)> = Vec::new();
    for place in r.places(s) {
        let at = (where_(&place), status_word(place.status));
        if !seen.contains(&at) {
            seen.push(at);
        }
    }
    let mut label = "at       ";
    for (at, status) in seen.iter().take(FIRST_PLACES) {
        put(out, style, &format!("      {label} {at}  {status}"), DETAIL)?;
        label = "         ";
    }
    if seen.len() > FIRST_PLACES {
        let more = seen.len() - FIRST_PLACES;
        put(
            out,
            style,
            &format!("                and {more} more (--all-places lists every place)"),
            DETAIL,
        )?;
    }
    Ok(())
}

/// The images of a group's first secret: the first few, then how many more in how many
/// repositories.
fn write_group_images(
    out: &mut dyn Write,
    r: &SecretReport,
    s: &DistinctSecret,
    style: &Style,
) -> Result<()> {
    let mut images: Vec<(&str, &str)> = r.places(s).map(|p| (p.image, p.repository)).collect();
    images.dedup();
    let shown: Vec<String> = images.iter().take(FIRST_PLACES).map(|(i, _)| p(i)).collect();
    put(out, style, &format!("  images    {}", shown.join(", ")), 12)?;
    if images.len() > FIRST_PLACES {
        let repos: HashSet<&str> = images[FIRST_PLACES..].iter().map(|(_, r)| *r).collect();
        let more = images.len() - FIRST_PLACES;
        let repos = count(repos.len(), "repository", "repositories");
        put(out, style, &format!("            and {more} more in {repos} (--all-places lists them)"), 12)?;
    }
    Ok(())
}

fn write_repositories(out: &mut dyn Write, r: &SecretReport, style: &Style) -> Result<()> {
    put(out, style, &style.paint("1", &format!("BY REPOSITORY ({})", r.repositories.len())), 2)?;
    let width = r.repositories.iter().map(|x| p(&x.repository).chars().count()).max().unwrap_or(0).max(10);
    writeln!(
        out,
        "  {:<width$}  {:>6}  {:>5}  {:>7}  {:>7}  {:>6}  {:>6}",
        "REPOSITORY", "IMAGES", "TAGS", "SECRETS", "PRESENT", "HIDDEN", "PLACES"
    )?;
    for x in &r.repositories {
        writeln!(
            out,
            "  {:<width$}  {:>6}  {:>5}  {:>7}  {:>7}  {:>6}  {:>6}",
            p(&x.repository),
            x.images,
            x.tags,
            x.secrets,
            x.present,
            x.hidden,
            x.places
        )?;
    }
    writeln!(out)?;
    Ok(())
}

fn write_suppressed(out: &mut dyn Write, s: &SuppressedSecrets, style: &Style) -> Result<()> {
    let list = &s.report.secrets;
    if list.is_empty() {
        return Ok(());
    }
    put(out, style, &style.paint("1", &format!("SUPPRESSED ({})", list.len())), 2)?;
    for x in list {
        let shown = p(x.secret.as_deref().unwrap_or(&x.redacted));
        let why = s.why(x).map(|w| p(&w.to_string())).unwrap_or_default();
        let images = count(x.images(), "image", "images");
        let line = format!("  {} {}  {shown}  in {images}  ({why})", severity(style, x.severity), p(&x.rule));
        put(out, style, &line, 4)?;
    }
    writeln!(out)?;
    Ok(())
}

/// `3 distinct secrets (2 still present, 1 hidden but extractable; 3 critical)`.
fn secrets_line(s: &SecretSummary) -> String {
    let severities = match s.by_severity.describe() {
        d if d.is_empty() => d,
        d => format!("; {d}"),
    };
    format!(
        "{} ({} still present, {} hidden but extractable{severities})",
        count(s.secrets, "distinct secret", "distinct secrets"),
        s.present,
        s.hidden
    )
}

/// The one-line summary: distinct secrets, suppression, images, repositories and tags, distinct
/// layers, errors and time.
fn summary(r: &SecretReport, suppressed: &SuppressedSecrets) -> String {
    let s = &r.summary;
    let left_out = match (suppressed.by_baseline(), suppressed.by_ignore_file(), suppressed.ignore_file()) {
        (0, 0, _) => String::new(),
        (b, 0, _) => format!(", {b} suppressed by baseline"),
        (0, i, file) => format!(", {i} suppressed by {}", p(file.unwrap_or("the ignore file"))),
        (b, i, file) => {
            format!(
                ", {} suppressed ({b} by baseline, {i} by {})",
                b + i,
                p(file.unwrap_or("the ignore file"))
            )
        }
    };
    let cached =
        if s.layers_cached > 0 { format!(", {} from the cache", s.layers_cached) } else { String::new() };
    format!(
        "{}{left_out} in {}, {}, {}; {} ({} scanned{cached}, {} reused); {} errors, {:.1} s",
        secrets_line(s),
        count(s.images, "image", "images"),
        count(s.repositories, "repository", "repositories"),
        count(s.tags, "tag", "tags"),
        count(s.layers_distinct, "distinct layer", "distinct layers"),
        s.layers_scanned,
        s.layers_reused,
        r.stats.errors,
        r.stats.seconds
    )
}

/// The line left on stderr when the report goes to a file.
pub fn short_summary(r: &SecretReport) -> String {
    format!(
        "{} in {}, {} errors, {:.1} s",
        secrets_line(&r.summary),
        count(r.summary.images, "image", "images"),
        r.stats.errors,
        r.stats.seconds
    )
}

/// A suppressed secret: its object and `suppressed_by`.
#[derive(Serialize)]
struct SuppressedJson<T: Serialize> {
    #[serde(flatten)]
    secret: T,
    suppressed_by: String,
}

fn suppressed_list(s: &SuppressedSecrets) -> Vec<SuppressedJson<impl Serialize + '_>> {
    s.report
        .secrets
        .iter()
        .map(|x| SuppressedJson {
            secret: s.report.secret_json(x),
            suppressed_by: s.why(x).map(|w| w.to_string()).unwrap_or_default(),
        })
        .collect()
}

/// What the JSON formats add to the report: how many secrets match `--fail-on`, what
/// suppression left out, and whether to list it (`--show-suppressed`).
pub struct Extras<'a> {
    pub failing: usize,
    pub suppressed: &'a SuppressedSecrets,
    pub listed: bool,
}

/// The document, then `failing_secrets` (how many match `--fail-on`), then `suppressed` when a
/// baseline or an ignore file was in use.
pub fn write_json(out: &mut dyn Write, r: &SecretReport, extras: &Extras<'_>) -> Result<()> {
    let Extras { failing, suppressed, listed } = *extras;
    #[derive(Serialize)]
    struct Left<T: Serialize> {
        baseline: usize,
        ignore_file: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        secrets: Option<Vec<SuppressedJson<T>>>,
    }
    #[derive(Serialize)]
    struct Full<'a, T: Serialize> {
        #[serde(flatten)]
        report: &'a SecretReport,
        failing_secrets: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        suppressed: Option<Left<T>>,
    }
    let left = suppressed.active.then(|| Left {
        baseline: suppressed.by_baseline(),
        ignore_file: suppressed.by_ignore_file(),
        secrets: listed.then(|| suppressed_list(suppressed)),
    });
    serde_json::to_writer_pretty(&mut *out, &Full { report: r, failing_secrets: failing, suppressed: left })?;
    out.write_all(b"\n")?;
    Ok(())
}

#[derive(Serialize)]
struct Line<T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: T,
}

fn line(out: &mut dyn Write, kind: &'static str, body: impl Serialize) -> Result<()> {
    serde_json::to_writer(&mut *out, &Line { kind, body })?;
    out.write_all(b"\n")?;
    Ok(())
}

/// One `secret` line per distinct secret, a `suppressed` line per listed suppressed one, then the
/// `summary` line.
pub fn write_jsonl(out: &mut dyn Write, r: &SecretReport, extras: &Extras<'_>) -> Result<()> {
    let Extras { failing, suppressed, listed } = *extras;
    for s in &r.secrets {
        line(out, "secret", r.secret_json(s))?;
    }
    if listed {
        for s in suppressed_list(suppressed) {
            line(out, "suppressed", s)?;
        }
    }
    #[derive(Serialize)]
    struct Summary<'a> {
        schema: u32,
        group_by: &'static str,
        summary: &'a SecretSummary,
        repositories: &'a [layerleak::report::by_secret::RepositoryCount],
        errors: &'a [layerleak::report::ErrorRecord],
        notes: &'a [String],
        stats: &'a layerleak::report::Stats,
        failing_secrets: usize,
        suppressed_by_baseline: usize,
        suppressed_by_ignore_file: usize,
    }
    let summary = Summary {
        schema: r.schema,
        group_by: "secret",
        summary: &r.summary,
        repositories: &r.repositories,
        errors: &r.errors,
        notes: &r.notes,
        stats: &r.stats,
        failing_secrets: failing,
        suppressed_by_baseline: suppressed.by_baseline(),
        suppressed_by_ignore_file: suppressed.by_ignore_file(),
    };
    line(out, "summary", summary)
}

/// SARIF; with `--show-suppressed`, the suppressed secrets follow, marked as such.
pub fn write_sarif(out: &mut dyn Write, r: &SecretReport, rules: &[Rule], extras: &Extras<'_>) -> Result<()> {
    let left_out = extras.suppressed;
    let reasons: Vec<String> = if extras.listed {
        left_out
            .report
            .secrets
            .iter()
            .map(|x| left_out.why(x).map(|w| w.to_string()).unwrap_or_default())
            .collect()
    } else {
        Vec::new()
    };
    let listed: Vec<sarif::SuppressedSecret<'_>> = left_out
        .report
        .secrets
        .iter()
        .zip(&reasons)
        .map(|(x, why)| sarif::SuppressedSecret::new(&left_out.report, x, why))
        .collect();
    serde_json::to_writer_pretty(&mut *out, &sarif::secrets_to_sarif_with(r, rules, &listed))?;
    out.write_all(b"\n")?;
    Ok(())
}
