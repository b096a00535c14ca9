//! Plain text for people: findings still present first, then those hidden but still in the image,
//! each with its introducing and hiding layer and their Dockerfile steps; the layer timeline; the
//! rule list. Reports are printed from their [`terminal::for_people`] copy, and every line is
//! fitted to [`Style::width`] ([`wrap`]).

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Result;
use layerleak::detect::{Rule, Severity, CATEGORIES};
use layerleak::layer::Status;
use layerleak::report::{human_bytes, place, shorten, Finding, ImageReport, LayerRef, Report, Source};

use super::wrap::{self, room, wrap};
use super::{terminal, Style};
use crate::baseline::{Suppressed, Why};

/// Characters of a Dockerfile step shown (the JSON report has it whole).
const STEP_WIDTH: usize = 70;
/// A step is not shortened below this to fit a narrow line: the line wraps instead.
const STEP_MIN: usize = 16;

/// Writes `line` fitted to the style's width, later lines indented by `indent`.
pub(super) fn put(out: &mut dyn Write, style: &Style, line: &str, indent: usize) -> Result<()> {
    writeln!(out, "{}", wrap(line, style.width, indent))?;
    Ok(())
}

pub(super) fn severity(style: &Style, s: Severity) -> String {
    let (code, text) = match s {
        Severity::Critical => ("1;31", "CRITICAL"),
        Severity::High => ("31", "HIGH"),
        Severity::Medium => ("33", "MEDIUM"),
        _ => ("36", "LOW"),
    };
    style.paint(code, &format!("{text:<8}"))
}

/// `PREFIX layer N sha256:…  STEP`, the step shortened to what is left of the line.
fn layer_line(prefix: &str, l: &LayerRef, style: &Style) -> String {
    let head = format!("{prefix}layer {}", l.index);
    let head = match &l.digest {
        Some(d) => format!("{head} {}", d.short()),
        None => head,
    };
    let Some(step) = l.created_by.as_deref() else { return head };
    let max = room(style.width, wrap::width(&head) + 2, STEP_MIN).map_or(STEP_WIDTH, |r| r.min(STEP_WIDTH));
    format!("{head}  {}", shorten(step, max))
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

/// Where a finding's detail lines put their text.
pub(super) const DETAIL: usize = 16;

/// One finding: a block of lines, or one line with `--compact`. Its remediation is printed
/// before the run of findings that share it ([`write_section`]).
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
        let line = format!(
            "  {} {}  {}  {}{added}{hidden}{packaged}  {shown}  {fp}",
            severity(style, f.severity),
            style.paint("1", &f.rule),
            place(f),
            status_word(if f.visible { Status::Present } else { f.status }),
        );
        return put(out, style, &line, 4);
    }
    // On a narrow line the title gives way first: the rule and the secret stay whole.
    let rule = format!("  {} {}  ", severity(style, f.severity), style.paint("1", &f.rule));
    let title = match room(style.width, wrap::width(&rule) + 2 + wrap::width(shown), TITLE_MIN) {
        Some(max) => shorten(&f.title, max),
        None => f.title.clone(),
    };
    put(out, style, &format!("{rule}{title}  {shown}"), 6)?;
    put(out, style, &format!("      at        {}", where_(f)), DETAIL)?;
    if let Some(l) = &f.introduced_in {
        put(out, style, &layer_line("      added in  ", l, style), DETAIL)?;
    }
    if let Some(h) = &f.hidden_in {
        let how = match h.how {
            layerleak::layer::HiddenHow::Whiteout => "deleted (whiteout)",
            layerleak::layer::HiddenHow::Opaque => "deleted (opaque directory)",
            _ => "overwritten",
        };
        put(out, style, &layer_line(&format!("      {how} in "), &h.layer, style), DETAIL)?;
    }
    for o in &f.also_in {
        let layer = o.layer.map(|l| format!("layer {l} ")).unwrap_or_default();
        let path = match o.location.source {
            Source::File => format!("/{}", o.location.path),
            _ => o.location.path.clone(),
        };
        put(out, style, &format!("      also in   {layer}{path} ({})", status_word(o.status)), DETAIL)?;
    }
    if let Some(p) = &f.package {
        let line = format!("      packaged  {p} (every copy exactly as the package installed it)");
        put(out, style, &line, DETAIL)?;
    }
    if let Some(n) = &f.note {
        put(out, style, &format!("      note      {n}"), DETAIL)?;
    }
    put(out, style, &format!("      sha256    {}", f.fingerprint), DETAIL)
}

