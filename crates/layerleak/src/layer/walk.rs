//! The streaming layer walker: blob -> blob digest -> decompressor -> diff_id -> tar entries,
//! in one pass per byte.
//!
//! The tar reader is hand-rolled (POSIX.1-2001 pax "ustar Interchange Format" and "pax
//! Interchange Format", plus the GNU `L`/`K` long-name and `S` sparse extensions) rather than
//! the `tar` crate's `Archive::entries()`, because that crate reads GNU long names and PAX
//! extended headers wholly into memory before a caller can see their size, so
//! `max_header_bytes` could not be enforced before allocating; it also allocates per entry for
//! headers the walk does not need.
//!
//! # Security
//! Everything here is untrusted: header fields are parsed leniently but bounded (sizes in octal
//! or base-256, checksums verified), extended headers are refused above
//! [`crate::Limits::max_header_bytes`] before any allocation, content readers never yield more
//! than the declared size (a declared 2^40 bytes simply runs into the end of the stream), and
//! the decompressed stream is cut at [`crate::Limits::max_layer_bytes`] (gzip bombs). Nothing is
//! written to disk and no path is ever resolved on this machine.

use std::borrow::Cow;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::ControlFlow;

use super::compression::{Decoder, RawReader};
use super::path::{LayerPath, PathFlags};
use super::whiteout::{classify, WhiteoutName};
use crate::digest::{DiffHasher, Digest, HashingReader};
use crate::format::tar::{padding, parse_pax, trim_nul, Header, BLOCK};
use crate::format::Compression;
use crate::format::{MemberCut, ReportedByWalk};
use crate::{At, Error, LimitKind, Limits, Skipped};

/// Size of the buffer over the decompressed stream. On a 300 MiB gzip layer of text files,
/// 64, 128 and 256 KiB gave the same walking-thread CPU time within noise (equal to a bare
/// inflate of the same blob, the diff_id hash running on its helper thread); 128 KiB had the
/// lowest total.
const DECOMPRESSED_BUF: usize = 128 << 10;

/// What a tar entry is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum EntryKind {
    /// A regular file (also contiguous and GNU sparse files: their stored bytes).
    File,
    /// A directory.
    Dir,
    /// A symbolic link: recorded, never followed, never scanned.
    Symlink {
        /// The raw link target, as stored.
        #[serde(serialize_with = "serialize_lossy")]
        target: Vec<u8>,
    },
    /// A hard link: shares content with an earlier entry of this layer.
    Hardlink {
        /// The normalized path it links to.
        target: LayerPath,
    },
    /// `dir/.wh.name`: deletes `dir/name` from lower layers.
    Whiteout {
        /// The deleted path.
        target: LayerPath,
    },
    /// `dir/.wh..wh..opq`: hides everything under `dir` from lower layers.
    OpaqueWhiteout {
        /// The opaque directory.
        dir: LayerPath,
    },
    /// Devices, fifos, aufs-internal `.wh..wh.*` names and unknown entry types.
    Other,
}

fn serialize_lossy<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(v))
}

/// One tar entry as walked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct EntryMeta {
    /// Position of the entry in the layer (0-based, counting only real entries, not extended
    /// headers).
    pub ordinal: u64,
    /// Normalized path.
    pub path: LayerPath,
    /// What normalizing the raw path noticed.
    pub flags: PathFlags,
    /// What the entry is.
    pub kind: EntryKind,
    /// Declared size of the entry's data.
    pub size: u64,
    /// Permission and mode bits from the header.
    pub mode: u32,
}

/// Options of one [`walk_layer`] call.
#[derive(Clone)]
#[non_exhaustive]
pub struct WalkOptions<'a> {
    /// Bounds on untrusted input.
    pub limits: &'a Limits,
    /// Image and layer (index, digest) named in every error.
    pub at: At,
    /// Called with the compressed bytes read so far, at most once per MiB and once at the end.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// The blob size its descriptor declares (default `None`: unknown). The walker then reads at
    /// most one byte more than that, even from a stream that never ends. A blob of another size
    /// is an error on the layer; a longer one has no blob digest (it was not read to its end).
    pub declared_size: Option<u64>,
}

impl<'a> WalkOptions<'a> {
    /// Options with the given limits and location, no progress callback.
    pub fn new(limits: &'a Limits, at: At) -> Self {
        WalkOptions { limits, at, progress: None, declared_size: None }
    }

