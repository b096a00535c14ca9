//! The timeline: an SVG with the image config on top, then one band per layer from the last
//! (top) to the first (bottom), each as high as the log of its size allows (small layers keep a
//! readable minimum), and each finding a bar from the layer that introduced it up to the layer
//! that hid it, or up to the top while it is still visible. History findings start at their
//! step; other config findings sit in the config band.
//!
//! Up to [`MAX_BARS`] findings get a bar each. Beyond that, findings with the same start, end,
//! visibility and severity share one bar labelled with their number (`data-n`), so a thousand
//! findings stay a picture and the markup stays small.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape::Esc;
use super::Section;
use crate::layer::HiddenHow;
use crate::report::{human_bytes, shorten, Finding, ImageReport, Source};

/// Findings drawn one bar each; more are grouped.
const MAX_BARS: usize = 160;
/// Width of the drawing in user units (it scales to the page).
const WIDTH: f64 = 1000.0;
/// Where the finding lanes start and how wide they are.
const LANES_X: f64 = 560.0;
const LANES_W: f64 = 430.0;
/// Top margin and config band height.
const TOP: f64 = 6.0;
const CONFIG_H: f64 = 24.0;
/// Band heights: the smallest layer gets `MIN_H`, the largest `MIN_H + EXTRA_H`.
const MIN_H: f64 = 20.0;
const EXTRA_H: f64 = 40.0;
/// Characters of a step shown in a band.
const STEP_CHARS: usize = 52;

/// Vertical positions of the config band and of each layer's band.
struct Bands {
    /// `(top, height)` by layer index.
    layers: Vec<(f64, f64)>,
    /// Bottom of the drawing.
    bottom: f64,
}

impl Bands {
    fn new(image: &ImageReport) -> Bands {
        let size = |i: usize| {
            let l = &image.layers[i];
            (l.uncompressed_size.max(l.compressed_size) as f64).ln_1p()
        };
        let largest = (0..image.layers.len()).map(size).fold(0.0, f64::max);
        let mut layers = vec![(0.0, 0.0); image.layers.len()];
        let mut y = TOP + CONFIG_H;
        for i in (0..image.layers.len()).rev() {
            let h = if largest > 0.0 { MIN_H + EXTRA_H * size(i) / largest } else { MIN_H };
            layers[i] = (y, h);
            y += h;
        }
        Bands { layers, bottom: y }
    }

    fn bottom_of(&self, i: usize) -> f64 {
        self.layers.get(i).map_or(TOP + CONFIG_H, |(y, h)| y + h)
    }

    /// Where a finding's bar starts (bottom) and ends (top).
    fn span(&self, image: &ImageReport, f: &Finding) -> (f64, f64) {
        let start = match (&f.introduced_in, f.location.source) {
            (Some(l), _) => self.bottom_of(l.index) - 2.0,
            (None, Source::History) => self.history_start(image, f),
            (None, _) => TOP + CONFIG_H - 3.0,
        };
        let end = match &f.hidden_in {
            Some(h) => self.bottom_of(h.layer.index) - 5.0,
            None => TOP + 3.0,
        };
        (start, end.min(start - 4.0))
    }

    /// A history finding starts at its step: in the band of the layer the step made, or at the
    /// top of the last layer made before it (an `ARG` or `ENV` step makes no layer).
    fn history_start(&self, image: &ImageReport, f: &Finding) -> f64 {
        let step = history_index(&f.location.path);
        let made = image.layers.iter().rev().find(|l| l.history.zip(step).is_some_and(|(h, s)| h <= s));
        match made {
            Some(l) if l.history == step => self.bottom_of(l.index) - 2.0,
            Some(l) => self.layers.get(l.index).map_or(TOP + CONFIG_H, |(y, _)| y + 4.0),
            None => self.bottom_of(0) - 2.0,
        }
    }
}

/// `7` from `history[7].created_by`.
fn history_index(path: &str) -> Option<usize> {
    path.strip_prefix("history[")?.split(']').next()?.parse().ok()
}

/// The timeline of one image section.
pub(super) fn svg(s: &Section, k: usize) -> String {
    let image = s.image;
    let bands = Bands::new(image);
    let height = bands.bottom + 6.0;
    let mut h = format!(
        "<figure class=\"timeline\">\n<svg class=\"timeline\" id=\"tl-{k}\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
         role=\"img\" aria-label=\"Layers of the image, oldest at the bottom, and the life of each secret\">\n"
    );
    let _ = writeln!(
        h,
        "<g class=\"config\"><rect class=\"b1\" x=\"0\" y=\"{TOP}\" width=\"{WIDTH}\" height=\"{CONFIG_H}\"/>\
         <text x=\"6\" y=\"{:.1}\">image config and history</text></g>",
        TOP + 16.0
    );
    for (l, (y, height)) in image.layers.iter().zip(&bands.layers).rev() {
        band(&mut h, l, *y, *height);
    }
    bars(&mut h, s, &bands);
    h.push_str("</svg>\n");
    h.push_str(LEGEND);
    h.push_str("</figure>\n");
    h
}

const LEGEND: &str = "<figcaption class=\"legend\"><span class=\"key vis\">still present</span> \
    <span class=\"key gone\">hidden, still in a lower layer</span> \
    <span class=\"key sev-critical\">critical</span> <span class=\"key sev-high\">high</span> \
    <span class=\"key sev-medium\">medium</span> <span class=\"key sev-low\">low</span> \
    Each bar runs from the layer that added the secret to the layer that hid it (a dark cap), \
    or to the top while it is visible; bands are layers, oldest at the bottom.</figcaption>\n";

