//! Scanning the files of one layer as the walker streams them by: on the walking thread, or on a
//! second thread fed through [`pipe`] while the walker decompresses; either way one pass over the
//! bytes, with one hit per (rule, secret) in each file version, the package databases parsed and
//! the files with hits hashed when they were small enough to keep.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use super::outcome::{FileHit, LayerOutcome};
use super::pipe;
use crate::detect::{Detector, Match, Scratch};
use crate::layer::{walk_layer, EntryMeta, LayerPath, LayerWalk, WalkOptions};
use crate::package::{self, DbKind, DbRecord, FileSums, HashingRead, SumsHasher};
use crate::{At, Error, Skipped};

/// Walks and scans on the calling thread, one file after the other.
pub(super) fn walk_serial(
    blob: &mut dyn Read,
    opts: &WalkOptions,
    mut files: FileScanner<'_>,
    scratch: &mut Scratch,
) -> LayerOutcome {
    let mut count = 0u64;
    let mut walker_sums: Vec<(u64, FileSums)> = Vec::new();
    let walk = walk_layer(blob, opts, &mut |meta: &EntryMeta, content: &mut dyn Read| {
        count += 1;
        if speculative(files.max_db_bytes, &meta.path, meta.size) {
            let mut hashing = HashingRead { inner: content, hasher: SumsHasher::new(false), done: false };
            files.scan(meta.ordinal, &meta.path, meta.size, &mut hashing, scratch);
            // The rest of the file too, if the detector stopped early (`max_file_bytes`).
            if std::io::copy(&mut hashing, &mut std::io::sink()).is_ok() && hashing.done {
                walker_sums.push((meta.ordinal, hashing.hasher.finish()));
            }
        } else {
            files.scan(meta.ordinal, &meta.path, meta.size, content, scratch);
        }
        ControlFlow::Continue(())
    });
    files.outcome(walk, count, walker_sums)
}

/// Walks on the calling thread while a second thread scans: the walker copies file contents into
/// a bounded set of chunks ([`pipe`]) that the scanner reads in the same order, so findings,
/// errors and their order are those of [`walk_serial`]. `None`, with nothing read, when no
/// thread can be started.
pub(super) fn walk_pipelined(
    blob: &mut dyn Read,
    opts: &WalkOptions,
    mut files: FileScanner<'_>,
    scratch: &mut Scratch,
) -> Option<LayerOutcome> {
    let max_db = files.max_db_bytes;
    std::thread::scope(|s| {
        let (mut writer, mut feed) = pipe::channel();
        let scanning =
            std::thread::Builder::new().name("layerleak-detect".into()).spawn_scoped(s, move || {
                while let Some(start) = feed.next_file() {
                    files.scan(
                        start.ordinal,
                        &start.path,
                        start.size,
                        &mut pipe::FileReader { feed: &mut feed },
                        scratch,
                    );
                    feed.finish_file();
                }
                files
            });
        let scanning = match scanning {
            Ok(handle) => handle,
            Err(_) => return None,
        };
        let mut count = 0u64;
        // Large files where packages install are hashed here, on the walking thread, which
        // mostly waits for the scanning one.
        let mut walker_sums: Vec<(u64, FileSums)> = Vec::new();
        let walk = walk_layer(blob, opts, &mut |meta: &EntryMeta, content: &mut dyn Read| {
            count += 1;
            let start = pipe::FileStart { ordinal: meta.ordinal, path: meta.path.clone(), size: meta.size };
            if speculative(max_db, &meta.path, meta.size) {
                let mut hashing = HashingRead { inner: content, hasher: SumsHasher::new(false), done: false };
                writer.copy_file(start, &mut hashing);
                if hashing.done {
                    walker_sums.push((meta.ordinal, hashing.hasher.finish()));
                }
            } else {
                writer.copy_file(start, content);
            }
            ControlFlow::Continue(())
        });
        writer.finish();
        let files = match scanning.join() {
            Ok(files) => files,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        Some(files.outcome(walk, count, walker_sums))
    })
}

/// Files up to this size are kept while scanned, so the content digests of one with a hit cost
/// nothing more than hashing it; larger ones with a hit are hashed by a second read when a
/// package database may vouch for them.
const KEEP_WHOLE: u64 = 4 << 20;

/// Scans file versions one after the other, keeping one hit per (rule, secret) in each, and
/// reading the package databases that stream by.
pub(super) struct FileScanner<'a> {
    detector: &'a Detector,
    at: At,
    /// Bound on a database file kept to be parsed; `None`: no package triage.
    max_db_bytes: Option<u64>,
    seen: HashSet<(usize, Vec<u8>)>,
    hits: Vec<FileHit>,
    errors: Vec<Error>,
    skipped: Vec<Skipped>,
    packages: Vec<DbRecord>,
    sums: HashMap<u64, FileSums>,
    pending: Vec<(u64, LayerPath)>,
    /// The current file's bytes, while it may be kept whole.
    kept: Vec<u8>,
}

