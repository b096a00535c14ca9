//! The report model: findings with their attribution, per-image and per-layer facts, errors and
//! statistics. Every output (JSON, JSONL, SARIF, HTML, table, C ABI) is built from these types.
//!
//! Secrets are redacted unless the scanner was built to keep them: a [`Finding`] carries
//! `secret: None` and only its [`Finding::redacted`] form by default, and every other text of the
//! report (step texts, paths, labels, names, notes, error messages) has each occurrence of a
//! detected secret replaced by that same form (see [`Report::for_each_text`]).

pub mod by_secret;
pub mod html;
mod redact;
pub mod sarif;
mod text;

use serde::Serialize;

use crate::detect::{Severity, Validation};
use crate::digest::Digest;
use crate::image::{InputKind, MediaType, Platform};
use crate::layer::{Compression, HiddenHow, Status};

pub use crate::detect::redact;
pub(crate) use redact::{Secrets, Texts};
pub use text::{human_bytes, place, printable, shorten};

/// Version of the JSON report schema. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole scan: every image of every input, their findings, what could not be read.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// `layerleak` and its version.
    pub tool: Tool,
    /// Every image scanned, in input order.
    pub images: Vec<ImageReport>,
    /// Every finding, deterministically ordered (image, layer, path, offset, rule).
    pub findings: Vec<Finding>,
    /// What could not be read, with where.
    pub errors: Vec<ErrorRecord>,
    /// Things deliberately left out (attestation manifests, unselected platforms).
    pub notes: Vec<String>,
    /// Totals.
    pub stats: Stats,
    /// The secrets detected in this report, when the scanner does not keep secrets: none of
    /// them occurs in any text of the report.
    #[serde(skip)]
    pub(crate) secrets: Secrets,
}

impl Report {
    /// An empty report.
    pub fn new() -> Report {
        Report {
            schema: SCHEMA_VERSION,
            tool: Tool::current(),
            images: Vec::new(),
            findings: Vec::new(),
            errors: Vec::new(),
            notes: Vec::new(),
            stats: Stats::default(),
            secrets: Secrets::default(),
        }
    }

    /// Calls `f` on every text of the report: image inputs, names, tags and platforms, layer
    /// steps and media types, finding paths, nested-archive members, hardlink aliases, notes,
    /// rule ids and titles, error messages and places, the report's notes. Not on a finding's
    /// `secret`, `redacted` and `fingerprint`, nor on digests. The library redacts these texts
    /// with it; a front end can escape them for a terminal.
    pub fn for_each_text(&mut self, mut f: impl FnMut(&mut String)) {
        self.texts(&mut f);
    }

    /// Sets the finding and error counts of [`Report::stats`] from the lists themselves.
    pub fn recount(&mut self) {
        self.stats.findings = self.findings.len();
        self.stats.findings_visible = self.findings.iter().filter(|f| f.visible).count();
        self.stats.errors = self.errors.len();
    }

    /// Adds another report's images, findings, errors, notes and totals (one report over
    /// several inputs). A secret detected by one of the two is then redacted in the texts of
    /// both.
    pub fn merge(&mut self, mut other: Report) {
        let grew = self.secrets.extend(&other.secrets);
        let other_lacked = self.secrets.len() > other.secrets.len();
        self.images.append(&mut other.images);
        self.findings.append(&mut other.findings);
        self.errors.append(&mut other.errors);
        self.notes.append(&mut other.notes);
        self.stats.add(&other.stats);
        if grew || other_lacked {
            self.redact_texts();
        }
    }

    /// Adds secrets detected in this report.
    pub(crate) fn add_secrets(&mut self, secrets: &Secrets) {
        self.secrets.extend(secrets);
    }

    /// Replaces every occurrence of [`Report::secrets`] in every text of the report.
    pub(crate) fn redact_texts(&mut self) {
        let mut secrets = std::mem::take(&mut self.secrets);
        secrets.redact_texts(self);
        self.secrets = secrets;
    }
}

