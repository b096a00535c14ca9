//! Opening an image from a registry as an [`Input`]: the tag or digest's manifest (OCI image
//! spec "Image Manifest" / "Image Index"; Docker schema 2 and manifest list) resolved down to
//! layers the way a local OCI layout is, with blobs streamed from the registry.
//!
//! # Security
//!
//! The root manifest is read under [`RegistryOptions::max_manifest_bytes`], every nested index,
//! manifest and config under [`crate::Limits::max_json_bytes`], and each is verified against
//! the digest naming it. Layer blobs are not read here; the walker hashes them as they stream.

use std::sync::Arc;

use super::{Reference, Registry, RegistryBlobStore, RegistryOptions};
use crate::error::{Error, Result};
use crate::image::{resolve, Input, InputKind, MediaType, OpenOptions};

/// Opens `reference` on its registry: fetches the manifest the tag (or digest) names and
/// resolves it into images (every platform of an index unless `opts.platforms` selects some;
/// attestation manifests skipped and noted). Blobs of the result stream from the registry.
/// The images carry the manifest digest the tag resolved to and the tag.
///
/// # Errors
///
/// [`Error::Registry`] when the registry cannot be reached, refuses the credentials, or has no
/// such manifest (404); [`Error::Limit`] for a manifest over the bound; [`Error::DigestMismatch`]
/// when a pinned digest does not match; [`Error::Unsupported`] for a manifest of another kind
/// (e.g. Docker schema 1).
pub fn open_reference(reference: &Reference, opts: &OpenOptions, reg: &RegistryOptions) -> Result<Input> {
    let registry = Registry::new(&reference.registry_host(), reg)?;
    registry.open_image(&reference.repository, &reference.reference(), &reference.to_string(), opts)
}

impl Registry {
    /// Opens `repo` at `reference` (a tag or a digest) on this registry as an [`Input`] named
    /// `name`; see [`open_reference`]. An audit opens many images through one handle, so they
    /// share its connections and tokens.
    ///
    /// # Errors
    ///
    /// As [`open_reference`].
    pub fn open_image(&self, repo: &str, reference: &str, name: &str, opts: &OpenOptions) -> Result<Input> {
        let (root, media_type, digest) = self.manifest(repo, reference)?;
        if let Some(mt) = &media_type {
            let parsed = MediaType::parse(mt);
            // Some registries label every manifest plain JSON; the body then decides.
            if !parsed.is_index() && !parsed.is_manifest() && mt != "application/json" {
                return Err(Error::Unsupported {
                    at: self.at(repo, reference),
                    message: format!("manifest of media type {mt} (only OCI and Docker schema 2 are read)"),
                });
            }
        }
        let max = opts.limits.max_json_bytes;
        let fetch = |d: &crate::digest::Digest| {
            self.content(repo, d, max).map_err(|e| super::blob::for_image(e, Some(name)))
        };
        let (mut images, notes) =
            resolve::resolve_root(name, InputKind::Registry, &root, Some(&digest), &fetch, opts)?;
        let tag = crate::digest::Digest::parse(reference).is_none().then(|| reference.to_string());
        // Every image already has its manifest digest: resolve_root gives the root's to a single
        // manifest, and each child of an index its own.
        if let Some(t) = &tag {
            for img in &mut images {
                img.tags = vec![format!("{}/{repo}:{t}", self.host())];
            }
        }
        resolve::finish_images(name, &mut images);
        Ok(Input {
            name: name.to_string(),
            kind: InputKind::Registry,
            images,
            notes,
            store: Arc::new(RegistryBlobStore::new(self.clone(), repo)),
        })
    }
}
