//! Archives inside files: zip family (jar, war, ear, whl, nupkg, apk), tar, gzip, zstd.
//!
//! Detected by magic bytes (the name only helps for old tar files without the `ustar` magic).
//! A recognised archive is scanned through its members only; its compressed bytes hold no
//! plaintext. Zip files are read STREAMING through their local file headers (APPNOTE.TXT
//! section 4.3.7 "Local file header", 4.3.9 "Data descriptor", 4.5.3 "Zip64 Extended
//! Information Extra Field"); the central directory is never needed, so nothing is buffered.
//! Tar follows POSIX.1-2001 ustar and pax (GNU long names too), read with the layer walker's
//! header parser ([`crate::format::tar`]).
//!
//! # Security
//!
//! Archives are untrusted. Depth is capped by [`crate::Limits::max_nesting_depth`] and every
//! decompressed byte inside one scan counts against [`crate::Limits::max_nested_bytes`], so a
//! zip or gzip bomb ends in an [`Error::Limit`]. Member names are data: zip-slip names
//! (`../../etc/passwd`) are reported as written and never touch a file system. A damaged archive
//! is an error on that archive; a zip whose first header is implausible is scanned as raw bytes.
//! A tar's long-name and pax headers are refused above [`crate::Limits::max_header_bytes`]
//! before anything is allocated for them.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::ControlFlow;

use super::engine::Detector;
use super::search::ScanState;
use crate::error::{At, Error, LimitKind};
use crate::format::read_full;
use crate::format::tar::{padding, parse_pax, trim_nul, Header, BLOCK};
use crate::format::{GZIP_MAGIC, ZSTD_MAGIC};

/// Bytes sniffed at the start of every stream (a tar header is 512 bytes).
pub(crate) const HEAD: usize = 512;

const ZIP_LOCAL: u32 = 0x0403_4b50;
const ZIP_CENTRAL: u32 = 0x0201_4b50;
const ZIP_END: u32 = 0x0605_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP_DESCRIPTOR: u32 = 0x0807_4b50;
/// APPNOTE 4.4.5: stored and deflated are the methods we decode.
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;

/// What an archive stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Zip,
    Gzip,
    Zstd,
    Tar,
}

/// Recognises an archive from its first bytes.
pub(crate) fn sniff(head: &[u8], name: &[u8]) -> Option<Kind> {
    if head.starts_with(b"PK\x05\x06") || (head.starts_with(b"PK\x03\x04") && plausible_zip(head)) {
        return Some(Kind::Zip);
    }
    // Gzip with the deflate method (RFC 1952 2.3.1, CM 8), the only one defined.
    if head.starts_with(&GZIP_MAGIC) && head.get(2) == Some(&8) {
        return Some(Kind::Gzip);
    }
    if head.starts_with(&ZSTD_MAGIC) {
        return Some(Kind::Zstd);
    }
    let block = head.get(..HEAD).and_then(|b| <&[u8; HEAD]>::try_from(b).ok())?;
    (&block[257..262] == b"ustar" || (name.ends_with(b".tar") && Header(block).checksum_ok()))
        .then_some(Kind::Tar)
}

/// A first local header a real zip writer could have produced (APPNOTE 4.4.3, 4.4.5).
fn plausible_zip(head: &[u8]) -> bool {
    if head.len() < 30 {
        return false;
    }
    let version = u16::from_le_bytes([head[4], head[5]]) & 0xff;
    let method = u16::from_le_bytes([head[8], head[9]]);
    let name_len = u16::from_le_bytes([head[26], head[27]]);
    let known_method = matches!(method, 0..=20 | 93 | 95..=99);
    version <= 63 && known_method && name_len > 0
}

/// What the archive walk carries through one scan: the scan's state, which it reaches only
/// through [`ScanState`]'s methods, and the decompression budget every level shares.
pub(crate) struct Ctx<'s, 'b> {
    scan: ScanState<'s>,
    budget: &'b Budget,
}

