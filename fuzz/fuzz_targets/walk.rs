//! The layer walker with whiteouts over arbitrary tar bytes, then `Lifecycle::resolve` over the
//! two layers.
//!
//! Input: the first byte picks the wrapper of both layers (0 plain, 1 gzip, 2 zstd, 3 as given,
//! so raw compressed garbage reaches the decoders too); the rest is `layer0@@@@layer1`.
//! Invariants: no panic; ordinals are 0..n in tar order; a visitor never gets more than
//! `min(size, max_file_bytes)` bytes; decompressed bytes stay within `max_layer_bytes` and the
//! entry count within `max_entries_per_layer`; a complete walk has both digests and its blob
//! digest is the sha256 of the bytes given; every entry has a fate and a content fate, and a
//! hidden version names its own layer or a later one, never a lower or unknown one.
#![no_main]

use std::io::Write;
use std::ops::ControlFlow;

use layerleak::digest::Digest;
use layerleak::layer::{walk_layer, EntryMeta, Fate, Lifecycle, WalkOptions};
use layerleak::At;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fn wrap(kind: u8, tar: &[u8]) -> Vec<u8> {
    match kind % 4 {
        1 => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).expect("writing to a Vec");
            e.finish().expect("writing to a Vec")
        }
        2 => zstd::encode_all(tar, 1).expect("zstd into a Vec"),
        _ => tar.to_vec(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let limits = common::small_limits();
    let parts = common::split_parts(rest, 2);
    let mut walked: Vec<Vec<EntryMeta>> = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        let blob = wrap(kind, part);
        let opts = WalkOptions::new(&limits, At::image("fuzz").with_layer(n, None));
        let chunk = usize::from(kind >> 2).max(1) * 61;
        let mut reader = common::Chunked { data: &blob, n: chunk };
        let max_file = limits.max_file_bytes;
        let w = walk_layer(&mut reader, &opts, &mut |meta, content| {
            let mut buf = [0u8; 4096];
            let mut got = 0u64;
            loop {
                match content.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => got += k as u64,
                }
            }
            assert!(got <= meta.size.min(max_file), "visitor got more than the entry holds");
            if meta.ordinal > 50_000 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert!(w.tar_bytes <= limits.max_layer_bytes, "max_layer_bytes not enforced");
        assert!(w.entries.len() as u64 <= limits.max_entries_per_layer, "entry limit not enforced");
        assert_eq!(w.blob_bytes, blob.len() as u64, "blob bytes counted wrong");
        for (i, e) in w.entries.iter().enumerate() {
            assert_eq!(e.ordinal, i as u64, "ordinals are 0..n in tar order");
            assert!(e.path.as_bytes().len() <= limits.max_path_bytes, "path over max_path_bytes");
        }
        if let Some(d) = &w.blob_digest {
            assert_eq!(*d, Digest::sha256_of(&blob), "blob digest is not the sha256 of the blob");
        }
        if w.complete {
            assert!(w.diff_id.is_some() && w.blob_digest.is_some(), "complete walk lacks a digest");
        }
        walked.push(w.entries);
    }
    let slices: Vec<&[EntryMeta]> = walked.iter().map(Vec::as_slice).collect();
    let life = Lifecycle::resolve(&slices);
    for (n, entries) in walked.iter().enumerate() {
        for e in entries {
            let fate = life.fate(n, e.ordinal);
            assert!(fate.is_some(), "an entry has no fate");
            if let Some(Fate::Hidden { by, .. }) = fate {
                assert!(by >= n && by < walked.len(), "hidden by a lower or unknown layer");
            }
            assert!(life.content_fate(n, e.ordinal).is_some(), "an entry has no content fate");
        }
    }
    assert!(life.fate(walked.len(), 0).is_none(), "a fate for a layer that does not exist");
});
