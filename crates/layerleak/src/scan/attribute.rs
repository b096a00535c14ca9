//! Turning matches into findings: each occurrence gets its fate from the lifecycle, occurrences of
//! the same secret (rule + fingerprint) in one image become one finding whose primary location is
//! the earliest, and each layer learns how many secrets it introduced and hid.

use std::collections::HashMap;
use std::sync::Arc;

use super::outcome::{LayerOutcome, TextHit};
use super::Config;
use crate::detect::Rule;
use crate::image::{Image, Input};
use crate::layer::{EntryMeta, Fate, HiddenHow, LayerWalk, Lifecycle, Status};
use crate::package::{bytecode_source, DbRecord, Package, PackageIndex};
use crate::report::{
    ErrorRecord, Finding, HiddenRef, ImageReport, LayerRef, LayerReport, Location, Occurrence, Secrets,
    Source, Texts, Verified,
};
use crate::{At, DigestKind, Error};

pub(super) struct ResolvedImage {
    pub image: ImageReport,
    pub findings: Vec<Finding>,
    pub errors: Vec<ErrorRecord>,
    /// File ends left unscanned because `max_file_bytes` was set.
    pub notes: Vec<String>,
    pub dropped: usize,
    /// Findings in files the image's package databases vouch for (listed or not).
    pub packaged: usize,
    /// Every secret detected in the image (those beyond `max_findings` too), when the scanner
    /// does not keep secrets. The texts above still hold them until redacted with these.
    pub secrets: Secrets,
}

impl Texts for ResolvedImage {
    fn texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        let ResolvedImage { image, findings, errors, notes, dropped: _, packaged: _, secrets: _ } = self;
        image.texts(f);
        findings.iter_mut().for_each(|x| x.texts(f));
        errors.iter_mut().for_each(|e| e.texts(f));
        notes.iter_mut().for_each(f);
    }
}

/// One place a secret was seen.
struct Occ {
    rule: usize,
    /// Hex SHA-256 of the secret: what groups occurrences.
    fingerprint: String,
    redacted: String,
    /// The secret bytes, when known (never from a cached layer).
    secret: Option<Vec<u8>>,
    entropy: f64,
    validation: crate::detect::Validation,
    note: Option<String>,
    location: Location,
    layer: Option<usize>,
    fate: Fate,
    /// The package whose database vouches for the file version (byte-identical), if any.
    package: Option<Package>,
}

impl Occ {
    /// Order of occurrences: by layer and place; at one path of one layer, what extracting the
    /// layer keeps comes before copies a later entry of the same layer replaced (tar: the last
    /// entry of a path wins), so that is what the finding reports first.
    fn sort_key(&self) -> (usize, Source, &str, &[String], bool, u64) {
        (
            self.layer.unwrap_or(usize::MAX),
            self.location.source,
            &self.location.path,
            &self.location.inner,
            self.replaced_in_own_layer(),
            self.location.offset,
        )
    }

    /// The reported order of findings: by their first occurrence's layer, path and offset.
    fn report_key(&self) -> (usize, Source, &str, &[String], u64) {
        let (layer, source, path, inner, _, offset) = self.sort_key();
        (layer, source, path, inner, offset)
    }

    fn replaced_in_own_layer(&self) -> bool {
        matches!(self.fate, Fate::Hidden { by, how: HiddenHow::Overwrite } if Some(by) == self.layer)
    }
}

/// The layers of one image as resolution reads them: the image's descriptors and the outcomes of
/// its first `max_layers` layers (`None`: not obtained).
struct View<'a> {
    image: &'a Image,
    layers: &'a [Option<Arc<LayerOutcome>>],
}

impl View<'_> {
    fn walk(&self, i: usize) -> Option<&LayerWalk> {
        self.layers.get(i).and_then(|o| o.as_ref()).and_then(|o| o.walk.as_ref())
    }

    /// Layer `i` (an index into the image's layers) as a finding names it.
    fn layer_ref(&self, i: usize) -> LayerRef {
        let d = &self.image.layers[i];
        let walk = self.walk(i);
        LayerRef {
            index: i,
            digest: d.digest.clone().or_else(|| walk.and_then(|w| w.blob_digest.clone())),
            diff_id: d.diff_id.clone().or_else(|| walk.and_then(|w| w.diff_id.clone())),
            created_by: d.created_by.clone(),
        }
    }
}