/// The findings of one section (still present, or hidden), most severe first. Within a
/// severity, findings that share a remediation are kept together (in the order the remediations
/// first appear, the report's order otherwise), and each run of them is headed by its
/// remediation, once.
fn write_section(
    out: &mut dyn Write,
    title: &str,
    code: &str,
    mut findings: Vec<&Finding>,
    style: &Style,
) -> Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    put(out, style, &style.paint(code, &format!("{title} ({})", findings.len())), 2)?;
    let mut first_seen: Vec<&str> = Vec::new();
    for f in &findings {
        if !first_seen.contains(&f.remediation.as_str()) {
            first_seen.push(&f.remediation);
        }
    }
    let group = |f: &Finding| first_seen.iter().position(|r| *r == f.remediation).unwrap_or(0);
    findings.sort_by_key(|f| (f.severity, group(f)));
    let mut last: Option<&str> = None;
    for f in findings {
        if last != Some(f.remediation.as_str()) {
            put(out, style, &format!("  {} {}", style.paint("1", "fix:"), f.remediation), 7)?;
            last = Some(&f.remediation);
        }
        write_finding(out, f, style)?;
    }
    Ok(())
}

pub(super) fn status_word(s: Status) -> &'static str {
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
        put(out, style, &summary(report, suppressed), 2)?;
        writeln!(out)?;
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
        let (present, hidden): (Vec<&Finding>, Vec<&Finding>) = mine.iter().partition(|f| f.visible);
        write_section(out, "STILL PRESENT", "1;31", present, style)?;
        write_section(out, "HIDDEN BUT STILL IN THE IMAGE", "1;33", hidden, style)?;
        writeln!(out)?;
    }
    write_suppressed(out, listed, style)?;
    if !report.errors.is_empty() {
        writeln!(out, "{}", style.paint("1;31", &format!("COULD NOT READ ({})", report.errors.len())))?;
        for e in super::errors_for_people(&report.errors) {
            put(out, style, &format!("  {}", e.message), 4)?;
        }
        writeln!(out)?;
    }
    for n in &report.notes {
        put(out, style, &format!("note: {n}"), 6)?;
    }
    let s = &report.stats;
    put(out, style, &summary(report, suppressed), 2)?;
    let listed = report.findings.iter().filter(|f| f.package.is_some()).count();
    if listed > 0 {
        let line = format!(
            "{listed} of them packaged: in files exactly as the image's package databases record them"
        );
        put(out, style, &line, 2)?;
    } else if s.findings_packaged > 0 {
        let line = format!(
            "{} packaged findings not listed (in files exactly as the image's package databases record \
             them); --include-packaged lists them",
            s.findings_packaged
        );
        put(out, style, &line, 2)?;
    }
    Ok(())
}

