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
mod document;
mod index;
mod layout;
mod manifest;
mod model;
pub mod registry;
mod resolve;
mod spool;
mod tar_index;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

pub use config::parse_config;
pub use descriptor::{
    Descriptor, CONTAINERD_IMAGE_NAME, DOCKER_REFERENCE_DIGEST, DOCKER_REFERENCE_TYPE, OCI_REF_NAME,
};
pub use index::{parse_index, Index};
pub use manifest::{parse_manifest, Manifest};
pub use model::{
    BlobRef, BlobStore, ConfigSource, ConfigText, HistoryEntry, Image, ImageConfig, Input, InputKind,
    LayerDescriptor, MediaType, OpenOptions, Platform,
};
pub use resolve::resolve_from_root;

use crate::{At, Error, Result};

/// Opens a path: auto-detects docker-save archive (legacy or Docker 25+ OCI-in-tar), OCI layout
/// directory, or single layer tarball (plain/gzip/zstd, any file name).
///
/// Detection: a directory is an OCI layout; a tar with a top-level `manifest.json`, or
/// `index.json` and `oci-layout`, is a `docker save` archive, also gzip or zstd compressed (then
/// decompressed once into an anonymous temporary file, see [`open_reader`]); any other tar, gzip
/// or zstd file is a single layer. Anything else is [`Error::Unsupported`].
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
/// The spool holds the input's bytes as given (a single compressed layer stays compressed),
/// except that a gzip or zstd `docker save` archive is decompressed on the way in, so it is
/// written once; it never holds extracted files.
pub fn open_reader(name: &str, reader: &mut dyn Read, opts: &OpenOptions) -> Result<Input> {
    let at = At::image(name);
    let spooled = spool::spool_stream(reader, &at, &opts.limits)?;
    match spooled.problem {
        None => open_file(name, spooled.file, opts),
        Some(cut) => open_damaged(name, spooled.file, cut, opts),
    }
}

/// Detects what `file` holds and opens it.
fn open_file(name: &str, file: File, opts: &OpenOptions) -> Result<Input> {
    let at = At::image(name);
    let (len, head) = head_of(&file, &at)?;
    if let Some(packing) = spool::Packing::of(&head) {
        let file = Arc::new(file);
        let section = || tar_index::Section::new(Arc::clone(&file), 0, len);
        if !spool::holds_docker_save(packing, &mut section()) {
            return Ok(single_layer(name, file, len, tar_index::TarIndex::default()));
        }
        // A compressed `docker save` archive (`docker save app | gzip`): read as the archive it
        // is, from a decompressed spool (see [`spool`] for why and what it costs).
        let spooled = spool::decompress(packing, &mut section(), &at, &opts.limits)?;
        return match spooled.problem {
            None => open_tar(name, spooled.file, opts),
            Some(cut) => open_damaged(name, spooled.file, cut, opts),
        };
    }
    open_tar(name, file, opts)
}

/// Opens what a decompression that ended early left in the spool (a truncated `.tar.gz` still
/// has whole layers): every image also carries the decompression error. When nothing can be
/// opened, that error is the one returned, since it is the cause.
fn open_damaged(name: &str, file: File, cut: spool::Cut, opts: &OpenOptions) -> Result<Input> {
    let at = At::image(name);
    let mut input = open_tar(name, file, opts).map_err(|_| cut.error(&at))?;
    for img in &mut input.images {
        // The decompressed tar ends where the decompression did: what the archive index says of
        // that is the same cut, reported once as the decompression's.
        img.errors.retain(|e| !matches!(e, Error::Truncated { .. }));
        img.errors.insert(0, cut.error(&At::image(img.name.clone())));
    }
    Ok(input)
}

/// Opens an uncompressed tar file: a `docker save` archive, else a single layer.
fn open_tar(name: &str, file: File, opts: &OpenOptions) -> Result<Input> {
    let at = At::image(name);
    let (len, head) = head_of(&file, &at)?;
    if len == 0 {
        return Err(Error::Unsupported { at, message: "empty input: no bytes to read".into() });
    }
    if !tar_index::is_tar_header(&head) {
        return Err(Error::Unsupported {
            at,
            message: "not a tar, gzip or zstd file, nor an OCI layout directory".into(),
        });
    }
    let index = tar_index::TarIndex::build(&file, len, &opts.limits).map_err(|e| e.within(&at))?;
    if archive::is_docker_save(&index) {
        return archive::open_archive(name, file, len, index, opts);
    }
    if archive::looks_like_docker_save(&index) && (!index.problems.is_empty() || !index.end_marker) {
        return Err(archive::no_manifest(&index, at));
    }
    Ok(single_layer(name, file, len, index))
}

/// The file's length and its first block (fewer bytes when it is shorter).
fn head_of(file: &File, at: &At) -> Result<(u64, Vec<u8>)> {
    let len = file.metadata().map_err(|e| Error::io(at.clone(), "reading input", e))?.len();
    let mut head = vec![0u8; 512];
    let mut got = 0;
    while got < head.len() {
        match std::os::unix::fs::FileExt::read_at(file, &mut head[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(at.clone(), "reading input", e)),
        }
    }
    head.truncate(got);
    Ok((len, head))
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
