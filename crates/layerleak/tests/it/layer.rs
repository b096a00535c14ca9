//! Layer walk and lifecycle over layers built in memory with the `tar` crate.

use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use layerleak::digest::Digest;
use layerleak::layer::{
    walk_layer, Compression, EntryKind, EntryMeta, Fate, HiddenHow, LayerWalk, Lifecycle, Status, WalkOptions,
};
use layerleak::{At, Error, LimitKind, Limits};

use crate::support::gzip;

/// A layer under construction: a tar builder with helpers for raw names.
struct Layer(tar::Builder<Vec<u8>>);

impl Layer {
    fn new() -> Layer {
        Layer(tar::Builder::new(Vec::new()))
    }

    /// An entry with `name` written verbatim into the header (no validation, so `..`, `//`
    /// and invalid UTF-8 survive).
    fn raw(mut self, name: &[u8], kind: tar::EntryType, link: &[u8], data: &[u8]) -> Layer {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        self.0.append(&h, data).unwrap();
        self
    }

    fn file(self, name: &str, data: &[u8]) -> Layer {
        self.raw(name.as_bytes(), tar::EntryType::Regular, b"", data)
    }

    fn dir(self, name: &str) -> Layer {
        self.raw(name.as_bytes(), tar::EntryType::Directory, b"", b"")
    }

    fn symlink(self, name: &str, target: &str) -> Layer {
        self.raw(name.as_bytes(), tar::EntryType::Symlink, target.as_bytes(), b"")
    }

    fn hardlink(self, name: &str, target: &str) -> Layer {
        self.raw(name.as_bytes(), tar::EntryType::Link, target.as_bytes(), b"")
    }