    /// Sets the blob size the descriptor declares (default none).
    pub fn with_declared_size(mut self, size: Option<u64>) -> Self {
        self.declared_size = size;
        self
    }

    /// Sets the progress callback (default none).
    pub fn with_progress(mut self, progress: &'a (dyn Fn(u64) + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }
}

/// The result of walking one layer.
#[derive(Debug)]
#[non_exhaustive]
pub struct LayerWalk {
    /// Compression recognized from the blob's first bytes.
    pub compression: Compression,
    /// sha256 of every blob byte (`None` only if the blob could not be read to its end).
    pub blob_digest: Option<Digest>,
    /// Blob bytes read.
    pub blob_bytes: u64,
    /// sha256 of the whole decompressed tar stream, padding included (`None` if it was not read
    /// to its end: decompression failed, a layer limit was hit, or the visitor stopped).
    pub diff_id: Option<Digest>,
    /// Decompressed bytes read.
    pub tar_bytes: u64,
    /// Every entry walked, of every kind, in tar order.
    pub entries: Vec<EntryMeta>,
    /// Decompression, tar and limit errors, each naming image, layer and path.
    pub errors: Vec<Error>,
    /// Files whose end was not handed to the visitor because [`Limits::max_file_bytes`] was set.
    pub skipped: Vec<Skipped>,
    /// Walked to the end of the archive and both digests computed, with no error.
    pub complete: bool,
    /// The visitor returned [`ControlFlow::Break`].
    pub stopped: bool,
}

/// Streams one layer blob: blob bytes -> hashing (blob digest) -> decompressor (detected from the
/// first bytes: multi-member gzip, multi-frame zstd, or none) -> hashing (diff_id) -> tar
/// entries. For every regular file calls `visit(meta, content)` where `content` yields at most
/// `min(size, limits.max_file_bytes)` bytes (every byte by default); the visitor may read all,
/// part or none of it. Every entry of every kind is recorded in [`LayerWalk::entries`]. Bad
/// input never panics: it becomes an error in [`LayerWalk::errors`] and the walk keeps what it
/// had.
pub fn walk_layer(
    blob: &mut dyn Read,
    opts: &WalkOptions,
    visit: &mut dyn FnMut(&EntryMeta, &mut dyn Read) -> ControlFlow<()>,
) -> LayerWalk {
    let mut out = LayerWalk {
        compression: Compression::None,
        blob_digest: None,
        blob_bytes: 0,
        diff_id: None,
        tar_bytes: 0,
        entries: Vec::new(),
        errors: Vec::new(),
        skipped: Vec::new(),
        complete: false,
        stopped: false,
    };
    let raw = HashingReader::new(RawReader::new(blob, opts.progress).with_declared_size(opts.declared_size));
    let (compression, decoder) = Decoder::open(raw);
    out.compression = compression;
    let decoder = match decoder {
        Ok(d) => d,
        Err((e, raw)) => {
            open_failed(e, raw, opts, &mut out);
            return out;
        }
    };
    let limited = LayerLimit {
        inner: DiffHasher::new(decoder),
        max: opts.limits.max_layer_bytes,
        count: 0,
        hit: false,
        decode_failed: false,
    };
    let mut tar = TarWalk {
        r: BufReader::with_capacity(DECOMPRESSED_BUF, limited),
        pos: 0,
        opts,
        compression,
        pending: Pending::default(),
    };
    let end = tar.run(&mut out, visit);
    if matches!(end, End::Archive | End::Cut) {
        tar.drain_decompressed(&mut out);
    }
    let mut limited = tar.r.into_inner();
    out.tar_bytes = limited.inner.count();
    let raw = limited.inner.get_mut().blob_mut();
    finish_blob(raw, opts, &mut out);
    out.complete =
        end == End::Archive && out.diff_id.is_some() && out.blob_digest.is_some() && out.errors.is_empty();
    out
}

/// The decoder could not even start: records why and still hashes the blob when it can.
fn open_failed(
    e: io::Error,
    raw: Option<HashingReader<RawReader<'_>>>,
    opts: &WalkOptions,
    out: &mut LayerWalk,
) {
    let at = opts.at.clone().with_offset(0);
    let Some(mut raw) = raw else {
        out.errors.push(Error::Decompress { at, compression: out.compression.as_str().into(), source: e });
        return;
    };
    out.errors.push(if raw.get_mut().failed {
        Error::io(at, "reading layer blob", e)
    } else {
        Error::Decompress { at, compression: out.compression.as_str().into(), source: e }
    });
    finish_blob(&mut raw, opts, out);
}

/// Reads the rest of the blob (at most one byte past its declared size) so its digest covers
/// every byte, checks the size, and reports final progress.
fn finish_blob(raw: &mut HashingReader<RawReader<'_>>, opts: &WalkOptions, out: &mut LayerWalk) {
    let drained = drain(raw);
    out.blob_bytes = raw.count();
    let read_whole = drained.is_ok() && !raw.get_mut().failed;
    let mismatch = raw.get_mut().size_mismatch().filter(|_| read_whole);
    if let Some((declared, read)) = mismatch {
        let message = if read > declared {
            format!(
                "layer blob is longer than the {declared} bytes its descriptor declares; read stopped there"
            )
        } else {
            format!("layer blob is {read} bytes, its descriptor declares {declared}")
        };
        out.errors.push(Error::format(opts.at.clone().with_offset(declared.min(read)), message));
    }
    // A blob longer than declared was read only one byte past it: a digest would be of a prefix.
    if read_whole && mismatch.is_none_or(|(declared, read)| read <= declared) {
        out.blob_digest = Some(raw.digest_so_far());
    }
    raw.get_mut().report_final();
}

/// Reads `r` to its end, discarding.
fn drain(r: &mut dyn Read) -> io::Result<u64> {
    io::copy(r, &mut io::sink())
}

/// How the tar walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// End-of-archive blocks (or a clean end of stream at a block boundary).
    Archive,
    /// A tar error or the entry limit ended the walk; the stream itself is readable.
    Cut,
    /// Reading the decompressed stream failed (decoder, blob read, layer byte limit).
    Broken,
    /// The visitor stopped.
    Stopped,
}

