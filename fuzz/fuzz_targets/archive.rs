//! Outer archive indexing: `image::open_reader` over arbitrary bytes (docker-save archives,
//! Docker 25+ OCI-in-tar, single layers), then every resolved layer blob opened and read.
//!
//! Invariants: no panic; an `Ok` input has at least one image, no image has more than
//! `max_layers` layers, layer indexes are 0..n in order, and every blob the store opens yields
//! at most as many bytes as the input holds (blobs are slices of the input, never inflated).
#![no_main]

use std::io::Read;

use layerleak::image::{open_reader, OpenOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let mut opts = OpenOptions::default();
    opts.limits = common::small_limits();
    let mut r = data;
    let Ok(input) = open_reader("fuzz", &mut r, &opts) else { return };
    assert!(!input.images.is_empty(), "an opened input has at least one image");
    for image in &input.images {
        assert!(image.layers.len() <= opts.limits.max_layers, "max_layers not enforced");
        for (i, layer) in image.layers.iter().enumerate() {
            assert_eq!(layer.index, i, "layer indexes follow manifest order");
            let Ok(mut blob) = input.store.open(&layer.blob) else { continue };
            let mut total = 0u64;
            let mut buf = [0u8; 8192];
            loop {
                match blob.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n as u64,
                }
                assert!(total <= data.len() as u64, "a blob is a slice of the input");
            }
        }
    }
});