    fn tar(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

fn zstd(data: &[u8]) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    e.include_checksum(true).unwrap();
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn at() -> At {
    At::image("test-image").with_layer(0, None)
}

type Visited = Vec<(String, Vec<u8>)>;

/// Walks `blob`, reading every file's content through a buffer of `buf` bytes.
fn walk_with(blob: &[u8], limits: &Limits, buf: usize) -> (LayerWalk, Visited) {
    let mut visited = Vec::new();
    let opts = WalkOptions::new(limits, at());
    let mut src = blob;
    let walk = walk_layer(&mut src, &opts, &mut |meta: &EntryMeta, content: &mut dyn Read| {
        let mut data = Vec::new();
        let mut chunk = vec![0u8; buf];
        loop {
            match content.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => data.extend_from_slice(&chunk[..n]),
            }
        }
        visited.push((meta.path.display().into_owned(), data));
        ControlFlow::Continue(())
    });
    (walk, visited)
}

fn walk(blob: &[u8]) -> (LayerWalk, Visited) {
    walk_with(blob, &Limits::default(), 64 << 10)
}

fn paths(w: &LayerWalk) -> Vec<String> {
    w.entries.iter().map(|e| e.path.display().into_owned()).collect()
}

/// Walks each plain-tar layer and returns every (layer, path, fate) tuple in order.
fn fates(layers: &[Vec<u8>]) -> (Vec<(usize, String, Fate)>, Lifecycle, Vec<LayerWalk>) {
    let walks: Vec<LayerWalk> = layers.iter().map(|l| walk(l).0).collect();
    for w in &walks {
        assert!(w.complete, "{:?}", w.errors);
    }
    let refs: Vec<&[EntryMeta]> = walks.iter().map(|w| w.entries.as_slice()).collect();
    let lc = Lifecycle::resolve(&refs);
    let mut out = Vec::new();
    for (n, w) in walks.iter().enumerate() {
        for e in &w.entries {
            out.push((n, e.path.display().into_owned(), lc.fate(n, e.ordinal).unwrap()));
        }
    }
    (out, lc, walks)
}

fn t(layer: usize, path: &str, fate: Fate) -> (usize, String, Fate) {
    (layer, path.to_string(), fate)
}

const P: Fate = Fate::Present;
fn hid(by: usize, how: HiddenHow) -> Fate {
    Fate::Hidden { by, how }
}

#[test]
fn whiteout_of_a_file() {
    let l0 = Layer::new().dir("etc").file("etc/secret", b"s3cr3t").file("etc/keep", b"k").tar();
    let l1 = Layer::new().file("etc/.wh.secret", b"").tar();
    let (got, lc, _) = fates(&[l0, l1]);
    assert_eq!(
        got,
        vec![
            t(0, "etc", P),
            t(0, "etc/secret", hid(1, HiddenHow::Whiteout)),
            t(0, "etc/keep", P),
            t(1, "etc/.wh.secret", P),
        ]
    );
    assert_eq!(lc.fate(0, 1).unwrap().status(), Status::Deleted);
    assert_eq!(lc.layer_stats(1).paths_deleted, 1);
}

#[test]
fn whiteout_of_a_directory_hides_its_subtree() {
    let l0 = Layer::new().dir("app").dir("app/conf").file("app/conf/key", b"k").file("apple", b"a").tar();
    let l1 = Layer::new().file(".wh.app", b"").tar();
    let (got, _, _) = fates(&[l0, l1]);
    let w = hid(1, HiddenHow::Whiteout);
    assert_eq!(
        got,
        vec![
            t(0, "app", w),
            t(0, "app/conf", w),
            t(0, "app/conf/key", w),
            t(0, "apple", P),
            t(1, ".wh.app", P)
        ]
    );
}

#[test]
fn opaque_dir_hides_lower_and_keeps_same_layer_additions_marker_first_or_last() {
    let l0 =
        || Layer::new().dir("d").file("d/old", b"o").dir("d/sub").file("d/sub/x", b"x").file("e", b"e").tar();
    let o = hid(1, HiddenHow::Opaque);
    let lower = vec![t(0, "d", P), t(0, "d/old", o), t(0, "d/sub", o), t(0, "d/sub/x", o), t(0, "e", P)];

    let first = Layer::new().dir("d").file("d/.wh..wh..opq", b"").file("d/new", b"n").tar();
    let (got, _, walks) = fates(&[l0(), first]);
    let mut want = lower.clone();
    want.extend([t(1, "d", P), t(1, "d/.wh..wh..opq", P), t(1, "d/new", P)]);
    assert_eq!(got, want);
    assert!(matches!(&walks[1].entries[1].kind, EntryKind::OpaqueWhiteout { dir } if dir.as_bytes() == b"d"));

    let last = Layer::new().dir("d").file("d/new", b"n").file("d/.wh..wh..opq", b"").tar();
    let (got, _, _) = fates(&[l0(), last]);
    let mut want = lower;
    want.extend([t(1, "d", P), t(1, "d/new", P), t(1, "d/.wh..wh..opq", P)]);
    assert_eq!(got, want);
}

#[test]
fn overwrite_shadows_the_lower_version() {
    let l0 = Layer::new().file("cfg", b"v1").tar();
    let l1 = Layer::new().file("cfg", b"v2").tar();
    let (got, lc, _) = fates(&[l0, l1]);
    assert_eq!(got, vec![t(0, "cfg", hid(1, HiddenHow::Overwrite)), t(1, "cfg", P)]);
    assert_eq!(lc.fate(0, 0).unwrap().status(), Status::Shadowed);
    assert_eq!(lc.layer_stats(1).files_overwritten, 1);
    assert_eq!(lc.layer_stats(0).bytes_hidden_later, 2);
}

#[test]
fn dir_replaced_by_file_and_file_replaced_by_dir() {
    let l0 = Layer::new().dir("a").file("a/x", b"x").file("b", b"b").tar();
    let l1 = Layer::new().file("a", b"now a file").dir("b").file("b/y", b"y").tar();
    let (got, _, _) = fates(&[l0, l1]);
    let ow = hid(1, HiddenHow::Overwrite);
    assert_eq!(
        got,
        vec![t(0, "a", ow), t(0, "a/x", ow), t(0, "b", ow), t(1, "a", P), t(1, "b", P), t(1, "b/y", P)]
    );
}

#[test]
fn duplicate_entry_in_one_layer_hides_the_earlier_one() {
    let l0 = Layer::new().file("f", b"first").file("f", b"second").dir("d").dir("d").tar();
    let (got, _, _) = fates(&[l0]);
    assert_eq!(got, vec![t(0, "f", hid(0, HiddenHow::Overwrite)), t(0, "f", P), t(0, "d", P), t(0, "d", P)]);
}

#[test]
fn hardlink_keeps_content_present_when_its_target_is_whited_out() {
    let l0 = Layer::new().file("a/secret", b"s3cr3t").hardlink("b/link", "a/secret").tar();
    let l1 = Layer::new().file("a/.wh.secret", b"").tar();
    let (got, lc, walks) = fates(&[l0, l1]);
    assert_eq!(
        got,
        vec![t(0, "a/secret", hid(1, HiddenHow::Whiteout)), t(0, "b/link", P), t(1, "a/.wh.secret", P)]
    );
    assert_eq!(lc.content_fate(0, 0), Some(P));
    assert_eq!(lc.aliases(0, 0).iter().map(|p| p.display().into_owned()).collect::<Vec<_>>(), ["b/link"]);
    assert!(
        matches!(&walks[0].entries[1].kind, EntryKind::Hardlink { target } if target.as_bytes() == b"a/secret")
    );

    // Once the link goes too, the content's fate is the file's own.
    let l2 = Layer::new().file("b/.wh.link", b"").tar();
    let l0 = Layer::new().file("a/secret", b"s3cr3t").hardlink("b/link", "a/secret").tar();
    let l1 = Layer::new().file("a/.wh.secret", b"").tar();
    let (_, lc, _) = fates(&[l0, l1, l2]);
    assert_eq!(lc.content_fate(0, 0), Some(hid(1, HiddenHow::Whiteout)));
}

#[test]
fn symlink_is_recorded_and_never_visited() {
    let l0 = Layer::new().file("real", b"data").symlink("link", "/etc/shadow").tar();
    let (w, visited) = walk(&l0);
    assert_eq!(visited, vec![("real".to_string(), b"data".to_vec())]);
    assert_eq!(w.entries[1].kind, EntryKind::Symlink { target: b"/etc/shadow".to_vec() });
}

#[test]
fn paths_are_normalized_as_data() {
    let l0 = Layer::new()
        .raw(b"./a//b/", tar::EntryType::Directory, b"", b"")
        .raw(b"../../etc/passwd", tar::EntryType::Regular, b"", b"root")
        .raw(b"bin/caf\xe9", tar::EntryType::Regular, b"", b"x")
        .raw(b"/abs", tar::EntryType::Regular, b"", b"y")
        .tar();
    let (w, visited) = walk(&l0);
    assert!(w.complete, "{:?}", w.errors);
    assert_eq!(paths(&w), ["a/b", "etc/passwd", "bin/caf\\xe9", "abs"]);
    assert!(w.entries[1].flags.escaped_root);
    assert!(w.entries[2].flags.invalid_utf8);
    assert_eq!(w.entries[2].path.as_bytes(), b"bin/caf\xe9");
    assert!(w.entries[3].flags.absolute);
    assert_eq!(visited[0], ("etc/passwd".to_string(), b"root".to_vec()));
}

#[test]
fn whiteouts_of_missing_paths_and_of_the_root_are_harmless() {
    let l0 = Layer::new().file("keep", b"k").tar();
    let l1 = Layer::new().file(".wh.never-existed", b"").file("x/.wh.nope", b"").file(".wh..", b"").tar();
    let (got, lc, walks) = fates(&[l0, l1]);
    assert_eq!(got[0], t(0, "keep", P));
    assert!(got.iter().all(|(_, _, f)| *f == P));
    assert!(matches!(&walks[1].entries[2].kind, EntryKind::Whiteout { target } if target.is_root()));
    assert_eq!(lc.layer_stats(1).paths_deleted, 0);
}

fn two_files() -> (Vec<u8>, Vec<u8>) {
    // A compressible but not trivial second file, so corruption lands inside real blocks.
    let mut big = Vec::with_capacity(2 << 20);
    let mut x: u32 = 12345;
    while big.len() < 2 << 20 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        big.push(b"abcdefghij KEY=\n"[(x >> 16) as usize % 16]);
    }
    let tar = Layer::new().file("first", b"hello").file("big", &big).tar();
    (tar, big)
}

