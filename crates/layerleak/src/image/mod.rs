//! Image readers: docker-save archives, OCI layouts, single layers; manifests, configs, digests.
//!
//! [`open_path`] and [`open_reader`] turn an input into an [`Input`]: the images it holds,
//! resolved down to their layers, and a [`BlobStore`] to stream each layer from. Nothing is
//! extracted and no blob is read here beyond the small JSON documents. The parsers of those
//! documents ([`parse_index`], [`parse_manifest`], [`parse_config`]) and the resolution of an
//! index into images ([`resolve_from_root`]) are public so other readers (a registry) reuse them.

mod archive;
mod config;
mod descriptor;
mod digest;
mod document;
mod index;
mod layout;
mod manifest;
mod model;
pub mod registry;
mod resolve;
mod tar_index;

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;
use std::sync::Arc;

pub use config::parse_config;
pub use descriptor::{
    Descriptor, CONTAINERD_IMAGE_NAME, DOCKER_REFERENCE_DIGEST, DOCKER_REFERENCE_TYPE, OCI_REF_NAME,
};
pub use digest::{hex, sha256_hex, Digest, HashingReader};
pub use index::{parse_index, Index};
pub use manifest::{parse_manifest, Manifest};
pub use model::{
    BlobRef, BlobStore, ConfigSource, ConfigText, HistoryEntry, Image, ImageConfig, Input, InputKind,
    LayerDescriptor, MediaType, OpenOptions, Platform,
};
pub use resolve::{resolve_from_root, MAX_INDEX_DEPTH};

use crate::{At, Error, Result};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Opens a path: auto-detects docker-save archive (legacy or Docker 25+ OCI-in-tar), OCI layout
/// directory, or single layer tarball (plain/gzip/zstd, any file name).
///
/// Detection: a directory is an OCI layout; a file that is an uncompressed tar with a top-level
/// `manifest.json`, or `index.json` and `oci-layout`, is a `docker save` archive; any other tar,
/// gzip or zstd file is a single layer. Anything else is [`Error::Unsupported`].
pub fn open_path(path: &Path, opts: &OpenOptions) -> Result<Input> {
    let name = path.display().to_string();
    let at = At::image(name.clone());
    let meta = std::fs::metadata(path).map_err(|e| Error::io(at.clone(), "opening input", e))?;
    if meta.is_dir() {
        return layout::open_layout(path, &name, opts);
    }
    let file = File::open(path).map_err(|e| Error::io(at, "opening input", e))?;
    open_file(&name, file, opts)
}

/// Opens a non-seekable stream (stdin, `-`).
///
/// The stream is spooled to an anonymous temporary file (`tempfile::tempfile()`: unlinked as
/// soon as it is created, so nothing remains on disk after the run, even if the process is
/// killed), then opened as [`open_path`] opens a file. Spooling is needed because a `docker
/// save` archive may put `manifest.json` last, and layers are read in parallel by position.
/// The spool holds the input's bytes as given (still compressed), never extracted files.
pub fn open_reader(name: &str, reader: &mut dyn Read, opts: &OpenOptions) -> Result<Input> {
    let at = At::image(name);
    let mut spool = tempfile::tempfile().map_err(|e| Error::io(at.clone(), "creating spool file", e))?;
    io::copy(reader, &mut spool).map_err(|e| Error::io(at.clone(), "spooling input", e))?;
    spool.rewind().map_err(|e| Error::io(at, "spooling input", e))?;
    open_file(name, spool, opts)
}

/// Detects what `file` holds and opens it.
fn open_file(name: &str, file: File, opts: &OpenOptions) -> Result<Input> {
    let at = At::image(name);
    let len = file.metadata().map_err(|e| Error::io(at.clone(), "reading input", e))?.len();
    let mut head = [0u8; 512];
    let mut got = 0;
    while got < head.len() {
        match std::os::unix::fs::FileExt::read_at(&file, &mut head[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(at, "reading input", e)),
        }
    }
    let head = &head[..got];
    if head.starts_with(GZIP_MAGIC) || head.starts_with(ZSTD_MAGIC) {
        let file = Arc::new(file);
        let compressed_archive = first_member_is_docker_save(&file, len, head.starts_with(GZIP_MAGIC));
        let mut input = single_layer(name, file, len, tar_index::TarIndex::default());
        if compressed_archive {
            input.notes.push(
                "this looks like a compressed `docker save` archive; it is scanned as one layer, \
                 decompress it first to scan it as an image"
                    .into(),
            );
        }
        return Ok(input);
    }
    if !tar_index::is_tar_header(head) {
        return Err(Error::Unsupported {
            at,
            message: "not a tar, gzip or zstd file, nor an OCI layout directory".into(),
        });
    }
    let index = tar_index::TarIndex::build(&file, len, &opts.limits).map_err(|e| e.within(&at))?;
    if archive::is_docker_save(&index) {
        return archive::open_archive(name, file, len, index, opts);
    }
    if archive::looks_like_docker_save(&index) && !index.problems.is_empty() {
        let cause = index.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        return Err(Error::Tar {
            at: at.with_path("manifest.json"),
            message: format!("docker save archive is damaged: manifest.json not found ({cause})"),
        });
    }
    Ok(single_layer(name, file, len, index))
}

/// Whether the first tar member inside a compressed file is named like a `docker save` member.
/// Only the first block is decompressed; any failure means "no".
fn first_member_is_docker_save(file: &Arc<File>, len: u64, gzip: bool) -> bool {
    let section = tar_index::Section::new(Arc::clone(file), 0, len);
    let mut decoder: Box<dyn Read> = if gzip {
        Box::new(flate2::read::GzDecoder::new(section))
    } else {
        match zstd::stream::read::Decoder::new(section) {
            Ok(d) => Box::new(d),
            Err(_) => return false,
        }
    };
    let mut block = [0u8; 512];
    if decoder.read_exact(&mut block).is_err() || !tar_index::is_tar_header(&block) {
        return false;
    }
    let end = block[..100].iter().position(|&b| b == 0).unwrap_or(100);
    let name = tar_index::normalize(&String::from_utf8_lossy(&block[..end]));
    let id = name.split(['/', '.']).next().unwrap_or("");
    matches!(name.as_str(), "manifest.json" | "index.json" | "oci-layout" | "repositories" | "blobs")
        || name.starts_with("blobs/")
        || (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A file that is one layer: one image, one layer, the whole file, no config.
fn single_layer(name: &str, file: impl Into<Arc<File>>, len: u64, index: tar_index::TarIndex) -> Input {
    let layer = LayerDescriptor {
        index: 0,
        blob: BlobRef::Whole,
        digest: None,
        diff_id: None,
        media_type: None,
        size: Some(len),
        history: None,
        created_by: None,
    };
    let mut images = vec![resolve::new_image(name, Vec::new(), None, Vec::new())];
    images[0].layers.push(layer);
    resolve::finish_images(name, &mut images);
    let store = Arc::new(archive::ArchiveStore::new(file.into(), len, index));
    Input { name: name.to_string(), kind: InputKind::Layer, images, notes: Vec::new(), store }
}
