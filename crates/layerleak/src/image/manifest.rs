//! Image manifests (OCI image spec, "Image Manifest"; Docker image manifest v2 schema 2).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::descriptor::{de_annotations, Descriptor};
use super::document::parse_json;
use crate::{At, Limits, Result};

/// An image manifest: one config descriptor and the layer descriptors, lowest layer first.
///
/// # Security
/// Parsed from untrusted JSON with [`parse_manifest`], which bounds size and nesting depth. The
/// number of layers is bounded later, by [`Limits::max_layers`], when the image is built.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Manifest {
    /// `schemaVersion` (2).
    #[serde(rename = "schemaVersion", default)]
    pub schema_version: Option<u32>,
    /// `mediaType`, when the document declares it.
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    /// `config`.
    pub config: Descriptor,
    /// `layers[]`.
    pub layers: Vec<Descriptor>,
    /// `annotations`.
    #[serde(default, deserialize_with = "de_annotations")]
    pub annotations: BTreeMap<String, String>,
}

/// Parses an image manifest. `at` names where it came from; errors name `what`.
pub fn parse_manifest(bytes: &[u8], what: &str, at: &At, limits: &Limits) -> Result<Manifest> {
    parse_json(bytes, what, at, limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn manifest_without_config_is_a_json_error() {
        let err = parse_manifest(br#"{"layers":[]}"#, "manifest sha256:x", &At::none(), &Limits::default())
            .unwrap_err();
        assert!(matches!(err, Error::Json { .. }), "{err}");
        assert!(err.to_string().contains("config"), "{err}");
    }

    #[test]
    fn docker_schema2_manifest_parses() {
        let doc = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
              "config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:{a}","size":7}},
              "layers":[{{"mediaType":"application/x-weird","digest":"sha256:{a}","size":9}}]}}"#,
            a = "c".repeat(64)
        );
        let m = parse_manifest(doc.as_bytes(), "m", &At::none(), &Limits::default()).unwrap();
        assert_eq!(m.layers.len(), 1);
        assert_eq!(
            m.layers[0].media_type(),
            Some(crate::image::MediaType::Other("application/x-weird".into()))
        );
    }
}
