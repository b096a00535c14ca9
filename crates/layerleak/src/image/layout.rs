//! OCI image layout directories (OCI image spec, "OCI Image Layout": `oci-layout`,
//! `index.json`, `blobs/<alg>/<encoded>`).
//!
//! # Security
//! The directory's documents are untrusted: each is size-bounded before it is read, and blob
//! paths are built only from parsed digests whose algorithm cannot be `.` or `..`, so no
//! document can name a file outside `blobs/`.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::document::{parse_json, read_bounded};
use super::resolve::{finish_images, resolve_root};
use super::{BlobRef, BlobStore, Input, InputKind, OpenOptions};
use crate::digest::Digest;
use crate::{At, Error, Limits, Result};

/// Reads blobs of an OCI layout directory by digest.
pub(crate) struct LayoutStore {
    root: PathBuf,
}

impl LayoutStore {
    fn blob_path(&self, d: &Digest) -> Result<PathBuf> {
        // Digest::parse admits `.` in algorithms; a component of dots only would leave blobs/.
        if d.algorithm().as_str().bytes().all(|b| b == b'.') {
            return Err(Error::format(
                At::none(),
                format!("digest algorithm {:?} cannot name a blob", d.algorithm()),
            ));
        }
        Ok(self.root.join("blobs").join(d.algorithm().as_str()).join(d.hex()))
    }

    fn open_file(&self, d: &Digest) -> Result<File> {
        let path = self.blob_path(d)?;
        File::open(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Error::MissingBlob { at: At::none(), what: d.to_string() },
            _ => Error::io(At::none(), format!("opening blob {d}"), e),
        })
    }

    fn read_json(&self, d: &Digest, limits: &Limits) -> Result<Vec<u8>> {
        let mut f = self.open_file(d)?;
        let size = f.metadata().ok().map(|m| m.len());
        let what = format!("blob {d}");
        read_bounded(&mut f, size, &what, &At::none(), limits)
    }
}

impl BlobStore for LayoutStore {
    fn open(&self, blob: &BlobRef) -> Result<Box<dyn Read + Send + '_>> {
        match blob {
            BlobRef::Digest(d) => Ok(Box::new(self.open_file(d)?)),
            other => Err(Error::Unsupported {
                at: At::none(),
                message: format!("an OCI layout holds blobs by digest only, not {other}"),
            }),
        }
    }
}

#[derive(Deserialize)]
struct OciLayoutFile {
    #[serde(rename = "imageLayoutVersion")]
    _version: String,
}

/// Reads a small file of the layout, size-bounded.
fn read_doc(dir: &Path, file: &str, at: &At, limits: &Limits) -> Result<Vec<u8>> {
    let mut f = File::open(dir.join(file)).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::Unsupported {
            at: at.clone(),
            message: format!("directory is not an OCI image layout: no {file}"),
        },
        _ => Error::io(at.clone().with_path(file), format!("opening {file}"), e),
    })?;
    let size = f.metadata().ok().map(|m| m.len());
    read_bounded(&mut f, size, file, at, limits)
}

/// Opens an OCI image layout directory.
pub(crate) fn open_layout(dir: &Path, name: &str, opts: &OpenOptions) -> Result<Input> {
    let limits = &opts.limits;
    let at = At::image(name);
    let marker = read_doc(dir, "oci-layout", &at, limits)?;
    parse_json::<OciLayoutFile>(&marker, "oci-layout", &at, limits)?;
    let root = read_doc(dir, "index.json", &at, limits)?;
    let store = Arc::new(LayoutStore { root: dir.to_path_buf() });
    let fetch = |d: &Digest| store.read_json(d, limits);
    let (mut images, notes) = resolve_root(name, InputKind::OciLayout, &root, None, &fetch, opts)?;
    finish_images(name, &mut images);
    Ok(Input { name: name.to_string(), kind: InputKind::OciLayout, images, notes, store })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_algorithms_cannot_escape_blobs() {
        let store = LayoutStore { root: PathBuf::from("layout") };
        let d = Digest::parse("..:etc").unwrap();
        assert!(store.blob_path(&d).is_err());
        let ok = Digest::sha256_of(b"x");
        assert_eq!(store.blob_path(&ok).unwrap(), Path::new("layout/blobs/sha256").join(ok.hex()));
    }
}