impl Default for Report {
    fn default() -> Self {
        Report::new()
    }
}

/// The tool that wrote a report.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Tool {
    /// `layerleak`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

impl Tool {
    /// This build.
    pub fn current() -> Tool {
        Tool { name: "layerleak".into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

/// One image of an input.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ImageReport {
    /// The input as named by the user.
    pub input: String,
    /// What kind of input.
    pub kind: InputKind,
    /// A name for people (tag, platform).
    pub name: String,
    /// Tags the input gives the image.
    pub tags: Vec<String>,
    /// Platform, when known.
    pub platform: Option<Platform>,
    /// Manifest digest: with the repository, `name@digest` pins exactly what was audited.
    pub manifest_digest: Option<Digest>,
    /// Config digest.
    pub config_digest: Option<Digest>,
    /// Layers in manifest order.
    pub layers: Vec<LayerReport>,
    /// Findings of this image.
    pub findings: usize,
    /// Findings of this image that are packaged (listed or not).
    pub findings_packaged: usize,
}

impl ImageReport {
    /// The reference to pin a deployment to: `host/repo:tag@sha256:<hex>` for a registry image
    /// (`host/repo@sha256:<hex>` when it was asked for by digest), copyable as one word. A local
    /// image keeps its name, followed by ` @ ` and the manifest digest when it has one.
    pub fn pinned(&self) -> String {
        pin(self.kind, &self.name, &self.tags, self.manifest_digest.as_ref())
    }
}

fn pin(kind: InputKind, name: &str, tags: &[String], digest: Option<&Digest>) -> String {
    let Some(digest) = digest else { return name.to_string() };
    if kind != InputKind::Registry {
        return format!("{name} @ {digest}");
    }
    // A multi-platform image's name ends in ` (os/arch)` and a pinned one's in `@digest` (the
    // index's, not this manifest's): both go, the platform is shown beside the pin.
    let repo = match tags.first() {
        Some(tag) => tag.as_str(),
        None => {
            let name = name.split(' ').next().unwrap_or(name);
            name.split('@').next().unwrap_or(name)
        }
    };
    format!("{repo}@{digest}")
}

/// Whether a digest read matched what the image promised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verified {
    /// Computed and equal to the promised digest.
    Ok,
    /// Computed and different: the bytes are not what the manifest or config promised.
    Mismatch,
    /// Nothing was promised (legacy archive layer, single layer input).
    NotPromised,
    /// The stream could not be read to its end, so no digest was computed.
    NotComputed,
}

impl Verified {
    /// Compares a computed digest with a promised one.
    pub fn check(promised: Option<&Digest>, computed: Option<&Digest>) -> Verified {
        match (promised, computed) {
            (_, None) => Verified::NotComputed,
            (None, Some(_)) => Verified::NotPromised,
            (Some(p), Some(c)) if p == c => Verified::Ok,
            (Some(_), Some(_)) => Verified::Mismatch,
        }
    }
}

/// One layer of an image, as promised and as read.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LayerReport {
    /// 0-based index in the manifest's layer list.
    pub index: usize,
    /// Blob digest: the promised one when there is one, else the computed one.
    pub digest: Option<Digest>,
    /// diff_id: the promised one when there is one, else the computed one.
    pub diff_id: Option<Digest>,
    /// Whether the blob hashed to `digest`.
    pub digest_verified: Verified,
    /// Whether the decompressed tar hashed to `diff_id`.
    pub diff_id_verified: Verified,
    /// The declared media type.
    pub media_type: Option<MediaType>,
    /// The compression detected from the bytes.
    pub compression: Option<Compression>,
    /// Blob bytes read.
    pub compressed_size: u64,
    /// Tar bytes read.
    pub uncompressed_size: u64,
    /// The Dockerfile step that made the layer.
    pub created_by: Option<String>,
    /// Index of that step in `history[]`.
    pub history: Option<usize>,
    /// Entries of every kind in the layer.
    pub entries: u64,
    /// Regular files and links at paths no lower layer had.
    pub files_added: u64,
    /// Regular files replacing a lower layer's version.
    pub files_overwritten: u64,
    /// Paths visible before this layer that its whiteouts and opaque directories remove, each
    /// path once however many lower layers wrote it (see [`crate::layer::LayerStats`]).
    pub paths_deleted: u64,
    /// Bytes of this layer's regular files whose content no path of the final filesystem shows
    /// (deleted, overwritten, replaced in this layer, and no hardlink to it left): still
    /// shipped, never visible (what dive calls wasted space).
    pub bytes_wasted: u64,
    /// Findings whose earliest occurrence is in this layer.
    pub secrets_introduced: usize,
    /// Findings whose content this layer hides (still extractable from a lower layer).
    pub secrets_hidden: usize,
    /// Findings whose earliest occurrence is in this layer and which are packaged: every
    /// occurrence in a file a package database of the image vouches for, byte for byte (listed
    /// only with [`crate::scan::ScannerBuilder::include_packaged`]).
    pub secrets_packaged: usize,
    /// Walked to the end without error.
    pub complete: bool,
}

