//! The finished by-secret report: totals, per-repository counts, groups by root cause, places
//! rendered from the index's tables, and the `"schema": 2` JSON document.

use std::collections::{HashMap, HashSet};

use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use serde::Serialize;

use super::{DistinctSecret, ImageRow, LayerRow, SecretIndex, Strings, NONE};
use crate::detect::Severity;
use crate::layer::Status;
use crate::report::{ErrorRecord, Report, Source, Stats, Tool};

/// Version of the by-secret JSON document (`"group_by": "secret"`). The per-image document keeps
/// [`crate::report::SCHEMA_VERSION`].
pub const BY_SECRET_SCHEMA_VERSION: u32 = 2;

/// Counts per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SeverityCounts {
    /// Critical.
    pub critical: usize,
    /// High.
    pub high: usize,
    /// Medium.
    pub medium: usize,
    /// Low.
    pub low: usize,
}

impl SeverityCounts {
    fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            _ => self.low += 1,
        }
    }
}

/// What the run covered, counted by distinct secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SecretSummary {
    /// Distinct secrets (rule and fingerprint).
    pub secrets: usize,
    /// Of them, visible in at least one image.
    pub present: usize,
    /// Of them, hidden in every image that holds them (still extractable).
    pub hidden: usize,
    /// Distinct secrets per severity.
    pub by_severity: SeverityCounts,
    /// Per-image findings gathered into them.
    pub findings: usize,
    /// Places: every occurrence in every image.
    pub places: usize,
    /// Images scanned.
    pub images: usize,
    /// Distinct repositories of those images.
    pub repositories: usize,
    /// Distinct (repository, tag) pairs.
    pub tags: usize,
    /// Distinct layers obtained: walked in this run or taken from the cache.
    pub layers_distinct: usize,
    /// Of them, downloaded and walked.
    pub layers_scanned: usize,
    /// Of them, taken from the layer cache.
    pub layers_cached: usize,
    /// Layers of images that another image of the run already had (not read again).
    pub layers_reused: usize,
}

/// Counts for one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RepositoryCount {
    /// `host/repo`, or the input of images without a reference.
    pub repository: String,
    /// Its images.
    pub images: usize,
    /// Its distinct tags.
    pub tags: usize,
    /// Distinct secrets in its images.
    pub secrets: usize,
    /// Of them, visible in at least one of its images.
    pub present: usize,
    /// Of them, hidden in all of its images.
    pub hidden: usize,
    /// Places in its images.
    pub places: usize,
}

/// One place of a secret, rendered from the index.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Place<'a> {
    /// The image's name (as `ImageReport::name` and `Finding::image`).
    pub image: &'a str,
    /// Its repository.
    pub repository: &'a str,
    /// Its tag, if it has one.
    pub tag: Option<&'a str>,
    /// Its platform.
    pub platform: Option<&'a str>,
    /// Its manifest digest.
    pub manifest_digest: Option<&'a str>,
    /// The layer's digest (null for config fields).
    pub layer: Option<&'a str>,
    /// The layer's index in the image (null for config fields).
    pub layer_index: Option<u32>,
    /// File or config field.
    pub source: Source,
    /// Path in the layer (as `Location::path`) or config location.
    pub path: &'a str,
    /// The chain inside nested archives, joined with `!`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner: Option<&'a str>,
    /// 1-based line, for text.
    pub line: Option<u32>,
    /// 1-based column (bytes), for text.
    pub column: Option<u32>,
    /// This occurrence's fate.
    pub status: Status,
    /// Whether the secret is readable in this image through any occurrence.
    pub visible: bool,
}

/// A layer introducing a secret.
#[derive(Debug, Clone, Copy, Serialize)]
#[non_exhaustive]
pub struct IntroducingLayer<'a> {
    /// Blob digest (else diff_id).
    pub digest: Option<&'a str>,
    /// The step that made it (of the first image seen with it).
    pub created_by: Option<&'a str>,
    /// Images in which it introduces the secret.
    pub images: usize,
}

/// Secrets sharing one root cause: every image holding each of them got it from the same layer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SecretGroup<'a> {
    /// The shared introducing layer; `None` for a secret with several introducing layers or
    /// held in image configs (a group of its own).
    pub root: Option<IntroducingLayer<'a>>,
    /// Repositories of the images holding them.
    pub repositories: usize,
    /// The secrets, by blast radius.
    pub secrets: Vec<&'a DistinctSecret>,
}