/// The decompressed stream, cut at `max_layer_bytes`.
struct LayerLimit<'a> {
    inner: DiffHasher<Decoder<'a>>,
    max: u64,
    count: u64,
    hit: bool,
    decode_failed: bool,
}

impl Read for LayerLimit<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let room = self.max - self.count;
        let res = if room == 0 {
            // At the limit: the stream may end exactly here; one more byte means it is over.
            let mut probe = [0u8; 1];
            match self.inner.read(&mut probe) {
                Ok(0) => return Ok(0),
                Ok(_) => {
                    self.hit = true;
                    return Err(io::Error::other("max_layer_bytes reached"));
                }
                Err(e) => Err(e),
            }
        } else {
            let n = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
            self.inner.read(&mut buf[..n])
        };
        match res {
            Ok(n) => {
                self.count += n as u64;
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.decode_failed = true;
                }
                Err(e)
            }
        }
    }
}

/// Extended-header values that apply to the next real entry.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    pax_size: Option<u64>,
}

/// Why the walk of entries halted.
enum Halt {
    /// Reading the decompressed stream failed (classified by the reader's flags).
    Io(io::Error),
    /// The tar stream is malformed.
    Tar(String),
    /// The tar stream ends before the archive does.
    Cut(String),
    /// A limit that ends the layer.
    Limit(LimitKind, u64),
    /// The visitor stopped.
    Stop,
}

struct TarWalk<'o, 'a> {
    r: BufReader<LayerLimit<'a>>,
    /// Offset in the decompressed stream of the next unread byte.
    pos: u64,
    opts: &'o WalkOptions<'o>,
    compression: Compression,
    pending: Pending,
}

impl TarWalk<'_, '_> {
    /// Walks entries until the end of the archive, an error, or a stop.
    fn run(
        &mut self,
        out: &mut LayerWalk,
        visit: &mut dyn FnMut(&EntryMeta, &mut dyn Read) -> ControlFlow<()>,
    ) -> End {
        loop {
            match self.next(out, visit) {
                Ok(true) => {}
                Ok(false) => return End::Archive,
                Err(Halt::Stop) => {
                    out.stopped = true;
                    return End::Stopped;
                }
                Err(halt) => {
                    let cut = matches!(halt, Halt::Tar(_) | Halt::Cut(_) | Halt::Limit(..));
                    // `None`: the blob's source already reported it (an archive member cut short).
                    if let Some(err) = self.error(halt, &out.entries) {
                        out.errors.push(err);
                    }
                    return if cut { End::Cut } else { End::Broken };
                }
            }
        }
    }

