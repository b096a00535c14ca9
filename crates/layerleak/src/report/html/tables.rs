//! The findings table and the per-layer chart of an image section.
//!
//! Each row carries what the inline script sorts and filters on as data attributes (`data-fp`,
//! `data-status`, `data-sev`, `data-rule`, and `data-k` on cells that sort by number), so the
//! script reads everything it needs from the markup.

use std::fmt::Write as _;

use super::escape::Esc;
use super::{Plan, Section};
use crate::detect::Severity;
use crate::layer::{HiddenHow, Status};
use crate::report::{
    human_bytes, place, shorten, Finding, HiddenRef, ImageReport, LayerRef, Source, Suppressed,
};

/// Characters of a step shown in a cell (the whole step is its tooltip).
const STEP_CHARS: usize = 60;

/// 0 for the most severe, so an ascending sort puts critical first.
pub(super) fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        _ => 3,
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Present => "present",
        Status::Deleted => "deleted",
        _ => "shadowed",
    }
}

const FINDINGS_HEAD: &str = "<thead><tr><th>Status</th><th>Severity</th><th>Rule and secret</th>\
    <th>Where</th><th>Added in</th><th>Hidden in</th><th>What to do</th><th>Fingerprint (SHA-256)</th>\
    </tr></thead>\n";

/// The findings of section `k` listed there; a finding an earlier image already lists is
/// linked to instead.
pub(super) fn findings(plan: &Plan, k: usize) -> String {
    let s = &plan.sections[k];
    if s.findings.is_empty() {
        return "<p class=\"none\">No secrets found.</p>\n".into();
    }
    let mut h = String::new();
    let own = s.own.iter().filter(|o| **o).count();
    if own > 0 {
        let _ = write!(
            h,
            "<div class=\"scroll\"><table class=\"findings\" id=\"findings-{k}\">\n{FINDINGS_HEAD}<tbody>\n"
        );
        for (j, f) in s.findings.iter().enumerate().filter(|(j, _)| s.own[*j]) {
            row(&mut h, plan, s, j, f);
        }
        h.push_str("</tbody>\n</table></div>\n");
    }
    if own < s.findings.len() {
        let _ = write!(
            h,
            "<p class=\"shared\">{} shared with an image above, through a common layer, listed there:",
            super::count(s.findings.len() - own, "finding", "findings")
        );
        for (f, row) in s.findings.iter().zip(&s.rows).zip(&s.own).filter(|(_, own)| !**own).map(|(x, _)| x) {
            let _ = write!(h, " <a href=\"#{row}\">{} {}</a>", Esc(&f.rule), Esc(&place(f)));
        }
        h.push_str("</p>\n");
    }
    h
}

fn row(h: &mut String, plan: &Plan, s: &Section, j: usize, f: &Finding) {
    let status = if f.visible { "present" } else { status_word(f.status) };
    let shown = f.secret.as_deref().unwrap_or(&f.redacted);
    let _ = write!(
        h,
        "<tr id=\"{}\" data-fp=\"{}\" data-status=\"{status}\" data-sev=\"{}\" data-rule=\"{}\">\
         <td><span class=\"st {}\">{status}</span></td><td data-k=\"{}\"><span class=\"sev sev-{}\">{}</span></td>\
         <td><b>{}</b><br><small>{}</small><br><code class=\"secret\">{}</code></td>",
        s.rows[j],
        Esc(&f.fingerprint),
        f.severity.name(),
        Esc(&f.rule),
        if f.visible { "vis" } else { "gone" },
        severity_rank(f.severity),
        f.severity.name(),
        f.severity.name(),
        Esc(&f.rule),
        Esc(&f.title),
        Esc(shown),
    );
    where_cell(h, plan, s, j, f);
    added_cell(h, f);
    hidden_cell(h, f.hidden_in.as_ref());
    let _ = writeln!(
        h,
        "<td class=\"fix\">{}</td><td><code class=\"fp\">{}</code></td></tr>",
        Esc(&f.remediation),
        Esc(&f.fingerprint)
    );
}

fn where_cell(h: &mut String, plan: &Plan, s: &Section, j: usize, f: &Finding) {
    let _ = write!(h, "<td><code class=\"path\">{}</code>", Esc(&place(f)));
    for a in &f.location.aliases {
        let _ = write!(h, "<br><small>hardlink <code>/{}</code></small>", Esc(a));
    }
    for o in &f.also_in {
        let layer = o.layer.map(|l| format!("layer {l} ")).unwrap_or_default();
        let path = match o.location.source {
            Source::File => format!("/{}", o.location.path),
            _ => o.location.path.clone(),
        };
        let _ = write!(
            h,
            "<br><small>also {}<code>{}</code> ({})</small>",
            Esc(&layer),
            Esc(&path),
            status_word(o.status)
        );
    }
    if let Some(p) = &f.package {
        let _ = write!(
            h,
            "<br><small class=\"note\">packaged: exactly as {} installed it</small>",
            Esc(&p.to_string())
        );
    }
    if let Some(n) = &f.note {
        let _ = write!(h, "<br><small class=\"note\">{}</small>", Esc(n));
    }
    if !s.also[j].is_empty() {
        h.push_str("<div class=\"also\">also in");
        for &other in &s.also[j] {
            let _ =
                write!(h, " <a href=\"#img-{other}\" data-also=\"{other}\">{}</a>", Esc(plan.name(other)));
        }
        h.push_str("</div>");
    }
    h.push_str("</td>");
}

