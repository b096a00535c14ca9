//! The by-secret view of a scan of many images (a registry audit, a multi-image archive): one
//! entry per distinct secret (rule and fingerprint) with every place it occurs, the layers that
//! introduce it and its blast radius, instead of one finding per image.
//!
//! A registry of 200 tags built on one base whose layer holds a key has one secret with 200
//! places, introduced by one shared layer: one rotation and one rebuild of the base, not 200
//! tickets.
//!
//! [`SecretIndex`] is fed each image's findings and then the image, in the order a
//! [`crate::scan::Sink`] receives them (it is one), or a whole [`Report`] at once. It keeps one
//! [`DistinctSecret`] per secret and a fixed-size record per place (image, layer, path and status
//! as indexes into tables of distinct texts), so it grows with distinct secrets and places, never
//! with per-image findings and their texts. [`SecretIndex::finish`] gives the [`SecretReport`]:
//! sorted by blast radius, grouped by root cause, serializable as the `"schema": 2` JSON document
//! with each place rendered only as it is written.

use std::collections::{HashMap, HashSet};

use super::{Finding, ImageReport, Report, Source};
use crate::detect::{Severity, Validation};
use crate::layer::Status;
use crate::package::Package;

mod view;

pub use view::{
    IntroducingLayer, Place, RepositoryCount, SecretGroup, SecretReport, SecretSummary, SeverityCounts,
};

/// No entry in a table.
const NONE: u32 = u32::MAX;

/// Distinct texts, each stored once and named by its index.
#[derive(Debug, Default)]
struct Strings {
    ids: HashMap<Box<str>, u32>,
    texts: Vec<String>,
}

impl Strings {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        // Past 4 billion distinct texts every new one shares the last slot: wrong names, no panic.
        let id = u32::try_from(self.texts.len()).unwrap_or(NONE - 1);
        if (id as usize) == self.texts.len() {
            self.texts.push(s.to_string());
            self.ids.insert(s.into(), id);
        }
        id
    }

    fn opt(&mut self, s: Option<&str>) -> u32 {
        s.map_or(NONE, |s| self.id(s))
    }

    fn get(&self, id: u32) -> Option<&str> {
        self.texts.get(id as usize).map(String::as_str)
    }
}

/// One image: indexes into [`Strings`].
#[derive(Debug, Clone, Copy)]
struct ImageRow {
    name: u32,
    repository: u32,
    tag: u32,
    platform: u32,
    manifest_digest: u32,
    secrets: u32,
}

/// One distinct layer: by blob digest (else diff_id), with the step of the first image seen.
#[derive(Debug, Clone, Copy)]
struct LayerRow {
    digest: u32,
    created_by: u32,
}

/// One occurrence of a secret in one image, in 32 bytes.
#[derive(Debug, Clone, Copy)]
struct PlaceRec {
    image: u32,
    layer: u32,
    layer_index: u32,
    path: u32,
    /// The chain inside nested archives, joined with `!`.
    inner: u32,
    line: u32,
    column: u32,
    source: Source,
    status: Status,
    /// Whether the secret is visible in this place's image (through any occurrence).
    visible: bool,
}

/// A finding of the image being resolved, waiting for the image itself.
#[derive(Debug)]
struct Pending {
    secret: u32,
    visible: bool,
    packaged: bool,
    introduced: Option<usize>,
    places: Vec<PlaceRec>,
}

/// One secret (rule and fingerprint) across every image of the run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DistinctSecret {
    /// The rule id.
    pub rule: String,
    /// The rule's title.
    pub title: String,
    /// The rule's severity.
    pub severity: Severity,
    /// Lowercase hex SHA-256 of the exact secret bytes.
    pub fingerprint: String,
    /// The printable, redacted form.
    pub redacted: String,
    /// The secret itself, only when the scanner keeps secrets.
    pub secret: Option<String>,
    /// Offline validation result.
    pub validation: Validation,
    /// Detector facts, from the first image.
    pub note: Option<String>,
    /// What to do: as for a visible finding when it is visible anywhere.
    pub remediation: String,
    /// Images where it is readable in the final filesystem or config.
    pub visible_in: usize,
    /// Images where every occurrence is hidden (still extractable).
    pub hidden_in: usize,
    /// The package, when every image's finding is packaged (listed with `include_packaged`).
    pub package: Option<Package>,
    packaged_in: usize,
    remediation_visible: bool,
    /// Introducing layers and in how many images each; images with no introducing layer (config
    /// fields) in `config_in`.
    introduced: Vec<(u32, usize)>,
    config_in: usize,
    places: Vec<PlaceRec>,
    repositories: usize,
    root: u32,
}