fn band(h: &mut String, l: &crate::report::LayerReport, y: f64, height: f64) {
    let digest = l.digest.as_ref().map_or("-", |d| &d.hex()[..d.hex().len().min(12)]);
    let full = l.digest.as_ref().map(|d| d.to_string()).unwrap_or_default();
    let step = l.created_by.as_deref().unwrap_or("");
    let size = human_bytes(l.uncompressed_size);
    let text_y = y + (height / 2.0 + 4.0).min(15.0);
    let _ = writeln!(
        h,
        "<g class=\"band\" data-layer=\"{i}\"><rect class=\"b{odd}\" x=\"0\" y=\"{y:.1}\" width=\"{WIDTH}\" \
         height=\"{height:.1}\"/><text x=\"6\" y=\"{text_y:.1}\">{i}<tspan x=\"26\" class=\"dg\">{}</tspan>\
         <tspan x=\"180\" text-anchor=\"end\">{}</tspan><tspan x=\"192\">{}</tspan></text><title>layer {i} \
         {} {}</title></g>",
        Esc(digest),
        Esc(&size),
        Esc(&shorten(step, STEP_CHARS)),
        Esc(&full),
        Esc(step),
        i = l.index,
        odd = l.index % 2,
    );
}

/// One drawn bar: where, what, and the findings it stands for.
struct Bar<'a> {
    start: f64,
    end: f64,
    first: &'a Finding,
    /// The row of the first finding.
    row: &'a str,
    n: usize,
}

fn bars(h: &mut String, s: &Section, bands: &Bands) {
    let mut list: Vec<Bar> = s
        .findings
        .iter()
        .zip(&s.rows)
        .map(|(f, row)| {
            let (start, end) = bands.span(s.image, f);
            Bar { start, end, first: f, row, n: 1 }
        })
        .collect();
    if list.len() > MAX_BARS {
        list = grouped(list);
    }
    // Lower starts first, so the bars climb like the layers do.
    list.sort_by(|a, b| b.start.total_cmp(&a.start).then(b.end.total_cmp(&a.end)));
    let drawn = list.len().min(MAX_BARS);
    let lane = (LANES_W / drawn.max(1) as f64).min(16.0);
    let width = (lane * 0.7).max(1.0);
    for (i, b) in list.iter().take(drawn).enumerate() {
        let x = LANES_X + i as f64 * lane + (lane - width) / 2.0;
        bar(h, b, x, width);
    }
    if list.len() > drawn {
        let _ = writeln!(
            h,
            "<text class=\"more\" x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{} more groups not drawn</text>",
            WIDTH - 4.0,
            bands.bottom - 4.0,
            list.len() - drawn
        );
    }
}

/// Findings with the same start, end, visibility and severity as one bar.
fn grouped(list: Vec<Bar>) -> Vec<Bar> {
    let mut groups: BTreeMap<(i64, i64, bool, u8), Bar> = BTreeMap::new();
    for b in list {
        let key = (
            (b.start * 10.0) as i64,
            (b.end * 10.0) as i64,
            b.first.visible,
            super::tables::severity_rank(b.first.severity),
        );
        groups.entry(key).and_modify(|g| g.n += 1).or_insert(b);
    }
    groups.into_values().collect()
}

fn bar(h: &mut String, b: &Bar, x: f64, width: f64) {
    let f = b.first;
    let status = if f.visible { "vis" } else { "gone" };
    let severity = f.severity.name();
    let what = match b.n {
        1 => format!("{} {}", f.rule, crate::report::place(f)),
        n => format!("{n} findings like {} {}", f.rule, crate::report::place(f)),
    };
    let fate = match &f.hidden_in {
        Some(hid) => format!(
            "{} in layer {}",
            match hid.how {
                HiddenHow::Whiteout => "deleted",
                HiddenHow::Opaque => "deleted (opaque directory)",
                _ => "overwritten",
            },
            hid.layer.index
        ),
        None if f.visible => "still present".to_string(),
        None => "hidden".to_string(),
    };
    let from = f.introduced_in.as_ref().map(|l| format!("added in layer {}, ", l.index)).unwrap_or_default();
    let _ = write!(
        h,
        "<a href=\"#{}\"><rect class=\"bar sev-{severity} {status}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" \
         height=\"{:.1}\" data-n=\"{}\" data-fp=\"{}\"/>",
        b.row,
        b.end,
        b.start - b.end,
        b.n,
        Esc(&f.fingerprint)
    );
    if f.hidden_in.is_some() {
        let _ = write!(
            h,
            "<rect class=\"cap\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"3\"/>",
            b.end
        );
    }
    if b.n > 1 && width >= 6.0 {
        let _ = write!(
            h,
            "<text class=\"n\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            x + width / 2.0,
            b.start - 3.0,
            b.n
        );
    }
    let _ = writeln!(h, "<title>{}: {from}{fate}</title></a>", Esc(&what));
}

#[cfg(test)]
mod tests {
    use super::history_index;

    #[test]
    fn history_steps_are_read_from_the_location() {
        assert_eq!(history_index("history[7].created_by"), Some(7));
        assert_eq!(history_index("config.Env[1]"), None);
    }
}
