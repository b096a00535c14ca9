//! Helpers shared by the fuzz targets (included with `#[path]`, not a crate).

#![allow(dead_code)]

use std::io::{self, Read};

use layerleak::Limits;

/// Limits small enough that one fuzz input stays in the low megabytes of memory and time, while
/// every bound is still reachable by a small input.
pub fn small_limits() -> Limits {
    let mut l = Limits::default();
    l.max_json_bytes = 64 << 10;
    l.max_json_depth = 64;
    l.max_layer_bytes = 4 << 20;
    l.max_file_bytes = 256 << 10;
    l.max_header_bytes = 64 << 10;
    l.max_path_bytes = 4 << 10;
    l.max_entries_per_layer = 20_000;
    l.max_layers = 64;
    l.max_nesting_depth = 3;
    l.max_nested_bytes = 4 << 20;
    l.max_findings = 1_000;
    l
}

/// A reader that hands out at most `n` bytes per call, so every buffer refill path runs.
pub struct Chunked<'a> {
    pub data: &'a [u8],
    pub n: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.n.max(1).min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

/// Splits `data` on the 4-byte separator `@@@@` into at most `max` parts.
pub fn split_parts(data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < max {
        match rest.windows(4).position(|w| w == b"@@@@") {
            Some(p) => {
                out.push(&rest[..p]);
                rest = &rest[p + 4..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}