    /// Reads one header (and its extended headers) and the entry's data. `Ok(false)` at the end
    /// of the archive.
    fn next(
        &mut self,
        out: &mut LayerWalk,
        visit: &mut dyn FnMut(&EntryMeta, &mut dyn Read) -> ControlFlow<()>,
    ) -> Result<bool, Halt> {
        let header_at = self.pos;
        let mut block = [0u8; BLOCK as usize];
        if !self.read_block(&mut block)? {
            return Ok(false);
        }
        // POSIX ustar: the archive ends with zero blocks. One is enough to stop (like the `tar`
        // crate with ignore_zeros off); the rest is drained for the diff_id.
        if block.iter().all(|&b| b == 0) {
            return Ok(false);
        }
        let h = Header(&block);
        if !h.checksum_ok() {
            return Err(Halt::Tar(format!("header checksum mismatch at offset {header_at}")));
        }
        let size = h
            .size()
            .ok_or_else(|| Halt::Tar(format!("invalid size field in header at offset {header_at}")))?;
        match h.typeflag() {
            flag @ (b'L' | b'K' | b'x' | b'g') => self.extended(flag, size, header_at, out)?,
            _ => self.entry(&h, size, header_at, out, visit)?,
        }
        Ok(true)
    }

    /// A GNU long name/link (`L`/`K`) or PAX extended header (`x`/`g`): bounded, then kept for
    /// the next entry.
    fn extended(&mut self, flag: u8, size: u64, header_at: u64, out: &mut LayerWalk) -> Result<(), Halt> {
        let max = self.opts.limits.max_header_bytes;
        if size > max {
            // Refused before allocating: the data is skipped and the next entry keeps its
            // plain header fields.
            out.errors.push(Error::Limit {
                at: self.at(header_at, &out.entries),
                limit: LimitKind::HeaderBytes,
                max,
            });
            self.skip(size)?;
            return self.skip(padding(size));
        }
        let mut data = vec![0u8; size as usize];
        self.read_exact(&mut data)?;
        self.skip(padding(size))?;
        match flag {
            b'L' => self.pending.long_name = Some(trim_nul(data)),
            b'K' => self.pending.long_link = Some(trim_nul(data)),
            b'x' => self.pax(&data, header_at)?,
            // Global headers (`g`) are validated but their values are not per-entry paths.
            _ => parse_pax(&data, |_, _| {})
                .ok_or_else(|| Halt::Tar(format!("malformed pax global header at offset {header_at}")))?,
        }
        Ok(())
    }