impl<'s, 'b> Ctx<'s, 'b> {
    pub(crate) fn new(scan: ScanState<'s>, budget: &'b Budget) -> Ctx<'s, 'b> {
        Ctx { scan, budget }
    }

    pub(crate) fn into_scan(self) -> ScanState<'s> {
        self.scan
    }

    fn at(&self) -> At {
        self.scan.at()
    }

    fn error(&mut self, e: Error) {
        self.scan.error(e);
    }

    /// Scans `r`, named `name`, as the archive member `member` (its name as findings show it):
    /// a stream, which may be an archive itself.
    fn member(
        &mut self,
        det: &Detector,
        depth: usize,
        member: String,
        name: &[u8],
        r: &mut dyn Read,
    ) -> ControlFlow<()> {
        self.scan.enter(member);
        let flow = scan_stream(det, self, depth, name, r);
        self.scan.leave();
        flow
    }
}

/// Sniffs the stream and scans it as an archive (through its members) or as a plain file.
pub(crate) fn scan_stream(
    det: &Detector,
    ctx: &mut Ctx<'_, '_>,
    depth: usize,
    name: &[u8],
    r: &mut dyn Read,
) -> ControlFlow<()> {
    let mut head = [0u8; HEAD];
    let n = match read_full(r, &mut head) {
        Ok(n) => n,
        Err(e) => {
            let at = ctx.at();
            ctx.error(Error::io(at, "reading", e));
            return ControlFlow::Continue(());
        }
    };
    let mut chained = (&head[..n]).chain(r);
    match sniff(&head[..n], name) {
        Some(kind) => walk(det, ctx, depth, kind, name, &mut chained),
        None => det.scan_plain(&mut ctx.scan, name, &mut chained, 0),
    }
}

/// Decompressed bytes left for one scan, shared by every archive level.
pub(crate) struct Budget {
    left: Cell<u64>,
    max: u64,
    hit: Cell<bool>,
    reported: Cell<bool>,
}

impl Budget {
    pub(crate) fn new(max: u64) -> Budget {
        Budget { left: Cell::new(max), max, hit: Cell::new(false), reported: Cell::new(false) }
    }
}

/// A reader that ends (cleanly) when the budget is spent and records that it was.
struct Capped<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.budget.left.get();
        if left == 0 {
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? > 0 {
                self.budget.hit.set(true);
            }
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.budget.left.set(left - n as u64);
        Ok(n)
    }
}

/// Records the budget limit once; returns whether the walk must stop.
fn budget_spent(ctx: &mut Ctx<'_, '_>) -> bool {
    if !ctx.budget.hit.get() {
        return false;
    }
    if !ctx.budget.reported.replace(true) {
        let at = ctx.at();
        let max = ctx.budget.max;
        ctx.error(Error::Limit { at, limit: LimitKind::NestedBytes, max });
    }
    true
}

/// Scans an archive at nesting `depth` (archives already entered) through its members.
pub(crate) fn walk(
    det: &Detector,
    ctx: &mut Ctx<'_, '_>,
    depth: usize,
    kind: Kind,
    name: &[u8],
    r: &mut dyn Read,
) -> ControlFlow<()> {
    let max = det.opts.limits.max_nesting_depth;
    if max == 0 {
        // Opening archives is off: the file is scanned as the bytes it is.
        return det.scan_plain(&mut ctx.scan, name, r, 0);
    }
    if depth >= max {
        let at = ctx.at();
        ctx.error(Error::Limit { at, limit: LimitKind::NestingDepth, max: max as u64 });
        return ControlFlow::Continue(());
    }
    match kind {
        Kind::Zip => walk_zip(det, ctx, depth + 1, name, r),
        Kind::Tar => walk_tar(det, ctx, depth + 1, r),
        Kind::Gzip => {
            let dec = flate2::read::MultiGzDecoder::new(r);
            decompressed(det, ctx, depth + 1, name, dec, "gzip", &[".tgz", ".gz"])
        }
        Kind::Zstd => match zstd::stream::read::Decoder::new(r) {
            Ok(dec) => decompressed(det, ctx, depth + 1, name, dec, "zstd", &[".tzst", ".zst"]),
            Err(source) => {
                let at = ctx.at();
                ctx.error(Error::Decompress { at, compression: "zstd".into(), source });
                ControlFlow::Continue(())
            }
        },
    }
}