impl DistinctSecret {
    fn new(f: &Finding) -> DistinctSecret {
        DistinctSecret {
            rule: f.rule.clone(),
            title: f.title.clone(),
            severity: f.severity,
            fingerprint: f.fingerprint.clone(),
            redacted: f.redacted.clone(),
            secret: f.secret.clone(),
            validation: f.validation,
            note: f.note.clone(),
            remediation: f.remediation.clone(),
            visible_in: 0,
            hidden_in: 0,
            package: f.package.clone(),
            packaged_in: 0,
            remediation_visible: f.visible,
            introduced: Vec::new(),
            config_in: 0,
            places: Vec::new(),
            repositories: 0,
            root: NONE,
        }
    }

    /// Images holding it.
    pub fn images(&self) -> usize {
        self.visible_in + self.hidden_in
    }

    /// Repositories holding it.
    pub fn repositories(&self) -> usize {
        self.repositories
    }

    /// Readable in the final filesystem or config of at least one image.
    pub fn visible(&self) -> bool {
        self.visible_in > 0
    }

    /// Places (occurrences in images).
    pub fn places(&self) -> usize {
        self.places.len()
    }

    /// Images holding it times its severity's weight (critical 4, high 3, medium 2, low 1): what
    /// the report is sorted by.
    pub fn blast_radius(&self) -> u64 {
        let weight = match self.severity {
            Severity::Critical => 4,
            Severity::High => 3,
            Severity::Medium => 2,
            _ => 1,
        };
        self.images() as u64 * weight
    }
}

/// Collects findings and images into one entry per distinct secret. See the module docs.
#[derive(Debug, Default)]
pub struct SecretIndex {
    strings: Strings,
    images: Vec<ImageRow>,
    seen_images: HashSet<(u32, u32)>,
    layers: Vec<LayerRow>,
    layer_ids: HashMap<String, u32>,
    secrets: Vec<DistinctSecret>,
    secret_ids: HashMap<(String, String), u32>,
    pending: Vec<Pending>,
    /// Name and platform of the image the pending findings belong to.
    pending_image: Option<(String, Option<String>)>,
}

impl SecretIndex {
    /// An empty index.
    pub fn new() -> SecretIndex {
        SecretIndex::default()
    }