    /// Keeps the PAX keys the walk uses (POSIX pax "pax Extended Header": `path`, `linkpath`,
    /// `size`).
    fn pax(&mut self, data: &[u8], header_at: u64) -> Result<(), Halt> {
        let pending = &mut self.pending;
        let mut bad_size = false;
        parse_pax(data, |key, value| match key {
            b"path" => pending.pax_path = Some(value.to_vec()),
            b"linkpath" => pending.pax_link = Some(value.to_vec()),
            b"size" => match std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                Some(n) => pending.pax_size = Some(n),
                None => bad_size = true,
            },
            _ => {}
        })
        .filter(|_| !bad_size)
        .ok_or_else(|| Halt::Tar(format!("malformed pax extended header at offset {header_at}")))
    }

    /// A real entry: records it, lets the visitor read a regular file, skips the rest.
    fn entry(
        &mut self,
        h: &Header<'_>,
        size: u64,
        header_at: u64,
        out: &mut LayerWalk,
        visit: &mut dyn FnMut(&EntryMeta, &mut dyn Read) -> ControlFlow<()>,
    ) -> Result<(), Halt> {
        let max_entries = self.opts.limits.max_entries_per_layer;
        if out.entries.len() as u64 >= max_entries {
            return Err(Halt::Limit(LimitKind::EntriesPerLayer, max_entries));
        }
        let pending = std::mem::take(&mut self.pending);
        let size = pending.pax_size.unwrap_or(size);
        let raw_name =
            pending.pax_path.or(pending.long_name).map(Cow::Owned).unwrap_or_else(|| h.ustar_name());
        let raw_link = pending.pax_link.or(pending.long_link).unwrap_or_else(|| h.link_name());
        let (path, flags) = self.normalize(&raw_name, header_at, out);
        if h.typeflag() == b'S' && h.is_gnu() && h.0[482] != 0 {
            self.skip_sparse_extensions()?;
        }
        let kind = entry_kind(&path, h.typeflag(), &raw_name, raw_link);
        let is_file = kind == EntryKind::File;
        // The header is good: errors in the data from here on name this entry (the last one).
        out.entries.push(EntryMeta {
            ordinal: out.entries.len() as u64,
            path,
            flags,
            kind,
            size,
            mode: h.mode(),
        });
        let read = if is_file { self.visit_file(size, header_at, out, visit)? } else { 0 };
        self.skip(size - read)?;
        self.skip(padding(size))
    }

    /// Hands the last recorded entry's content (at most `max_file_bytes`, when set) to the
    /// visitor; returns how many bytes it consumed.
    fn visit_file(
        &mut self,
        size: u64,
        header_at: u64,
        out: &mut LayerWalk,
        visit: &mut dyn FnMut(&EntryMeta, &mut dyn Read) -> ControlFlow<()>,
    ) -> Result<u64, Halt> {
        let max_file = self.opts.limits.max_file_bytes;
        let Some(meta) = out.entries.last() else { return Ok(0) };
        let mut content = Content { r: &mut self.r, remaining: size.min(max_file), read: 0, err: None };
        let flow = visit(meta, &mut content);
        let read = content.read;
        let err = content.err.take();
        self.pos += read;
        if let Some(e) = err {
            return Err(Halt::Io(e));
        }
        if flow == ControlFlow::Break(()) {
            return Err(Halt::Stop);
        }
        if size > max_file {
            let at = self.at(header_at, &out.entries);
            let at = At { offset: None, ..at };
            out.skipped.push(Skipped { at, scanned: max_file, skipped: Some(size - max_file) });
        }
        Ok(read)
    }

    /// Normalizes a raw name, cutting it at `max_path_bytes` (a reported limit).
    fn normalize(&mut self, raw: &[u8], header_at: u64, out: &mut LayerWalk) -> (LayerPath, PathFlags) {
        let max = self.opts.limits.max_path_bytes;
        if raw.len() <= max {
            return LayerPath::new(raw);
        }
        let (path, mut flags) = LayerPath::new(&raw[..max]);
        flags.truncated = true;
        let at = self.at(header_at, &out.entries).with_path(path.display());
        out.errors.push(Error::Limit { at, limit: LimitKind::PathBytes, max: max as u64 });
        (path, flags)
    }

    /// Old GNU sparse headers continue in extension blocks while their `isextended` byte is set.
    fn skip_sparse_extensions(&mut self) -> Result<(), Halt> {
        let mut block = [0u8; BLOCK as usize];
        loop {
            if !self.read_block(&mut block)? {
                return Err(Halt::Cut(format!(
                    "the layer ends inside a GNU sparse header at offset {}",
                    self.pos
                )));
            }
            if block[504] == 0 {
                return Ok(());
            }
        }
    }

    /// Reads the rest of the decompressed stream (tar padding after end-of-archive) so the
    /// diff_id covers it.
    fn drain_decompressed(&mut self, out: &mut LayerWalk) {
        loop {
            match self.r.fill_buf() {
                Ok([]) => break,
                Ok(buf) => {
                    let n = buf.len();
                    self.r.consume(n);
                    self.pos += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    out.errors.extend(self.error(Halt::Io(e), &out.entries));
                    return;
                }
            }
        }
        out.diff_id = self.r.get_mut().inner.digest();
    }

    /// Reads one whole block; `Ok(false)` on a clean end of stream before it.
    fn read_block(&mut self, block: &mut [u8; BLOCK as usize]) -> Result<bool, Halt> {
        let mut got = 0;
        while got < block.len() {
            match self.r.read(&mut block[got..]) {
                Ok(0) if got == 0 => return Ok(false),
                Ok(0) => {
                    return Err(Halt::Cut(format!(
                        "the layer ends inside a tar header at offset {}",
                        self.pos
                    )))
                }
                Ok(n) => {
                    got += n;
                    self.pos += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Halt::Io(e)),
            }
        }
        Ok(true)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Halt> {
        let mut got = 0;
        while got < buf.len() {
            match self.r.read(&mut buf[got..]) {
                Ok(0) => {
                    return Err(Halt::Cut(format!("the layer ends inside entry data at offset {}", self.pos)))
                }
                Ok(n) => {
                    got += n;
                    self.pos += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Halt::Io(e)),
            }
        }
        Ok(())
    }

    /// Skips `n` bytes without copying them.
    fn skip(&mut self, mut n: u64) -> Result<(), Halt> {
        while n > 0 {
            let avail = match self.r.fill_buf() {
                Ok([]) => {
                    return Err(Halt::Cut(format!(
                        "the layer ends inside entry data at offset {} ({n} bytes missing)",
                        self.pos
                    )))
                }
                Ok(buf) => buf.len(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Halt::Io(e)),
            };
            let k = avail.min(usize::try_from(n).unwrap_or(usize::MAX));
            self.r.consume(k);
            self.pos += k as u64;
            n -= k as u64;
        }
        Ok(())
    }

    /// Where: the layer, the last entry whose header was good, and an offset in the
    /// decompressed stream.
    fn at(&self, offset: u64, entries: &[EntryMeta]) -> At {
        let at = self.opts.at.clone().with_offset(offset);
        match entries.last() {
            Some(e) => at.with_path(e.path.display()),
            None => at,
        }
    }

    /// Turns a halt into the error to record; `None` when the blob's source already reported
    /// it (an archive member the file cuts short: the archive reports that once).
    fn error(&mut self, halt: Halt, entries: &[EntryMeta]) -> Option<Error> {
        let at = self.at(self.pos, entries);
        let scanned = "; what precedes the cut is scanned";
        Some(match halt {
            Halt::Tar(message) => Error::Tar { at, message },
            Halt::Cut(message) => Error::Truncated { at, message: message + scanned },
            Halt::Limit(limit, max) => Error::Limit { at, limit, max },
            Halt::Stop => Error::Stopped,
            Halt::Io(_) if self.r.get_ref().hit => {
                Error::Limit { at, limit: LimitKind::LayerBytes, max: self.r.get_ref().max }
            }
            Halt::Io(source) if MemberCut::is(&source) => return None,
            Halt::Io(source) => {
                let limited = self.r.get_mut();
                let compressed = self.compression != Compression::None && limited.decode_failed;
                if limited.inner.get_mut().blob_mut().get_mut().failed {
                    Error::io(at, "reading layer blob", source)
                } else if compressed && source.kind() == io::ErrorKind::UnexpectedEof {
                    let message =
                        format!("the {} stream ends early ({source}){scanned}", self.compression.as_str());
                    Error::Truncated { at, message }
                } else if compressed {
                    Error::Decompress { at, compression: self.compression.as_str().into(), source }
                } else {
                    Error::io(at, "reading layer", source)
                }
            }
        })
    }
}

