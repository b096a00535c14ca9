//! What the distribution shipped: the package databases an image carries (dpkg, apk, rpm's
//! SQLite database, Python `RECORD` files), read as they stream by, and the test that a file version is exactly
//! what one of them recorded.
//!
//! A finding in such a file is `packaged`: a vendor's test key or documentation sample, not
//! something the image's builder put there. The test is by path **and** content digest, against
//! the database as the image holds it after the layer holding the file: a path
//! match alone would hide an edited conffile, a content match alone a vendor key copied to
//! `/app/`.
//!
//! # Security
//!
//! Database files are untrusted input: each is read only up to
//! [`crate::Limits::max_package_db_bytes`], and one that does not parse (a bad line, a missing
//! field) is not used at all — it becomes a note, and the files it would vouch for stay
//! unclassified, so damage can only make more findings visible, never fewer.

mod apk;
mod dpkg;
mod index;
mod python;
#[cfg(feature = "sqlite")]
mod rpm;

use std::fmt;
use std::io::Write;

use serde::{Deserialize, Serialize};

pub(crate) use index::{bytecode_source, DbRecord, PackageIndex};

/// The package manager whose database vouches for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Manager {
    /// Debian's dpkg (`/var/lib/dpkg`).
    Dpkg,
    /// Alpine's apk (`/lib/apk/db/installed`).
    Apk,
    /// rpm's SQLite database.
    Rpm,
    /// A Python distribution's `*.dist-info/RECORD`.
    Python,
}

impl fmt::Display for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Manager::Dpkg => "dpkg",
            Manager::Apk => "apk",
            Manager::Rpm => "rpm",
            Manager::Python => "python",
        })
    }
}

/// The package a file belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Package {
    /// Which database says so.
    pub manager: Manager,
    /// The package's name.
    pub name: String,
    /// Its version as the database records it.
    pub version: String,
}

impl fmt::Display for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.manager, self.name, self.version)
    }
}

/// A file digest as a database records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum Sum {
    Md5([u8; 16]),
    Sha1([u8; 20]),
    Sha256([u8; 32]),
}

/// The digests of a file version's content that databases use, computed in one pass. A file
/// hashed speculatively (as it streams by, before anyone knows it matters) has only MD5, what
/// dpkg records; a database that needs another digest of it has the file read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileSums {
    md5: [u8; 16],
    sha1: Option<[u8; 20]>,
    sha256: Option<[u8; 32]>,
}

impl Sum {
    /// One bit per digest algorithm.
    pub(crate) fn kind(&self) -> u8 {
        match self {
            Sum::Md5(_) => 1,
            Sum::Sha1(_) => 2,
            Sum::Sha256(_) => 4,
        }
    }
}

impl FileSums {
    pub(crate) fn of(bytes: &[u8]) -> FileSums {
        let mut h = SumsHasher::new(true);
        h.update(bytes);
        h.finish()
    }

    /// The same content as a speculative hash gives it.
    #[cfg(test)]
    pub(crate) fn speculative(mut self) -> FileSums {
        self.sha1 = None;
        self.sha256 = None;
        self
    }

    /// The [`Sum::kind`] bits of the digests held.
    pub(crate) fn kinds(&self) -> u8 {
        1 | if self.sha1.is_some() { 2 } else { 0 } | if self.sha256.is_some() { 4 } else { 0 }
    }

    /// Whether `sum` is this content's digest.
    pub(crate) fn matches(&self, sum: &Sum) -> bool {
        match sum {
            Sum::Md5(d) => *d == self.md5,
            Sum::Sha1(d) => Some(*d) == self.sha1,
            Sum::Sha256(d) => Some(*d) == self.sha256,
        }
    }
}

/// Computes [`FileSums`] over a stream.
pub(crate) struct SumsHasher {
    md5: md5::Md5,
    more: Option<(sha1::Sha1, sha2::Sha256)>,
}

