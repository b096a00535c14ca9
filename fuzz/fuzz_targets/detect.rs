//! The detection engine over arbitrary bytes with the built-in rules.
//!
//! Input: the first byte picks the read size of a chunking reader; the rest is the file.
//! Invariants: no panic; for `scan_bytes` every match of the plain file lies inside the input and
//! `data[offset..offset + len] == secret`; `scan_reader` through the chunking reader finds the
//! same matches (window boundaries change nothing); lines and columns are 1-based.
#![no_main]

use std::sync::OnceLock;
use std::ops::ControlFlow;

use layerleak::detect::{DetectOptions, Detector, Match, RuleSet, Scratch};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| {
        let mut opts = DetectOptions::default();
        opts.limits = common::small_limits();
        opts.include_invalid = true;
        // Small windows so that fuzz inputs of a few KiB cross many boundaries.
        opts.window = 1;
        Detector::new(&RuleSet::builtin(), opts).expect("built-in rules compile")
    })
}

fn key(m: &Match) -> (usize, u64, Vec<u8>, Vec<String>) {
    (m.rule, m.offset, m.secret.clone(), m.inner.clone())
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else { return };
    let d = detector();
    // A text name, so no name-based archive sniffing; magic bytes may still make it an archive.
    let name = b"etc/app.conf";
    let mut whole = Vec::new();
    let out = d.scan_bytes(name, rest, &mut Scratch::new(), &mut |m| {
        whole.push(m);
        ControlFlow::Continue(())
    });
    let _ = out;
    for m in &whole {
        assert!(!m.secret.is_empty(), "empty secret");
        assert!(m.line.is_none_or(|l| l >= 1), "line is 1-based");
        assert!(m.column.is_none_or(|c| c >= 1), "column is 1-based");
        if m.inner.is_empty() {
            let start = usize::try_from(m.offset).expect("offset fits usize");
            let end = start.checked_add(m.secret.len()).expect("offset + len overflows");
            assert!(end <= rest.len(), "match outside the input");
            assert_eq!(&rest[start..end], &m.secret[..], "secret is not at its offset");
        }
    }
    let mut chunked = Vec::new();
    let mut r = common::Chunked { data: rest, n: usize::from(chunk) + 1 };
    d.scan_reader(name, &mut r, &mut Scratch::new(), &mut |m| {
        chunked.push(m);
        ControlFlow::Continue(())
    });
    let mut a: Vec<_> = whole.iter().map(key).collect();
    let mut b: Vec<_> = chunked.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "scan_reader with {}-byte reads differs from scan_bytes", usize::from(chunk) + 1);
});