/// The kind of an entry from its whiteout name and type flag (POSIX ustar `typeflag`, GNU
/// extensions `S` sparse and `D` dump directory).
fn entry_kind(path: &LayerPath, typeflag: u8, raw_name: &[u8], raw_link: Vec<u8>) -> EntryKind {
    match classify(path) {
        WhiteoutName::Whiteout(target) => EntryKind::Whiteout { target },
        WhiteoutName::Opaque(dir) => EntryKind::OpaqueWhiteout { dir },
        WhiteoutName::Ignored => EntryKind::Other,
        WhiteoutName::None => match typeflag {
            // Pre-POSIX archives mark directories with a trailing `/` on a regular-file type.
            b'0' | 0 | b'7' if raw_name.last() == Some(&b'/') => EntryKind::Dir,
            b'0' | 0 | b'7' | b'S' => EntryKind::File,
            b'1' => EntryKind::Hardlink { target: LayerPath::new(&raw_link).0 },
            b'2' => EntryKind::Symlink { target: raw_link },
            b'5' | b'D' => EntryKind::Dir,
            _ => EntryKind::Other,
        },
    }
}

/// A file's content: at most `remaining` bytes of the stream. A read error is kept for the walk
/// and a copy handed to the visitor.
struct Content<'r, R> {
    r: &'r mut R,
    remaining: u64,
    read: u64,
    err: Option<io::Error>,
}

