//! Hostile images: bombs, huge counts, deep nesting, impossible sizes, damaged streams and odd
//! names. Each one must end in bounded time and memory with a correct result or a clear error,
//! and the other layers of the same image must still be scanned.
//!
//! Large inputs are generated while the test runs (streamed by a generator reader, or written as
//! a sparse file into a temporary directory); nothing large is committed. Time bounds are
//! generous caps, never performance claims. Memory is checked through entry counts and the
//! process high-water mark (`VmHWM`), which other tests of this binary also raise, so the caps
//! leave room for them.

use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::{Duration, Instant};

use layerleak::detect::{DetectOptions, Detector, RuleSet, Scratch};
use layerleak::digest::Digest;
use layerleak::layer::{walk_layer, EntryKind, Lifecycle, Status, WalkOptions};
use layerleak::report::Report;
use layerleak::scan::ScannerBuilder;
use layerleak::{At, Error, LimitKind, Limits};

use crate::support::gzip_at;

/// Synthetic, format-valid (checksummed) GitHub token.
const GH: &str = "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";
/// Every hostile case must end well within this.
const CAP: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Builders

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h
}

/// Appends an entry whose raw ustar name is `name` as given (`..`, `/abs`, invalid UTF-8 are
/// kept: the `tar` crate's own path setters refuse them).
fn append_raw(b: &mut tar::Builder<Vec<u8>>, name: &[u8], kind: tar::EntryType, link: &[u8], data: &[u8]) {
    let mut h = header(kind, data.len() as u64);
    let ustar = h.as_ustar_mut().expect("ustar header");
    ustar.name[..name.len()].copy_from_slice(name);
    ustar.linkname[..link.len()].copy_from_slice(link);
    h.set_cksum();
    b.append(&h, data).expect("appending to a Vec");
}

fn file(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    append_raw(b, name.as_bytes(), tar::EntryType::Regular, b"", data);
}

fn tar_with(f: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    f(&mut b);
    b.into_inner().expect("finishing a tar in a Vec")
}

/// `data` gzipped at the best ratio: gzip bombs of kilobyte members.
fn gzip(data: &[u8]) -> Vec<u8> {
    gzip_at(data, flate2::Compression::best())
}

/// A plain tar layer holding `name` with a token in it.
fn secret_layer(name: &str) -> Vec<u8> {
    tar_with(|b| file(b, name, format!("token = {GH}\n").as_bytes()))
}

fn write_blob(dir: &Path, data: &[u8]) -> Digest {
    let d = Digest::sha256_of(data);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("creating blobs/");
    std::fs::write(blobs.join(d.hex()), data).expect("writing a blob");
    d
}

/// One layer of an OCI layout: the blob as stored and its diff_id when it has one.
struct LayerBlob {
    blob: Vec<u8>,
    diff_id: Option<Digest>,
    media_type: &'static str,
}

fn plain(tar: Vec<u8>) -> LayerBlob {
    let diff_id = Some(Digest::sha256_of(&tar));
    LayerBlob { blob: tar, diff_id, media_type: "application/vnd.oci.image.layer.v1.tar" }
}

fn gzipped(tar: &[u8]) -> LayerBlob {
    LayerBlob {
        blob: gzip(tar),
        diff_id: Some(Digest::sha256_of(tar)),
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip",
    }
}

fn config_doc(diff_ids: &[Digest]) -> String {
    let ids: Vec<String> = diff_ids.iter().map(|d| format!("\"{d}\"")).collect();
    format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        ids.join(",")
    )
}

fn manifest_doc(config: &Digest, config_size: u64, layers: &[(Digest, u64, &str)]) -> String {
    let ls: Vec<String> = layers
        .iter()
        .map(|(d, size, mt)| format!(r#"{{"mediaType":"{mt}","digest":"{d}","size":{size}}}"#))
        .collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_size}}},"layers":[{}]}}"#,
        ls.join(",")
    )
}

fn write_index(dir: &Path, manifests: &[(Digest, u64, &str)]) {
    let ms: Vec<String> = manifests
        .iter()
        .map(|(d, size, tag)| {
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{d}","size":{size},"annotations":{{"org.opencontainers.image.ref.name":"{tag}"}}}}"#
            )
        })
        .collect();
    let index = format!(r#"{{"schemaVersion":2,"manifests":[{}]}}"#, ms.join(","));
    std::fs::write(dir.join("index.json"), index).expect("writing index.json");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("writing oci-layout");
}

