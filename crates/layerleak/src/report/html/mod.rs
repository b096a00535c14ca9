//! The report as one self-contained HTML document, for people who will not read JSON.
//!
//! Per image: a header (reference, pinned digest, platform, size, layers, a one-sentence
//! verdict), the timeline (an SVG with one band per layer, each finding a bar from the layer that
//! introduced it to the layer that hid it, or to the top while it is still visible), the findings
//! table and a per-layer chart of what `layers` prints. With several images (an audit) an index
//! comes first, and a finding that images share through a common layer is listed once, under the
//! first image, with the others named as "also in". Findings the caller suppressed (a baseline,
//! an ignore file) and asked to list come in a table of their own, with why, in the header; they
//! are in no count, timeline or findings table.
//!
//! The document loads nothing: CSS and SVG are inline, and a Content-Security-Policy meta tag
//! forbids every fetch (`default-src 'none'`) and every script but the one inline script, named
//! by its SHA-256. That script only sorts and filters the findings tables and records policy
//! violations on the root element (`data-csp-violation`); every row is in the markup, so the
//! report reads and prints the same without it.
//!
//! # Security
//!
//! Every text comes from the [`Report`], whose texts are already redacted (see
//! [`Report::for_each_text`]); a secret is shown in full only when the scanner kept it. Texts
//! from the image are attacker-controlled: every one is escaped for HTML text and attributes, its
//! invisible characters written as visible escapes ([`printable`](super::printable)), and none is
//! written inside the script or the style sheet.

mod escape;
mod tables;
mod timeline;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::{human_bytes, Finding, ImageReport, Report, Suppressed};
use escape::Esc;

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// Writes `report` as one HTML document to `out`.
///
/// The document fetches nothing and needs no script to be read; see the module documentation.
pub fn write(out: &mut dyn io::Write, report: &Report) -> io::Result<()> {
    write_with(out, report, &[])
}

/// [`write()`], with the findings the caller suppressed listed in a table of their own.
pub fn write_with(out: &mut dyn io::Write, report: &Report, suppressed: &[Suppressed<'_>]) -> io::Result<()> {
    let plan = Plan::new(report);
    out.write_all(head(&plan).as_bytes())?;
    out.write_all(summary(report, &plan, suppressed).as_bytes())?;
    for k in 0..plan.sections.len() {
        out.write_all(section(&plan, k).as_bytes())?;
    }
    out.write_all(b"</main>\n</body>\n</html>\n")
}

/// The image sections of the document and where each finding is listed.
struct Plan<'a> {
    sections: Vec<Section<'a>>,
}

/// One image and its findings.
struct Section<'a> {
    image: &'a ImageReport,
    /// The image's findings in report order.
    findings: Vec<&'a Finding>,
    /// For each finding, the id of the table row that lists it: in this section, or in the
    /// section of the first image that has the same finding.
    rows: Vec<String>,
    /// For each finding, whether its row is in this section.
    own: Vec<bool>,
    /// For each finding listed here, the later sections that have it too.
    also: Vec<Vec<usize>>,
}