impl SumsHasher {
    /// `full`: every digest; otherwise MD5 only (speculative hashing).
    pub(crate) fn new(full: bool) -> SumsHasher {
        use sha2::Digest as _;
        SumsHasher { md5: md5::Md5::new(), more: full.then(|| (sha1::Sha1::new(), sha2::Sha256::new())) }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest as _;
        self.md5.update(bytes);
        if let Some((sha1, sha256)) = &mut self.more {
            sha1.update(bytes);
            sha256.update(bytes);
        }
    }

    pub(crate) fn finish(self) -> FileSums {
        use sha2::Digest as _;
        let (sha1, sha256) = match self.more {
            Some((a, b)) => (Some(a.finalize().into()), Some(b.finalize().into())),
            None => (None, None),
        };
        FileSums { md5: self.md5.finalize().into(), sha1, sha256 }
    }
}

impl Write for SumsHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a path is where package managers install: `usr/`, `lib*/`, `bin/`, `sbin/`, `etc/`,
/// `opt/`. Large files elsewhere (an application's own tree) are not hashed speculatively.
pub(crate) fn likely_packaged(path: &[u8]) -> bool {
    let top = path.split(|b| *b == b'/').next().unwrap_or(path);
    matches!(top, b"usr" | b"bin" | b"sbin" | b"etc" | b"opt") || top.starts_with(b"lib")
}

/// Reads through, hashing what passes; `done` once the end was reached without error.
pub(crate) struct HashingRead<'r> {
    pub inner: &'r mut dyn std::io::Read,
    pub hasher: SumsHasher,
    pub done: bool,
}

impl std::io::Read for HashingRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.done = n == 0;
        Ok(n)
    }
}

/// Which database file a layer path is, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum DbKind {
    /// `var/lib/dpkg/status`, or one stanza file of `var/lib/dpkg/status.d/` (distroless).
    DpkgStatus { stanza_file: bool },
    /// `var/lib/dpkg/info/<pkg>[:arch].md5sums` (or `status.d/<pkg>.md5sums`).
    DpkgMd5sums,
    /// `lib/apk/db/installed`.
    ApkInstalled,
    /// `…/<name>-<version>.dist-info/RECORD`.
    PythonRecord,
    /// `var/lib/rpm/rpmdb.sqlite`, `usr/lib/sysimage/rpm/rpmdb.sqlite`.
    RpmSqlite,
    /// A Berkeley DB or NDB rpm database (`Packages`, `Packages.db`): not readable.
    RpmOther,
}

impl DbKind {
    /// The database kind of a normalized layer path (no leading `/`).
    pub(crate) fn of(path: &[u8]) -> Option<DbKind> {
        let (dir, name) = match memchr::memrchr(b'/', path) {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&b""[..], path),
        };
        match (dir, name) {
            (b"var/lib/dpkg", b"status") => Some(DbKind::DpkgStatus { stanza_file: false }),
            (b"var/lib/dpkg/info", n) if n.ends_with(b".md5sums") => Some(DbKind::DpkgMd5sums),
            (b"var/lib/dpkg/status.d", n) if n.ends_with(b".md5sums") => Some(DbKind::DpkgMd5sums),
            (b"var/lib/dpkg/status.d", n) if !n.is_empty() && !n.starts_with(b".") => {
                Some(DbKind::DpkgStatus { stanza_file: true })
            }
            (b"lib/apk/db", b"installed") => Some(DbKind::ApkInstalled),
            (d, b"RECORD") if d.ends_with(b".dist-info") => Some(DbKind::PythonRecord),
            (b"var/lib/rpm" | b"usr/lib/sysimage/rpm", b"rpmdb.sqlite") => Some(DbKind::RpmSqlite),
            (b"var/lib/rpm" | b"usr/lib/sysimage/rpm", b"Packages" | b"Packages.db") => {
                Some(DbKind::RpmOther)
            }
            _ => None,
        }
    }
}