/// Writes the image's blobs, config and manifest; returns the manifest digest and size.
fn write_image(dir: &Path, layers: &[LayerBlob], config: Option<&[u8]>) -> (Digest, u64) {
    let descs: Vec<(Digest, u64, &str)> =
        layers.iter().map(|l| (write_blob(dir, &l.blob), l.blob.len() as u64, l.media_type)).collect();
    let diff_ids: Vec<Digest> =
        layers.iter().map(|l| l.diff_id.clone().unwrap_or_else(|| Digest::sha256_of(&l.blob))).collect();
    let config = config.map(<[u8]>::to_vec).unwrap_or_else(|| config_doc(&diff_ids).into_bytes());
    let config_d = write_blob(dir, &config);
    let m = manifest_doc(&config_d, config.len() as u64, &descs);
    (write_blob(dir, m.as_bytes()), m.len() as u64)
}

/// An OCI layout with one image (tag `1`) made of `layers`.
fn oci_image(dir: &Path, layers: &[LayerBlob]) {
    let (m, size) = write_image(dir, layers, None);
    write_index(dir, &[(m, size, "1")]);
}

fn scan_dir(dir: &Path, limits: Limits) -> Report {
    let start = Instant::now();
    let scanner = ScannerBuilder::new().limits(limits).threads(2).build().expect("built-in rules build");
    let report = scanner.scan_path(dir);
    assert!(start.elapsed() < CAP, "scan took {:?}", start.elapsed());
    report
}