/// How many secrets each layer of an image introduced, hid, and introduced in packaged files.
struct LayerCounts {
    introduced: Vec<usize>,
    hidden: Vec<usize>,
    packaged: Vec<usize>,
}

impl LayerCounts {
    fn new(layers: usize) -> LayerCounts {
        LayerCounts { introduced: vec![0; layers], hidden: vec![0; layers], packaged: vec![0; layers] }
    }

    /// Counts the finding made of `group` (its first occurrence the finding's own).
    fn count(&mut self, group: &[Occ]) {
        if let Some(c) = group[0].layer.and_then(|l| self.introduced.get_mut(l)) {
            *c += 1;
        }
        let mut hiders: Vec<usize> = group
            .iter()
            .filter_map(|o| match o.fate {
                Fate::Hidden { by, .. } => Some(by),
                Fate::Present => None,
            })
            .collect();
        hiders.sort_unstable();
        hiders.dedup();
        for by in hiders {
            if let Some(c) = self.hidden.get_mut(by) {
                *c += 1;
            }
        }
    }
}

/// Resolves one image: the fate of every occurrence across its layers (`layers`, the outcomes of
/// its first `max_layers` layers) and its config texts (`texts`), grouped into findings, with the
/// image's and its layers' reports.
pub(super) fn resolve_image(
    rules: &[Rule],
    opts: &Config,
    input: &Input,
    image: &Image,
    layers: &[Option<Arc<LayerOutcome>>],
    texts: &[TextHit],
) -> ResolvedImage {
    let view = View { image, layers };
    let image_at = At::image(image.name.clone());
    let empty: Vec<EntryMeta> = Vec::new();
    let entries: Vec<&[EntryMeta]> =
        (0..layers.len()).map(|i| view.walk(i).map_or(&empty[..], |w| &w.entries[..])).collect();
    let lifecycle = Lifecycle::resolve(&entries);
    let packages = package_index(layers, &entries, &lifecycle);

    let (mut errors, mut notes) = layer_records(&view, &image_at);
    let mut occs = file_occurrences(layers, &lifecycle, &packages);
    occs.extend(text_occurrences(texts, layers.len()));
    let secrets = if opts.keep_secrets { Secrets::default() } else { secrets_of(&occs) };
    let mut groups = group(occs);
    let mut counts = LayerCounts::new(image.layers.len());
    let packaged = triage_packaged(&mut groups, &mut counts, opts.include_packaged);
    notes.extend(package_notes(image, &packages, !groups.is_empty() && !opts.skip_package_triage));

    let max = opts.limits.max_findings;
    let dropped = groups.len().saturating_sub(max);
    groups.truncate(max);
    let findings: Vec<Finding> = groups
        .into_iter()
        .map(|group| {
            counts.count(&group);
            finding(group, &view, rules, opts.keep_secrets)
        })
        .collect();
    if dropped > 0 {
        let e = Error::Limit { at: image_at, limit: crate::LimitKind::Findings, max: max as u64 };
        errors.push(ErrorRecord::from(&e));
    }

    let image_report = ImageReport {
        input: input.name.clone(),
        kind: input.kind,
        name: image.name.clone(),
        tags: image.tags.clone(),
        platform: image.platform.clone(),
        manifest_digest: image.manifest_digest.clone(),
        config_digest: image.config_digest.clone(),
        layers: layer_reports(&view, &lifecycle, &counts),
        findings: findings.len(),
        findings_packaged: packaged,
    };
    ResolvedImage { image: image_report, findings, errors, notes, dropped, packaged, secrets }
}

/// Which package, if any, installed each file version; built only when some layer has a hit.
fn package_index(
    layers: &[Option<Arc<LayerOutcome>>],
    entries: &[&[EntryMeta]],
    lifecycle: &Lifecycle,
) -> PackageIndex {
    let no_dbs: Vec<DbRecord> = Vec::new();
    let dbs: Vec<&[DbRecord]> =
        layers.iter().map(|o| o.as_ref().map_or(&no_dbs[..], |o| &o.packages[..])).collect();
    let has_hits = layers.iter().flatten().any(|o| !o.hits.is_empty());
    if has_hits {
        PackageIndex::build(entries, &dbs, lifecycle)
    } else {
        PackageIndex::default()
    }
}

