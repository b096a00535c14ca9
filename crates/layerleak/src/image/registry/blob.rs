//! Blobs (OCI distribution spec v1.1, "Pulling blobs"): small ones read whole and verified,
//! layers streamed, and the [`BlobStore`] of one repository.
//!
//! # Security
//!
//! A blob read into memory is bounded by the caller's `max` (checked against `Content-Length`
//! before reading and against the bytes read) and verified against its digest. A streamed blob
//! is not verified here: the layer walker hashes every byte it reads and reports a mismatch.

use std::io::Read;

use super::client::{read_bounded, verify};
use super::reference::check_repository;
use super::Registry;
use crate::digest::Digest;
use crate::error::{At, DigestKind, Error, Result};
use crate::image::{BlobRef, BlobStore};

impl Registry {
    /// `GET /v2/<repo>/blobs/<digest>` into memory (for configs), at most `max` bytes, verified
    /// against `digest`.
    ///
    /// # Errors
    ///
    /// [`Error::Registry`] (404 for an unknown blob), [`Error::Limit`] over `max`,
    /// [`Error::DigestMismatch`] when the bytes hash to something else.
    pub fn blob_bytes(&self, repo: &str, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        let (at, resp) = self.get_blob(repo, digest)?;
        let bytes = read_bounded(resp, max, &at, &format!("blob {digest}"))?;
        verify(&at, DigestKind::Blob, digest, &Digest::sha256_of(&bytes), &bytes)?;
        Ok(bytes)
    }

    /// The content named by `digest`, whether a blob (a config) or a manifest (an index entry),
    /// at most `max` bytes, verified: `/blobs/<digest>` first, `/manifests/<digest>` when the
    /// registry has no such blob (registries keep manifests apart from blobs). This is the
    /// `fetch` a resolver walking an index down to configs needs.
    ///
    /// # Errors
    ///
    /// As [`Registry::blob_bytes`]; 404 only when neither endpoint has the digest.
    pub fn content(&self, repo: &str, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        match self.blob_bytes(repo, digest, max) {
            Err(Error::Registry { status: Some(404), .. }) => {
                Ok(self.manifest_bounded(repo, &digest.to_string(), max)?.0)
            }
            other => other,
        }
    }

    /// `GET /v2/<repo>/blobs/<digest>` as a stream (redirects to storage are followed, without
    /// our credentials). Nothing is buffered beyond the HTTP reader's own buffer and nothing is
    /// verified: the caller hashes what it reads. A connection lost mid-blob is an
    /// [`std::io::Error`] from `read`.
    ///
    /// # Errors
    ///
    /// [`Error::Registry`] when the request fails (404 for an unknown blob).
    pub fn blob_reader(&self, repo: &str, digest: &Digest) -> Result<Box<dyn Read + Send>> {
        let (_, resp) = self.get_blob(repo, digest)?;
        Ok(Box::new(resp.into_reader()))
    }

    fn get_blob(&self, repo: &str, digest: &Digest) -> Result<(At, ureq::Response)> {
        let at = self.at(repo, &digest.to_string());
        check_repository(repo).map_err(|why| self.error(&at, why, None))?;
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base());
        let resp = self.get(
            &at,
            &url,
            None,
            &format!("repository:{repo}:pull"),
            &format!("blob {digest} of {repo}"),
        )?;
        Ok((at, resp))
    }
}

/// `e` located at `image` instead of at the blob (`host/repo@digest`) that failed: a blob error
/// is about the image that needed the blob, and [`Error::within`] only fills an empty image.
/// The message still names the blob. `None` leaves the image for the caller's location.
pub(super) fn for_image(mut e: Error, image: Option<&str>) -> Error {
    if let Error::Registry { at, .. } | Error::DigestMismatch { at, .. } | Error::Limit { at, .. } = &mut e {
        at.image = image.map(str::to_string);
    }
    e
}

/// The blobs of one repository of one registry, as a [`BlobStore`]: `open(BlobRef::Digest(d))`
/// streams blob `d` with [`Registry::blob_reader`].
#[derive(Debug, Clone)]
pub struct RegistryBlobStore {
    registry: Registry,
    repository: String,
}

impl RegistryBlobStore {
    /// The store of `repository` on `registry`.
    pub fn new(registry: Registry, repository: impl Into<String>) -> RegistryBlobStore {
        RegistryBlobStore { registry, repository: repository.into() }
    }

    /// The registry handle.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The repository.
    pub fn repository(&self) -> &str {
        &self.repository
    }
}

impl BlobStore for RegistryBlobStore {
    fn open(&self, blob: &BlobRef) -> Result<Box<dyn Read + Send + '_>> {
        match blob {
            // The store does not know which image asked: the caller's location names it.
            BlobRef::Digest(d) => {
                self.registry.blob_reader(&self.repository, d).map_err(|e| for_image(e, None))
            }
            other => Err(Error::Unsupported {
                at: At::image(format!("{}/{}", self.registry.host(), self.repository)),
                message: format!("a registry holds blobs by digest only, not {other}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::registry::RegistryOptions;

    #[test]
    fn store_refuses_non_digest_refs() -> Result<()> {
        let r = Registry::new("http://127.0.0.1:9", &RegistryOptions::default())?;
        let store = RegistryBlobStore::new(r, "a/b");
        assert_eq!(store.repository(), "a/b");
        for blob in [BlobRef::Whole, BlobRef::ArchivePath("x/layer.tar".into())] {
            match store.open(&blob) {
                Err(Error::Unsupported { at, .. }) => {
                    assert_eq!(at.image.as_deref(), Some("127.0.0.1:9/a/b"))
                }
                Err(other) => panic!("{other}"),
                Ok(_) => panic!("opened {blob}"),
            }
        }
        Ok(())
    }

    #[test]
    fn blob_errors_name_the_image_not_the_blob() -> Result<()> {
        // Regression: a layer missing from a registry was reported under `host/repo@<layer
        // digest>`, not under the image an audit was reading.
        let opts = RegistryOptions { retries: 0, ..RegistryOptions::default() };
        let store = RegistryBlobStore::new(Registry::new("http://127.0.0.1:9", &opts)?, "a/b");
        let d = Digest::sha256_of(b"layer");
        let Err(e) = store.open(&BlobRef::Digest(d.clone())) else { panic!("port 9 answered") };
        let e = e.within(&At::image("127.0.0.1:9/a/b:v1").with_layer(0, Some(d.clone())));
        let at = e.at().cloned().unwrap_or_default();
        assert_eq!((at.image.as_deref(), at.layer), (Some("127.0.0.1:9/a/b:v1"), Some(0)));
        assert!(e.to_string().contains(&d.to_string()), "the message still names the blob: {e}");
        Ok(())
    }

    #[test]
    fn unreachable_registry_is_a_registry_error() -> Result<()> {
        let opts = RegistryOptions { retries: 0, ..RegistryOptions::default() };
        // Port 9 (discard) is closed on test machines: the connection is refused at once.
        let r = Registry::new("http://127.0.0.1:9", &opts)?;
        let d = Digest::sha256_of(b"x");
        match r.blob_bytes("a", &d, 10) {
            Err(Error::Registry { at, status: None, .. }) => {
                assert_eq!(at.image, Some(format!("127.0.0.1:9/a@{d}")));
            }
            other => panic!("{other:?}"),
        }
        Ok(())
    }
}