/// The finished by-secret report. See the module docs.
#[derive(Debug)]
#[non_exhaustive]
pub struct SecretReport {
    /// `BY_SECRET_SCHEMA_VERSION`.
    pub schema: u32,
    /// The tool.
    pub tool: Tool,
    /// Totals by distinct secret.
    pub summary: SecretSummary,
    /// Distinct secrets, largest blast radius first.
    pub secrets: Vec<DistinctSecret>,
    /// Per-repository counts, by name.
    pub repositories: Vec<RepositoryCount>,
    /// What could not be read.
    pub errors: Vec<ErrorRecord>,
    /// What was deliberately left out.
    pub notes: Vec<String>,
    /// The run's statistics, per image and per finding.
    pub stats: Stats,
    strings: Strings,
    images: Vec<ImageRow>,
    layers: Vec<LayerRow>,
    /// Groups by root cause, as indexes into `secrets`, in the order of their first secret.
    groups: Vec<Vec<usize>>,
}

impl SecretReport {
    pub(super) fn new(index: SecretIndex, report: &Report) -> SecretReport {
        let SecretIndex { strings, mut images, layers, mut secrets, .. } = index;
        sort_images(&strings, &mut images, &mut secrets);
        let mut repos: HashMap<u32, RepoTally> = HashMap::new();
        for im in &images {
            let r = repos.entry(im.repository).or_default();
            r.images += 1;
            if im.tag != NONE {
                r.tags.insert(im.tag);
            }
        }
        for (n, s) in secrets.iter_mut().enumerate() {
            settle(n, s, &images, &mut repos);
        }
        let summary = summarize(&secrets, &images, &repos, &report.stats);
        let mut repositories: Vec<RepositoryCount> =
            repos.into_iter().map(|(id, r)| r.count(strings.get(id).unwrap_or_default())).collect();
        repositories.sort_by(|a, b| a.repository.cmp(&b.repository));
        secrets.sort_by(|a, b| {
            b.blast_radius()
                .cmp(&a.blast_radius())
                .then(b.visible().cmp(&a.visible()))
                .then(a.severity.cmp(&b.severity))
                .then_with(|| a.rule.cmp(&b.rule))
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        let groups = group_by_root(&secrets);
        SecretReport {
            schema: BY_SECRET_SCHEMA_VERSION,
            tool: report.tool.clone(),
            summary,
            secrets,
            repositories,
            errors: report.errors.clone(),
            notes: report.notes.clone(),
            stats: report.stats.clone(),
            strings,
            images,
            layers,
            groups,
        }
    }

    fn text(&self, id: u32) -> Option<&str> {
        if id == NONE {
            None
        } else {
            self.strings.get(id)
        }
    }

    fn layer(&self, id: u32, images: usize) -> IntroducingLayer<'_> {
        let row = self.layers.get(id as usize);
        IntroducingLayer {
            digest: row.and_then(|r| self.text(r.digest)),
            created_by: row.and_then(|r| self.text(r.created_by)),
            images,
        }
    }

    /// Every place of `secret`, in the order its images were resolved.
    pub fn places<'a>(&'a self, secret: &'a DistinctSecret) -> impl Iterator<Item = Place<'a>> + 'a {
        secret.places.iter().map(move |p| {
            let image = self.images.get(p.image as usize);
            let field = |f: fn(&ImageRow) -> u32| image.and_then(|i| self.text(f(i)));
            Place {
                image: field(|i| i.name).unwrap_or_default(),
                repository: field(|i| i.repository).unwrap_or_default(),
                tag: field(|i| i.tag),
                platform: field(|i| i.platform),
                manifest_digest: field(|i| i.manifest_digest),
                layer: self.layers.get(p.layer as usize).and_then(|l| self.text(l.digest)),
                layer_index: (p.layer_index != NONE).then_some(p.layer_index),
                source: p.source,
                path: self.text(p.path).unwrap_or_default(),
                inner: self.text(p.inner),
                line: (p.line != 0).then_some(p.line),
                column: (p.column != 0).then_some(p.column),
                status: p.status,
                visible: p.visible,
            }
        })
    }

    /// The layers introducing `secret`, most images first.
    pub fn introduced_by<'a>(&'a self, secret: &'a DistinctSecret) -> Vec<IntroducingLayer<'a>> {
        let mut v: Vec<IntroducingLayer<'a>> =
            secret.introduced.iter().map(|&(id, images)| self.layer(id, images)).collect();
        v.sort_by(|a, b| b.images.cmp(&a.images).then(a.digest.cmp(&b.digest)));
        v
    }

    /// Images holding `secret` through an image config field (no introducing layer).
    pub fn config_images(&self, secret: &DistinctSecret) -> usize {
        secret.config_in
    }

    /// The one layer every image holding `secret` got it from, if there is one.
    pub fn root_cause<'a>(&'a self, secret: &'a DistinctSecret) -> Option<IntroducingLayer<'a>> {
        (secret.root != NONE).then(|| self.layer(secret.root, secret.images()))
    }

