//! rpm's SQLite database (`rpmdb.sqlite`, rpm 4.16+): table `Packages`, one header blob per
//! installed package. A header blob is `il` and `dl` (big-endian u32), `il` index entries of
//! (tag, type, offset, count) and `dl` bytes of data; the file list is `DIRNAMES`, `BASENAMES`
//! and `DIRINDEXES`, with `FILEDIGESTS` in hex (the algorithm follows from the digest's length:
//! MD5 on old packages, SHA-256 on current ones).
//!
//! The database is opened from memory (SQLite's deserialize), read-only; nothing touches disk.
//! A write-ahead log beside it (`rpmdb.sqlite-wal`) is not read: what it holds is not yet in the
//! database file, so files it would vouch for stay unclassified.

use std::ptr::NonNull;

use rusqlite::serialize::OwnedData;
use rusqlite::{Connection, DatabaseName};

use super::{join_normalized, unhex, Manager, Package, PackageFiles, Sum};

const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const RELEASE: u32 = 1002;
const EPOCH: u32 = 1003;
const FILEDIGESTS: u32 = 1035;
const DIRINDEXES: u32 = 1116;
const BASENAMES: u32 = 1117;
const DIRNAMES: u32 = 1118;

const INT32: u32 = 4;
const STRING: u32 = 6;
const STRING_ARRAY: u32 = 8;
const I18NSTRING: u32 = 9;

pub(crate) fn parse_sqlite(bytes: &[u8]) -> Result<Vec<PackageFiles>, String> {
    let mut conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
    let len = bytes.len();
    // SAFETY: sqlite3_malloc64 returns `len` writable bytes or NULL (checked); `bytes` does not
    // overlap a fresh allocation; OwnedData takes the allocation, which SQLite frees.
    let data = unsafe {
        let ptr = rusqlite::ffi::sqlite3_malloc64(len.max(1) as u64) as *mut u8;
        let ptr = NonNull::new(ptr).ok_or("out of memory")?;
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.as_ptr(), len);
        OwnedData::from_raw_nonnull(ptr, len)
    };
    conn.deserialize(DatabaseName::Main, data, true).map_err(|e| format!("not an SQLite database: {e}"))?;
    let mut stmt =
        conn.prepare("SELECT blob FROM Packages").map_err(|e| format!("no Packages table: {e}"))?;
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut n = 0usize;
    while let Some(row) = rows.next().map_err(|e| format!("damaged database: {e}"))? {
        n += 1;
        let blob: Vec<u8> = row.get(0).map_err(|e| format!("package {n}: {e}"))?;
        out.push(header(&blob).map_err(|e| format!("package {n}: {e}"))?);
    }
    Ok(out)
}

