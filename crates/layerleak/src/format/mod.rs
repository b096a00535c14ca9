//! Byte formats every reader of the crate meets: tar header blocks and PAX records, the magic
//! bytes of gzip and zstd, and the stream plumbing shared by the readers of those formats.
//!
//! The ground floor beside [`crate::digest`]: `image` indexes `docker save` archives with the tar
//! header parser, `layer` walks layer tars with it, `detect` walks tars nested in files with it,
//! and all three sniff compression by the same magic; none of them imports another for that.

mod compression;
mod stream;
pub(crate) mod tar;

pub(crate) use compression::detect_compression;
pub use compression::Compression;
pub(crate) use compression::{GZIP_MAGIC, MAGIC_LEN, ZSTD_MAGIC};
pub(crate) use stream::{read_full, MemberCut, ReportedByWalk};
