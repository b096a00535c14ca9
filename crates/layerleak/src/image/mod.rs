//! Image readers: docker-save archives, OCI layouts, single layers; manifests, configs, digests.

mod digest;
mod model;
pub mod registry;

pub use digest::{hex, sha256_hex, Digest, HashingReader};
pub use model::{
    BlobRef, BlobStore, ConfigSource, ConfigText, HistoryEntry, Image, ImageConfig, Input, InputKind,
    LayerDescriptor, MediaType, OpenOptions, Platform,
};