    /// Adds one image's finding. Its places are kept once the image itself is added
    /// ([`SecretIndex::add_image`]), which names their repository, tag and layers.
    pub fn add_finding(&mut self, f: &Finding) {
        let key = (f.rule.clone(), f.fingerprint.clone());
        let secret = match self.secret_ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(self.secrets.len()).unwrap_or(NONE);
                if id == NONE {
                    return;
                }
                self.secrets.push(DistinctSecret::new(f));
                self.secret_ids.insert(key, id);
                id
            }
        };
        if let Some(s) = self.secrets.get_mut(secret as usize) {
            if f.visible && !s.remediation_visible {
                s.remediation = f.remediation.clone();
                s.remediation_visible = true;
            }
        }
        self.pending_image
            .get_or_insert_with(|| (f.image.clone(), f.platform.as_ref().map(|p| p.to_string())));
        let inner = |inner: &[String], strings: &mut Strings| {
            if inner.is_empty() {
                NONE
            } else {
                strings.id(&inner.join("!"))
            }
        };
        let small = |n: Option<u64>| n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        let index = |n: Option<usize>| n.and_then(|n| u32::try_from(n).ok()).unwrap_or(NONE);
        let first = PlaceRec {
            image: NONE,
            layer: NONE,
            layer_index: index(f.introduced_in.as_ref().map(|l| l.index)),
            path: self.strings.id(&f.location.path),
            inner: inner(&f.location.inner, &mut self.strings),
            line: small(f.location.line),
            column: small(f.location.column),
            source: f.location.source,
            status: f.status,
            visible: f.visible,
        };
        let mut places = vec![first];
        for o in &f.also_in {
            places.push(PlaceRec {
                layer_index: index(o.layer),
                path: self.strings.id(&o.location.path),
                inner: inner(&o.location.inner, &mut self.strings),
                line: small(o.location.line),
                column: small(o.location.column),
                source: o.location.source,
                status: o.status,
                ..first
            });
        }
        self.pending.push(Pending {
            secret,
            visible: f.visible,
            packaged: f.package.is_some(),
            introduced: f.introduced_in.as_ref().map(|l| l.index),
            places,
        });
    }

    /// Adds an image, after its findings. The same image seen again (same name and manifest
    /// digest: one image given twice) adds nothing.
    pub fn add_image(&mut self, image: &ImageReport) {
        self.pending_image = None;
        let name = self.strings.id(&image.name);
        let digest = self.strings.opt(image.manifest_digest.as_ref().map(|d| d.to_string()).as_deref());
        if !self.seen_images.insert((name, digest)) {
            self.pending.clear();
            return;
        }
        let (repository, tag) = repository_and_tag(image);
        let row = ImageRow {
            name,
            repository: self.strings.id(&repository),
            tag: self.strings.opt(tag.as_deref()),
            platform: self.strings.opt(image.platform.as_ref().map(|p| p.to_string()).as_deref()),
            manifest_digest: digest,
            secrets: 0,
        };
        self.push_image(row, |index, idx| idx.layer_of(image, index));
    }

    /// Adds every image of `report` and its findings. Findings are matched to images by name;
    /// images sharing a name (one image given twice) are one image.
    pub fn add_report(&mut self, report: &Report) {
        let mut by_image: HashMap<&str, Vec<&Finding>> = HashMap::new();
        for f in &report.findings {
            by_image.entry(f.image.as_str()).or_default().push(f);
        }
        for image in &report.images {
            for f in by_image.remove(image.name.as_str()).unwrap_or_default() {
                self.add_finding(f);
            }
            self.add_image(image);
        }
    }

    fn push_image(&mut self, mut row: ImageRow, mut layer_of: impl FnMut(usize, &mut Self) -> u32) {
        let Ok(id) = u32::try_from(self.images.len()) else {
            self.pending.clear();
            return;
        };
        let pending = std::mem::take(&mut self.pending);
        row.secrets = u32::try_from(pending.len()).unwrap_or(NONE);
        self.images.push(row);
        for p in pending {
            let introduced = p.introduced.map(|i| layer_of(i, self));
            let places: Vec<PlaceRec> = p
                .places
                .into_iter()
                .map(|mut place| {
                    place.image = id;
                    if place.layer_index != NONE {
                        place.layer = layer_of(place.layer_index as usize, self);
                    }
                    place
                })
                .collect();
            let Some(s) = self.secrets.get_mut(p.secret as usize) else { continue };
            if p.visible {
                s.visible_in += 1;
            } else {
                s.hidden_in += 1;
            }
            s.packaged_in += usize::from(p.packaged);
            match introduced {
                Some(layer) => match s.introduced.iter_mut().find(|(l, _)| *l == layer) {
                    Some((_, n)) => *n += 1,
                    None => s.introduced.push((layer, 1)),
                },
                None => s.config_in += 1,
            }
            s.places.extend(places);
        }
    }

    /// The layer row of `image`'s layer `index`, by digest (else diff_id); a layer with neither
    /// is its image's own.
    fn layer_of(&mut self, image: &ImageReport, index: usize) -> u32 {
        let layer = image.layers.get(index);
        let digest = layer.and_then(|l| l.digest.as_ref().or(l.diff_id.as_ref())).map(|d| d.to_string());
        let key = match &digest {
            Some(d) => d.clone(),
            None => format!("\0{}\0{index}", image.name),
        };
        if let Some(&id) = self.layer_ids.get(&key) {
            return id;
        }
        let Ok(id) = u32::try_from(self.layers.len()) else { return NONE };
        let row = LayerRow {
            digest: self.strings.opt(digest.as_deref()),
            created_by: self.strings.opt(layer.and_then(|l| l.created_by.as_deref())),
        };
        self.layers.push(row);
        self.layer_ids.insert(key, id);
        id
    }

    /// The finished view: the secrets of images never added (a scan that stopped between an
    /// image's findings and the image) are placed in an image named by their findings; every text
    /// is redacted with the secrets `report` found (a secret first found in a later image may
    /// occur in an earlier image's path or step); counts, root causes and the order by blast
    /// radius are settled. `report` is the run's report, for its errors, notes and statistics.
    pub fn finish(mut self, report: &Report) -> SecretReport {
        if let Some((name, platform)) = self.pending_image.take().filter(|_| !self.pending.is_empty()) {
            let row = ImageRow {
                name: self.strings.id(&name),
                repository: self.strings.id(&name),
                tag: NONE,
                platform: self.strings.opt(platform.as_deref()),
                manifest_digest: NONE,
                secrets: 0,
            };
            self.push_image(row, |_, _| NONE);
        }
        let mut secrets = report.secrets.clone();
        secrets.redact_texts(&mut self);
        SecretReport::new(self, report)
    }
}