/// The errors of the image and its layers (a layer's digests that did not match what was promised
/// among them), and the notes on file ends left unscanned.
fn layer_records(view: &View<'_>, image_at: &At) -> (Vec<ErrorRecord>, Vec<String>) {
    let image = view.image;
    let mut errors: Vec<ErrorRecord> = image.errors.iter().map(|e| record(e, image_at)).collect();
    let mut notes: Vec<String> = Vec::new();
    for (i, outcome) in view.layers.iter().enumerate() {
        let Some(outcome) = outcome else { continue };
        let layer_at = image_at.clone().with_layer(i, image.layers[i].digest.clone());
        errors.extend(outcome.errors.iter().map(|e| record(e, &layer_at)));
        let walk_skipped = outcome.walk.iter().flat_map(|w| &w.skipped);
        notes.extend(walk_skipped.chain(&outcome.skipped).map(|s| {
            let mut s = s.clone();
            s.at = std::mem::take(&mut s.at).or(&layer_at);
            s.to_string()
        }));
        if let Some(walk) = &outcome.walk {
            errors.extend(walk.errors.iter().map(|e| record(e, &layer_at)));
            let d = &image.layers[i];
            for (kind, promised, computed) in [
                (DigestKind::Blob, d.digest.as_ref(), walk.blob_digest.as_ref()),
                (DigestKind::DiffId, d.diff_id.as_ref(), walk.diff_id.as_ref()),
            ] {
                if let (Some(p), Some(c), Verified::Mismatch) =
                    (promised, computed, Verified::check(promised, computed))
                {
                    let e = Error::DigestMismatch {
                        at: layer_at.clone(),
                        kind,
                        expected: p.clone(),
                        found: c.clone(),
                    };
                    errors.push(ErrorRecord::from(&e));
                }
            }
        }
    }
    (errors, notes)
}

/// Every match in a file of the image's layers, with its fate and the package that installed the
/// file version, if any.
fn file_occurrences(
    layers: &[Option<Arc<LayerOutcome>>],
    lifecycle: &Lifecycle,
    packages: &PackageIndex,
) -> Vec<Occ> {
    let mut occs: Vec<Occ> = Vec::new();
    for (i, outcome) in layers.iter().enumerate() {
        let Some(outcome) = outcome else { continue };
        for hit in &outcome.hits {
            let fate = lifecycle.content_fate(i, hit.ordinal).unwrap_or(Fate::Present);
            let aliases: Vec<String> =
                lifecycle.aliases(i, hit.ordinal).iter().map(|p| p.display().into_owned()).collect();
            let path = hit.path.display().into_owned();
            let package = outcome.sums_of(hit.ordinal).and_then(|sums| {
                let paths: Vec<String> =
                    std::iter::once(&path).chain(&aliases).map(|p| packages.canonical(p)).collect();
                let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
                packages.package_of(i, &paths, sums).cloned()
            });
            occs.push(Occ {
                rule: hit.m.rule,
                fingerprint: hit.fingerprint.clone(),
                redacted: hit.redacted.clone(),
                secret: (!hit.m.secret.is_empty()).then(|| hit.m.secret.clone()),
                entropy: hit.m.entropy,
                validation: hit.m.validation,
                note: hit.m.note.clone(),
                location: Location {
                    source: Source::File,
                    path,
                    inner: hit.m.inner.clone(),
                    offset: hit.m.offset,
                    line: hit.m.line,
                    column: hit.m.column,
                    aliases,
                },
                layer: Some(i),
                fate,
                package,
            });
        }
    }
    occs
}

