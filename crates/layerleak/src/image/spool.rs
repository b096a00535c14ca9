//! The spool: an anonymous temporary file holding an input that cannot be read in place, either
//! a stream (stdin) or the decompressed content of a gzip or zstd `docker save` archive.
//!
//! A `docker save` archive may put `manifest.json` last and its layers are read in parallel by
//! position, so it has to be seekable. A compressed archive is decompressed once, here, rather
//! than twice (once to index, once more per layer): one pass, at the cost of temporary disk
//! space equal to the decompressed archive for the duration of the scan. A stream is spooled as
//! given, except that a compressed `docker save` archive on it is decompressed on the way in, so
//! it is written once, not once compressed and again decompressed.
//!
//! `tempfile::tempfile()` unlinks the file as soon as it is created: nothing remains on disk
//! after the run, even if the process is killed. The spool holds the archive's bytes (layer
//! blobs as the archive stores them), never extracted files.
//!
//! # Security
//! The input is untrusted. Memory stays bounded (a copy buffer and the decoder's window), and
//! the decompressed bytes are cut at [`crate::Limits::max_archive_bytes`], so a gzip bomb cannot
//! fill the disk.

use std::fs::File;
use std::io::{self, Read, Seek, Write};

use super::tar_index::{is_tar_header, normalize};
use crate::format::{read_full, GZIP_MAGIC, ZSTD_MAGIC};
use crate::{At, Error, LimitKind, Limits, Result};

/// Compressed bytes of a stream read (and kept) while looking for its first tar header. A real
/// gzip or zstd header yields it within a few KiB; a stream that does not is no archive.
const SNIFF_CAP: usize = 1 << 20;

/// How a file or stream is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Packing {
    Gzip,
    Zstd,
}

impl Packing {
    pub(crate) fn of(head: &[u8]) -> Option<Packing> {
        if head.starts_with(&GZIP_MAGIC) {
            Some(Packing::Gzip)
        } else if head.starts_with(&ZSTD_MAGIC) {
            Some(Packing::Zstd)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Packing::Gzip => "gzip",
            Packing::Zstd => "zstd",
        }
    }

    /// A decoder of every member (gzip) or frame (zstd), as `gzip -d` and `zstd -d` read them.
    fn decoder<'r>(self, r: &'r mut dyn Read) -> io::Result<Box<dyn Read + 'r>> {
        Ok(match self {
            Packing::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
            Packing::Zstd => Box::new(zstd::stream::read::Decoder::new(r)?),
        })
    }
}