/// The inflated content of a gzip / zstd stream: a tar is walked (its members are the inner
/// names, as for `.tar.gz`), anything else is scanned as the file `name` minus its suffix.
fn decompressed<R: Read>(
    det: &Detector,
    ctx: &mut Ctx<'_, '_>,
    depth: usize,
    name: &[u8],
    dec: R,
    compression: &str,
    suffixes: &[&str],
) -> ControlFlow<()> {
    let mut capped = Capped { inner: dec, budget: ctx.budget };
    let mut head = [0u8; HEAD];
    let n = match read_full(&mut capped, &mut head) {
        Ok(n) => n,
        Err(source) => {
            let at = ctx.at();
            ctx.error(Error::Decompress { at, compression: compression.into(), source });
            return ControlFlow::Continue(());
        }
    };
    let is_tar = n >= 262 && &head[257..262] == b"ustar";
    let mut chained = (&head[..n]).chain(&mut capped);
    let flow = if is_tar {
        walk_tar(det, ctx, depth, &mut chained)
    } else {
        let inner = strip_suffix(name, suffixes);
        ctx.member(det, depth, inner.clone(), inner.as_bytes(), &mut chained)
    };
    budget_spent(ctx);
    flow
}

fn strip_suffix(name: &[u8], suffixes: &[&str]) -> String {
    let base = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
    let base = String::from_utf8_lossy(base).into_owned();
    for s in suffixes {
        if let Some(stem) = base.strip_suffix(s) {
            if !stem.is_empty() {
                return if *s == ".tgz" { format!("{stem}.tar") } else { stem.to_string() };
            }
        }
    }
    base
}

