//! Nested archives: zip/jar/tar/gzip/zstd inside a file, via `Detector::scan_bytes` with a
//! `.jar` name, with a small secret-bearing rule set so matches inside members are reachable.
//!
//! Invariants: no panic; the whole input is consumed and counted; no match chain is deeper than
//! `max_nesting_depth`; every match has the shape its rule's regex allows; a match
//! in the outer file itself (empty chain) lies at its offset in the input.
#![no_main]

use std::ops::ControlFlow;

use layerleak::detect::{DetectOptions, Detector, RuleSet, Scratch};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[path = "common.rs"]
mod common;

const RULES: &str = r#"
[[rules]]
id = "fuzz-token"
description = "fuzz token"
regex = '''tok_[a-z0-9]{8}'''
keywords = ["tok_"]

[[rules]]
id = "fuzz-assign"
description = "fuzz assignment"
regex = '''secret=([A-Za-z0-9]{6,20})'''
secretGroup = 1
keywords = ["secret="]
"#;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| {
        let rules = RuleSet::from_toml(RULES, "fuzz").expect("the fuzz rules parse");
        let mut opts = DetectOptions::default();
        opts.limits = common::small_limits();
        opts.window = 4096;
        Detector::new(&rules, opts).expect("the fuzz rules compile")
    })
}

fuzz_target!(|data: &[u8]| {
    let d = detector();
    let max_depth = common::small_limits().max_nesting_depth;
    let mut matches = Vec::new();
    let out = d.scan_bytes(b"lib/app.jar", data, &mut Scratch::new(), &mut |m| {
        matches.push(m);
        ControlFlow::Continue(())
    });
    assert!(out.bytes <= data.len() as u64, "read more than the input");
    for m in &matches {
        assert!(!m.secret.is_empty(), "empty secret");
        assert!(m.inner.len() <= max_depth, "nesting deeper than max_nesting_depth");
        let alnum = |b: &[u8]| b.iter().all(u8::is_ascii_alphanumeric);
        let shaped = match d.rules()[m.rule].id.as_str() {
            "fuzz-token" => {
                m.secret.len() == 12
                    && m.secret.starts_with(b"tok_")
                    && m.secret[4..].iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            }
            _ => (6..=20).contains(&m.secret.len()) && alnum(&m.secret),
        };
        assert!(shaped, "match is not what its rule finds: {:?}", m.secret);
        if m.inner.is_empty() {
            let start = usize::try_from(m.offset).expect("offset fits usize");
            let end = start.checked_add(m.secret.len()).expect("no overflow");
            assert!(end <= data.len(), "match outside the input");
            assert_eq!(&data[start..end], &m.secret[..], "secret is not at its offset");
        }
    }
});