impl<'a> FileScanner<'a> {
    /// `max_db_bytes`: the bound on a package database kept to be parsed; `None` turns the
    /// package triage off.
    pub(super) fn new(detector: &'a Detector, at: At, max_db_bytes: Option<u64>) -> Self {
        FileScanner {
            detector,
            at,
            max_db_bytes,
            seen: HashSet::new(),
            hits: Vec::new(),
            errors: Vec::new(),
            skipped: Vec::new(),
            packages: Vec::new(),
            sums: HashMap::new(),
            pending: Vec::new(),
            kept: Vec::new(),
        }
    }

    fn scan(
        &mut self,
        ordinal: u64,
        path: &LayerPath,
        size: u64,
        content: &mut dyn Read,
        scratch: &mut Scratch,
    ) {
        let db = self.max_db_bytes.and_then(|_| DbKind::of(path.as_bytes()));
        // A database is kept up to its own bound (and refused past it); any other file while it
        // fits [`KEEP_WHOLE`].
        let keep = match (self.max_db_bytes, db) {
            (None, _) => 0,
            (Some(max), Some(_)) => max,
            (Some(_), None) if size <= KEEP_WHOLE => KEEP_WHOLE,
            _ => 0,
        };
        self.kept.clear();
        let mut tee = Tee { inner: content, kept: &mut self.kept, cap: keep, over: keep == 0 };
        let before = self.hits.len();
        let FileScanner { detector, seen, hits, .. } = self;
        seen.clear();
        let outcome = detector.scan_reader(path.as_bytes(), &mut tee, scratch, &mut |m: Match| {
            // One finding per (rule, secret) in a file version.
            if seen.insert((m.rule, m.secret.clone())) {
                hits.push(FileHit::new(ordinal, path.clone(), m));
            }
            ControlFlow::Continue(())
        });
        // The whole file, not only what the detector read (it may stop at `max_file_bytes`); a
        // layer cut short ends the content early without an error, so the length tells.
        let complete = !tee.over && drain(&mut tee) && tee.kept.len() as u64 == size;
        let over = tee.over;
        if self.hits.len() > before && self.max_db_bytes.is_some() {
            if complete && !over {
                self.sums.insert(ordinal, FileSums::of(&self.kept));
            } else {
                self.pending.push((ordinal, path.clone()));
            }
        }
        if let Some(kind) = db {
            let content = if over {
                Err(format!("larger than max_package_db_bytes ({} bytes)", self.max_db_bytes.unwrap_or(0)))
            } else if !complete {
                Err("could not be read to its end".to_string())
            } else {
                package::parse(kind, path.as_bytes(), &self.kept)
            };
            self.packages.push(DbRecord { ordinal, path: path.display().into_owned(), content });
        }
        if self.kept.capacity() > KEEP_WHOLE as usize * 2 {
            self.kept = Vec::new();
        }
        if !outcome.errors.is_empty() || !outcome.skipped.is_empty() {
            let file_at = self.at.clone().with_path(path.display().into_owned());
            self.errors.extend(outcome.errors.into_iter().map(|e| e.within(&file_at)));
            self.skipped.extend(outcome.skipped.into_iter().map(|mut s| {
                s.at = std::mem::take(&mut s.at).or(&file_at);
                s
            }));
        }
    }

    /// The outcome, with the digests the walker computed for files that turned out to have hits.
    fn outcome(mut self, walk: LayerWalk, files: u64, walker_sums: Vec<(u64, FileSums)>) -> LayerOutcome {
        let walker_sums: HashMap<u64, FileSums> = walker_sums.into_iter().collect();
        for (ordinal, _) in &self.pending {
            if let Some(s) = walker_sums.get(ordinal) {
                self.sums.insert(*ordinal, *s);
            }
        }
        LayerOutcome {
            walk: Some(walk),
            hits: self.hits,
            errors: self.errors,
            skipped: self.skipped,
            files,
            packages: self.packages,
            sums: self.sums,
            pending: self.pending,
            rehashed: OnceLock::new(),
        }
    }
}

