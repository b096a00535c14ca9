//! A blocking client for OCI distribution registries (OCI distribution spec v1.1: "Pulling
//! manifests", "Pulling blobs", "Listing tags", and the Docker `/v2/_catalog` extension).
//!
//! - [`Reference`] parses `alpine:3.20`, `host:5000/a/b@sha256:…`, `http://host:port/x`.
//! - [`Registry`] speaks to one registry host: manifests and small blobs are read into memory
//!   under a bound and verified against their digest; layer blobs are streamed (the layer walker
//!   hashes every byte, so they are verified downstream); nothing is written to disk.
//! - [`RegistryBlobStore`] is the [`crate::image::BlobStore`] of one repository.
//!
//! Authentication is anonymous, Basic, or the Bearer token flow of the distribution "Token
//! Authentication Specification", with credentials from [`RegistryOptions`] or the Docker
//! client configuration (see [`Credentials`]). Transient failures (HTTP 429, 5xx, connection
//! errors) are retried with exponential backoff.
//!
//! # Security
//!
//! Everything a registry sends is untrusted: bodies are read with explicit bounds, pagination
//! links may only point back at the same registry, repository names and references are checked
//! against the reference grammar before they become URL paths, and plain HTTP is used only for
//! hosts the user named in [`RegistryOptions::insecure`] or references written `http://`.
//! Credentials never appear in errors or `Debug` output.

//!
//! The client (everything but [`Reference`] and [`RegistryOptions`], which are plain data) is
//! built with the `registry` feature only.

#[cfg(feature = "registry")]
mod auth;
#[cfg(feature = "registry")]
mod blob;
#[cfg(feature = "registry")]
mod client;
#[cfg(feature = "registry")]
mod listing;
#[cfg(feature = "registry")]
mod open;
mod reference;
#[cfg(all(test, feature = "registry"))]
mod scripted;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[cfg(feature = "registry")]
pub use auth::Credentials;
#[cfg(feature = "registry")]
pub use blob::RegistryBlobStore;
#[cfg(feature = "registry")]
pub use client::Registry;
#[cfg(feature = "registry")]
pub use open::open_reference;
pub use reference::Reference;

/// How to reach registries.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistryOptions {
    /// Hosts (`host` or `host:port`) spoken to over plain HTTP. Default empty: HTTPS only, even
    /// for `localhost`.
    pub insecure: Vec<String>,
    /// Username for Basic auth and token requests; used only together with `password`.
    pub username: Option<String>,
    /// Password or token for `username`. Never printed.
    pub password: Option<String>,
    /// The Docker client configuration to take credentials from. Default `None`:
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
    /// Connect timeout and the longest wait for any single read or write (not for a whole
    /// download, so large blobs are not cut short). Default 30 s.
    pub timeout: Duration,
    /// How often a request is retried on HTTP 429, 5xx and connection errors, with exponential
    /// backoff. Default 3.
    pub retries: u32,
    /// Largest manifest, index, catalog or tag list page read into memory. Default 4 MiB: the
    /// OCI distribution spec ("Pushing Manifests") only asks registries to accept manifests up
    /// to 4 MiB and Docker's client refuses larger ones, so a bigger answer is not an image.
    pub max_manifest_bytes: u64,
    /// Page size asked for when listing the catalog and tags (`?n=`). Default `None`: the
    /// registry's own page size. `Link` pagination is followed either way.
    pub page_size: Option<u32>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure: Vec::new(),
            username: None,
            password: None,
            docker_config: None,
            timeout: Duration::from_secs(30),
            retries: 3,
            max_manifest_bytes: 4 << 20,
            page_size: None,
        }
    }
}

impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("insecure", &self.insecure)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("docker_config", &self.docker_config)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("max_manifest_bytes", &self.max_manifest_bytes)
            .field("page_size", &self.page_size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Registry>();
        check::<RegistryBlobStore>();
        check::<RegistryOptions>();
        check::<Reference>();
        check::<Credentials>();
    }

    #[test]
    fn options_debug_hides_the_password() {
        let opts = RegistryOptions { password: Some("s3cr3t-opts".into()), ..RegistryOptions::default() };
        let shown = format!("{opts:?}");
        assert!(!shown.contains("s3cr3t-opts") && shown.contains("***"), "{shown}");
    }
}