#[test]
fn streams_of_every_compression_give_same_entries_and_exact_digests() {
    let (tar, big) = two_files();
    let mut multi = gzip(&tar[..7000]);
    multi.extend(gzip(&tar[7000..]));
    for (blob, want) in [
        (tar.clone(), Compression::None),
        (gzip(&tar), Compression::Gzip),
        (multi, Compression::Gzip),
        (zstd(&tar), Compression::Zstd),
    ] {
        let (w, visited) = walk(&blob);
        assert!(w.complete, "{want:?}: {:?}", w.errors);
        assert_eq!(w.compression, want);
        assert_eq!(w.blob_digest, Some(Digest::sha256_of(&blob)));
        assert_eq!(w.blob_bytes, blob.len() as u64);
        assert_eq!(w.diff_id, Some(Digest::sha256_of(&tar)));
        assert_eq!(w.tar_bytes, tar.len() as u64);
        assert_eq!(visited, vec![("first".to_string(), b"hello".to_vec()), ("big".to_string(), big.clone())]);
    }
}

#[test]
fn content_readers_at_small_buffer_sizes() {
    let (tar, big) = two_files();
    let blob = gzip(&tar);
    for buf in [1, 7, 64] {
        let (w, visited) = walk_with(&blob, &Limits::default(), buf);
        assert!(w.complete);
        assert_eq!(visited[1].1, big, "buffer {buf}");
    }
}