impl<R: Read> Read for Content<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        if let Some(e) = &self.err {
            return Err(ReportedByWalk::copy(e));
        }
        let n = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        match self.r.read(&mut buf[..n]) {
            Ok(k) => {
                self.remaining -= k as u64;
                self.read += k as u64;
                Ok(k)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let copy = ReportedByWalk::copy(&e);
                self.err = Some(e);
                Err(copy)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn run(blob: &[u8]) -> LayerWalk {
        let limits = Limits::default();
        let opts = WalkOptions::new(&limits, At::image("t").with_layer(3, None));
        walk_layer(&mut &blob[..], &opts, &mut |_, c| {
            let _ = io::copy(c, &mut io::sink());
            ControlFlow::Continue(())
        })
    }

    #[test]
    fn layer_byte_limit_allows_exactly_max_bytes() {
        let tar = tar_of(&[("f", b"data")]);
        let mut limits = Limits { max_layer_bytes: tar.len() as u64, ..Limits::default() };
        let opts = WalkOptions::new(&limits, At::none());
        let w = walk_layer(&mut &tar[..], &opts, &mut |_, _| ControlFlow::Continue(()));
        assert!(w.complete, "{:?}", w.errors);
        limits.max_layer_bytes -= 1;
        let opts = WalkOptions::new(&limits, At::none());
        let w = walk_layer(&mut &tar[..], &opts, &mut |_, _| ControlFlow::Continue(()));
        assert!(matches!(&w.errors[..], [Error::Limit { limit: LimitKind::LayerBytes, .. }]));
        assert_eq!(w.diff_id, None);
        assert_eq!(w.blob_digest, Some(Digest::sha256_of(&tar)));
    }

    #[test]
    fn pax_size_and_path_override_the_header() {
        let mut b = tar::Builder::new(Vec::new());
        b.append_pax_extensions([("path", &b"from/pax"[..]), ("size", &b"5"[..])]).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_path("plain").unwrap();
        h.set_size(0);
        h.set_cksum();
        b.append(&h, &b"12345"[..]).unwrap();
        b.append_data(&mut tar::Header::new_gnu(), "next", &b""[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let mut seen = Vec::new();
        let limits = Limits::default();
        let opts = WalkOptions::new(&limits, At::none());
        let w = walk_layer(&mut &tar[..], &opts, &mut |m, c| {
            let mut v = Vec::new();
            let _ = c.read_to_end(&mut v);
            seen.push((m.path.display().into_owned(), v));
            ControlFlow::Continue(())
        });
        assert!(w.complete, "{:?}", w.errors);
        assert_eq!(w.entries[0].size, 5);
        assert_eq!(seen[0], ("from/pax".to_string(), b"12345".to_vec()));
        assert_eq!(seen[1].0, "next");
    }

    #[test]
    fn empty_blob_is_an_empty_complete_layer() {
        let w = run(b"");
        assert!(w.complete && w.entries.is_empty());
        assert_eq!(w.blob_digest, Some(Digest::sha256_of(b"")));
    }

    #[test]
    fn mutated_layers_never_panic_and_keep_invariants() {
        let tar = tar_of(&[("a/one", b"first file"), ("a/two", &[7u8; 3000]), ("b", b"x")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &tar).unwrap();
        let gz = gz.finish().unwrap();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for base in [&tar, &gz] {
            for _ in 0..300 {
                let mut blob = base.clone();
                for _ in 0..1 + (x % 4) {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    let i = (x >> 33) as usize % blob.len();
                    blob[i] = (x >> 17) as u8;
                }
                if x.is_multiple_of(5) {
                    blob.truncate((x >> 40) as usize % blob.len());
                }
                let w = run(&blob);
                assert_eq!(w.blob_digest, Some(Digest::sha256_of(&blob)));
                assert_eq!(w.blob_bytes, blob.len() as u64);
                for (i, e) in w.entries.iter().enumerate() {
                    assert_eq!(e.ordinal, i as u64);
                }
                assert_eq!(w.complete, w.errors.is_empty());
                for e in &w.errors {
                    assert_eq!(e.at().and_then(|a| a.layer), Some(3), "{e}");
                }
            }
        }
    }
}