/// What one database file says, parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum DbContent {
    /// Installed dpkg packages with their versions and conffile sums.
    DpkgStatus(Vec<dpkg::Installed>),
    /// One dpkg package's file sums (conffiles are not in them).
    DpkgSums { package: String, arch: Option<String>, files: Vec<(String, Sum)> },
    /// Packages with their files and sums (apk, rpm, a Python `RECORD`).
    Packages(Vec<PackageFiles>),
}

/// A package and the sums of its files (normalized paths, no leading `/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PackageFiles {
    pub package: Package,
    pub files: Vec<(String, Sum)>,
}

/// Parses one database file; the error says why it cannot be used.
pub(crate) fn parse(kind: DbKind, path: &[u8], bytes: &[u8]) -> Result<DbContent, String> {
    match kind {
        DbKind::DpkgStatus { stanza_file } => {
            dpkg::parse_status(bytes, stanza_file).map(DbContent::DpkgStatus)
        }
        DbKind::DpkgMd5sums => {
            let name = path.rsplit(|b| *b == b'/').next().unwrap_or(path);
            let stem = name.strip_suffix(b".md5sums").unwrap_or(name);
            let stem = std::str::from_utf8(stem).map_err(|_| "package name is not UTF-8".to_string())?;
            let (package, arch) = match stem.split_once(':') {
                Some((p, a)) => (p.to_string(), Some(a.to_string())),
                None => (stem.to_string(), None),
            };
            let files = dpkg::parse_md5sums(bytes)?;
            Ok(DbContent::DpkgSums { package, arch, files })
        }
        DbKind::ApkInstalled => apk::parse_installed(bytes).map(DbContent::Packages),
        DbKind::PythonRecord => python::parse_record(path, bytes).map(|p| DbContent::Packages(vec![p])),
        #[cfg(feature = "sqlite")]
        DbKind::RpmSqlite => rpm::parse_sqlite(bytes).map(DbContent::Packages),
        #[cfg(not(feature = "sqlite"))]
        DbKind::RpmSqlite => {
            Err("rpm SQLite databases are not supported by this build (layerleak's `sqlite` feature)".into())
        }
        DbKind::RpmOther => Err("rpm Berkeley DB / NDB databases are not supported".into()),
    }
}

/// The key a path is matched by before an image's symlinks are known: without a leading `usr/`,
/// so the merged-`/usr` aliases (`lib/x`, `usr/lib/x`) meet.
pub(crate) fn loose_key(path: &str) -> &str {
    path.strip_prefix("usr/").unwrap_or(path)
}

/// Adds the [`loose_key`] of every file `record` lists to `keys`, with the [`Sum::kind`] bits
/// of the digests recorded for it.
pub(crate) fn listed_keys<'r>(record: &'r DbRecord, keys: &mut std::collections::HashMap<&'r str, u8>) {
    let mut add = |(path, sum): &'r (String, Sum)| {
        *keys.entry(loose_key(path)).or_default() |= sum.kind();
    };
    match &record.content {
        Ok(DbContent::DpkgStatus(list)) => list.iter().flat_map(|p| &p.conffiles).for_each(&mut add),
        Ok(DbContent::DpkgSums { files, .. }) => files.iter().for_each(&mut add),
        Ok(DbContent::Packages(list)) => list.iter().flat_map(|p| &p.files).for_each(&mut add),
        Err(_) => {}
    }
}