/// Where a finding was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Source {
    /// A file in a layer (possibly inside a nested archive, see `inner`).
    File,
    /// `config.Env[i]`.
    ConfigEnv,
    /// `config.Labels[key]`.
    ConfigLabel,
    /// `config.Cmd`.
    ConfigCmd,
    /// `config.Entrypoint`.
    ConfigEntrypoint,
    /// `config.WorkingDir`.
    ConfigWorkingDir,
    /// `config.User`.
    ConfigUser,
    /// `history[i].created_by` (build ARG values leak here).
    History,
}

impl From<crate::image::ConfigSource> for Source {
    fn from(s: crate::image::ConfigSource) -> Source {
        use crate::image::ConfigSource as C;
        match s {
            C::ConfigEnv => Source::ConfigEnv,
            C::ConfigLabel => Source::ConfigLabel,
            C::ConfigCmd => Source::ConfigCmd,
            C::ConfigEntrypoint => Source::ConfigEntrypoint,
            C::ConfigWorkingDir => Source::ConfigWorkingDir,
            C::ConfigUser => Source::ConfigUser,
            C::History => Source::History,
        }
    }
}

/// The exact place of one occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Location {
    /// File, or which config field.
    pub source: Source,
    /// Path in the layer (normalized, no leading `/`), or the config location
    /// (`config.Env[3]`, `history[7].created_by`).
    pub path: String,
    /// Chain inside nested archives: `["BOOT-INF/lib/x.jar", "application.properties"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inner: Vec<String>,
    /// Byte offset of the secret in the file (innermost stream) or config text.
    pub offset: u64,
    /// 1-based line, for text.
    pub line: Option<u64>,
    /// 1-based column (bytes), for text.
    pub column: Option<u64>,
    /// Other paths in the same layer sharing this file's content (hardlinks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A layer, named for attribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LayerRef {
    /// 0-based index in the manifest's layer list.
    pub index: usize,
    /// Blob digest.
    pub digest: Option<Digest>,
    /// diff_id.
    pub diff_id: Option<Digest>,
    /// The Dockerfile step.
    pub created_by: Option<String>,
}

/// The layer that hid an occurrence, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HiddenRef {
    /// The hiding layer.
    #[serde(flatten)]
    pub layer: LayerRef,
    /// Whiteout, opaque directory or overwrite.
    pub how: HiddenHow,
}

/// Another place where the same secret (same rule, same fingerprint) occurs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Occurrence {
    /// Where.
    pub location: Location,
    /// The layer, for file occurrences.
    pub layer: Option<usize>,
    /// Its own fate.
    pub status: Status,
    /// The layer that hid it, if any.
    pub hidden_by: Option<usize>,
}

