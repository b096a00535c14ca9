//! Where a secret was seen: the image → layer → path mapping a cache records next to its
//! per-layer results, so `layerleak where FINGERPRINT` can answer from what earlier scans saw
//! without scanning anything.

use serde::Serialize;

use crate::layer::Status;
use crate::report::{ImageReport, Report};

/// One place a secret occurs: a file version (or config field) of one image. Holds the
/// fingerprint and names only, never secret bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub struct Place {
    /// Lowercase hex SHA-256 of the secret bytes.
    pub fingerprint: String,
    /// The rule that found it.
    pub rule: String,
    /// The image name as reports give it (`host/repo:tag`).
    pub image: String,
    /// The tag of the image name, if it has one.
    pub tag: Option<String>,
    /// The image's platform (`linux/amd64`).
    pub platform: Option<String>,
    /// The image's manifest digest.
    pub manifest: Option<String>,
    /// The digest of the layer holding the occurrence; `None` for a config field.
    pub layer: Option<String>,
    /// The path in the layer (or the config field).
    pub path: String,
    /// `present`, `deleted` or `shadowed`.
    pub status: String,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl Place {
    /// The stored columns, absent values as empty strings (so they can be part of a key).
    pub(super) fn columns(&self) -> [&str; 9] {
        fn opt(o: &Option<String>) -> &str {
            o.as_deref().unwrap_or("")
        }
        [
            &self.fingerprint,
            &self.rule,
            &self.image,
            opt(&self.tag),
            opt(&self.platform),
            opt(&self.manifest),
            opt(&self.layer),
            &self.path,
            &self.status,
        ]
    }

    /// Back from [`Place::columns`].
    pub(super) fn from_columns(c: [String; 9]) -> Place {
        let [fingerprint, rule, image, tag, platform, manifest, layer, path, status] = c;
        let opt = |s: String| Some(s).filter(|s| !s.is_empty());
        Place {
            fingerprint,
            rule,
            image,
            tag: opt(tag),
            platform: opt(platform),
            manifest: opt(manifest),
            layer: opt(layer),
            path,
            status,
        }
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Present => "present",
        Status::Deleted => "deleted",
        Status::Shadowed => "shadowed",
    }
}

/// The tag of `host/repo:tag` (none for a digest reference or a path).
fn tag_of(image: &str) -> Option<String> {
    if image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next()?;
    last.split_once(':').map(|(_, t)| t.to_string())
}

/// Every place of every finding of `report`: the earliest occurrence and all others.
pub(super) fn of_report(report: &Report) -> Vec<Place> {
    let mut out = Vec::new();
    for f in &report.findings {
        let platform = f.platform.as_ref().map(ToString::to_string);
        let image: Option<&ImageReport> =
            report.images.iter().find(|i| i.name == f.image && i.platform == f.platform);
        let layer_digest = |index: Option<usize>| {
            let layer = image?.layers.get(index?)?;
            layer.digest.as_ref().map(ToString::to_string)
        };
        let place = |layer: Option<String>, path: &str, status: Status| Place {
            fingerprint: f.fingerprint.clone(),
            rule: f.rule.clone(),
            image: f.image.clone(),
            tag: tag_of(&f.image),
            platform: platform.clone(),
            manifest: image.and_then(|i| i.manifest_digest.as_ref()).map(ToString::to_string),
            layer,
            path: path.to_string(),
            status: status_name(status).to_string(),
        };
        let first = f.introduced_in.as_ref().and_then(|l| l.digest.as_ref()).map(ToString::to_string);
        out.push(place(first, &f.location.path, f.status));
        for o in &f.also_in {
            out.push(place(layer_digest(o.layer), &o.location.path, o.status));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_come_from_the_last_path_segment() {
        assert_eq!(tag_of("127.0.0.1:5000/team/app:v1").as_deref(), Some("v1"));
        assert_eq!(tag_of("127.0.0.1:5000/team/app@sha256:ab"), None);
        assert_eq!(tag_of("127.0.0.1:5000/team/app"), None);
    }

    #[test]
    fn columns_round_trip() {
        let p = super::super::tests::place("ab");
        let back = Place::from_columns(p.columns().map(str::to_string));
        assert_eq!(back, p);
        let bare = Place { tag: None, platform: None, manifest: None, layer: None, ..p };
        assert_eq!(Place::from_columns(bare.columns().map(str::to_string)), bare);
    }
}