    /// The secrets grouped by root cause, the group holding the largest blast radius first.
    pub fn groups(&self) -> impl Iterator<Item = SecretGroup<'_>> + '_ {
        self.groups.iter().map(|g| {
            let secrets: Vec<&DistinctSecret> = g.iter().filter_map(|&n| self.secrets.get(n)).collect();
            let first = secrets.first();
            SecretGroup {
                root: first.and_then(|s| self.root_cause(s)),
                repositories: secrets.iter().map(|s| s.repositories).max().unwrap_or(0),
                secrets,
            }
        })
    }

    /// The notes, those that differ only by the image they begin with (`IMAGE: no package
    /// database found …`) told once: `(text, images)`, the text without its image when several
    /// images had it (`images` then says how many), else the note as it is (`images` 0 or 1).
    pub fn folded_notes(&self) -> Vec<(String, usize)> {
        let names: HashSet<&str> = self.images.iter().filter_map(|i| self.text(i.name)).collect();
        // (note as written, text without the image, images).
        let mut folded: Vec<(&str, &str, usize)> = Vec::new();
        let mut at: HashMap<&str, usize> = HashMap::new();
        for note in &self.notes {
            let own = note.match_indices(": ").find(|(i, _)| names.contains(&note[..*i]));
            let Some((i, sep)) = own else {
                folded.push((note, note, 0));
                continue;
            };
            let text = &note[i + sep.len()..];
            match at.get(text).and_then(|&n| folded.get_mut(n)) {
                Some(f) => f.2 += 1,
                None => {
                    at.insert(text, folded.len());
                    folded.push((note, text, 1));
                }
            }
        }
        folded
            .into_iter()
            .map(|(note, text, n)| if n > 1 { (text.to_string(), n) } else { (note.to_string(), n) })
            .collect()
    }

    /// One secret as its JSON object (also a JSONL line's body).
    pub fn secret_json<'a>(&'a self, secret: &'a DistinctSecret) -> impl Serialize + 'a {
        SecretJson { report: self, secret }
    }
}

/// Images by name, and each secret's places in that order (an audit resolves images in batches,
/// in no order a reader expects).
fn sort_images(strings: &Strings, images: &mut Vec<ImageRow>, secrets: &mut [DistinctSecret]) {
    let name = |i: &ImageRow| strings.get(i.name).unwrap_or_default();
    let mut order: Vec<usize> = (0..images.len()).collect();
    order.sort_by(|&a, &b| name(&images[a]).cmp(name(&images[b])));
    let mut new_id = vec![0u32; images.len()];
    for (new, &old) in order.iter().enumerate() {
        new_id[old] = u32::try_from(new).unwrap_or(NONE);
    }
    *images = order.iter().map(|&old| images[old]).collect();
    for s in secrets {
        for p in &mut s.places {
            p.image = new_id.get(p.image as usize).copied().unwrap_or(NONE);
        }
        // Stable: an image's first place stays its first.
        s.places.sort_by_key(|p| p.image);
    }
}

/// What one repository holds, while counting.
#[derive(Default)]
struct RepoTally {
    images: usize,
    tags: HashSet<u32>,
    present: HashSet<usize>,
    hidden: HashSet<usize>,
    places: usize,
}

impl RepoTally {
    fn count(self, repository: &str) -> RepositoryCount {
        // A secret visible in one image of the repository and hidden in another is present there.
        let hidden = self.hidden.difference(&self.present).count();
        RepositoryCount {
            repository: repository.to_string(),
            images: self.images,
            tags: self.tags.len(),
            secrets: self.present.len() + hidden,
            present: self.present.len(),
            hidden,
            places: self.places,
        }
    }
}

/// Settles secret `n` once every image is in: its root cause (one introducing layer, no image
/// holding it in its config), its repositories, whether it is packaged everywhere.
fn settle(n: usize, s: &mut DistinctSecret, images: &[ImageRow], repos: &mut HashMap<u32, RepoTally>) {
    if let [(layer, _)] = s.introduced[..] {
        if s.config_in == 0 {
            s.root = layer;
        }
    }
    let mut mine: HashMap<u32, bool> = HashMap::new();
    for p in &s.places {
        let repo = images.get(p.image as usize).map_or(NONE, |i| i.repository);
        *mine.entry(repo).or_default() |= p.visible;
        if let Some(r) = repos.get_mut(&repo) {
            r.places += 1;
        }
    }
    s.repositories = mine.len();
    for (repo, visible) in mine {
        if let Some(r) = repos.get_mut(&repo) {
            if visible {
                r.present.insert(n);
            } else {
                r.hidden.insert(n);
            }
        }
    }
    if s.packaged_in < s.images() {
        s.package = None;
    }
}