/// `layer N digest` and the step, shortened, with the whole step as a tooltip.
fn layer_text(l: &LayerRef) -> String {
    let digest = l.digest.as_ref().map(|d| d.short()).unwrap_or_default();
    format!("layer {} <code>{}</code><br>{}", l.index, Esc(&digest), step(l.created_by.as_deref()))
}

/// A step shortened to a line, with the whole step as a tooltip when it was cut.
fn step(step: Option<&str>) -> String {
    let step = step.unwrap_or("");
    let short = shorten(step, STEP_CHARS);
    if short == step {
        format!("<span class=\"step\">{}</span>", Esc(step))
    } else {
        format!("<span class=\"step\" title=\"{}\">{}</span>", Esc(step), Esc(&short))
    }
}

fn added_cell(h: &mut String, f: &Finding) {
    match &f.introduced_in {
        Some(l) => {
            let _ = write!(h, "<td data-k=\"{}\">{}</td>", l.index, layer_text(l));
        }
        None if f.location.source == Source::History => {
            h.push_str("<td data-k=\"-1\">a build step (history)</td>")
        }
        None => h.push_str("<td data-k=\"-1\">the image config</td>"),
    }
}

fn hidden_cell(h: &mut String, hidden: Option<&HiddenRef>) {
    match hidden {
        Some(hid) => {
            let how = match hid.how {
                HiddenHow::Whiteout => "deleted (whiteout)",
                HiddenHow::Opaque => "deleted (opaque directory)",
                _ => "overwritten",
            };
            let _ = write!(
                h,
                "<td data-k=\"{}\"><b>{how}</b> in {}</td>",
                hid.layer.index,
                layer_text(&hid.layer)
            );
        }
        None => h.push_str("<td data-k=\"-1\">-</td>"),
    }
}

/// The findings the caller suppressed, with why: collapsed, since they were reviewed already.
pub(super) fn suppressed(list: &[Suppressed<'_>]) -> String {
    let mut h = format!(
        "<details class=\"suppressed\"><summary>Suppressed ({}): left out of every count, by a baseline \
         or an ignore file</summary>\n<div class=\"scroll\"><table class=\"suppressed\">\n<thead><tr>\
         <th>Severity</th><th>Rule and secret</th><th>Image</th><th>Where</th><th>Why</th>\
         <th>Fingerprint (SHA-256)</th></tr></thead>\n<tbody>\n",
        list.len()
    );
    for s in list {
        let f = s.finding;
        let shown = f.secret.as_deref().unwrap_or(&f.redacted);
        let _ = writeln!(
            h,
            "<tr><td><span class=\"sev sev-{}\">{}</span></td><td><b>{}</b><br><small>{}</small><br>\
             <code class=\"secret\">{}</code></td><td>{}</td><td><code class=\"path\">{}</code></td>\
             <td>{}</td><td><code class=\"fp\">{}</code></td></tr>",
            f.severity.name(),
            f.severity.name(),
            Esc(&f.rule),
            Esc(&f.title),
            Esc(shown),
            Esc(&f.image),
            Esc(&place(f)),
            Esc(s.reason),
            Esc(&f.fingerprint),
        );
    }
    h.push_str("</tbody>\n</table></div>\n</details>\n");
    h
}

/// What `layers` prints, as a table with bars for size and wasted bytes.
pub(super) fn layers(image: &ImageReport) -> String {
    let largest = image.layers.iter().map(|l| l.uncompressed_size).max().unwrap_or(0).max(1);
    let mut h = String::from(
        "<div class=\"scroll\"><table class=\"layers\">\n<thead><tr><th>#</th><th>Size</th>\
         <th class=\"num\">Added</th><th class=\"num\">Overwritten</th><th class=\"num\">Deleted</th>\
         <th>Wasted</th><th class=\"num\">Secrets added</th><th class=\"num\">Secrets hidden</th>\
         <th>Step</th></tr></thead>\n<tbody>\n",
    );
    for l in &image.layers {
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td><td class=\"num{}\">{}</td><td class=\"num\">{}</td>\
             <td>{}</td></tr>",
            l.index,
            meter("size", l.uncompressed_size, largest),
            l.files_added,
            l.files_overwritten,
            l.paths_deleted,
            meter("waste", l.bytes_wasted, largest),
            if l.secrets_introduced > 0 { " hot" } else { "" },
            l.secrets_introduced,
            l.secrets_hidden,
            step(l.created_by.as_deref()),
        );
    }
    let wasted: u64 = image.layers.iter().map(|l| l.bytes_wasted).sum();
    let total: u64 = image.layers.iter().map(|l| l.uncompressed_size).sum();
    let _ = writeln!(
        h,
        "</tbody>\n</table></div>\n<p class=\"wasted\">Wasted: {} of {}.</p>",
        human_bytes(wasted),
        human_bytes(total)
    );
    h
}

/// A bar `n / of` wide and the number beside it.
fn meter(class: &str, n: u64, of: u64) -> String {
    let percent = (n as f64 * 100.0 / of as f64).clamp(0.0, 100.0);
    format!("<span class=\"meter {class}\"><i style=\"width:{percent:.1}%\"></i></span> {}", human_bytes(n))
}