impl<'a> Plan<'a> {
    fn new(report: &'a Report) -> Plan<'a> {
        let mut by_image: HashMap<&str, Vec<&Finding>> = HashMap::new();
        for f in &report.findings {
            by_image.entry(f.image.as_str()).or_default().push(f);
        }
        // Findings name their image, so an image given twice is one section.
        let mut names = HashSet::new();
        let images = report.images.iter().filter(|i| names.insert(i.name.as_str()));
        let mut first: HashMap<String, (usize, usize)> = HashMap::new();
        let mut sections: Vec<Section> = Vec::new();
        for (k, image) in images.enumerate() {
            let findings = by_image.remove(image.name.as_str()).unwrap_or_default();
            let mut s = Section { image, rows: Vec::new(), own: Vec::new(), also: Vec::new(), findings };
            for (j, f) in s.findings.iter().enumerate() {
                let (k0, j0) = *first.entry(share_key(image, f)).or_insert((k, j));
                s.rows.push(format!("f{k0}-{j0}"));
                s.own.push(k0 == k);
                s.also.push(Vec::new());
                if k0 != k {
                    sections[k0].also[j0].push(k);
                }
            }
            sections.push(s);
        }
        Plan { sections }
    }

    fn name(&self, k: usize) -> &str {
        &self.sections[k].image.name
    }
}

/// What makes two images' findings one: the same secret at the same place of the same layer
/// blob (or config blob), with the same fate. Images sharing the introducing layer but not the
/// hiding one keep a finding each, since their stories differ.
fn share_key(image: &ImageReport, f: &Finding) -> String {
    let place = match &f.introduced_in {
        Some(l) => l.digest.as_ref().or(l.diff_id.as_ref()),
        None => image.config_digest.as_ref(),
    };
    // Without a digest nothing proves two images hold the same bytes.
    let place = place.map_or_else(|| format!("image {}", image.name), |d| d.to_string());
    let hidden = f.hidden_in.as_ref().map(|h| format!("{:?} {:?}", h.layer.digest, h.how));
    let loc = &f.location;
    format!(
        "{place}\0{}\0{}\0{:?}\0{}\0{:?}\0{}\0{hidden:?}\0{}",
        f.rule, f.fingerprint, loc.source, loc.path, loc.inner, loc.offset, f.visible
    )
}

fn head(plan: &Plan) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
    let title = match plan.sections.len() {
        0 => String::from("layerleak report"),
        1 => format!("layerleak: {}", Esc(plan.name(0))),
        n => format!("layerleak: {} and {} more images", Esc(plan.name(0)), n - 1),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'sha256-{hash}'; img-src data:; base-uri 'none'; \
         form-action 'none'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"layerleak {}\">\n<title>{title}</title>\n\
         <link rel=\"icon\" href=\"data:,\">\n<style>{STYLE}</style>\n<script>{SCRIPT}</script>\n\
         </head>\n<body>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// `n thing` or `n things`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The document's header: totals, the index of images, what could not be read, what was
/// suppressed, notes.
fn summary(report: &Report, plan: &Plan, suppressed: &[Suppressed<'_>]) -> String {
    let s = &report.stats;
    let mut h = String::from("<header class=\"report\">\n<h1>layerleak report</h1>\n");
    let _ = writeln!(
        h,
        "<p class=\"totals\">{} ({} still present, {} hidden but extractable) in {}, {}, {}, {}.</p>",
        count(s.findings, "finding", "findings"),
        s.findings_visible,
        s.findings.saturating_sub(s.findings_visible),
        count(s.images, "image", "images"),
        count(s.layers, "layer", "layers"),
        count(s.files as usize, "file", "files"),
        count(s.errors, "error", "errors"),
    );
    if plan.sections.len() > 1 {
        h.push_str(&index(plan));
    }
    if !report.errors.is_empty() {
        let _ = writeln!(
            h,
            "<section class=\"errors\">\n<h2>Could not read ({})</h2>\n<ul>",
            report.errors.len()
        );
        for e in &report.errors {
            let _ = writeln!(h, "<li><b>{}</b> {}</li>", Esc(&e.kind), Esc(&e.message));
        }
        h.push_str("</ul>\n</section>\n");
    }
    if !suppressed.is_empty() {
        h.push_str(&tables::suppressed(suppressed));
    }
    if !report.notes.is_empty() {
        let _ =
            writeln!(h, "<details class=\"notes\"><summary>Notes ({})</summary>\n<ul>", report.notes.len());
        for n in &report.notes {
            let _ = writeln!(h, "<li>{}</li>", Esc(n));
        }
        h.push_str("</ul>\n</details>\n");
    }
    h.push_str("</header>\n<main>\n");
    h
}

/// The repository and the tag or digest of an image name (`host/repo:tag (os/arch)`); a name
/// that is a file path is all repository.
fn repo_and_tag(name: &str) -> (&str, &str) {
    let reference = name.split(' ').next().unwrap_or(name);
    if let Some((repo, digest)) = reference.split_once('@') {
        return (repo, digest);
    }
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(i) => (&reference[..slash + i], &reference[slash + i + 1..]),
        None => (reference, ""),
    }
}

fn index(plan: &Plan) -> String {
    let mut h = String::from(
        "<nav class=\"index\">\n<h2>Images</h2>\n<table>\n<thead><tr><th>Repository</th><th>Tag</th>\
         <th>Platform</th><th class=\"num\">Still present</th><th class=\"num\">Hidden</th>\
         <th class=\"num\">Shared</th><th class=\"num\">Layers</th></tr></thead>\n<tbody>\n",
    );
    for (k, s) in plan.sections.iter().enumerate() {
        let (repo, tag) = repo_and_tag(&s.image.name);
        let present = s.findings.iter().filter(|f| f.visible).count();
        let shared = s.own.iter().filter(|own| !**own).count();
        let platform = s.image.platform.as_ref().map(|p| p.to_string()).unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td><a href=\"#img-{k}\">{}</a></td><td>{}</td><td>{}</td><td class=\"num{}\">{present}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{shared}</td><td class=\"num\">{}</td></tr>",
            Esc(repo),
            Esc(tag),
            Esc(&platform),
            if present > 0 { " hot" } else { "" },
            s.findings.len() - present,
            s.image.layers.len()
        );
    }
    h.push_str("</tbody>\n</table>\n</nav>\n");
    h
}

fn section(plan: &Plan, k: usize) -> String {
    let s = &plan.sections[k];
    let image = s.image;
    let mut h = String::new();
    let _ = writeln!(h, "<section class=\"image\" id=\"img-{k}\">\n<h2>{}</h2>", Esc(&image.name));
    h.push_str(&facts(s));
    let _ = writeln!(h, "<h3>Timeline</h3>");
    h.push_str(&timeline::svg(s, k));
    let _ = writeln!(h, "<h3>Findings ({})</h3>", s.findings.len());
    h.push_str(&tables::findings(plan, k));
    let _ = writeln!(h, "<h3>Layers</h3>");
    h.push_str(&tables::layers(image));
    h.push_str("</section>\n");
    h
}

/// The verdict and the facts that identify the image.
fn facts(s: &Section) -> String {
    let image = s.image;
    let present = s.findings.iter().filter(|f| f.visible).count();
    let class = if present > 0 {
        "present"
    } else if s.findings.is_empty() {
        "clean"
    } else {
        "hidden"
    };
    let mut h = format!("<p class=\"verdict {class}\">{}</p>\n<dl class=\"facts\">\n", verdict(s, present));
    let mut fact = |name: &str, value: &str| {
        let _ = writeln!(h, "<dt>{name}</dt><dd>{}</dd>", Esc(value));
    };
    fact("Reference", &image.name);
    if image.manifest_digest.is_some() {
        fact("Pinned", &image.pinned());
    }
    if let Some(p) = &image.platform {
        fact("Platform", &p.to_string());
    }
    let compressed: u64 = image.layers.iter().map(|l| l.compressed_size).sum();
    let uncompressed: u64 = image.layers.iter().map(|l| l.uncompressed_size).sum();
    let size = format!("{} compressed, {} unpacked", human_bytes(compressed), human_bytes(uncompressed));
    fact("Size", &size);
    fact("Layers", &image.layers.len().to_string());
    if let Some(d) = &image.config_digest {
        fact("Config", &d.to_string());
    }
    fact("Input", &image.input);
    h.push_str("</dl>\n");
    h
}

/// One sentence for people who read nothing else.
fn verdict(s: &Section, present: usize) -> String {
    let hidden = s.findings.len() - present;
    let layers = count(s.image.layers.len(), "layer", "layers");
    match (present, hidden) {
        (0, 0) => format!("No secrets found in its {layers} and config."),
        (p, 0) => format!(
            "{} still in the final image, readable by anyone who can pull it: rotate {}.",
            count(p, "secret is", "secrets are"),
            if p == 1 { "it" } else { "them" }
        ),
        (0, h) => format!(
            "Nothing is visible in the final filesystem, but {} deleted or overwritten by a later \
             layer can still be extracted from the layer below by anyone who can pull the image.",
            count(h, "secret", "secrets")
        ),
        (p, h) => format!(
            "{} still in the final image and {} more deleted or overwritten by a later layer can \
             still be extracted: rotate all {}.",
            count(p, "secret is", "secrets are"),
            h,
            p + h
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::repo_and_tag;

    #[test]
    fn names_split_into_repository_and_tag() {
        assert_eq!(
            repo_and_tag("127.0.0.1:5000/team/app:v1 (linux/arm64)"),
            ("127.0.0.1:5000/team/app", "v1")
        );
        assert_eq!(repo_and_tag("127.0.0.1:5000/team/app"), ("127.0.0.1:5000/team/app", ""));
        assert_eq!(repo_and_tag("h/r@sha256:ab (linux/amd64)"), ("h/r", "sha256:ab"));
        assert_eq!(repo_and_tag("demo.tar"), ("demo.tar", ""));
    }
}
