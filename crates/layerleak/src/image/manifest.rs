//! Image manifests (OCI image spec, "Image Manifest"; Docker image manifest v2 schema 2).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::descriptor::{de_annotations, Descriptor};
use super::document::parse_json;
use super::MediaType;
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
    /// `artifactType`: set on artifacts only (OCI image spec, "Image Manifest").
    #[serde(rename = "artifactType", default)]
    pub artifact_type: Option<String>,
    /// `config`.
    pub config: Descriptor,
    /// `layers[]`.
    pub layers: Vec<Descriptor>,
    /// `annotations`.
    #[serde(default, deserialize_with = "de_annotations")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// What the manifest holds when it is an artifact rather than an image (OCI image spec,
    /// "Guidelines for Artifact Usage"): its `artifactType`; else a config that is not an image
    /// config (the empty descriptor `application/vnd.oci.empty.v1+json`, a Helm or WASM config);
    /// else layers of which none is an image layer and some are certainly something else (cosign
    /// signatures and buildx attestations keep an image config type). `None` for an image. A
    /// manifest listing image layers, or only layers of unknown types, is an image: every layer
    /// it lists is read, and what is not a tar is an error.
    pub fn artifact_kind(&self) -> Option<String> {
        if let Some(t) = self.artifact_type.as_deref().filter(|t| !t.is_empty()) {
            return Some(format!("artifactType {t}"));
        }
        if let Some(mt) = self.config.media_type().filter(|m| !m.is_image_config()) {
            return Some(format!("config {mt}"));
        }
        let types: Vec<MediaType> = self.layers.iter().filter_map(Descriptor::media_type).collect();
        let not_layers = !types.iter().any(MediaType::is_layer) && types.iter().any(MediaType::is_not_layer);
        not_layers.then(|| {
            let mut listed: Vec<&str> = types.iter().map(MediaType::as_str).collect();
            listed.dedup();
            format!("layers {}", listed.join(", "))
        })
    }
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

    fn with(config_type: &str, layer_types: &[&str], extra: &str) -> Manifest {
        let d = "c".repeat(64);
        let layers: Vec<String> = layer_types
            .iter()
            .map(|t| format!(r#"{{"mediaType":"{t}","digest":"sha256:{d}","size":1}}"#))
            .collect();
        let doc = format!(
            r#"{{"schemaVersion":2{extra},"config":{{"mediaType":"{config_type}","digest":"sha256:{d}","size":2}},
               "layers":[{}]}}"#,
            layers.join(",")
        );
        parse_manifest(doc.as_bytes(), "m", &At::none(), &Limits::default()).unwrap()
    }

    #[test]
    fn artifacts_are_told_from_images() {
        let image = "application/vnd.oci.image.config.v1+json";
        let gz = "application/vnd.oci.image.layer.v1.tar+gzip";
        assert_eq!(with(image, &[gz], "").artifact_kind(), None);
        assert_eq!(with(image, &[], "").artifact_kind(), None, "an image without layers");
        assert_eq!(with(image, &["application/x-custom"], "").artifact_kind(), None, "bytes decide");
        let nd = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
        assert_eq!(with(image, &[nd, "application/vnd.in-toto+json"], "").artifact_kind(), None);
        let sbom = with(
            "application/vnd.oci.empty.v1+json",
            &["application/spdx+json"],
            r#","artifactType":"application/spdx+json""#,
        );
        assert_eq!(sbom.artifact_kind().as_deref(), Some("artifactType application/spdx+json"));
        let empty = with("application/vnd.oci.empty.v1+json", &["application/x-custom"], "");
        assert_eq!(empty.artifact_kind().as_deref(), Some("config application/vnd.oci.empty.v1+json"));
        let att = with(image, &["application/vnd.in-toto+json", "application/vnd.in-toto+json"], "");
        assert_eq!(att.artifact_kind().as_deref(), Some("layers application/vnd.in-toto+json"));
        let wasm = with(image, &["application/wasm"], "");
        assert_eq!(wasm.artifact_kind().as_deref(), Some("layers application/wasm"));
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