/// One entry of a header's index.
struct Entry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn header(blob: &[u8]) -> Result<PackageFiles, String> {
    let bad = |what: &str| format!("header blob: {what}");
    let il = be32(blob, 0).ok_or_else(|| bad("shorter than 8 bytes"))? as usize;
    let dl = be32(blob, 4).ok_or_else(|| bad("shorter than 8 bytes"))? as usize;
    let data_start =
        il.checked_mul(16).and_then(|x| x.checked_add(8)).ok_or_else(|| bad("index too large"))?;
    let data = blob
        .get(data_start..data_start.checked_add(dl).ok_or_else(|| bad("data too large"))?)
        .ok_or_else(|| bad("index or data runs past the blob"))?;
    let mut entries = Vec::with_capacity(il);
    for i in 0..il {
        let at = 8 + i * 16;
        let field = |k: usize| be32(blob, at + 4 * k).map(|v| v as usize);
        let (Some(tag), Some(kind), Some(offset), Some(count)) = (field(0), field(1), field(2), field(3))
        else {
            return Err(bad("index entry cut short"));
        };
        entries.push(Entry { tag: tag as u32, kind: kind as u32, offset, count });
    }
    let find = |tag: u32| entries.iter().find(|e| e.tag == tag);
    let strings = |tag: u32| -> Result<Vec<String>, String> {
        let Some(e) = find(tag) else { return Ok(Vec::new()) };
        if !matches!(e.kind, STRING | STRING_ARRAY | I18NSTRING) {
            return Err(bad(&format!("tag {tag} is not a string")));
        }
        let mut rest = data.get(e.offset..).ok_or_else(|| bad(&format!("tag {tag} offset past the data")))?;
        let count = if e.kind == STRING { 1 } else { e.count };
        let mut out = Vec::with_capacity(count.min(rest.len()));
        for _ in 0..count {
            let end =
                memchr::memchr(0, rest).ok_or_else(|| bad(&format!("tag {tag} string not terminated")))?;
            out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            rest = &rest[end + 1..];
        }
        Ok(out)
    };
    let ints = |tag: u32| -> Result<Vec<u32>, String> {
        let Some(e) = find(tag) else { return Ok(Vec::new()) };
        if e.kind != INT32 {
            return Err(bad(&format!("tag {tag} is not INT32")));
        }
        let len = e.count.checked_mul(4).ok_or_else(|| bad("count too large"))?;
        let raw = data
            .get(e.offset..e.offset.saturating_add(len))
            .ok_or_else(|| bad(&format!("tag {tag} past the data")))?;
        Ok(raw.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
    };
    let one = |tag: u32, what: &str| -> Result<String, String> {
        strings(tag)?.into_iter().next().ok_or_else(|| bad(&format!("no {what}")))
    };
    let name = one(NAME, "name")?;
    let mut version = format!("{}-{}", one(VERSION, "version")?, one(RELEASE, "release")?);
    if let Some(epoch) = ints(EPOCH)?.first() {
        version = format!("{epoch}:{version}");
    }
    let (dirs, bases, index, digests) =
        (strings(DIRNAMES)?, strings(BASENAMES)?, ints(DIRINDEXES)?, strings(FILEDIGESTS)?);
    if bases.len() != index.len() || (!digests.is_empty() && digests.len() != bases.len()) {
        return Err(bad("file lists of different lengths"));
    }
    let mut files = Vec::new();
    for ((base, dir), digest) in bases.iter().zip(&index).zip(&digests) {
        let dir = dirs.get(*dir as usize).ok_or_else(|| bad("directory index out of range"))?;
        let sum = match digest.len() {
            0 => continue, // directories, symlinks, ghosts: no content
            32 => unhex::<16>(digest.as_bytes()).map(Sum::Md5),
            40 => unhex::<20>(digest.as_bytes()).map(Sum::Sha1),
            64 => unhex::<32>(digest.as_bytes()).map(Sum::Sha256),
            _ => continue, // SHA-384/512: vouches for nothing here
        };
        let sum = sum.ok_or_else(|| bad("file digest is not hex"))?;
        let path = join_normalized("", &format!("{dir}{base}"))
            .ok_or_else(|| bad("file path climbs above the root"))?;
        files.push((path, sum));
    }
    Ok(PackageFiles { package: Package { manager: Manager::Rpm, name, version }, files })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A header blob with these string, string-array and INT32 tags, as rpm lays it out.
    pub(crate) fn header_blob(strings: &[(u32, &[&str])], ints: &[(u32, &[u32])]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, values) in ints {
            while data.len() % 4 != 0 {
                data.push(0);
            }
            index.push((*tag, INT32, data.len(), values.len()));
            values.iter().for_each(|v| data.extend_from_slice(&v.to_be_bytes()));
        }
        for (tag, values) in strings {
            let kind = if *tag == NAME || *tag == VERSION || *tag == RELEASE { STRING } else { STRING_ARRAY };
            index.push((*tag, kind, data.len(), values.len()));
            for v in *values {
                data.extend_from_slice(v.as_bytes());
                data.push(0);
            }
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(index.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        for (tag, kind, offset, count) in index {
            for v in [tag, kind, offset as u32, count as u32] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        out.extend_from_slice(&data);
        out
    }

    pub(crate) fn rpmdb(blobs: &[Vec<u8>]) -> Vec<u8> {
        let conn = Connection::open_in_memory().expect("in-memory SQLite");
        conn.execute_batch(
            "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);",
        )
        .expect("schema");
        for b in blobs {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [b]).expect("insert");
        }
        conn.serialize(DatabaseName::Main).expect("serialize").to_vec()
    }

    #[test]
    fn sqlite_headers_list_files_with_their_digests() {
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let blob = header_blob(
            &[
                (NAME, &["openssl-libs"]),
                (VERSION, &["3.0.7"]),
                (RELEASE, &["27.el9"]),
                (DIRNAMES, &["/etc/pki/tls/", "/usr/share/doc/openssl/"]),
                (BASENAMES, &["openssl.cnf", "certs", "README"]),
                (FILEDIGESTS, &[sha, "", "900150983cd24fb0d6963f7d28e17f72"]),
            ],
            &[(EPOCH, &[1]), (DIRINDEXES, &[0, 0, 1])],
        );
        let got = parse_sqlite(&rpmdb(&[blob])).expect("parses");
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].package.name.as_str(), got[0].package.version.as_str()),
            ("openssl-libs", "1:3.0.7-27.el9")
        );
        let paths: Vec<&str> = got[0].files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(paths, ["etc/pki/tls/openssl.cnf", "usr/share/doc/openssl/README"]);
        assert!(crate::package::FileSums::of(b"abc").matches(&got[0].files[0].1));
        assert!(crate::package::FileSums::of(b"abc").matches(&got[0].files[1].1));
    }

    /// End to end: a layer with an rpm database and a file it records, scanned.
    #[test]
    fn a_file_the_rpmdb_records_is_packaged() {
        let readme = "sample: 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\n";
        let sha: String = <sha2::Sha256 as sha2::Digest>::digest(readme.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let blob = header_blob(
            &[
                (NAME, &["libfoo"]),
                (VERSION, &["1.2"]),
                (RELEASE, &["3.fc40"]),
                (DIRNAMES, &["/usr/share/doc/libfoo/"]),
                (BASENAMES, &["README"]),
                (FILEDIGESTS, &[&sha]),
            ],
            &[(DIRINDEXES, &[0])],
        );
        let db = rpmdb(&[blob]);
        let layer = |files: &[(&str, &[u8])]| {
            let mut b = tar::Builder::new(Vec::new());
            for (path, data) in files {
                let mut h = tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, path, *data).expect("tar in memory");
            }
            b.into_inner().expect("tar in memory")
        };
        let scanner =
            crate::scan::ScannerBuilder::new().threads(1).include_packaged(true).build().expect("scanner");
        let scan = |tar: Vec<u8>| {
            let Ok(report) = scanner.scan_reader("layer.tar", &mut &tar[..], &mut crate::scan::NullSink);
            report
        };
        let db_and_doc = [
            ("usr/lib/sysimage/rpm/rpmdb.sqlite", &db[..]),
            ("usr/share/doc/libfoo/README", readme.as_bytes()),
        ];
        let r = scan(layer(&db_and_doc));
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let p = r.findings[0].package.as_ref().expect("packaged");
        assert_eq!((p.manager, p.name.as_str(), p.version.as_str()), (Manager::Rpm, "libfoo", "1.2-3.fc40"));
        let copied = scan(layer(&[db_and_doc[0], db_and_doc[1], ("app/README", readme.as_bytes())]));
        assert_eq!(copied.findings.len(), 1);
        assert!(copied.findings[0].package.is_none(), "the copy in /app is not vouched for");
    }

    #[test]
    fn damaged_rpm_databases_are_refused() {
        assert!(parse_sqlite(b"not sqlite at all").is_err());
        assert!(parse_sqlite(b"").is_err());
        let cut = header_blob(&[(NAME, &["a"])], &[]);
        let e = parse_sqlite(&rpmdb(&[cut[..cut.len() - 1].to_vec()])).expect_err("cut blob");
        assert!(e.contains("package 1"), "{e}");
        let mut huge = header_blob(&[(NAME, &["a"]), (VERSION, &["1"]), (RELEASE, &["1"])], &[]);
        huge[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_sqlite(&rpmdb(&[huge])).is_err());
        let mismatch = header_blob(
            &[
                (NAME, &["a"]),
                (VERSION, &["1"]),
                (RELEASE, &["1"]),
                (DIRNAMES, &["/"]),
                (BASENAMES, &["x", "y"]),
            ],
            &[(DIRINDEXES, &[0])],
        );
        assert!(parse_sqlite(&rpmdb(&[mismatch])).is_err());
        let mut db = rpmdb(&[header_blob(&[(NAME, &["a"]), (VERSION, &["1"]), (RELEASE, &["1"])], &[])]);
        let mid = db.len() / 2;
        db[mid..].iter_mut().for_each(|b| *b ^= 0x55);
        let _ = parse_sqlite(&db);
    }
}
