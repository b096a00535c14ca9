#![warn(missing_docs)]
//! layerleak finds secrets in container images, including the ones a later layer deleted.
//!
//! Layers: [`image`] (readers, manifests, digests) -> [`layer`] (decompression, tar walk,
//! whiteouts, file lifecycle) -> [`detect`] (rules and engine) -> [`report`] (findings, JSON,
//! SARIF) -> [`scan`] (the pipeline).

pub mod detect;
mod error;
pub mod image;
pub mod layer;
mod limits;
pub mod report;
pub mod scan;

pub use error::{At, DigestKind, Error, LimitKind, Result};
pub use limits::Limits;