/// Walks tar entries, scanning regular files (types `0`, NUL and `7`) by the name their pax
/// `path`, GNU long name or ustar fields give; other entries are skipped. A malformed header, a
/// read error or a truncated stream ends the walk with an error on the archive.
fn walk_tar(det: &Detector, ctx: &mut Ctx<'_, '_>, depth: usize, r: &mut dyn Read) -> ControlFlow<()> {
    let max_header = det.opts.limits.max_header_bytes;
    let mut name: Option<Vec<u8>> = None;
    let mut pax_size: Option<u64> = None;
    let mut block = [0u8; BLOCK as usize];
    let mut offset = 0u64;
    let fail = |ctx: &mut Ctx<'_, '_>, message: String| {
        let at = ctx.at();
        ctx.error(Error::Tar { at, message });
        ControlFlow::Continue(())
    };
    loop {
        match read_full(r, &mut block) {
            Ok(0) => return ControlFlow::Continue(()),
            Ok(n) if n < block.len() => {
                return fail(ctx, format!("archive truncated in the header at offset {offset}"))
            }
            Ok(_) => {}
            Err(e) => return fail(ctx, format!("reading the header at offset {offset}: {e}")),
        }
        // POSIX ustar: the archive ends with zero blocks.
        if block.iter().all(|&b| b == 0) {
            return ControlFlow::Continue(());
        }
        let h = Header(&block);
        if !h.checksum_ok() {
            return fail(ctx, format!("header checksum mismatch at offset {offset}"));
        }
        let Some(declared) = h.size() else {
            return fail(ctx, format!("invalid size field in the header at offset {offset}"));
        };
        let flag = h.typeflag();
        let extended = matches!(flag, b'L' | b'K' | b'x' | b'g');
        let size = if extended { declared } else { pax_size.take().unwrap_or(declared) };
        let data_at = offset + BLOCK;
        let mut left = size;
        if extended && size > max_header {
            // Refused before allocating; the entry that follows keeps its own header's fields.
            let at = ctx.at().with_offset(offset);
            ctx.error(Error::Limit { at, limit: LimitKind::HeaderBytes, max: max_header });
        } else if extended {
            if let Err(message) = read_extended(r, flag, size, offset, &mut name, &mut pax_size) {
                return fail(ctx, message);
            }
            left = 0;
        } else if matches!(flag, b'0' | 0 | b'7') {
            let path = name.take().unwrap_or_else(|| h.ustar_name().into_owned());
            let mut entry = r.take(size);
            let flow = ctx.member(det, depth, String::from_utf8_lossy(&path).into_owned(), &path, &mut entry);
            if flow == ControlFlow::Break(()) {
                return ControlFlow::Break(());
            }
            left = entry.limit();
        } else {
            name = None;
        }
        // What the scan did not read of the entry, and the padding to the next header.
        let rest = left.saturating_add(padding(size));
        match std::io::copy(&mut r.take(rest), &mut std::io::sink()) {
            Ok(n) if n == rest => {}
            Ok(_) => return fail(ctx, format!("archive truncated in the entry at offset {data_at}")),
            Err(e) => return fail(ctx, format!("reading the entry at offset {data_at}: {e}")),
        }
        offset = data_at.saturating_add(size).saturating_add(padding(size));
        if budget_spent(ctx) {
            return ControlFlow::Continue(());
        }
    }
}

/// Reads the `size` bytes of an extended header (typeflag `flag`, at `offset`): a GNU long name
/// (`L`) or pax header (`x`) sets the next entry's `name` and `pax_size`; others are skipped.
fn read_extended(
    r: &mut dyn Read,
    flag: u8,
    size: u64,
    offset: u64,
    name: &mut Option<Vec<u8>>,
    pax_size: &mut Option<u64>,
) -> Result<(), String> {
    let mut data = vec![0u8; size as usize];
    match read_full(r, &mut data) {
        Ok(n) if n == data.len() => {}
        Ok(_) => return Err(format!("archive truncated in the extended header at offset {offset}")),
        Err(e) => return Err(format!("reading the extended header at offset {offset}: {e}")),
    }
    let parsed = match flag {
        b'L' => {
            *name = Some(trim_nul(data));
            Some(())
        }
        b'x' => parse_pax(&data, |key, value| match key {
            b"path" => *name = Some(value.to_vec()),
            b"size" => *pax_size = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()),
            _ => {}
        }),
        _ => Some(()),
    };
    parsed.ok_or_else(|| format!("malformed pax extended header at offset {offset}"))
}

