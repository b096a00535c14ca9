//! Image indexes (OCI image spec, "Image Index") and Docker manifest lists (Docker image
//! manifest v2 schema 2, "Manifest List").

use std::collections::BTreeMap;

use serde::Deserialize;

use super::descriptor::{de_annotations, Descriptor};
use super::document::parse_json;
use crate::{At, Limits, Result};

/// An image index or manifest list: descriptors of manifests (or nested indexes).
///
/// # Security
/// Parsed from untrusted JSON with [`parse_index`], which bounds size and nesting depth.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Index {
    /// `schemaVersion` (2).
    #[serde(rename = "schemaVersion", default)]
    pub schema_version: Option<u32>,
    /// `mediaType`, when the document declares it.
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    /// `manifests[]`.
    pub manifests: Vec<Descriptor>,
    /// `annotations`.
    #[serde(default, deserialize_with = "de_annotations")]
    pub annotations: BTreeMap<String, String>,
}

/// Parses an index or manifest list. `at` names where it came from; errors name `what`.
pub fn parse_index(bytes: &[u8], what: &str, at: &At, limits: &Limits) -> Result<Index> {
    parse_json(bytes, what, at, limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn index_without_manifests_is_a_json_error() {
        let err = parse_index(br#"{"schemaVersion":2}"#, "index.json", &At::none(), &Limits::default())
            .unwrap_err();
        assert!(matches!(err, Error::Json { ref what, .. } if what == "index.json"), "{err}");
        assert!(err.to_string().contains("manifests"), "{err}");
    }

    #[test]
    fn index_parses_descriptors() {
        let doc = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"sha256:{}","size":1}}]}}"#,
            "b".repeat(64)
        );
        let idx = parse_index(doc.as_bytes(), "index.json", &At::none(), &Limits::default()).unwrap();
        assert_eq!(idx.manifests.len(), 1);
        assert_eq!(idx.manifests[0].size, Some(1));
    }
}
