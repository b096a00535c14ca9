//! YAML rule packs: `RuleSet::load_yaml`, then `Detector::new` and a scan of the input with the
//! rules kept.
//!
//! Invariants: no panic (aliases are refused, not expanded); every refused rule is named and
//! not kept; a pack that loads compiles; every match lies at its offset in the input.
#![no_main]

use std::ops::ControlFlow;

use layerleak::detect::{DetectOptions, Detector, RuleSet, Scratch};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok((set, report)) = RuleSet::load_yaml(text, "fuzz.yml") else { return };
    for refusal in &report.refused {
        assert!(!refusal.message.is_empty(), "a refusal without a reason");
        assert!(set.rules().iter().all(|r| r.id != refusal.rule), "a refused rule was kept");
    }
    let mut opts = DetectOptions::default();
    opts.limits = common::small_limits();
    let d = match Detector::new(&set, opts) {
        Ok(d) => d,
        Err(e) => panic!("a loaded pack failed to compile: {e}"),
    };
    let mut found = Vec::new();
    d.scan_bytes(b"sample.txt", data, &mut Scratch::new(), &mut |m| {
        found.push(m);
        ControlFlow::Continue(())
    });
    for m in found.iter().filter(|m| m.inner.is_empty()) {
        let start = usize::try_from(m.offset).expect("offset fits usize");
        let end = start.checked_add(m.secret.len()).expect("no overflow");
        assert_eq!(data.get(start..end), Some(&m.secret[..]), "secret is not at its offset");
    }
});