/// One parsed local file header (APPNOTE 4.3.7).
struct LocalHeader {
    flags: u16,
    method: u16,
    compressed: u64,
    name: Vec<u8>,
    zip64: bool,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads the rest of a local header after its signature.
fn read_local_header(r: &mut dyn Read) -> io::Result<LocalHeader> {
    let mut fixed = [0u8; 26];
    r.read_exact(&mut fixed)?;
    let flags = le16(&fixed, 2);
    let method = le16(&fixed, 4);
    let mut compressed = u64::from(le32(&fixed, 14));
    let uncompressed32 = le32(&fixed, 18);
    let mut name = vec![0u8; usize::from(le16(&fixed, 22))];
    r.read_exact(&mut name)?;
    let mut extra = vec![0u8; usize::from(le16(&fixed, 24))];
    r.read_exact(&mut extra)?;
    let mut zip64 = false;
    // APPNOTE 4.5.3: the Zip64 field holds the 8-byte sizes whose 4-byte fields are 0xFFFFFFFF,
    // uncompressed first.
    let mut i = 0;
    while i + 4 <= extra.len() {
        let (id, len) = (le16(&extra, i), usize::from(le16(&extra, i + 2)));
        let body = &extra[i + 4..(i + 4 + len).min(extra.len())];
        if id == 0x0001 {
            zip64 = true;
            let mut at = 0;
            if uncompressed32 == u32::MAX {
                at += 8;
            }
            if compressed == u64::from(u32::MAX) && body.len() >= at + 8 {
                let mut b = [0u8; 8];
                b.copy_from_slice(&body[at..at + 8]);
                compressed = u64::from_le_bytes(b);
            }
        }
        i += 4 + len;
    }
    Ok(LocalHeader { flags, method, compressed, name, zip64 })
}

/// Counts the bytes read through it into a shared cell.
struct Counted<'c, R> {
    inner: R,
    n: &'c Cell<u64>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

/// Walks zip members through their local headers.
fn walk_zip(
    det: &Detector,
    ctx: &mut Ctx<'_, '_>,
    depth: usize,
    name: &[u8],
    r: &mut dyn Read,
) -> ControlFlow<()> {
    let taken = Cell::new(0u64);
    let mut br = BufReader::with_capacity(64 << 10, Counted { inner: r, n: &taken });
    loop {
        let mut sig = [0u8; 4];
        match read_full(&mut br, &mut sig) {
            Ok(4) => {}
            Ok(_) => {
                let at = ctx.at();
                ctx.error(Error::format(at, "zip archive ends without a central directory (truncated)"));
                return ControlFlow::Continue(());
            }
            Err(e) => {
                let at = ctx.at();
                ctx.error(Error::io(at, "reading zip archive", e));
                return ControlFlow::Continue(());
            }
        }
        match u32::from_le_bytes(sig) {
            ZIP_LOCAL => {}
            ZIP_CENTRAL | ZIP_END | ZIP64_END => return ControlFlow::Continue(()),
            other => {
                let at = ctx.at();
                ctx.error(Error::format(
                    at,
                    format!("unexpected zip signature {other:#010x}; scanning the rest raw"),
                ));
                // Offsets stay those of the file: the raw scan starts where the signature was.
                let start = taken.get() - br.buffer().len() as u64 - sig.len() as u64;
                let mut rest = (&sig[..]).chain(&mut br);
                return det.scan_plain(&mut ctx.scan, name, &mut rest, start);
            }
        }
        let header = match read_local_header(&mut br) {
            Ok(h) => h,
            Err(e) => {
                let at = ctx.at();
                ctx.error(Error::io(at, "reading zip local header", e));
                return ControlFlow::Continue(());
            }
        };
        match zip_member(det, ctx, depth, &header, &mut br) {
            Ok(ControlFlow::Continue(())) => {}
            Ok(ControlFlow::Break(())) => return ControlFlow::Break(()),
            Err(e) => {
                let member = String::from_utf8_lossy(&header.name).into_owned();
                let at = ctx.at().with_path(format!("{}!{member}", ctx.at().path.unwrap_or_default()));
                ctx.error(e.within(&at));
                return ControlFlow::Continue(());
            }
        }
        if budget_spent(ctx) {
            return ControlFlow::Continue(());
        }
    }
}

/// Scans one member and leaves `br` at the next header.
fn zip_member<R: BufRead>(
    det: &Detector,
    ctx: &mut Ctx<'_, '_>,
    depth: usize,
    h: &LocalHeader,
    br: &mut R,
) -> crate::Result<ControlFlow<()>> {
    let member = String::from_utf8_lossy(&h.name).into_owned();
    let encrypted = h.flags & 1 != 0;
    let descriptor = h.flags & 8 != 0;
    let scannable =
        !encrypted && !member.ends_with('/') && matches!(h.method, METHOD_STORED | METHOD_DEFLATE);
    if descriptor {
        return described_member(det, ctx, depth, h, &member, scannable, br);
    }
    let mut body = br.take(h.compressed);
    let mut flow = ControlFlow::Continue(());
    if scannable {
        if h.method == METHOD_STORED {
            flow = scan_member(det, ctx, depth, &member, &mut body);
        } else {
            let mut dec = flate2::bufread::DeflateDecoder::new(&mut body);
            flow = scan_member(det, ctx, depth, &member, &mut dec);
        }
    } else if !member.ends_with('/') {
        let why =
            if encrypted { "encrypted zip member skipped" } else { "zip compression method not supported" };
        let at = ctx.at().with_path(format!("{}!{member}", ctx.at().path.unwrap_or_default()));
        ctx.error(Error::Unsupported { at, message: format!("{why} (method {})", h.method) });
    }
    if flow == ControlFlow::Break(()) {
        return Ok(ControlFlow::Break(()));
    }
    drain(&mut body).map_err(|e| Error::io(crate::At::none(), "reading zip member", e))?;
    if body.limit() > 0 {
        return Err(Error::format(crate::At::none(), "zip member is truncated"));
    }
    Ok(ControlFlow::Continue(()))
}

/// A member whose sizes follow its data (APPNOTE 4.3.9): scanned, then read to its end and past
/// its data descriptor.
fn described_member<R: BufRead>(
    det: &Detector,
    ctx: &mut Ctx<'_, '_>,
    depth: usize,
    h: &LocalHeader,
    member: &str,
    scannable: bool,
    br: &mut R,
) -> crate::Result<ControlFlow<()>> {
    // Sizes follow the data (APPNOTE 4.3.9): only a self-terminating deflate stream can be
    // walked past without the central directory.
    if h.method != METHOD_DEFLATE {
        let message = "zip member with a data descriptor that is not deflated cannot be streamed".into();
        return Err(Error::Unsupported { at: At::none(), message });
    }
    let mut flow = ControlFlow::Continue(());
    let mut dec = flate2::bufread::DeflateDecoder::new(&mut *br);
    if scannable {
        flow = scan_member(det, ctx, depth, member, &mut dec);
    }
    if flow == ControlFlow::Break(()) {
        return Ok(ControlFlow::Break(()));
    }
    // Drain what the scan did not read, within the same budget (a bomb stops here too).
    drain(&mut Capped { inner: &mut dec, budget: ctx.budget }).map_err(|source| Error::Decompress {
        at: crate::At::none(),
        compression: "deflate".into(),
        source,
    })?;
    if ctx.budget.hit.get() {
        return Ok(ControlFlow::Continue(()));
    }
    // The descriptor's signature is optional (APPNOTE 4.3.9.3). Read, not peeked: the buffer
    // may hold fewer than 4 bytes wherever the underlying reads happened to end.
    let mut rest = vec![0u8; if h.zip64 { 20 } else { 12 }];
    let mut sig = [0u8; 4];
    let read = br.read_exact(&mut sig).and_then(|()| {
        if le32(&sig, 0) == ZIP_DESCRIPTOR {
            br.read_exact(&mut rest)
        } else {
            rest[..4].copy_from_slice(&sig);
            br.read_exact(&mut rest[4..])
        }
    });
    read.map_err(|e| Error::io(crate::At::none(), "reading zip data descriptor", e))?;
    Ok(ControlFlow::Continue(()))
}

fn scan_member(
    det: &Detector,
    ctx: &mut Ctx<'_, '_>,
    depth: usize,
    member: &str,
    r: &mut dyn Read,
) -> ControlFlow<()> {
    let mut capped = Capped { inner: r, budget: ctx.budget };
    ctx.member(det, depth, member.to_string(), member.as_bytes(), &mut capped)
}

fn drain(r: &mut dyn Read) -> io::Result<u64> {
    io::copy(r, &mut io::sink())
}