#[test]
fn file_content_is_cut_at_max_file_bytes_and_noted() {
    let (tar, big) = two_files();
    let mut limits = Limits::default();
    limits.max_file_bytes = 1000;
    let (w, visited) = walk_with(&tar, &limits, 64);
    assert_eq!(visited[1].1, big[..1000]);
    assert!(w.complete && w.errors.is_empty(), "{:?}", w.errors);
    let skipped = big.len() as u64 - 1000;
    assert!(
        matches!(&w.skipped[..], [s] if s.scanned == 1000 && s.skipped == Some(skipped)
            && s.at.path.as_deref() == Some("big")),
        "{:?}",
        w.skipped
    );
}

fn assert_broken_midway(blob: &[u8], what: &str, cut: bool) {
    let (w, visited) = walk(blob);
    assert!(!w.complete, "{what}");
    assert_eq!(paths(&w)[0], "first", "{what}");
    assert_eq!(visited[0].1, b"hello", "{what}");
    assert_eq!(w.blob_digest, Some(Digest::sha256_of(blob)), "{what}");
    assert_eq!(w.diff_id, None, "{what}");
    let e = &w.errors[0];
    if cut {
        assert!(matches!(e, Error::Truncated { .. }), "{what}: {e}");
    } else {
        assert!(matches!(e, Error::Decompress { .. }), "{what}: {e}");
    }
    assert_eq!(e.at().unwrap().layer, Some(0));
    // The error names the entry whose data was being read.
    assert_eq!(e.at().unwrap().path.as_deref(), Some("big"), "{what}: {e}");
}

#[test]
fn truncated_gzip_keeps_entries_and_blob_digest() {
    let (tar, _) = two_files();
    let gz = gzip(&tar);
    assert_broken_midway(&gz[..gz.len() * 6 / 10], "truncated gzip", true);
}

#[test]
fn corrupt_zstd_keeps_entries_and_blob_digest() {
    let (tar, _) = two_files();
    let mut zs = zstd(&tar);
    let mid = zs.len() * 6 / 10;
    zs[mid..mid + 64].fill(0xff);
    assert_broken_midway(&zs, "corrupt zstd", false);
}

