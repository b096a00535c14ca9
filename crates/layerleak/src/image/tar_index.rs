//! An index of the members of an outer tar file (a `docker save` archive), built by walking its
//! 512-byte headers without reading member data (POSIX.1-2001 "pax Interchange Format", ustar
//! and GNU long-name headers), and a positioned reader over one member.
//!
//! # Security
//! Member names are data, never filesystem paths: they are only compared with names from
//! `manifest.json`. Long-name and PAX headers are held in memory only up to
//! [`Limits::max_header_bytes`]; the member count is bounded by
//! [`Limits::max_entries_per_layer`]; declared sizes are checked against the file length, so a
//! truncated archive is reported, and are never used to allocate.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use crate::format::tar::{field_str, parse_pax, Header, BLOCK};
use crate::format::MemberCut;
use crate::{At, Error, LimitKind, Limits, Result};

/// Symlink chains longer than this are treated as broken.
const MAX_LINK_HOPS: usize = 16;

/// What a member is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MemberKind {
    File,
    /// Target relative to the member's directory (legacy `docker save` links repeated layers).
    Symlink(String),
    /// Target relative to the archive root.
    HardLink(String),
    Other,
}

/// One member: where its data is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) offset: u64,
    pub(crate) size: u64,
    pub(crate) kind: MemberKind,
    /// Declared more bytes than the file holds.
    pub(crate) truncated: bool,
}

/// The members of a tar file by normalized name (leading `./` removed; a later member of the
/// same name wins, as when extracting).
#[derive(Debug, Default)]
pub(crate) struct TarIndex {
    members: HashMap<String, Member>,
    /// Damage found while walking (truncation, bad header); members before it are indexed.
    pub(crate) problems: Vec<Error>,
    /// The walk ended on the end-of-archive zero block (not merely at the end of the file).
    pub(crate) end_marker: bool,
}

/// Whether `block` is a tar header: the ustar magic, or a valid header checksum (v7 tar).
pub(crate) fn is_tar_header(block: &[u8]) -> bool {
    let Some(block) = block.get(..BLOCK as usize).and_then(|b| <&[u8; BLOCK as usize]>::try_from(b).ok())
    else {
        return false;
    };
    &block[257..262] == b"ustar" || (block.iter().any(|&b| b != 0) && Header(block).checksum_ok())
}

/// Strips what does not change a member's identity: leading `./` and trailing `/`.
pub(crate) fn normalize(name: &str) -> String {
    let mut s = name;
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.trim_end_matches('/').to_string()
}

/// Reads exactly `buf.len()` bytes at `pos`, or fewer at end of file.
fn read_full_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], pos + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Why a walk stopped.
enum Stop {
    /// The end-of-archive blocks, or the end of the file at a header boundary.
    End,
    /// Damage after at least one header: recorded, the members before it are kept.
    Damaged(Error),
    /// Not a tar at all, or the file cannot be read.
    Fatal(Error),
}

fn damaged(at: &At, message: &str) -> Stop {
    Stop::Damaged(Error::Tar { at: at.clone(), message: message.to_string() })
}

fn cut(at: &At, message: String) -> Stop {
    Stop::Damaged(Error::Truncated { at: at.clone(), message })
}

/// What GNU long-name/long-link and PAX headers said about the next member.
#[derive(Default)]
struct Pending {
    long_name: Option<String>,
    long_link: Option<String>,
    pax_path: Option<String>,
    pax_link: Option<String>,
    pax_size: Option<u64>,
}

impl Pending {
    /// Reads a long-name (`L`), long-link (`K`) or PAX (`x`) header's data, bounded by
    /// [`Limits::max_header_bytes`].
    fn absorb(
        &mut self,
        file: &File,
        typeflag: u8,
        data: u64,
        size: u64,
        limits: &Limits,
        at: &At,
    ) -> Result<(), Stop> {
        if size > limits.max_header_bytes {
            return Err(Stop::Damaged(Error::Limit {
                at: at.clone(),
                limit: LimitKind::HeaderBytes,
                max: limits.max_header_bytes,
            }));
        }
        let mut buf = vec![0u8; size as usize];
        let n = read_full_at(file, &mut buf, data)
            .map_err(|e| Stop::Fatal(Error::io(at.clone(), "reading archive", e)))?;
        if n < buf.len() {
            return Err(cut(at, format!("the file ends inside an extended header ({n} of {size} bytes)")));
        }
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        match typeflag {
            b'L' => self.long_name = Some(text(field_str(&buf))),
            b'K' => self.long_link = Some(text(field_str(&buf))),
            _ => {
                let mut bad_size = false;
                parse_pax(&buf, |key, value| match key {
                    b"path" => self.pax_path = Some(text(value)),
                    b"linkpath" => self.pax_link = Some(text(value)),
                    b"size" => match std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                        Some(n) => self.pax_size = Some(n),
                        None => bad_size = true,
                    },
                    _ => {}
                })
                .filter(|_| !bad_size)
                .ok_or_else(|| damaged(at, "malformed pax extended header"))?;
            }
        }
        Ok(())
    }

    /// The name and kind of the member whose header is `block`, consuming what was pending.
    fn member(&mut self, block: &[u8; BLOCK as usize]) -> (String, MemberKind) {
        let header = Header(block);
        // ustar splits long names into prefix + name; GNU uses that area for other fields.
        let header_name = || String::from_utf8_lossy(&header.ustar_name()).into_owned();
        let name = normalize(&self.pax_path.take().or(self.long_name.take()).unwrap_or_else(header_name));
        let link = self.pax_link.take().or(self.long_link.take());
        let link =
            || link.clone().unwrap_or_else(|| String::from_utf8_lossy(&header.link_name()).into_owned());
        let kind = match block[156] {
            b'0' | 0 | b'7' => MemberKind::File,
            b'1' => MemberKind::HardLink(normalize(&link())),
            b'2' => MemberKind::Symlink(link()),
            _ => MemberKind::Other,
        };
        (name, kind)
    }
}