/// The layers in which a GitHub token was found, sorted.
fn token_layers(r: &Report) -> Vec<usize> {
    let mut v: Vec<usize> = r
        .findings
        .iter()
        .filter(|f| f.rule == "github-pat")
        .flat_map(|f| {
            let first = f.introduced_in.as_ref().map(|l| l.index);
            first.into_iter().chain(f.also_in.iter().filter_map(|o| o.layer))
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Asserts the report has an error of `kind` naming layer `layer`.
fn assert_layer_error(r: &Report, layer: usize, kind: &str) {
    assert!(
        r.errors.iter().any(|e| e.at.layer == Some(layer) && e.kind == kind),
        "no {kind} error naming layer {layer}: {:#?}",
        r.errors
    );
}

fn limit_error(r: &Report, limit: LimitKind) -> bool {
    r.errors.iter().any(|e| e.kind == "limit" && e.message.contains(&limit.to_string()))
}

/// The process's peak resident set (`VmHWM`) in bytes.
fn vm_hwm() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM line");
    let kb: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("VmHWM value");
    kb * 1024
}

/// `head`, then `unit` repeated `units` times, generated while read (never held whole).
struct Repeat {
    head: Vec<u8>,
    unit: Vec<u8>,
    pos: usize,
    units: u64,
}

impl Repeat {
    fn new(head: Vec<u8>, unit: Vec<u8>, units: u64) -> Repeat {
        Repeat { head, unit, pos: 0, units }
    }
}

impl Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.head.is_empty() {
            let n = buf.len().min(self.head.len());
            buf[..n].copy_from_slice(&self.head[..n]);
            self.head.drain(..n);
            return Ok(n);
        }
        if self.units == 0 {
            return Ok(0);
        }
        let n = buf.len().min(self.unit.len() - self.pos);
        buf[..n].copy_from_slice(&self.unit[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.unit.len() {
            self.pos = 0;
            self.units -= 1;
        }
        Ok(n)
    }
}

fn layer_limits(max_layer_bytes: u64) -> Limits {
    let mut l = Limits::default();
    l.max_layer_bytes = max_layer_bytes;
    l
}

/// Walks a layer stream, reading every file whole; returns the walk and the time it took.
fn walk(blob: &mut dyn Read, limits: &Limits) -> (layerleak::layer::LayerWalk, Duration) {
    let start = Instant::now();
    let opts = WalkOptions::new(limits, At::image("hostile").with_layer(0, None));
    let w = walk_layer(blob, &opts, &mut |_, content| {
        let _ = io::copy(content, &mut io::sink());
        ControlFlow::Continue(())
    });
    let took = start.elapsed();
    assert!(took < CAP, "walk took {took:?}");
    (w, took)
}

// ---------------------------------------------------------------------------------------------
// Bombs and huge counts

/// Header of a tar entry declaring 1 TiB, gzip-compressed as its own gzip member.
fn bomb_head() -> Vec<u8> {
    let mut h = header(tar::EntryType::Regular, 1 << 40);
    h.set_path("bomb").expect("a plain name");
    h.set_cksum();
    gzip(h.as_bytes())
}

/// Decompressed bytes a gzip bomb may inflate to before the walk must stop: small in debug builds,
/// where inflating is slow, the suggested 256 MiB in release builds.
fn bomb_limit() -> u64 {
    if cfg!(debug_assertions) {
        32 << 20
    } else {
        256 << 20
    }
}

#[test]
fn gzip_bomb_stops_inflating_at_max_layer_bytes() {
    // ~1 KiB gzip members of 1 MiB of zeros (deflate tops out near 1032:1, so a terabyte needs
    // about a gigabyte of members): 4 GiB inflated in debug builds, 1 TiB in release builds,
    // generated while read, never stored. The walk stops inflating at the limit; the rest of the
    // compressed stream is only hashed, for the blob digest.
    let unit = gzip(&vec![0u8; 1 << 20]);
    assert!(unit.len() < 4096, "a member is kilobytes: {}", unit.len());
    let units: u64 = if cfg!(debug_assertions) { 4 << 10 } else { 1 << 20 };
    let compressed = bomb_head().len() as u64 + units * unit.len() as u64;
    let mut blob = Repeat::new(bomb_head(), unit, units);
    let limits = layer_limits(bomb_limit());
    let (w, _) = walk(&mut blob, &limits);
    assert!(
        w.errors.iter().any(|e| matches!(e, Error::Limit { limit: LimitKind::LayerBytes, .. })),
        "{:?}",
        w.errors
    );
    // One byte past the limit is how the limit notices it was crossed.
    assert!(w.tar_bytes <= limits.max_layer_bytes + 1, "inflated {} bytes", w.tar_bytes);
    assert_eq!(w.blob_bytes, compressed, "the compressed stream is hashed to its end");
    assert!(!w.complete && w.diff_id.is_none());
    assert_eq!(w.entries.len(), 1);
}

#[test]
fn gzip_bomb_layer_in_an_image_is_an_error_on_that_layer_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = gzip(&vec![0u8; 1 << 20]);
    let mut bomb = Vec::new();
    let limit = 8 << 20;
    Repeat::new(bomb_head(), unit, 2 * (limit >> 20)).read_to_end(&mut bomb).expect("in memory");
    let layers = [
        gzipped(&secret_layer("app/a.env")),
        LayerBlob { blob: bomb, diff_id: None, media_type: "application/vnd.oci.image.layer.v1.tar+gzip" },
        plain(secret_layer("app/b.env")),
    ];
    oci_image(dir.path(), &layers);
    let r = scan_dir(dir.path(), layer_limits(limit));
    assert_eq!(token_layers(&r), vec![0, 2]);
    assert_layer_error(&r, 1, "limit");
    assert!(limit_error(&r, LimitKind::LayerBytes), "{:#?}", r.errors);
}

/// A plain tar stream of `n` empty files `d/<i>`, generated while read.
struct EmptyFiles {
    next: u64,
    n: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for EmptyFiles {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            if self.next < self.n {
                let mut h = header(tar::EntryType::Regular, 0);
                h.set_path(format!("d/{}", self.next)).expect("a plain name");
                h.set_cksum();
                self.buf.extend_from_slice(h.as_bytes());
                self.next += 1;
            } else if self.next == self.n {
                self.buf.resize(1024, 0);
                self.next += 1;
            } else {
                return Ok(0);
            }
        }
        let k = out.len().min(self.buf.len() - self.pos);
        out[..k].copy_from_slice(&self.buf[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

#[test]
fn a_million_empty_files_walk_in_bounded_memory() {
    // Debug builds hash and parse ten times slower: a fifth of the entries keeps this test short.
    const N: u64 = if cfg!(debug_assertions) { 200_000 } else { 1_000_000 };
    let before = vm_hwm();
    let mut blob = EmptyFiles { next: 0, n: N, buf: Vec::new(), pos: 0 };
    let (w, _) = walk(&mut blob, &Limits::default());
    assert!(w.complete, "{:?}", w.errors);
    assert_eq!(w.entries.len() as u64, N);
    assert_eq!(w.tar_bytes, N * 512 + 1024);
    let life = Lifecycle::resolve(&[&w.entries]);
    assert_eq!(life.layer_stats(0).files_added, N);
    let grew = vm_hwm().saturating_sub(before);
    // About 100 bytes per entry is expected; the cap leaves room for other tests in this binary.
    assert!(grew < 400 << 20, "peak memory grew by {} MiB", grew >> 20);
}

#[test]
fn max_entries_per_layer_stops_a_flood_of_entries() {
    let mut limits = Limits::default();
    limits.max_entries_per_layer = 10_000;
    let mut blob = EmptyFiles { next: 0, n: 30_000, buf: Vec::new(), pos: 0 };
    let (w, _) = walk(&mut blob, &limits);
    assert!(w.entries.len() as u64 <= limits.max_entries_per_layer);
    assert!(w.errors.iter().any(|e| matches!(e, Error::Limit { limit: LimitKind::EntriesPerLayer, .. })));
}

// ---------------------------------------------------------------------------------------------
// Paths, links, whiteouts and names

/// Appends a file whose path is set through a PAX `path` record (any bytes, any length).
fn pax_file(b: &mut tar::Builder<Vec<u8>>, path: &[u8], data: &[u8]) {
    b.append_pax_extensions([("path", path)]).expect("appending to a Vec");
    file(b, "placeholder", data);
}

#[test]
fn path_10000_components_deep_is_walked_and_scanned() {
    let deep: Vec<u8> = "d/".repeat(10_000).into_bytes().into_iter().chain(*b"key.env").collect();
    let layer = tar_with(|b| pax_file(b, &deep, format!("t={GH}\n").as_bytes()));
    let dir = tempfile::tempdir().expect("tempdir");
    // Layer 1 whites out the top of the deep tree: the token is found and reported deleted.
    let wh = tar_with(|b| file(b, "d/.wh.d", b""));
    oci_image(dir.path(), &[plain(layer), plain(wh)]);
    let r = scan_dir(dir.path(), Limits::default());
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    let f = r.findings.iter().find(|f| f.rule == "github-pat").expect("token in the deep file");
    assert_eq!(f.location.path.len(), deep.len());
    assert_eq!(f.status, Status::Deleted);
    assert_eq!(f.hidden_in.as_ref().map(|h| h.layer.index), Some(1));
}

#[test]
fn path_longer_than_max_path_bytes_is_truncated_and_reported() {
    let deep = "d/".repeat(100_000).into_bytes();
    let layer = tar_with(|b| {
        pax_file(b, &deep, b"x");
        file(b, "after", format!("{GH}\n").as_bytes());
    });
    let (w, _) = walk(&mut &layer[..], &Limits::default());
    assert!(w.entries[0].path.as_bytes().len() <= Limits::default().max_path_bytes);
    assert!(
        w.errors.iter().any(|e| matches!(e, Error::Limit { limit: LimitKind::PathBytes, .. })),
        "{:?}",
        w.errors
    );
    assert_eq!(w.entries[1].path.display(), "after", "the entry after it is still walked");
}

#[test]
fn symlink_loops_and_hardlinks_to_missing_or_later_entries_end_cleanly() {
    let layer = tar_with(|b| {
        append_raw(b, b"loop/a", tar::EntryType::Symlink, b"b", b"");
        append_raw(b, b"loop/b", tar::EntryType::Symlink, b"a", b"");
        append_raw(b, b"loop/self", tar::EntryType::Symlink, b"self", b"");
        append_raw(b, b"loop/up", tar::EntryType::Symlink, b"../loop/up", b"");
        append_raw(b, b"hard/missing", tar::EntryType::Link, b"no/such/file", b"");
        append_raw(b, b"hard/later", tar::EntryType::Link, b"hard/target", b"");
        append_raw(b, b"hard/self", tar::EntryType::Link, b"hard/self", b"");
        file(b, "hard/target", format!("{GH}\n").as_bytes());
    });
    let (w, _) = walk(&mut &layer[..], &Limits::default());
    assert!(w.complete, "{:?}", w.errors);
    assert_eq!(w.entries.len(), 8);
    assert!(matches!(w.entries[0].kind, EntryKind::Symlink { .. }));
    assert!(matches!(w.entries[4].kind, EntryKind::Hardlink { .. }));
    let life = Lifecycle::resolve(&[&w.entries]);
    for e in &w.entries {
        assert!(life.fate(0, e.ordinal).is_some(), "{} has no fate", e.path.display());
    }
    let dir = tempfile::tempdir().expect("tempdir");
    oci_image(dir.path(), &[plain(layer)]);
    let r = scan_dir(dir.path(), Limits::default());
    assert_eq!(token_layers(&r), vec![0]);
    let f = r.findings.iter().find(|f| f.rule == "github-pat").expect("token");
    assert_eq!(f.location.path, "hard/target");
    assert_eq!(f.status, Status::Present);
}

#[test]
fn duplicate_entries_for_one_path_keep_only_the_last_visible() {
    let layer = tar_with(|b| {
        for i in 0..50 {
            file(b, "etc/app.conf", format!("n={i}\n").as_bytes());
        }
        file(b, "etc/app.conf", format!("token={GH}\n").as_bytes());
        file(b, "etc/app.conf", b"clean\n");
    });
    let dir = tempfile::tempdir().expect("tempdir");
    oci_image(dir.path(), &[plain(layer)]);
    let r = scan_dir(dir.path(), Limits::default());
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    let f = r.findings.iter().find(|f| f.rule == "github-pat").expect("token");
    assert_eq!(f.status, Status::Shadowed);
    assert_eq!(f.hidden_in.as_ref().map(|h| h.layer.index), Some(0));
    assert!(!f.visible);
}

#[test]
fn whiteouts_of_missing_paths_and_of_the_root_hide_nothing() {
    let lower = secret_layer("srv/key.env");
    let upper = tar_with(|b| {
        file(b, ".wh.", b"");
        file(b, "./.wh.", b"");
        append_raw(b, b"../.wh.", tar::EntryType::Regular, b"", b"");
        append_raw(b, b"/.wh.", tar::EntryType::Regular, b"", b"");
        file(b, "no/such/dir/.wh.file", b"");
        file(b, "srv/.wh.missing", b"");
        file(b, "ghost/.wh..wh..opq", b"");
    });
    let dir = tempfile::tempdir().expect("tempdir");
    oci_image(dir.path(), &[plain(lower), plain(upper)]);
    let r = scan_dir(dir.path(), Limits::default());
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    let f = r.findings.iter().find(|f| f.rule == "github-pat").expect("token");
    assert_eq!(f.status, Status::Present, "a whiteout of the root or of a missing path hid it");
    assert!(f.visible);
}

#[test]
fn names_with_nul_dotdot_absolute_and_invalid_utf8_are_data() {
    let body = format!("{GH}\n");
    let layer = tar_with(|b| {
        pax_file(b, b"etc/nul\0name.env", body.as_bytes());
        append_raw(b, b"../../etc/up.env", tar::EntryType::Regular, b"", body.as_bytes());
        append_raw(b, b"/etc/abs.env", tar::EntryType::Regular, b"", body.as_bytes());
        append_raw(b, b"etc/caf\xe9.env", tar::EntryType::Regular, b"", body.as_bytes());
        append_raw(b, b"..", tar::EntryType::Directory, b"", b"");
        append_raw(b, b"/", tar::EntryType::Directory, b"", b"");
    });
    let (w, _) = walk(&mut &layer[..], &Limits::default());
    assert!(w.errors.is_empty(), "{:?}", w.errors);
    let paths: Vec<String> = w.entries.iter().map(|e| e.path.display().into_owned()).collect();
    assert!(paths[1] == "etc/up.env" && paths[2] == "etc/abs.env", "{paths:?}");
    assert!(w.entries[0].flags.had_nul && paths[0] == "etc/nul", "{paths:?}");
    assert!(w.entries[1].flags.escaped_root && w.entries[2].flags.absolute, "{:?}", w.entries);
    assert!(w.entries[3].flags.invalid_utf8, "{:?}", w.entries[3]);
    assert!(w.entries.iter().all(|e| !e.path.as_bytes().starts_with(b"/")), "{paths:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    oci_image(dir.path(), &[plain(layer)]);
    let r = scan_dir(dir.path(), Limits::default());
    let f = r.findings.iter().find(|f| f.rule == "github-pat").expect("token");
    let mut where_: Vec<String> = std::iter::once(f.location.path.clone())
        .chain(f.also_in.iter().map(|o| o.location.path.clone()))
        .collect();
    where_.sort();
    assert_eq!(where_.len(), 4, "{where_:?}");
    assert!(where_.iter().all(|p| !p.starts_with('/') && !p.contains("..")), "{where_:?}");
}

// ---------------------------------------------------------------------------------------------
// Archives inside layer files

/// A one-member zip (APPNOTE 4.3.7 local header, deflate, sizes known up front, no descriptor).
fn zip_one(name: &[u8], data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("writing to a Vec");
    let packed = e.finish().expect("writing to a Vec");
    let crc = crc32fast::hash(data);
    let mut z = Vec::new();
    z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    z.extend_from_slice(&20u16.to_le_bytes()); // version needed
    z.extend_from_slice(&0u16.to_le_bytes()); // flags
    z.extend_from_slice(&8u16.to_le_bytes()); // deflate
    z.extend_from_slice(&[0; 4]); // time, date
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&(packed.len() as u32).to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(name);
    z.extend_from_slice(&packed);
    // End of central directory with no entries: the reader streams local headers only.
    z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    z.extend_from_slice(&[0; 18]);
    z
}

#[test]
fn zip_bomb_and_zip_slip_names_nested_in_a_layer() {
    let bomb = zip_one(b"zeros.bin", &vec![0u8; 32 << 20]);
    assert!(bomb.len() < 64 << 10, "the bomb is small: {}", bomb.len());
    let slip = zip_one(b"../../../etc/shadow", format!("root:{GH}\n").as_bytes());
    let layer = tar_with(|b| {
        file(b, "app/bomb.jar", &bomb);
        file(b, "app/slip.jar", &slip);
    });
    let mut limits = Limits::default();
    limits.max_nested_bytes = 4 << 20;
    let dir = tempfile::tempdir().expect("tempdir");
    oci_image(dir.path(), &[plain(layer), plain(secret_layer("b.env"))]);
    let r = scan_dir(dir.path(), limits);
    assert_eq!(token_layers(&r), vec![0, 1]);
    assert!(limit_error(&r, LimitKind::NestedBytes), "{:#?}", r.errors);
    assert!(
        r.errors.iter().any(|e| e.at.layer == Some(0) && e.at.path.as_deref() == Some("app/bomb.jar")),
        "{:#?}",
        r.errors
    );
    let slipped = r
        .findings
        .iter()
        .flat_map(|f| std::iter::once(&f.location).chain(f.also_in.iter().map(|o| &o.location)))
        .find(|l| l.path == "app/slip.jar")
        .expect("token inside the zip-slip member");
    assert_eq!(slipped.inner, vec!["../../../etc/shadow".to_string()], "member names are kept as data");
}

/// gzip with stored deflate blocks (RFC 1952 member, RFC 1951 3.2.4 stored blocks): cheap to
/// nest thousands of times.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 32 + data.len() / 65535 * 5);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    let mut chunks = data.chunks(65535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(c) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = c.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[test]
fn gzip_nested_10000_deep_stops_at_max_nesting_depth() {
    let depth = if cfg!(debug_assertions) { 3_000 } else { 10_000 };
    let mut data = format!("{GH}\n").into_bytes();
    for _ in 0..depth {
        data = gzip_stored(&data);
    }
    let d = Detector::new(&RuleSet::builtin(), DetectOptions::default()).expect("built-in rules");
    let start = Instant::now();
    let mut found = 0;
    let out = d.scan_bytes(b"blob.gz", &data, &mut Scratch::new(), &mut |_| {
        found += 1;
        ControlFlow::Continue(())
    });
    assert!(start.elapsed() < CAP);
    assert_eq!(found, 0, "the token is far below the depth limit");
    assert!(
        out.errors.iter().any(|e| matches!(e, Error::Limit { limit: LimitKind::NestingDepth, .. })),
        "{:?}",
        out.errors
    );
    // The same file in a layer: an error on that layer; the layer beside it is still scanned.
    let dir = tempfile::tempdir().expect("tempdir");
    let layer = tar_with(|b| file(b, "deep.gz", &data));
    oci_image(dir.path(), &[plain(layer), plain(secret_layer("b.env"))]);
    let r = scan_dir(dir.path(), Limits::default());
    assert_eq!(token_layers(&r), vec![1]);
    assert!(limit_error(&r, LimitKind::NestingDepth), "{:#?}", r.errors);
    assert_layer_error(&r, 0, "limit");
}

// ---------------------------------------------------------------------------------------------
// Manifests, configs and JSON

#[test]
fn manifest_with_10000_layers_is_refused_and_the_other_image_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = write_blob(dir.path(), &secret_layer("x"));
    let descs: Vec<(Digest, u64, &str)> =
        (0..10_000).map(|_| (one.clone(), 1, "application/vnd.oci.image.layer.v1.tar")).collect();
    let config = write_blob(dir.path(), config_doc(&[]).as_bytes());
    let huge = manifest_doc(&config, 1, &descs);
    let huge_d = write_blob(dir.path(), huge.as_bytes());
    let (good, good_size) = write_image(dir.path(), &[plain(secret_layer("good.env"))], None);
    write_index(dir.path(), &[(huge_d, huge.len() as u64, "huge"), (good, good_size, "good")]);
    let r = scan_dir(dir.path(), Limits::default());
    assert!(limit_error(&r, LimitKind::Layers), "{:#?}", r.errors);
    assert!(
        r.findings.iter().any(|f| f.rule == "github-pat" && f.location.path == "good.env"),
        "{:#?}",
        r.findings
    );
}

fn deep_json(depth: usize) -> Vec<u8> {
    let mut v = br#"{"a":"#.to_vec();
    v.extend(std::iter::repeat_n(b'[', depth));
    v.extend(std::iter::repeat_n(b']', depth));
    v.push(b'}');
    v
}

#[test]
fn config_json_nested_100000_deep_is_a_limit_error_and_layers_still_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (m, size) = write_image(dir.path(), &[plain(secret_layer("a.env"))], Some(&deep_json(100_000)));
    write_index(dir.path(), &[(m, size, "1")]);
    let r = scan_dir(dir.path(), Limits::default());
    assert!(limit_error(&r, LimitKind::JsonDepth), "{:#?}", r.errors);
    assert_eq!(token_layers(&r), vec![0]);
}

#[test]
fn index_json_nested_100000_deep_is_a_limit_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("index.json"), deep_json(100_000)).expect("writing index.json");
    std::fs::write(dir.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    let r = scan_dir(dir.path(), Limits::default());
    assert!(limit_error(&r, LimitKind::JsonDepth), "{:#?}", r.errors);
    assert!(r.findings.is_empty());
}

#[test]
fn config_of_1_gib_is_refused_by_size_without_reading_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layer = plain(secret_layer("a.env"));
    let layer_d = write_blob(dir.path(), &layer.blob);
    // A sparse file: 1 GiB that takes no disk space and is never read. Its name is a digest it
    // cannot match; refusing it by size must come before any hashing.
    let fake = Digest::sha256_of(b"one gibibyte of zeros");
    let f = std::fs::File::create(dir.path().join("blobs/sha256").join(fake.hex())).expect("sparse file");
    f.set_len(1 << 30).expect("sparse file");
    let m = manifest_doc(&fake, 1 << 30, &[(layer_d, layer.blob.len() as u64, layer.media_type)]);
    let md = write_blob(dir.path(), m.as_bytes());
    write_index(dir.path(), &[(md, m.len() as u64, "1")]);
    let before = vm_hwm();
    let r = scan_dir(dir.path(), Limits::default());
    assert!(limit_error(&r, LimitKind::JsonBytes), "{:#?}", r.errors);
    assert_eq!(token_layers(&r), vec![0]);
    let grew = vm_hwm().saturating_sub(before);
    assert!(grew < 512 << 20, "the config was read into memory: +{} MiB", grew >> 20);
}

// ---------------------------------------------------------------------------------------------
// Impossible sizes and damaged streams

#[test]
fn tar_header_declaring_2_pow_40_bytes_fails_that_layer_only() {
    let mut h = header(tar::EntryType::Regular, 1 << 40);
    h.set_path("huge.bin").expect("a plain name");
    h.set_cksum();
    let mut bad = h.as_bytes().to_vec();
    bad.extend(vec![b'z'; 8192]);
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = LayerBlob { blob: bad, diff_id: None, media_type: "application/vnd.oci.image.layer.v1.tar" };
    oci_image(dir.path(), &[plain(secret_layer("a.env")), bad, gzipped(&secret_layer("c.env"))]);
    let r = scan_dir(dir.path(), Limits::default());
    assert_eq!(token_layers(&r), vec![0, 2]);
    // The stream ends long before the declared size: to the walk, the layer is cut short.
    assert_layer_error(&r, 1, "truncated");
}

#[test]
fn truncated_zstd_frame_fails_that_layer_only() {
    let tar = tar_with(|b| {
        file(b, "first.env", format!("{GH}\n").as_bytes());
        // Incompressible (xorshift) content, so the frame has many blocks and a cut lands
        // after the first ones.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..64 {
            file(b, &format!("noise/{i}"), &noise(&mut x, 4096));
        }
    });
    let full = zstd::encode_all(&tar[..], 3).expect("zstd into a Vec");
    let cut = full[..full.len() * 3 / 4].to_vec();
    let (w, _) = walk(&mut &cut[..], &Limits::default());
    assert!(!w.complete && w.diff_id.is_none());
    assert!(w.errors.iter().any(|e| matches!(e, Error::Truncated { .. })), "{:?}", w.errors);
    assert!(w.blob_digest.is_some(), "the blob is still hashed");
    assert!(
        !w.entries.is_empty(),
        "entries before the cut are kept: {} of {}, {} bytes, {:?}",
        cut.len(),
        full.len(),
        w.tar_bytes,
        w.errors
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = LayerBlob {
        blob: cut,
        diff_id: Some(Digest::sha256_of(&tar)),
        media_type: "application/vnd.oci.image.layer.v1.tar+zstd",
    };
    oci_image(dir.path(), &[bad, plain(secret_layer("b.env"))]);
    let r = scan_dir(dir.path(), Limits::default());
    assert_layer_error(&r, 0, "truncated");
    assert_eq!(token_layers(&r), vec![0, 1], "the token before the cut and the next layer are found");
}

/// `len` incompressible bytes from the xorshift state `x` (which moves on), for compressed
/// streams that must hold many blocks.
pub(crate) fn noise(x: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *x as u8
        })
        .collect()
}