#[test]
fn garbage_header_is_a_tar_error_naming_the_last_good_path() {
    let mut tar = Layer::new().file("first", b"hello").tar();
    tar.truncate(1024);
    tar.extend((0..512u32).map(|i| (i * 7 + 3) as u8));
    tar.extend([0u8; 1024]);
    let (w, _) = walk(&tar);
    assert_eq!(paths(&w), ["first"]);
    assert!(!w.complete);
    match &w.errors[..] {
        [Error::Tar { at, message }] => {
            assert_eq!(at.path.as_deref(), Some("first"));
            assert!(message.contains("checksum"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.diff_id, Some(Digest::sha256_of(&tar)));
}

#[test]
fn declared_size_of_2_pow_40_ends_quickly_with_an_error() {
    let mut h = tar::Header::new_gnu();
    h.set_path("huge").unwrap();
    h.set_size(1 << 40);
    h.set_cksum();
    let mut tar = h.as_bytes().to_vec();
    tar.extend(vec![b'z'; 4096]);
    let start = Instant::now();
    let (w, visited) = walk(&tar);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(w.entries[0].size, 1 << 40);
    assert_eq!(visited[0].1.len(), 4096);
    // Every byte there is was handed over, then the stream ended inside the entry.
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);
    match &w.errors[..] {
        [Error::Truncated { at, message }] => {
            assert!(message.contains("ends inside entry data"), "{message}");
            assert_eq!(at.path.as_deref(), Some("huge"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pax_header_above_max_header_bytes_is_refused() {
    let value = vec![b'p'; 2 << 20];
    let mut record = Vec::new();
    let body_len = " path=".len() + value.len() + 1;
    let mut len = body_len + 1;
    while len != body_len + len.to_string().len() {
        len = body_len + len.to_string().len();
    }
    record.extend(len.to_string().as_bytes());
    record.extend(b" path=");
    record.extend(&value);
    record.push(b'\n');
    let mut l = Layer::new().raw(b"PaxHeaders/x", tar::EntryType::XHeader, b"", &record);
    l = l.file("after", b"ok");
    let tar = l.tar();
    let mut limits = Limits::default();
    limits.max_header_bytes = 1 << 20;
    let (w, visited) = walk_with(&tar, &limits, 4096);
    assert_eq!(paths(&w), ["after"]);
    assert_eq!(visited[0].1, b"ok");
    assert!(
        matches!(&w.errors[..], [Error::Limit { limit: LimitKind::HeaderBytes, max, .. }] if *max == 1 << 20)
    );

    // Under the limit, the same header names the entry.
    limits.max_header_bytes = 4 << 20;
    limits.max_path_bytes = 4 << 20;
    let (w, _) = walk_with(&tar, &limits, 4096);
    assert!(w.complete, "{:?}", w.errors);
    assert_eq!(w.entries[0].path.as_bytes(), &value[..]);
}

/// 1 GiB of zeros as 1024 gzip members of 1 MiB each, produced on demand.
struct Bomb {
    member: Vec<u8>,
    left: usize,
    pos: usize,
}

impl Read for Bomb {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.member.len() {
            if self.left == 0 {
                return Ok(0);
            }
            self.left -= 1;
            self.pos = 0;
        }
        let n = buf.len().min(self.member.len() - self.pos);
        buf[..n].copy_from_slice(&self.member[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn gzip_bomb_stops_at_max_layer_bytes() {
    let member = gzip(&vec![0u8; 1 << 20]);
    let mut bomb = Bomb { pos: member.len(), member, left: 1024 };
    let mut limits = Limits::default();
    limits.max_layer_bytes = 64 << 20;
    let opts = WalkOptions::new(&limits, at());
    let w = walk_layer(&mut bomb, &opts, &mut |_, _| ControlFlow::Continue(()));
    assert!(!w.complete);
    assert_eq!(w.compression, Compression::Gzip);
    assert!(matches!(&w.errors[..], [Error::Limit { limit: LimitKind::LayerBytes, .. }]), "{:?}", w.errors);
    assert_eq!(w.diff_id, None);
    assert!(w.tar_bytes <= (64 << 20) + 1);
    assert!(w.blob_digest.is_some());
}

#[test]
fn a_blob_longer_than_declared_is_read_only_one_byte_past_it() {
    // A registry body can go on forever: after the layer byte cap stops the decompressor, the rest
    // of the blob is read to hash it only up to its declared size and the one byte that proves it
    // longer, not to its end (20 MB here, endless from a hostile server).
    let member = gzip(&vec![0u8; 1 << 20]);
    let declared = 100 * member.len() as u64;
    let mut endless = Bomb { pos: member.len(), member, left: 20_000 };
    let mut limits = Limits::default();
    limits.max_layer_bytes = 4 << 20;
    let opts = WalkOptions::new(&limits, at()).with_declared_size(Some(declared));
    let w = walk_layer(&mut endless, &opts, &mut |_, _| ControlFlow::Continue(()));
    assert_eq!(w.blob_bytes, declared + 1);
    assert_eq!(w.blob_digest, None, "a blob not read to its end has no digest");
    assert!(!w.complete);
    let longer = format!("longer than the {declared} bytes its descriptor declares");
    assert!(w.errors.iter().any(|e| matches!(e, Error::Limit { limit: LimitKind::LayerBytes, .. })));
    assert!(w.errors.iter().any(|e| e.to_string().contains(&longer)), "{:?}", w.errors);
}

#[test]
fn a_blob_of_another_size_than_declared_is_an_error_on_the_layer() {
    let (tar, _) = two_files();
    let len = tar.len() as u64;
    let limits = Limits::default();
    let walk = |declared: u64| {
        let opts = WalkOptions::new(&limits, at()).with_declared_size(Some(declared));
        walk_layer(&mut &tar[..], &opts, &mut |_, _| ControlFlow::Continue(()))
    };
    let exact = walk(len);
    assert!(exact.complete && exact.errors.is_empty(), "{:?}", exact.errors);
    assert_eq!(exact.blob_digest, Some(Digest::sha256_of(&tar)));

    let shorter = walk(len + 1);
    assert!(!shorter.complete);
    assert_eq!(shorter.entries.len(), 2, "the entries are still walked");
    assert_eq!(shorter.blob_digest, Some(Digest::sha256_of(&tar)), "read to its end, so hashed");
    let msg = format!("layer blob is {len} bytes, its descriptor declares {}", len + 1);
    assert!(
        matches!(&shorter.errors[..], [Error::Format { message, .. }] if *message == msg),
        "{:?}",
        shorter.errors
    );

    let longer = walk(len - 1);
    assert!(!longer.complete);
    assert_eq!(longer.entries.len(), 2);
    assert_eq!((longer.blob_bytes, longer.blob_digest), (len, None));
    assert_eq!(longer.errors.len(), 1, "{:?}", longer.errors);
}

#[test]
fn visitor_stop_ends_the_walk() {
    let (tar, _) = two_files();
    let limits = Limits::default();
    let opts = WalkOptions::new(&limits, at());
    let mut seen = 0;
    let w = walk_layer(&mut &tar[..], &opts, &mut |_, _| {
        seen += 1;
        ControlFlow::Break(())
    });
    assert_eq!(seen, 1);
    assert!(w.stopped && !w.complete);
    assert_eq!(w.entries.len(), 1);
    assert_eq!(w.blob_digest, Some(Digest::sha256_of(&tar)));
}

#[test]
fn entry_limit_is_reported() {
    let tar = Layer::new().file("a", b"1").file("b", b"2").file("c", b"3").tar();
    let mut limits = Limits::default();
    limits.max_entries_per_layer = 2;
    let (w, _) = walk_with(&tar, &limits, 64);
    assert_eq!(paths(&w), ["a", "b"]);
    assert!(matches!(&w.errors[..], [Error::Limit { limit: LimitKind::EntriesPerLayer, .. }]));
    assert_eq!(w.diff_id, Some(Digest::sha256_of(&tar)));
}

#[test]
fn gnu_long_names_and_progress() {
    let long = format!("{}/secret.txt", "d".repeat(300));
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o600);
    b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
    let tar = b.into_inner().unwrap();
    let calls = std::sync::Mutex::new(Vec::new());
    let progress = |n: u64| calls.lock().unwrap().push(n);
    let limits = Limits::default();
    let opts = WalkOptions::new(&limits, at()).with_progress(&progress);
    let w = walk_layer(&mut &tar[..], &opts, &mut |_, _| ControlFlow::Continue(()));
    assert!(w.complete, "{:?}", w.errors);
    assert_eq!(paths(&w), [long]);
    assert_eq!(w.entries[0].mode, 0o600);
    assert_eq!(calls.into_inner().unwrap().last(), Some(&(tar.len() as u64)));
}