/// One secret in one image.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// The rule id (`github-pat`).
    pub rule: String,
    /// The rule's title.
    pub title: String,
    /// The rule's severity.
    pub severity: Severity,
    /// Lowercase hex SHA-256 of the exact secret bytes.
    pub fingerprint: String,
    /// The secret with most of it masked; safe to print.
    pub redacted: String,
    /// The secret itself (lossy UTF-8), only when the scanner keeps secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Offline validation result.
    pub validation: Validation,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// The image name (as in [`ImageReport::name`]).
    pub image: String,
    /// The image platform.
    pub platform: Option<Platform>,
    /// The earliest occurrence.
    pub location: Location,
    /// The layer of the earliest occurrence (null for config fields not tied to a layer).
    pub introduced_in: Option<LayerRef>,
    /// The layer that hid the earliest occurrence, or null if it is still visible.
    pub hidden_in: Option<HiddenRef>,
    /// The earliest occurrence's fate.
    pub status: Status,
    /// Whether the secret is readable in the final filesystem or config through any occurrence.
    pub visible: bool,
    /// Every other occurrence in the image.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<Occurrence>,
    /// The package that installed the file(s), when every occurrence is in a file a package
    /// database of the image records byte for byte: a vendor's file, not the builder's. Such
    /// findings are listed only with [`crate::scan::ScannerBuilder::include_packaged`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<crate::package::Package>,
    /// Extra facts from the detector (pairing, decoded user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What to do about it.
    pub remediation: String,
}

impl Finding {
    /// What to do, by status.
    pub fn remediation_for(status: Status, source: Source, layer: Option<usize>) -> String {
        match (status, source) {
            (Status::Present, Source::File) => {
                "Still in the final filesystem: rotate this secret now and remove it \
                 from the build context or image."
                    .into()
            }
            (Status::Present, Source::History) => "Recorded in the image history (a build ARG or RUN step): \
                 rotate it, and pass build-time secrets with `RUN --mount=type=secret` instead of ARG."
                .into(),
            (Status::Present, _) => "Stored in the image config, visible to anyone who can pull or inspect \
                 the image: rotate it and supply it at run time instead."
                .into(),
            (_, _) => format!(
                "Hidden from the final filesystem but still extractable from layer {} by anyone who can \
                 pull the image: rotate it, rebuild without it, and pass build-time secrets as build \
                 secrets (`RUN --mount=type=secret`) or at run time instead of copying them in and \
                 deleting them later.",
                layer.map(|l| l.to_string()).unwrap_or_else(|| "?".into())
            ),
        }
    }
}

/// A finding the caller took out of the report (it was in a baseline, or an ignore file listed
/// it) and shows apart, with why: SARIF lists it as a result with a `suppressions` entry, the
/// HTML report in a table of its own. Redacted like any finding of the report it came from.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Suppressed<'a> {
    /// The finding.
    pub finding: &'a Finding,
    /// Why it is left out, for people (`baseline`, `.layerleakignore:3`).
    pub reason: &'a str,
}

impl<'a> Suppressed<'a> {
    /// `finding`, left out because of `reason`.
    pub fn new(finding: &'a Finding, reason: &'a str) -> Suppressed<'a> {
        Suppressed { finding, reason }
    }
}

/// Something that could not be read, flattened for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ErrorRecord {
    /// [`crate::Error::kind`].
    pub kind: String,
    /// The full message.
    pub message: String,
    /// Where.
    #[serde(flatten)]
    pub at: crate::At,
}

impl From<&crate::Error> for ErrorRecord {
    fn from(e: &crate::Error) -> ErrorRecord {
        ErrorRecord {
            kind: e.kind().to_string(),
            message: error_chain(e),
            at: e.at().cloned().unwrap_or_default(),
        }
    }
}

/// `e` and its sources joined with `: `, skipping sources already quoted in the message.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