/// A tar inside a file whose pax header declares (and holds) 1 GiB: refused at
/// `max_header_bytes` before anything is allocated for it, as in a layer; the file after it is
/// still scanned.
#[test]
fn a_nested_tar_with_a_1_gib_pax_header_is_bounded() {
    const PAX: u64 = 1 << 30;
    let mut x = header(tar::EntryType::XHeader, PAX);
    x.set_path("PaxHeaders/evil").expect("a plain name");
    x.set_cksum();
    let mut head = x.as_bytes().to_vec();
    let after = tar_with(|b| file(b, "after.env", format!("token = {GH}\n").as_bytes()));
    let unit = vec![b'a'; 1 << 16];
    let mut nested = Repeat::new(head.split_off(0), unit, PAX >> 16).chain(&after[..]);
    let detector = Detector::new(&RuleSet::builtin(), DetectOptions::default()).expect("builtin rules");
    let before = vm_hwm();
    let start = Instant::now();
    let mut found = Vec::new();
    let out = detector.scan_reader(b"app/evil.tar", &mut nested, &mut Scratch::new(), &mut |m| {
        found.push(m.inner.join("/"));
        ControlFlow::Continue(())
    });
    assert!(start.elapsed() < CAP);
    assert!(
        out.errors.iter().any(|e| matches!(e, Error::Limit { limit: LimitKind::HeaderBytes, .. })),
        "{:?}",
        out.errors
    );
    assert_eq!(found, ["after.env"], "the entry after the refused header is scanned");
    let grew = vm_hwm().saturating_sub(before);
    // Other tests of this binary run alongside; holding the header would take 1 GiB.
    assert!(grew < 512 << 20, "peak memory grew by {} MiB", grew >> 20);
}