/// Every match in the image's config texts; a history step names its layer when that layer is
/// among the `layers` resolved.
fn text_occurrences(texts: &[TextHit], layers: usize) -> impl Iterator<Item = Occ> + '_ {
    texts.iter().map(move |hit| Occ {
        rule: hit.m.rule,
        fingerprint: hit.fingerprint.clone(),
        redacted: hit.redacted.clone(),
        secret: Some(hit.m.secret.clone()),
        entropy: hit.m.entropy,
        validation: hit.m.validation,
        note: hit.m.note.clone(),
        location: Location {
            source: hit.source,
            path: hit.location.clone(),
            inner: Vec::new(),
            offset: hit.m.offset,
            line: None,
            column: None,
            aliases: Vec::new(),
        },
        layer: hit.layer.filter(|l| *l < layers),
        fate: Fate::Present,
        package: None,
    })
}

/// Every secret detected in the image (with the redacted form its occurrences carry), to redact
/// the report's texts with.
fn secrets_of(occs: &[Occ]) -> Secrets {
    let mut secrets = Secrets::default();
    for o in occs {
        if let Some(s) = &o.secret {
            secrets.insert(s, &o.redacted);
        }
    }
    secrets
}

/// The occurrences of each secret (rule + fingerprint), each group in [`Occ::sort_key`] order, the
/// groups in the order of their first occurrence ([`Occ::report_key`]).
fn group(mut occs: Vec<Occ>) -> Vec<Vec<Occ>> {
    occs.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()).then(a.rule.cmp(&b.rule)));
    let mut groups: Vec<Vec<Occ>> = Vec::new();
    let mut index: HashMap<(usize, String), usize> = HashMap::new();
    for o in occs {
        let key = (o.rule, o.fingerprint.clone());
        match index.get(&key) {
            Some(&g) => {
                let group: &mut Vec<Occ> = &mut groups[g];
                // The same bytes at the same place of the same layer add nothing: another route
                // to them, or an earlier copy of the path that the layer itself replaced with
                // identical content (sorted after the copy that survives, which is kept).
                if !group.iter().any(|x| x.layer == o.layer && x.location == o.location) {
                    group.push(o);
                }
            }
            None => {
                index.insert(key, groups.len());
                groups.push(vec![o]);
            }
        }
    }
    groups.sort_by(|a, b| a[0].report_key().cmp(&b[0].report_key()).then(a[0].rule.cmp(&b[0].rule)));
    groups
}

/// Packaged: every occurrence in a file its package database vouches for. Counts those groups
/// (returned, and per layer in `counts`) and keeps them only when `include_packaged`; in the
/// others, no occurrence names a package.
fn triage_packaged(groups: &mut Vec<Vec<Occ>>, counts: &mut LayerCounts, include_packaged: bool) -> usize {
    let mut packaged = 0usize;
    groups.retain_mut(|group| {
        vouch_bytecode(group);
        if group.iter().any(|o| o.package.is_none()) {
            group.iter_mut().for_each(|o| o.package = None);
            return true;
        }
        packaged += 1;
        if let Some(c) = group[0].layer.and_then(|l| counts.packaged.get_mut(l)) {
            *c += 1;
        }
        include_packaged
    });
    packaged
}

/// What the package triage could not do: no database at all (said when `checked`: findings
/// remain and the triage is on), or a database it could not use.
fn package_notes(image: &Image, packages: &PackageIndex, checked: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if !packages.any && checked {
        notes.push(format!(
            "{}: no package database found (dpkg, apk, rpm, Python RECORD): no finding was checked against \
             what packages installed",
            image.name
        ));
    }
    for (layer, path, why) in &packages.unreadable {
        notes.push(format!(
            "{}: layer {layer}: package database {path} not used: {why}; the files it lists are not \
             classified as packaged",
            image.name
        ));
    }
    notes
}