/// Counts per severity, for summaries.
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
    /// The findings per severity.
    pub fn of(findings: &[Finding]) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for f in findings {
            c.add(f.severity);
        }
        c
    }

    /// Counts one more of `severity`.
    pub fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            _ => self.low += 1,
        }
    }

    /// `2 critical, 5 high`: the non-zero counts, most severe first.
    pub fn describe(&self) -> String {
        let all =
            [("critical", self.critical), ("high", self.high), ("medium", self.medium), ("low", self.low)];
        let parts: Vec<String> =
            all.iter().filter(|(_, n)| *n > 0).map(|(s, n)| format!("{n} {s}")).collect();
        parts.join(", ")
    }
}

/// Totals of a scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Images scanned.
    pub images: usize,
    /// Layers of those images (shared layers counted per image).
    pub layers: usize,
    /// Distinct layers walked (a layer shared by images is walked once).
    pub layers_scanned: usize,
    /// Layers reused from this run (an image sharing a layer another image of the run had).
    pub layers_reused: usize,
    /// Layers taken from the persistent layer cache instead of being downloaded and walked.
    pub layers_cached: usize,
    /// Regular files scanned.
    pub files: u64,
    /// Blob bytes read.
    pub bytes_compressed: u64,
    /// Tar bytes read.
    pub bytes_uncompressed: u64,
    /// Findings.
    pub findings: usize,
    /// Findings still visible in the final filesystem or config.
    pub findings_visible: usize,
    /// Findings beyond `max_findings`, counted and dropped.
    pub findings_dropped: usize,
    /// Findings in files exactly as a package database of the image records them (vendor test
    /// keys, documentation samples): counted; listed only with
    /// [`crate::scan::ScannerBuilder::include_packaged`].
    pub findings_packaged: usize,
    /// Errors.
    pub errors: usize,
    /// Wall time.
    pub seconds: f64,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.images += o.images;
        self.layers += o.layers;
        self.layers_scanned += o.layers_scanned;
        self.layers_reused += o.layers_reused;
        self.layers_cached += o.layers_cached;
        self.files += o.files;
        self.bytes_compressed += o.bytes_compressed;
        self.bytes_uncompressed += o.bytes_uncompressed;
        self.findings += o.findings;
        self.findings_visible += o.findings_visible;
        self.findings_dropped += o.findings_dropped;
        self.findings_packaged += o.findings_packaged;
        self.errors += o.errors;
        self.seconds += o.seconds;
    }
}

#[cfg(test)]
mod tests {
    use super::pin;
    use crate::digest::Digest;
    use crate::image::InputKind;

    #[test]
    fn registry_images_pin_as_one_copyable_reference() {
        let d = Digest::sha256_of(b"manifest");
        let tags = ["127.0.0.1:5000/team/app:v1".to_string()];
        let by_tag = pin(InputKind::Registry, "127.0.0.1:5000/team/app:v1", &tags, Some(&d));
        assert_eq!(by_tag, format!("127.0.0.1:5000/team/app:v1@sha256:{}", d.hex()));
        let child = pin(InputKind::Registry, "127.0.0.1:5000/team/app:v1 (linux/arm64)", &tags, Some(&d));
        assert_eq!(child, by_tag, "the platform suffix is not part of the reference");
        let index = Digest::sha256_of(b"index");
        let by_digest = pin(
            InputKind::Registry,
            &format!("127.0.0.1:5000/team/app@{index} (linux/arm64)"),
            &[],
            Some(&d),
        );
        assert_eq!(by_digest, format!("127.0.0.1:5000/team/app@{d}"), "the child's digest, not the index's");
        assert_eq!(pin(InputKind::Registry, "h/r:t", &[], None), "h/r:t");
        assert_eq!(pin(InputKind::DockerArchive, "demo.tar", &[], Some(&d)), format!("demo.tar @ {d}"));
    }
}