/// Whether a file too large to keep is hashed (MD5, what dpkg records) as it streams by: with
/// package triage on, a file over [`KEEP_WHOLE`] where packages install
/// ([`package::likely_packaged`]). Hashing it costs less than reading its layer a second time
/// should it turn out to hold a finding.
fn speculative(max_db: Option<u64>, path: &LayerPath, size: u64) -> bool {
    max_db.is_some() && size > KEEP_WHOLE && package::likely_packaged(path.as_bytes())
}

/// Copies what passes through into `kept` while it stays within `cap` bytes; past that, `over`
/// is set and nothing more is kept.
struct Tee<'r, 'k> {
    inner: &'r mut dyn Read,
    kept: &'k mut Vec<u8>,
    cap: u64,
    over: bool,
}

impl Read for Tee<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.over {
            if (self.kept.len() + n) as u64 > self.cap {
                self.over = true;
                self.kept.clear();
            } else {
                self.kept.extend_from_slice(&buf[..n]);
            }
        }
        Ok(n)
    }
}

/// Reads the rest of a kept file (the detector may have stopped early); whether it ended cleanly.
fn drain(tee: &mut Tee<'_, '_>) -> bool {
    let mut buf = [0u8; 8192];
    loop {
        match tee.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) if tee.over => return false,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::detect::{DetectOptions, RuleSet};
    use crate::Limits;

    const KEYS: [&str; 2] = [
        "\nAWS_KEY=AKIAQ3EGRT5LWZ2XH7NB\n",
        "\nhook: https://hooks.slack.com/services/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\n",
    ];

    /// Text of `len` bytes with the keys planted around `at` (straddling it when possible).
    fn text(len: usize, at: &[usize]) -> Vec<u8> {
        let mut b: Vec<u8> =
            (0..len).map(|i| if i % 61 == 60 { b'\n' } else { b'a' + (i % 26) as u8 }).collect();
        for (n, &p) in at.iter().enumerate() {
            let key = KEYS[n % KEYS.len()].as_bytes();
            let s = p.saturating_sub(key.len() / 2).min(len.saturating_sub(key.len()));
            if key.len() <= len {
                b[s..s + key.len()].copy_from_slice(key);
            }
        }
        b
    }

    /// A layer mixing big files (secrets across chunk and window edges), many small ones and a
    /// repeated secret, as a tar.
    fn layer() -> Vec<u8> {
        let chunk = pipe::CHUNK;
        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("big/a.env".into(), text(3 * chunk + 100, &[chunk, 2 * chunk, (1 << 20) - 10])),
            ("empty".into(), Vec::new()),
        ];
        for i in 0..300 {
            let at: &[usize] = if i % 7 == 0 { &[40] } else { &[] };
            files.push((format!("small/{i}.txt"), text(100 + i * 13, at)));
        }
        files.push(("big/b.env".into(), text(chunk + 1, &[chunk - 3, 7000, 7000])));
        files.push(("bin/zeros".into(), vec![0u8; 2 * chunk + 5]));
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in &files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, &data[..]).expect("tar in memory");
        }
        b.into_inner().expect("tar in memory")
    }

    type Seen =
        (Vec<(u64, Vec<u8>, usize, u64, Option<u64>, Option<u64>, String)>, Vec<String>, Vec<String>, u64);

    fn run(blob: &[u8], pipelined: bool) -> Seen {
        let detector = Detector::new(&RuleSet::builtin(), DetectOptions::default()).expect("builtin rules");
        let limits = Limits::default();
        let at = At::image("test");
        let opts = WalkOptions::new(&limits, at.clone());
        let files = FileScanner::new(&detector, at, Some(limits.max_package_db_bytes));
        let mut scratch = Scratch::new();
        let out = if pipelined {
            walk_pipelined(&mut &blob[..], &opts, files, &mut scratch).expect("a thread starts")
        } else {
            walk_serial(&mut &blob[..], &opts, files, &mut scratch)
        };
        let hits = out
            .hits
            .iter()
            .map(|h| {
                let m = &h.m;
                (
                    h.ordinal,
                    h.path.as_bytes().to_vec(),
                    m.rule,
                    m.offset,
                    m.line,
                    m.column,
                    h.fingerprint.clone(),
                )
            })
            .collect();
        let walk_errors =
            out.walk.map(|w| w.errors.iter().map(|e| e.to_string()).collect()).unwrap_or_default();
        (hits, out.errors.iter().map(|e| e.to_string()).collect(), walk_errors, out.files)
    }

    /// A database cut short by a truncated layer is not used: half a status would drop the
    /// packages listed after the cut.
    #[test]
    fn a_database_cut_by_a_truncated_layer_is_not_used() {
        let status = "Package: a\nStatus: install ok installed\nVersion: 1\n\n".repeat(200);
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(status.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, "var/lib/dpkg/status", status.as_bytes()).expect("tar in memory");
        let tar = b.into_inner().expect("tar in memory");
        let cut = &tar[..512 + status.len() / 2];
        let detector = Detector::new(&RuleSet::builtin(), DetectOptions::default()).expect("builtin rules");
        let limits = Limits::default();
        let opts = WalkOptions::new(&limits, At::image("test"));
        let files = FileScanner::new(&detector, At::image("test"), Some(limits.max_package_db_bytes));
        let out = walk_serial(&mut &cut[..], &opts, files, &mut Scratch::new());
        assert_eq!(out.packages.len(), 1);
        let why = out.packages[0].content.as_ref().expect_err("cut short");
        assert!(why.contains("could not be read to its end"), "{why}");
    }

    /// Large files with a hit get their digests as they stream by where packages install, on
    /// either walk; elsewhere they wait for a second read.
    #[test]
    fn large_files_where_packages_install_are_hashed_as_they_stream() {
        let big = text(KEEP_WHOLE as usize + 5000, &[KEEP_WHOLE as usize]);
        let mut b = tar::Builder::new(Vec::new());
        for name in ["usr/lib/big.a", "app/big.bin", "usr/share/small.txt"] {
            let data = if name.ends_with(".txt") { &big[KEEP_WHOLE as usize - 100..] } else { &big[..] };
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, data).expect("tar in memory");
        }
        let tar = b.into_inner().expect("tar in memory");
        let detector = Detector::new(&RuleSet::builtin(), DetectOptions::default()).expect("builtin rules");
        let limits = Limits::default();
        for pipelined in [false, true] {
            let opts = WalkOptions::new(&limits, At::image("test"));
            let files = FileScanner::new(&detector, At::image("test"), Some(limits.max_package_db_bytes));
            let mut scratch = Scratch::new();
            let out = if pipelined {
                walk_pipelined(&mut &tar[..], &opts, files, &mut scratch).expect("a thread starts")
            } else {
                walk_serial(&mut &tar[..], &opts, files, &mut scratch)
            };
            let mut hashed: Vec<u64> = out.sums.keys().copied().collect();
            hashed.sort_unstable();
            assert_eq!(hashed, [0, 2], "pipelined {pipelined}: usr/lib/big.a whole, small.txt kept");
            assert_eq!(out.sums[&0], FileSums::of(&big).speculative());
            let pending: Vec<u64> = out.pending.iter().map(|p| p.0).collect();
            assert_eq!(pending, [0, 1], "pipelined {pipelined}: both may still need a second read");
        }
    }

    #[test]
    fn pipelined_scan_finds_exactly_what_the_serial_one_does() {
        let tar = layer();
        let serial = run(&tar, false);
        assert!(serial.0.len() >= 10, "the planted keys are found: {}", serial.0.len());
        assert_eq!(serial.3, 304);
        assert_eq!(run(&tar, true), serial);
    }

    /// A gzip layer damaged part-way: the walk reports the damage once, and the detector, which
    /// meets it reading a file, does not report it again, serially or pipelined.
    /// Where a corrupt deflate stream fails depends on read sizes (a decoder drops what it
    /// inflated in the call that fails), so the pipelined walk, reading in chunks, may get further
    /// and find more; it never finds less.
    #[test]
    fn pipelined_scan_reports_the_same_errors_on_a_damaged_layer() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&layer()).expect("gzip in memory");
        let mut gz = gz.finish().expect("gzip in memory");
        let mid = gz.len() / 3;
        for b in &mut gz[mid..mid + 64] {
            *b ^= 0x5a;
        }
        let no_offset = |v: &[String]| -> Vec<String> {
            v.iter().map(|e| e.split(": ").skip(1).collect::<Vec<_>>().join(": ")).collect()
        };
        let serial = run(&gz, false);
        let piped = run(&gz, true);
        assert!(!serial.2.is_empty(), "the damage is reported");
        assert_eq!(serial.1, Vec::<String>::new(), "once, by the walk");
        assert_eq!(no_offset(&piped.1), no_offset(&serial.1));
        assert_eq!(no_offset(&piped.2), no_offset(&serial.2));
        assert_eq!(piped.3, serial.3);
        assert!(serial.0.iter().all(|h| piped.0.contains(h)));
        let cut = &layer()[..(1 << 20) + 77];
        assert!(run(cut, true) == run(cut, false));
    }
}