impl TarIndex {
    /// Walks the headers of `file` (`len` bytes). Fails only when the first block is not a tar
    /// header or the file cannot be read; later damage is recorded in `problems` and ends the
    /// walk.
    pub(crate) fn build(file: &File, len: u64, limits: &Limits) -> Result<TarIndex> {
        let mut index = TarIndex::default();
        let mut pending = Pending::default();
        let mut pos = 0u64;
        loop {
            match index.step(file, len, limits, pos, &mut pending) {
                Ok(next) => pos = next,
                Err(Stop::End) => break,
                Err(Stop::Damaged(e)) => {
                    index.problems.push(e);
                    break;
                }
                Err(Stop::Fatal(e)) => return Err(e),
            }
        }
        Ok(index)
    }

    /// Reads the header at `pos` and indexes its member; returns where the next header is.
    fn step(
        &mut self,
        file: &File,
        len: u64,
        limits: &Limits,
        pos: u64,
        pending: &mut Pending,
    ) -> Result<u64, Stop> {
        let at = At::none().with_offset(pos);
        let mut block = [0u8; BLOCK as usize];
        let got = read_full_at(file, &mut block, pos)
            .map_err(|e| Stop::Fatal(Error::io(at.clone(), "reading archive", e)))?;
        if got == 0 && pos > len {
            // The previous member's padding is cut: the archive did not end here.
            return Err(cut(
                &at,
                format!("the file ends at byte {len}, inside the padding after the last member"),
            ));
        }
        if got == 0 {
            return Err(Stop::End);
        }
        if got == block.len() && block.iter().all(|&b| b == 0) {
            self.end_marker = true;
            return Err(Stop::End);
        }
        if got < block.len() {
            return Err(cut(&at, format!("the file ends at byte {len}, inside a member header")));
        }
        let header = Header(&block);
        if !header.checksum_ok() {
            let e = Error::Tar { at, message: "bad header checksum".into() };
            return Err(if pos == 0 { Stop::Fatal(e) } else { Stop::Damaged(e) });
        }
        let declared = header.size().ok_or_else(|| damaged(&at, "bad size field"))?;
        let size = pending.pax_size.take().unwrap_or(declared);
        let data = pos + BLOCK;
        let next = size
            .checked_add(BLOCK - 1)
            .map(|s| s / BLOCK * BLOCK)
            .and_then(|s| data.checked_add(s))
            .ok_or_else(|| damaged(&at, "size overflow"))?;
        let typeflag = block[156];
        if matches!(typeflag, b'L' | b'K' | b'x') {
            pending.absorb(file, typeflag, data, size, limits, &at)?;
            return Ok(next);
        }
        let (name, kind) = pending.member(&block);
        if self.members.len() as u64 >= limits.max_entries_per_layer {
            return Err(Stop::Damaged(Error::Limit {
                at,
                limit: LimitKind::EntriesPerLayer,
                max: limits.max_entries_per_layer,
            }));
        }
        let truncated = kind == MemberKind::File && data.saturating_add(size) > len;
        self.members.insert(name.clone(), Member { offset: data, size, kind, truncated });
        if truncated {
            let present = len.saturating_sub(data);
            let at = At::none().with_offset(data).with_path(name);
            return Err(cut(&at, format!("the file ends inside this member: {present} of its {size} bytes")));
        }
        Ok(next)
    }

    /// Whether a member of that name exists (of any kind).
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.members.contains_key(&normalize(name))
    }

    /// Every member name.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(String::as_str)
    }

    /// The regular file `name` refers to, following symlinks and hard links inside the archive
    /// (lexically; a link leaving the archive root resolves to nothing).
    pub(crate) fn file(&self, name: &str) -> Option<(&str, &Member)> {
        let mut name = normalize(name);
        for _ in 0..MAX_LINK_HOPS {
            let (key, m) = self.members.get_key_value(&name)?;
            match &m.kind {
                MemberKind::File => return Some((key.as_str(), m)),
                MemberKind::HardLink(target) => name = target.clone(),
                MemberKind::Symlink(target) => name = join_link(&name, target)?,
                MemberKind::Other => return None,
            }
        }
        None
    }
}

