//! Content descriptors (OCI image spec, "Content Descriptors"), shared by indexes and manifests.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::{MediaType, Platform};
use crate::digest::Digest;

/// Annotation Docker's buildx puts on attestation manifests in an index.
pub const DOCKER_REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// Annotation naming the image manifest an attestation manifest describes.
pub const DOCKER_REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
/// OCI image spec, "Pre-Defined Annotation Keys": the reference (tag or full name).
pub const OCI_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// containerd's full image name annotation (also written by Docker 25+ `docker save`).
pub const CONTAINERD_IMAGE_NAME: &str = "io.containerd.image.name";

/// A content descriptor: what a blob is, its digest and size, and (in an index) its platform.
///
/// # Security
/// Deserialized from untrusted JSON. The digest is parsed and validated ([`Digest::parse`]), so
/// blob paths built from it cannot traverse directories; `size` is declared, never trusted for
/// allocation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Descriptor {
    /// `mediaType`, verbatim.
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    /// `digest`.
    pub digest: Digest,
    /// `artifactType`, for a descriptor of an artifact manifest (OCI image spec, "Image Index").
    #[serde(rename = "artifactType", default)]
    pub artifact_type: Option<String>,
    /// `size`, as declared.
    #[serde(default)]
    pub size: Option<u64>,
    /// `platform` (index entries only).
    #[serde(default, deserialize_with = "de_platform")]
    pub platform: Option<Platform>,
    /// `annotations`.
    #[serde(default, deserialize_with = "de_annotations")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// The parsed media type, when declared.
    pub fn media_type(&self) -> Option<MediaType> {
        self.media_type.as_deref().map(MediaType::parse)
    }

    /// The value of an annotation.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// Whether this is a build attestation manifest (buildx provenance / SBOM), which holds no
    /// image filesystem.
    pub fn is_attestation(&self) -> bool {
        self.annotation(DOCKER_REFERENCE_TYPE) == Some("attestation-manifest")
    }

    /// Why an index entry is known not to be an image before its manifest is read: buildx marks
    /// every manifest that refers to another one (attestations and whatever else it attaches)
    /// with `vnd.docker.reference.type`, and an artifact's descriptor may carry its
    /// `artifactType`. `None` when the manifest must be read to tell.
    pub fn not_an_image(&self) -> Option<String> {
        if let Some(t) = self.annotation(DOCKER_REFERENCE_TYPE) {
            return Some(format!("{DOCKER_REFERENCE_TYPE} {t}"));
        }
        self.artifact_type.as_deref().filter(|t| !t.is_empty()).map(|t| format!("artifactType {t}"))
    }

    /// The image name the descriptor's annotations give: `io.containerd.image.name`, else
    /// `org.opencontainers.image.ref.name`.
    pub fn ref_name(&self) -> Option<&str> {
        self.annotation(CONTAINERD_IMAGE_NAME)
            .or_else(|| self.annotation(OCI_REF_NAME))
            .filter(|s| !s.is_empty())
    }
}

#[derive(Deserialize)]
struct RawPlatform {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

fn de_platform<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Platform>, D::Error> {
    let raw = Option::<RawPlatform>::deserialize(d)?;
    Ok(raw.map(|p| Platform {
        os: p.os,
        architecture: p.architecture,
        variant: p.variant.filter(|v| !v.is_empty()),
    }))
}

/// `null` annotations are treated as none.
pub(crate) fn de_annotations<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_parses_platform_and_attestation() {
        let d: Descriptor = serde_json::from_str(&format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":5,
               "platform":{{"os":"unknown","architecture":"unknown"}},
               "annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}"#,
            "a".repeat(64)
        ))
        .unwrap();
        assert!(d.is_attestation());
        assert_eq!(d.platform.as_ref().unwrap().to_string(), "unknown/unknown");
        assert_eq!(d.media_type(), Some(MediaType::OciManifest));
    }

    #[test]
    fn any_docker_reference_type_or_artifact_type_is_not_an_image() {
        let d = |extra: &str| -> Descriptor {
            serde_json::from_str(&format!(r#"{{"digest":"sha256:{}"{extra}}}"#, "a".repeat(64))).unwrap()
        };
        assert_eq!(d("").not_an_image(), None);
        let other = d(r#","annotations":{"vnd.docker.reference.type":"some-future-record"}"#);
        assert_eq!(other.not_an_image().as_deref(), Some("vnd.docker.reference.type some-future-record"));
        assert!(!other.is_attestation());
        let sbom = d(r#","artifactType":"application/spdx+json""#);
        assert_eq!(sbom.not_an_image().as_deref(), Some("artifactType application/spdx+json"));
    }

    #[test]
    fn descriptor_with_bad_digest_is_an_error() {
        let r: Result<Descriptor, _> = serde_json::from_str(r#"{"digest":"sha256:../../etc/passwd"}"#);
        assert!(r.is_err());
    }
}