/// Whether the first tar member inside a compressed stream is named like a `docker save`
/// member. Only the first block is decompressed; any failure means "no".
pub(crate) fn holds_docker_save(packing: Packing, r: &mut dyn Read) -> bool {
    let Ok(mut decoder) = packing.decoder(r) else { return false };
    let mut block = [0u8; 512];
    if decoder.read_exact(&mut block).is_err() || !is_tar_header(&block) {
        return false;
    }
    let end = block[..100].iter().position(|&b| b == 0).unwrap_or(100);
    let name = normalize(&String::from_utf8_lossy(&block[..end]));
    let id = name.split(['/', '.']).next().unwrap_or("");
    matches!(name.as_str(), "manifest.json" | "index.json" | "oci-layout" | "repositories" | "blobs")
        || name.starts_with("blobs/")
        || (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A spooled input, rewound; `problem` is set when a decompression ended early (the spool then
/// holds what was decompressed before it).
pub(crate) struct Spooled {
    pub(crate) file: File,
    pub(crate) problem: Option<Cut>,
}

/// Why a decompression ended before the end of its stream.
#[derive(Debug)]
pub(crate) enum Cut {
    /// The decoder failed after this many decompressed bytes.
    Decoder { packing: Packing, offset: u64, kind: io::ErrorKind, message: String },
    /// [`Limits::max_archive_bytes`] was reached.
    Limit { max: u64 },
}

impl Cut {
    /// The error to report, at `at` (each image of the archive carries one).
    pub(crate) fn error(&self, at: &At) -> Error {
        match self {
            Cut::Decoder { packing, offset, kind: io::ErrorKind::UnexpectedEof, message } => {
                Error::Truncated {
                    at: at.clone().with_offset(*offset),
                    message: format!(
                        "the {} stream ends early ({message}); what precedes the cut is scanned",
                        packing.name()
                    ),
                }
            }
            Cut::Decoder { packing, offset, kind, message } => Error::Decompress {
                at: at.clone().with_offset(*offset),
                compression: packing.name().into(),
                source: io::Error::new(*kind, message.clone()),
            },
            Cut::Limit { max } => {
                Error::Limit { at: at.clone().with_offset(*max), limit: LimitKind::ArchiveBytes, max: *max }
            }
        }
    }
}

/// Spools a stream: decompressed when it is a compressed `docker save` archive, as given
/// otherwise.
pub(crate) fn spool_stream(reader: &mut dyn Read, at: &At, limits: &Limits) -> Result<Spooled> {
    let mut head = Vec::new();
    let mut first = [0u8; 4];
    let n = read_full(reader, &mut first).map_err(|e| Error::io(at.clone(), "spooling input", e))?;
    head.extend_from_slice(&first[..n]);
    let archive = Packing::of(&head).filter(|&p| {
        let mut rec = Recording { inner: &mut *reader, seen: &mut head };
        holds_docker_save(p, &mut (&first[..n]).chain(&mut rec))
    });
    let mut whole = io::Cursor::new(head).chain(reader);
    match archive {
        Some(p) => decompress(p, &mut whole, at, limits),
        None => {
            let mut file = new_spool(at)?;
            io::copy(&mut whole, &mut file).map_err(|e| Error::io(at.clone(), "spooling input", e))?;
            file.rewind().map_err(|e| Error::io(at.clone(), "spooling input", e))?;
            Ok(Spooled { file, problem: None })
        }
    }
}

/// Decompresses `r` into a new spool, at most `limits.max_archive_bytes` bytes. A decoder error
/// or the limit keeps what came before it and is returned as the spool's problem.
pub(crate) fn decompress(packing: Packing, r: &mut dyn Read, at: &At, limits: &Limits) -> Result<Spooled> {
    let mut file = new_spool(at)?;
    let max = limits.max_archive_bytes;
    let mut decoder = packing.decoder(r).map_err(|source| Error::Decompress {
        at: at.clone(),
        compression: packing.name().into(),
        source,
    })?;
    let write_failed = |e| Error::io(at.clone(), "spooling the decompressed archive", e);
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    let problem = loop {
        let n = match decoder.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                break Some(Cut::Decoder { packing, offset: total, kind: e.kind(), message: e.to_string() })
            }
        };
        let room = usize::try_from(max - total).unwrap_or(usize::MAX);
        file.write_all(&buf[..n.min(room)]).map_err(write_failed)?;
        if n > room {
            break Some(Cut::Limit { max });
        }
        total += n as u64;
    };
    drop(decoder);
    file.flush().map_err(write_failed)?;
    file.rewind().map_err(write_failed)?;
    Ok(Spooled { file, problem })
}

fn new_spool(at: &At) -> Result<File> {
    tempfile::tempfile().map_err(|e| Error::io(at.clone(), "creating spool file", e))
}

/// Reads `inner` and keeps a copy of every byte read, up to [`SNIFF_CAP`] (then it reports the
/// end of the stream, and the sniff fails).
struct Recording<'a> {
    inner: &'a mut dyn Read,
    seen: &'a mut Vec<u8>,
}

impl Read for Recording<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = SNIFF_CAP.saturating_sub(self.seen.len());
        let want = buf.len().min(room);
        if want == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..want])?;
        self.seen.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}