/// Resolves a symlink target against the directory of `from`, lexically.
fn join_link(from: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        let mut p: Vec<&str> = from.split('/').collect();
        p.pop();
        p
    };
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// A reader over `[pos, end)` of a shared file, using positioned reads so that several can read
/// the same file from several threads at once.
pub(crate) struct Section {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Section {
    pub(crate) fn new(file: Arc<File>, pos: u64, len: u64) -> Section {
        Section { file, pos, end: pos.saturating_add(len) }
    }
}

impl Read for Section {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, MemberCut));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, Write};

    use super::*;

    fn tar_file(build: impl FnOnce(&mut tar::Builder<&mut File>)) -> File {
        let mut f = tempfile::tempfile().unwrap();
        {
            let mut b = tar::Builder::new(&mut f);
            build(&mut b);
            b.finish().unwrap();
        }
        f.flush().unwrap();
        f.rewind().unwrap();
        f
    }

    fn add(b: &mut tar::Builder<&mut File>, name: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    }

    fn read_member(f: File, idx: &TarIndex, name: &str) -> Vec<u8> {
        let (_, m) = idx.file(name).unwrap();
        let mut out = Vec::new();
        Section::new(Arc::new(f), m.offset, m.size).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn long_names_and_symlinks_are_indexed() {
        let long = format!("{}/layer.tar", "a".repeat(200));
        let f = tar_file(|b| {
            add(b, &long, b"LAYER");
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, "b/layer.tar", format!("../{}/layer.tar", "a".repeat(200))).unwrap();
        });
        let len = f.metadata().unwrap().len();
        let idx = TarIndex::build(&f, len, &Limits::default()).unwrap();
        assert!(idx.problems.is_empty(), "{:?}", idx.problems);
        assert_eq!(read_member(f, &idx, "./b/layer.tar"), b"LAYER");
    }

    #[test]
    fn symlink_leaving_the_archive_resolves_to_nothing() {
        assert_eq!(join_link("a/layer.tar", "../../etc/passwd"), None);
        assert_eq!(join_link("a/layer.tar", "../b/layer.tar").as_deref(), Some("b/layer.tar"));
    }

    #[test]
    fn truncated_member_is_a_problem_not_an_error() {
        let f = tar_file(|b| {
            add(b, "one", b"1");
            add(b, "two", &[7u8; 2000]);
        });
        f.set_len(512 + 512 + 512 + 100).unwrap();
        let idx = TarIndex::build(&f, 1636, &Limits::default()).unwrap();
        assert!(idx.file("one").is_some());
        assert!(idx.file("two").unwrap().1.truncated);
        assert!(matches!(&idx.problems[0], Error::Truncated { at, .. } if at.path.as_deref() == Some("two")));
    }

    #[test]
    fn oversized_long_name_header_is_refused() {
        let long = "n".repeat(3000);
        let f = tar_file(|b| add(b, &long, b"x"));
        let len = f.metadata().unwrap().len();
        let limits = Limits { max_header_bytes: 1000, ..Limits::default() };
        let idx = TarIndex::build(&f, len, &limits).unwrap();
        assert!(matches!(idx.problems[0], Error::Limit { limit: LimitKind::HeaderBytes, .. }));
    }

    #[test]
    fn not_a_tar_is_an_error() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&[b'x'; 1024]).unwrap();
        assert!(!is_tar_header(&[b'x'; 512]));
        assert!(TarIndex::build(&f, 1024, &Limits::default()).is_err());
    }

    #[test]
    fn pax_records_name_members_and_a_malformed_one_is_damage() {
        let long = format!("{}/c.txt", "a/b".repeat(60));
        let f = tar_file(|b| {
            b.append_pax_extensions([("path", long.as_bytes()), ("size", b"5".as_slice())]).unwrap();
            add(b, "short", b"hello");
        });
        let len = f.metadata().unwrap().len();
        let idx = TarIndex::build(&f, len, &Limits::default()).unwrap();
        assert!(idx.problems.is_empty(), "{:?}", idx.problems);
        assert_eq!(read_member(f, &idx, &long), b"hello");

        let f = tar_file(|b| {
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(tar::EntryType::XHeader);
            h.set_size(11);
            h.set_cksum();
            b.append(&h, &b"999 path=x\n"[..]).unwrap();
            add(b, "after", b"data");
        });
        let len = f.metadata().unwrap().len();
        let idx = TarIndex::build(&f, len, &Limits::default()).unwrap();
        assert!(idx.problems.iter().any(|e| e.to_string().contains("malformed pax")), "{:?}", idx.problems);
        assert!(!idx.contains("x") && !idx.contains("after"));
    }
}
