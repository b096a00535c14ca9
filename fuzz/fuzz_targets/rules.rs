//! Rule files: `RuleSet::from_toml` then `lint_toml` and `Detector::new`, then a scan with the
//! result.
//!
//! Invariants: no panic; a rule set that parses always compiles (`Detector::new` only fails on
//! a regex, which `from_toml` already checked, or on a composite rule requiring a rule the set
//! lacks); ids are unique and non-empty; every lint names a rule of the set, if any; every rule's
//! own positive examples scan without panicking and every match points at its bytes (but a
//! path-only rule's, whose secret is the file's digest).
#![no_main]

use std::ops::ControlFlow;

use layerleak::detect::{lint_toml, DetectOptions, Detector, RuleSet, Scratch};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(set) = RuleSet::from_toml(text, "fuzz.toml") else { return };
    let mut ids: Vec<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
    assert!(ids.iter().all(|id| !id.trim().is_empty()), "a rule without an id");
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate rule ids accepted");
    for lint in lint_toml(text, &set) {
        if let Some(rule) = &lint.rule {
            assert!(ids.contains(&rule.as_str()), "a lint names no rule of the set: {lint:?}");
        }
    }
    let mut opts = DetectOptions::default();
    opts.limits = common::small_limits();
    let requires_missing = set
        .rules()
        .iter()
        .flat_map(|r| &r.required)
        .any(|q| !set.rules().iter().any(|r| r.id == q.id));
    let d = match Detector::new(&set, opts) {
        Ok(d) => d,
        Err(_) if requires_missing => return,
        Err(e) => panic!("a parsed rule set failed to compile: {e}"),
    };
    let mut scratch = Scratch::new();
    let mut samples: Vec<&[u8]> = vec![data];
    for r in set.rules() {
        samples.extend(r.examples.positive.iter().map(|s| s.as_bytes()));
        samples.extend(r.examples.negative.iter().map(|s| s.as_bytes()));
    }
    for s in samples {
        let mut found = Vec::new();
        d.scan_bytes(b"sample.txt", s, &mut scratch, &mut |m| {
            found.push(m);
            ControlFlow::Continue(())
        });
        for m in found.iter().filter(|m| m.inner.is_empty() && !d.rules()[m.rule].is_path_only()) {
            let start = usize::try_from(m.offset).expect("offset fits usize");
            let end = start.checked_add(m.secret.len()).expect("no overflow");
            assert!(end <= s.len(), "match outside the sample");
            assert_eq!(&s[start..end], &m.secret[..], "secret is not at its offset");
        }
    }
});