/// The repository and tag an image is known by: `host/repo` and `tag` from a reference
/// (`host/repo:tag`, `library/app:1`); a bare tag (an OCI layout's `ref.name`) is a tag of the
/// input; an image without a tag is its input (or the repository of its digest reference).
fn repository_and_tag(image: &ImageReport) -> (String, Option<String>) {
    if let Some(t) = image.tags.first() {
        if t.contains(['/', ':']) {
            let slash = t.rfind('/').map_or(0, |i| i + 1);
            return match t[slash..].rfind(':') {
                Some(c) => (t[..slash + c].to_string(), Some(t[slash + c + 1..].to_string())),
                None => (t.clone(), None),
            };
        }
        return (image.input.clone(), Some(t.clone()));
    }
    // `host/repo@sha256:… (linux/arm64)`: a registry image asked for by digest.
    let name = image.name.split(" (").next().unwrap_or(&image.name);
    match name.split_once('@') {
        Some((repo, _)) if image.kind == crate::image::InputKind::Registry => (repo.to_string(), None),
        _ => (image.input.clone(), None),
    }
}

impl super::Texts for SecretIndex {
    fn texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        self.strings.ids.clear();
        self.strings.texts.iter_mut().for_each(&mut *f);
        for s in &mut self.secrets {
            f(&mut s.rule);
            f(&mut s.title);
            s.note.iter_mut().for_each(&mut *f);
            f(&mut s.remediation);
            if let Some(p) = &mut s.package {
                f(&mut p.name);
                f(&mut p.version);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::repository_and_tag;
    use crate::image::InputKind;
    use crate::report::ImageReport;

    fn image(kind: InputKind, input: &str, name: &str, tags: &[&str]) -> ImageReport {
        ImageReport {
            input: input.into(),
            kind,
            name: name.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            platform: None,
            manifest_digest: None,
            config_digest: None,
            layers: Vec::new(),
            findings: 0,
            findings_packaged: 0,
        }
    }

    fn split(kind: InputKind, input: &str, name: &str, tags: &[&str]) -> (String, Option<String>) {
        repository_and_tag(&image(kind, input, name, tags))
    }

    #[test]
    fn a_place_stays_compact() {
        // What 10,000 images of one base cost: one record per place, no text of its own.
        assert_eq!(std::mem::size_of::<super::PlaceRec>(), 32);
    }

    #[test]
    fn repositories_and_tags_come_from_references_or_the_input() {
        let some = |r: &str, t: Option<&str>| (r.to_string(), t.map(str::to_string));
        let reg = InputKind::Registry;
        let tagged = split(reg, "x", "127.0.0.1:5000/team/app:v1", &["127.0.0.1:5000/team/app:v1"]);
        assert_eq!(tagged, some("127.0.0.1:5000/team/app", Some("v1")));
        let pinned = split(reg, "x", "h:5000/team/app@sha256:ab (linux/arm64)", &[]);
        assert_eq!(pinned, some("h:5000/team/app", None));
        let archive = split(InputKind::OciArchive, "m.tar", "a:1 (linux/amd64)", &["layerleak/multi-a:1"]);
        assert_eq!(archive, some("layerleak/multi-a", Some("1")));
        let layout = split(InputKind::OciLayout, "dir.oci", "latest (linux/amd64)", &["latest"]);
        assert_eq!(layout, some("dir.oci", Some("latest")));
        assert_eq!(split(InputKind::Layer, "l.tar", "l.tar", &[]), some("l.tar", None));
        assert_eq!(
            split(InputKind::DockerArchive, "a.tar", "n", &["host:5000/repo"]),
            some("host:5000/repo", None)
        );
    }
}