/// The finding made of the occurrences of one secret: the first is where it is reported, the
/// others are listed as also in.
fn finding(mut group: Vec<Occ>, view: &View<'_>, rules: &[Rule], keep_secrets: bool) -> Finding {
    let image = view.image;
    let first = group.remove(0);
    let rule = &rules[first.rule];
    let visible =
        matches!(first.fate, Fate::Present) || group.iter().any(|o| matches!(o.fate, Fate::Present));
    let status = first.fate.status();
    let hidden_in = match first.fate {
        Fate::Hidden { by, how } if by < image.layers.len() => {
            Some(HiddenRef { layer: view.layer_ref(by), how })
        }
        _ => None,
    };
    let also_in = group
        .into_iter()
        .map(|o| Occurrence {
            status: o.fate.status(),
            hidden_by: match o.fate {
                Fate::Hidden { by, .. } => Some(by),
                Fate::Present => None,
            },
            layer: o.layer,
            location: o.location,
        })
        .collect();
    let remediation = remediation(&first, if visible { Status::Present } else { status });
    Finding {
        package: first.package,
        rule: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        secret: first
            .secret
            .as_ref()
            .filter(|_| keep_secrets)
            .map(|s| String::from_utf8_lossy(s).into_owned()),
        fingerprint: first.fingerprint,
        redacted: first.redacted,
        validation: first.validation,
        entropy: (first.entropy * 1000.0).round() / 1000.0,
        image: image.name.clone(),
        platform: image.platform.clone(),
        introduced_in: first.layer.filter(|l| *l < image.layers.len()).map(|l| view.layer_ref(l)),
        hidden_in,
        status,
        visible,
        also_in,
        note: first.note,
        remediation,
        location: first.location,
    }
}

/// What to do about a finding whose first occurrence is `first`; `status` is present when any
/// occurrence is.
fn remediation(first: &Occ, status: Status) -> String {
    match &first.package {
        Some(p) => format!(
            "Shipped byte for byte by package {p}: a vendor's file (often a sample or test \
             key), not something this build added. Confirm it is not a live credential; \
             if the image must not carry it, drop the package."
        ),
        None => Finding::remediation_for(status, first.location.source, first.layer),
    }
}

/// The report of each layer of the image (also those beyond `max_layers`, unwalked).
fn layer_reports(view: &View<'_>, lifecycle: &Lifecycle, counts: &LayerCounts) -> Vec<LayerReport> {
    view.image
        .layers
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let walk = view.walk(i);
            let stats = lifecycle.layer_stats(i);
            let computed_digest = walk.and_then(|w| w.blob_digest.as_ref());
            let computed_diff = walk.and_then(|w| w.diff_id.as_ref());
            LayerReport {
                index: i,
                digest: d.digest.clone().or_else(|| computed_digest.cloned()),
                diff_id: d.diff_id.clone().or_else(|| computed_diff.cloned()),
                digest_verified: Verified::check(d.digest.as_ref(), computed_digest),
                diff_id_verified: Verified::check(d.diff_id.as_ref(), computed_diff),
                media_type: d.media_type.clone(),
                compression: walk.map(|w| w.compression),
                compressed_size: walk.map_or(0, |w| w.blob_bytes),
                uncompressed_size: walk.map_or(0, |w| w.tar_bytes),
                created_by: d.created_by.clone(),
                history: d.history,
                entries: walk.map_or(0, |w| w.entries.len() as u64),
                files_added: stats.files_added,
                files_overwritten: stats.files_overwritten,
                paths_deleted: stats.paths_deleted,
                bytes_wasted: stats.bytes_hidden_later,
                secrets_introduced: counts.introduced.get(i).copied().unwrap_or(0),
                secrets_hidden: counts.hidden.get(i).copied().unwrap_or(0),
                secrets_packaged: counts.packaged.get(i).copied().unwrap_or(0),
                complete: walk.is_some_and(|w| w.complete),
            }
        })
        .collect()
}

/// CPython compiles bytecode at install time, so no database lists it: an occurrence in
/// `d/__pycache__/x.*.pyc` is packaged when the same secret occurs in its source `d/x.py` and that
/// occurrence is packaged.
fn vouch_bytecode(group: &mut [Occ]) {
    for n in 0..group.len() {
        if group[n].package.is_some() || group[n].location.source != Source::File {
            continue;
        }
        let Some(source) = bytecode_source(&group[n].location.path) else { continue };
        let vouched = group
            .iter()
            .find(|o| o.location.path == source && o.location.inner.is_empty() && o.package.is_some())
            .and_then(|o| o.package.clone());
        group[n].package = vouched;
    }
}

fn record(e: &Error, outer: &At) -> ErrorRecord {
    let mut rec = ErrorRecord::from(e);
    rec.at = std::mem::take(&mut rec.at).or(outer);
    rec
}
