//! Manifest, index and config JSON: `parse_index`, `parse_manifest`, `parse_config`, and
//! `resolve_from_root` with a fetch over a small map of blobs named by their own sha256.
//!
//! Input: the first byte picks the parser; for resolution the rest is `root@@@@blob@@@@blob…`.
//! Invariants: no panic; a document over `max_json_bytes` is refused; resolution always returns
//! at least one image, every image has at most `max_layers` layers with indexes 0..n, a config
//! is only attached when its bytes hashed to the config digest, and every layer blob is named by
//! a digest.
#![no_main]

use std::collections::HashMap;

use layerleak::digest::Digest;

use layerleak::image::{parse_config, parse_index, parse_manifest, resolve_from_root, BlobRef, InputKind, OpenOptions};
use layerleak::{At, Error};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let limits = common::small_limits();
    let at = At::image("fuzz");
    let too_big = rest.len() as u64 > limits.max_json_bytes;
    match selector % 4 {
        0 => {
            let r = parse_index(rest, "index.json", &at, &limits);
            assert!(!(too_big && r.is_ok()), "oversized index accepted");
        }
        1 => {
            let r = parse_manifest(rest, "manifest", &at, &limits);
            assert!(!(too_big && r.is_ok()), "oversized manifest accepted");
            if let Ok(m) = r {
                let _ = m.layers.len();
            }
        }
        2 => {
            let r = parse_config(rest, &at, &limits);
            assert!(!(too_big && r.is_ok()), "oversized config accepted");
            if let Ok(c) = r {
                // Every text handed to the detector comes from the parsed config.
                for t in c.texts() {
                    assert!(t.text.len() <= rest.len(), "config text larger than its JSON");
                }
            }
        }
        _ => resolve(rest, selector, &limits),
    }
});

fn resolve(rest: &[u8], selector: u8, limits: &layerleak::Limits) {
    let parts = common::split_parts(rest, 8);
    let root = parts[0];
    let blobs: HashMap<String, Vec<u8>> =
        parts[1..].iter().map(|p| (Digest::sha256_of(p).to_string(), p.to_vec())).collect();
    let fetch = |d: &Digest| -> layerleak::Result<Vec<u8>> {
        blobs
            .get(&d.to_string())
            .cloned()
            .ok_or_else(|| Error::MissingBlob { at: At::image("fuzz"), what: d.to_string() })
    };
    let mut opts = OpenOptions::default();
    opts.limits = limits.clone();
    let kind = if selector & 0x80 != 0 { InputKind::OciLayout } else { InputKind::DockerArchive };
    let root_digest = (selector & 0x40 != 0).then(|| Digest::sha256_of(root));
    let (images, _notes) = resolve_from_root("fuzz", kind, root, root_digest.as_ref(), &fetch, &opts);
    assert!(!images.is_empty(), "resolution returns at least one image");
    for image in &images {
        assert!(image.layers.len() <= limits.max_layers, "max_layers not enforced");
        for (i, l) in image.layers.iter().enumerate() {
            assert_eq!(l.index, i, "layer indexes follow manifest order");
            assert!(matches!(l.blob, BlobRef::Digest(_)), "layer blobs are named by digest");
        }
        if let (Some(_), Some(d)) = (&image.config, &image.config_digest) {
            assert!(blobs.contains_key(&d.to_string()), "config attached without its blob");
        }
    }
}