fn summarize(
    secrets: &[DistinctSecret],
    images: &[ImageRow],
    repos: &HashMap<u32, RepoTally>,
    stats: &Stats,
) -> SecretSummary {
    let mut summary = SecretSummary::default();
    for s in secrets {
        summary.findings += s.images();
        summary.places += s.places.len();
        summary.by_severity.add(s.severity);
        if s.visible() {
            summary.present += 1;
        } else {
            summary.hidden += 1;
        }
    }
    summary.secrets = secrets.len();
    summary.images = images.len();
    summary.repositories = repos.len();
    summary.tags = repos.values().map(|r| r.tags.len()).sum();
    summary.layers_scanned = stats.layers_scanned;
    summary.layers_cached = stats.layers_cached;
    summary.layers_distinct = stats.layers_scanned + stats.layers_cached;
    summary.layers_reused = stats.layers_reused;
    summary
}

/// Secrets sharing a root-cause layer form one group, placed where its first (largest) secret
/// is; every other secret is a group of its own.
fn group_by_root(secrets: &[DistinctSecret]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_root: HashMap<u32, usize> = HashMap::new();
    for (n, s) in secrets.iter().enumerate() {
        if s.root == NONE {
            groups.push(vec![n]);
            continue;
        }
        match by_root.get(&s.root) {
            Some(&g) => {
                if let Some(group) = groups.get_mut(g) {
                    group.push(n);
                }
            }
            None => {
                by_root.insert(s.root, groups.len());
                groups.push(vec![n]);
            }
        }
    }
    groups
}

/// A secret with its places, serialized as they are rendered.
struct SecretJson<'a> {
    report: &'a SecretReport,
    secret: &'a DistinctSecret,
}

impl Serialize for SecretJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let (r, s) = (self.report, self.secret);
        let introduced = r.introduced_by(s);
        let digests: Vec<&str> = introduced.iter().filter_map(|l| l.digest).collect();
        let mut st = ser.serialize_struct("Secret", 22)?;
        st.serialize_field("rule", &s.rule)?;
        st.serialize_field("title", &s.title)?;
        st.serialize_field("severity", &s.severity)?;
        st.serialize_field("fingerprint", &s.fingerprint)?;
        st.serialize_field("redacted", &s.redacted)?;
        if let Some(secret) = &s.secret {
            st.serialize_field("secret", secret)?;
        }
        st.serialize_field("validation", &s.validation)?;
        st.serialize_field("status", if s.visible() { "present" } else { "hidden" })?;
        st.serialize_field("visible_in", &s.visible_in)?;
        st.serialize_field("hidden_in_images", &s.hidden_in)?;
        st.serialize_field("images", &s.images())?;
        st.serialize_field("repositories", &s.repositories)?;
        st.serialize_field("blast_radius", &s.blast_radius())?;
        st.serialize_field("introduced_by", &digests)?;
        st.serialize_field("introducing_layers", &introduced)?;
        st.serialize_field("config_images", &s.config_in)?;
        st.serialize_field("root_cause", &r.root_cause(s))?;
        if let Some(p) = &s.package {
            st.serialize_field("package", p)?;
        }
        if let Some(n) = &s.note {
            st.serialize_field("note", n)?;
        }
        st.serialize_field("remediation", &s.remediation)?;
        st.serialize_field("places", &Seq(|| r.places(s)))?;
        st.end()
    }
}

/// A sequence serialized from an iterator made on demand.
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(None)?;
        for item in (self.0)() {
            seq.serialize_element(&item)?;
        }
        seq.end()
    }
}

/// One image in the by-secret document.
#[derive(Serialize)]
struct ImageJson<'a> {
    name: &'a str,
    repository: &'a str,
    tag: Option<&'a str>,
    platform: Option<&'a str>,
    manifest_digest: Option<&'a str>,
    secrets: u32,
}

/// The `"schema": 2` document: `group_by`, `tool`, `summary`, `secrets` (each with its places),
/// `repositories`, `images`, `errors`, `notes`, `stats`.
impl Serialize for SecretReport {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut st = ser.serialize_struct("SecretReport", 10)?;
        st.serialize_field("schema", &self.schema)?;
        st.serialize_field("group_by", "secret")?;
        st.serialize_field("tool", &self.tool)?;
        st.serialize_field("summary", &self.summary)?;
        st.serialize_field("secrets", &Seq(|| self.secrets.iter().map(|s| self.secret_json(s))))?;
        st.serialize_field("repositories", &self.repositories)?;
        let images = || {
            self.images.iter().map(|i| ImageJson {
                name: self.text(i.name).unwrap_or_default(),
                repository: self.text(i.repository).unwrap_or_default(),
                tag: self.text(i.tag),
                platform: self.text(i.platform),
                manifest_digest: self.text(i.manifest_digest),
                secrets: i.secrets,
            })
        };
        st.serialize_field("images", &Seq(images))?;
        st.serialize_field("errors", &self.errors)?;
        st.serialize_field("notes", &self.notes)?;
        st.serialize_field("stats", &self.stats)?;
        st.end()
    }
}