/// Lowercase hex digits to bytes (`None` unless exactly `N` bytes' worth).
fn unhex<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// Joins `rel` onto `dir` (both without leading `/`), resolving `.` and `..` lexically; `None`
/// when `..` climbs above the root.
fn join_normalized(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if rel.starts_with('/') { Vec::new() } else { dir.split('/').collect() };
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    parts.retain(|p| !p.is_empty());
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_paths_are_recognised_and_others_are_not() {
        let cases: &[(&str, Option<DbKind>)] = &[
            ("var/lib/dpkg/status", Some(DbKind::DpkgStatus { stanza_file: false })),
            ("var/lib/dpkg/status-old", None),
            ("var/lib/dpkg/info/libc6:amd64.md5sums", Some(DbKind::DpkgMd5sums)),
            ("var/lib/dpkg/info/libc6:amd64.list", None),
            ("var/lib/dpkg/status.d/base-files", Some(DbKind::DpkgStatus { stanza_file: true })),
            ("var/lib/dpkg/status.d/base-files.md5sums", Some(DbKind::DpkgMd5sums)),
            ("lib/apk/db/installed", Some(DbKind::ApkInstalled)),
            ("usr/lib/python3.11/site-packages/jwt-2.8.0.dist-info/RECORD", Some(DbKind::PythonRecord)),
            ("app/RECORD", None),
            ("var/lib/rpm/rpmdb.sqlite", Some(DbKind::RpmSqlite)),
            ("usr/lib/sysimage/rpm/rpmdb.sqlite", Some(DbKind::RpmSqlite)),
            ("var/lib/rpm/Packages", Some(DbKind::RpmOther)),
            ("backup/var/lib/dpkg/status", None),
        ];
        for (path, want) in cases {
            assert_eq!(DbKind::of(path.as_bytes()), *want, "{path}");
        }
    }

    #[test]
    fn sums_match_only_their_own_content() {
        let s = FileSums::of(b"abc");
        assert!(s.matches(&Sum::Md5(unhex(b"900150983cd24fb0d6963f7d28e17f72").unwrap())));
        assert!(s.matches(&Sum::Sha1(unhex(b"a9993e364706816aba3e25717850c26c9cd0d89d").unwrap())));
        let sha256 = b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert!(s.matches(&Sum::Sha256(unhex(sha256).unwrap())));
        assert!(!FileSums::of(b"abd").matches(&Sum::Md5(unhex(b"900150983cd24fb0d6963f7d28e17f72").unwrap())));
        assert_eq!(unhex::<2>(b"0g00"), None);
        assert_eq!(unhex::<2>(b"000"), None);
    }

    /// Damaged databases (bytes flipped, cut, duplicated) parse or are refused, never panic.
    #[test]
    fn damaged_databases_never_panic() {
        let samples: [(&str, &[u8]); 5] = [
            ("var/lib/dpkg/status", b"Package: a\nStatus: install ok installed\nVersion: 1\nConffiles:\n /etc/a 0123456789abcdef0123456789abcdef\n\n"),
            ("var/lib/dpkg/status.d/a", b"Package: a\nVersion: 1\n"),
            ("var/lib/dpkg/info/a:amd64.md5sums", b"0123456789abcdef0123456789abcdef  usr/a\n"),
            ("lib/apk/db/installed", b"P:a\nV:1\nF:usr\nR:a\nZ:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"),
            ("x/a-1.dist-info/RECORD", b"a/b.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"),
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (path, bytes) in samples {
            let kind = DbKind::of(path.as_bytes()).expect("a database path");
            assert!(parse(kind, path.as_bytes(), bytes).is_ok(), "{path}");
            for _ in 0..2000 {
                let mut b = bytes.to_vec();
                for _ in 0..(next() % 4 + 1) {
                    let i = (next() as usize) % b.len().max(1);
                    match next() % 4 {
                        0 => b.truncate(i),
                        1 if i < b.len() => b[i] = next() as u8,
                        2 => b.insert(i.min(b.len()), b"\n:= ,\"/.\xff"[(next() % 9) as usize]),
                        _ => b.extend_from_within(..i.min(b.len())),
                    }
                }
                let _ = parse(kind, path.as_bytes(), &b);
            }
        }
    }

    #[test]
    fn relative_paths_join_lexically_and_never_climb_out() {
        assert_eq!(join_normalized("usr/lib/py", "a/./b.py").as_deref(), Some("usr/lib/py/a/b.py"));
        assert_eq!(join_normalized("usr/lib/py", "../../../bin/x").as_deref(), Some("bin/x"));
        assert_eq!(join_normalized("usr/lib/py", "/etc/x").as_deref(), Some("etc/x"));
        assert_eq!(join_normalized("usr", "../../x"), None);
    }
}
