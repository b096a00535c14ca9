//! Compression of a blob or file, recognized from its magic bytes (OCI image spec, "Image Layer
//! Filesystem Changeset": `tar`, `tar+gzip`, `tar+zstd`; RFC 1952, RFC 8878).
//!
//! # Security
//! The media type in a manifest is a claim; the bytes decide.

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Compression {
    /// A plain tar stream.
    None,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// Zstandard (RFC 8878), possibly several frames.
    Zstd,
}

impl Compression {
    /// `none`, `gzip` or `zstd`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Bytes of blob head [`detect_compression`] looks at.
pub(crate) const MAGIC_LEN: usize = 4;

/// First bytes of a gzip member (RFC 1952 2.3.1, ID1 ID2).
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// First bytes of a zstd frame (RFC 8878 3.1.1, magic number 0xFD2FB528 little-endian).
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Recognizes the compression from the first bytes of a blob: gzip `1f 8b`, zstd `28 b5 2f fd`;
/// anything else is taken as a plain tar.
pub(crate) fn detect_compression(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}