/// The one-line summary: counts by fate and severity, what was suppressed, images, layers,
/// files, errors and the scan time.
fn summary(report: &Report, suppressed: &Suppressed) -> String {
    let s = &report.stats;
    let deleted = report.findings.iter().filter(|f| !f.visible).count();
    let base = suppressed_count(suppressed);
    let severities = match layerleak::report::SeverityCounts::of(&report.findings).describe() {
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
        let line = format!("  {} {}  {shown}  {image} {at}  ({why})", severity(style, f.severity), f.rule);
        put(out, style, &line, 4)?;
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
/// platform) for a registry image, so the pin stays one copyable word. When it does not fit,
/// `@ digest` goes on a line of its own.
fn heading(image: &ImageReport, platform: &str, style: &Style) -> String {
    let pinned = image.pinned();
    match pinned.split_once(" @ ") {
        Some((name, digest)) => {
            let name = format!("{}{platform}", style.paint("1", name));
            let one = format!("{name} @ {digest}");
            if style.width.is_some_and(|w| wrap::width(&one) > w) {
                // The digest is one word: cut only where even a line of its own is too short.
                format!(
                    "{}\n  {}",
                    wrap(&name, style.width, 2),
                    wrap::cut(&format!("@ {digest}"), style.width, 2)
                )
            } else {
                one
            }
        }
        None => wrap(&format!("{}{platform}", style.paint("1", &pinned)), style.width, 2),
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

/// Columns of a `layers` row before the step, at full width.
const LAYER_ROW: usize = 101;

/// The per-layer timeline for people: one row per layer, at full width when the line has room
/// for every column and some of the step; else a narrow form (short headers, columns as wide as
/// their values, the step on a line of its own, a legend at the end).
pub fn write_layers(out: &mut dyn Write, report: &Report, style: &Style) -> Result<()> {
    let report = &terminal::for_people(report);
    let narrow = style.width.is_some_and(|w| w < LAYER_ROW + STEP_MIN);
    for image in &report.images {
        writeln!(out, "{}", heading(image, "", style))?;
        if narrow {
            write_layer_rows_narrow(out, image, style)?;
        } else {
            write_layer_rows(out, image, style)?;
        }
        let wasted: u64 = image.layers.iter().map(|l| l.bytes_wasted).sum();
        let total: u64 = image.layers.iter().map(|l| l.uncompressed_size).sum();
        let packaged = match image.findings_packaged {
            0 => String::new(),
            n => format!(", {n} packaged"),
        };
        let line = format!(
            "wasted: {} of {} ({} findings{packaged})",
            human_bytes(wasted),
            human_bytes(total),
            image.findings
        );
        put(out, style, &line, 2)?;
        writeln!(out)?;
    }
    if narrow && !report.images.is_empty() {
        let legend =
            "ADD files added, OVR overwritten, DEL paths deleted, SEC secrets introduced, HID secrets \
                      hidden, PKG packaged findings";
        put(out, style, legend, 0)?;
    }
    Ok(())
}

fn write_layer_rows(out: &mut dyn Write, image: &ImageReport, style: &Style) -> Result<()> {
    writeln!(
        out,
        "{:>3}  {:<19}  {:>10}  {:>6}  {:>6}  {:>6}  {:>7}  {:>6}  {:>8}  {:>10}  CREATED BY",
        "#", "DIGEST", "SIZE", "ADDED", "OVERWR", "DELETD", "SECRETS", "HIDDEN", "PACKAGED", "WASTED"
    )?;
    let step_max = room(style.width, LAYER_ROW, STEP_MIN).map_or(STEP_WIDTH, |r| r.min(STEP_WIDTH));
    for l in &image.layers {
        let digest = l.digest.as_ref().map(|d| d.short()).unwrap_or_else(|| "-".into());
        let step = l.created_by.as_deref().map(|s| shorten(s, step_max)).unwrap_or_default();
        writeln!(
            out,
            "{:>3}  {:<19}  {:>10}  {:>6}  {:>6}  {:>6}  {}  {:>6}  {:>8}  {:>10}  {}",
            l.index,
            digest,
            human_bytes(l.uncompressed_size),
            l.files_added,
            l.files_overwritten,
            l.paths_deleted,
            secrets_cell(l.secrets_introduced, 7, style),
            l.secrets_hidden,
            l.secrets_packaged,
            human_bytes(l.bytes_wasted),
            step
        )?;
    }
    Ok(())
}

/// The narrow rows: the digest's 12 hex digits, each column as wide as its widest value, and
/// the step on the next line.
fn write_layer_rows_narrow(out: &mut dyn Write, image: &ImageReport, style: &Style) -> Result<()> {
    let rows: Vec<[String; 10]> = image
        .layers
        .iter()
        .map(|l| {
            let digest = l.digest.as_ref().map(|d| d.hex().get(..12).unwrap_or_default().to_string());
            [
                l.index.to_string(),
                digest.unwrap_or_else(|| "-".into()),
                human_bytes(l.uncompressed_size),
                l.files_added.to_string(),
                l.files_overwritten.to_string(),
                l.paths_deleted.to_string(),
                l.secrets_introduced.to_string(),
                l.secrets_hidden.to_string(),
                l.secrets_packaged.to_string(),
                human_bytes(l.bytes_wasted),
            ]
        })
        .collect();
    let head = ["#", "DIGEST", "SIZE", "ADD", "OVR", "DEL", "SEC", "HID", "PKG", "WASTED"];
    let widths: Vec<usize> = (0..head.len())
        .map(|c| rows.iter().map(|r| r[c].len()).chain([head[c].len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: [&str; 10], secrets: Option<usize>| {
        let mut s = String::new();
        for (c, cell) in cells.iter().enumerate() {
            let w = widths[c];
            let cell = match (c, secrets) {
                (1, _) => format!("{cell:<w$}"),
                (6, Some(n)) => secrets_cell(n, w, style),
                _ => format!("{cell:>w$}"),
            };
            s.push_str(&cell);
            s.push_str(if c + 1 < cells.len() { "  " } else { "" });
        }
        s
    };
    writeln!(out, "{}", line(head, None))?;
    let step_max = room(style.width, 5, STEP_MIN).map_or(STEP_WIDTH, |r| r.min(STEP_WIDTH));
    for (l, r) in image.layers.iter().zip(&rows) {
        let cells: [&str; 10] = std::array::from_fn(|c| r[c].as_str());
        writeln!(out, "{}", line(cells, Some(l.secrets_introduced)))?;
        if let Some(step) = l.created_by.as_deref().filter(|s| !s.is_empty()) {
            writeln!(out, "     {}", shorten(step, step_max))?;
        }
    }
    Ok(())
}

/// The secrets-introduced count, `width` wide, in red when there are any.
fn secrets_cell(n: usize, width: usize, style: &Style) -> String {
    let cell = format!("{n:>width$}");
    if n > 0 {
        style.paint("31", &cell)
    } else {
        cell
    }
}

/// Columns of a `rules` row before its keywords, at full width.
const RULE_ROW: usize = 115;
/// A rule title is not shortened below this.
const TITLE_MIN: usize = 16;

/// The rule list: at full width, id, severity, validator, title and keywords; on a narrow line,
/// id, severity and the title shortened to the rest (`rules show` and `-f json` give the rest).
pub fn write_rules(out: &mut dyn Write, rules: &[Rule], width: Option<usize>) -> Result<()> {
    let style = Style { color: false, compact: false, width };
    match width.filter(|&w| w < RULE_ROW + TITLE_MIN) {
        None => {
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
        }
        Some(w) => {
            let id_w = rules.iter().map(|r| r.id.len()).max().unwrap_or(2).clamp(2, w * 2 / 5);
            writeln!(out, "{:<id_w$}  {:<8}  TITLE", "ID", "SEVERITY")?;
            for r in rules {
                let head = format!("{:<id_w$}  {:<8}  ", r.id, r.severity.name());
                let title = shorten(&r.title, room(Some(w), head.len(), TITLE_MIN).unwrap_or(TITLE_MIN));
                writeln!(out, "{head}{title}")?;
            }
        }
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
        let line = format!("{category:<14}  {count:>5}  {:>9}  {description}", providers.len());
        put(out, &style, &line, 34)?;
    }
    let providers: BTreeSet<&str> = rules.iter().filter_map(|r| r.provider.as_deref()).collect();
    writeln!(out, "{} rules, {} providers", rules.len(), providers.len())?;
    Ok(())
}

/// One rule in full, for `rules show`: long values wrap under their field, the regex is cut
/// where each line ends (every character of it matters).
pub fn write_rule(out: &mut dyn Write, r: &Rule, width: Option<usize>) -> Result<()> {
    let style = Style { color: false, compact: false, width };
    let none = "-";
    let mut field = |name: &str, value: &str| put(out, &style, &format!("{name:<12}{value}"), 12);
    field("id", &r.id)?;
    field("title", &r.title)?;
    field("provider", r.provider.as_deref().unwrap_or(none))?;
    field("category", r.category.as_deref().unwrap_or(none))?;
    field("severity", r.severity.name())?;
    field("validator", r.validator.name())?;
    field("keywords", &r.keywords.join(", "))?;
    writeln!(out, "{:<12}{}", "regex", wrap::cut(&r.regex, width, 12))?;
    let mut field = |name: &str, value: &str| put(out, &style, &format!("{name:<12}{value}"), 12);
    field("group", &r.secret_group.to_string())?;
    if let Some(e) = r.min_entropy {
        field("entropy", &format!("{e} bits per byte at least"))?;
    }
    if let Some(p) = &r.path {
        writeln!(out, "{:<12}{}", "path", wrap::cut(p, width, 12))?;
    }
    let mut field = |name: &str, value: &str| put(out, &style, &format!("{name:<12}{value}"), 12);
    field("fix", r.remediation.as_deref().unwrap_or(none))?;
    field(
        "examples",
        &format!(
            "{} positive, {} negative (run by `layerleak rules check`)",
            r.examples.positive.len(),
            r.examples.negative.len()
        ),
    )?;
    Ok(())
}
