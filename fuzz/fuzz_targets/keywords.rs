//! The keyword search against the overlapping Aho-Corasick DFA it replaced.
//!
//! Input: byte 0 says how many keywords (0..=7) come next, each as a length byte (0..=15) and
//! that many bytes; the rest is the haystack.
//! Invariants: for those keywords and for the built-in rules' keywords, `Keywords::new` (SIMD
//! where the CPU has it), `Keywords::new_portable` and the DFA report the same set of
//! (start, end, keyword).
#![no_main]

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use layerleak::detect::{Keywords, RuleSet};
use libfuzzer_sys::fuzz_target;

type Found = Vec<(usize, usize, usize)>;

struct Searches {
    fast: Keywords,
    portable: Keywords,
    dfa: AhoCorasick,
}

impl Searches {
    fn new(keywords: &[Vec<u8>]) -> Searches {
        Searches {
            fast: Keywords::new(keywords).expect("keywords build"),
            portable: Keywords::new_portable(keywords).expect("portable keywords build"),
            dfa: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .kind(Some(AhoCorasickKind::DFA))
                .match_kind(MatchKind::Standard)
                .build(keywords)
                .expect("dfa builds"),
        }
    }

    fn check(&self, hay: &[u8]) {
        let run = |k: &Keywords| {
            let mut v = Found::new();
            k.for_each_match(hay, |m| v.push((m.start, m.end, m.keyword)));
            v.sort_unstable();
            v
        };
        let mut want: Found =
            self.dfa.find_overlapping_iter(hay).map(|m| (m.start(), m.end(), m.pattern().as_usize())).collect();
        want.sort_unstable();
        assert_eq!(run(&self.fast), want, "keyword search (simd: {}) differs from the DFA", self.fast.is_simd());
        assert_eq!(run(&self.portable), want, "portable keyword search differs from the DFA");
    }
}

fn builtin() -> &'static Searches {
    static S: OnceLock<Searches> = OnceLock::new();
    S.get_or_init(|| {
        let mut kws: Vec<Vec<u8>> =
            RuleSet::builtin().rules().iter().flat_map(|r| r.keywords.iter().map(|k| k.as_bytes().to_vec())).collect();
        kws.sort();
        kws.dedup();
        Searches::new(&kws)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, mut rest)) = data.split_first() else { return };
    let mut keywords = Vec::new();
    for _ in 0..n % 8 {
        let Some((&len, tail)) = rest.split_first() else { break };
        let len = usize::from(len % 16).min(tail.len());
        keywords.push(tail[..len].to_vec());
        rest = &tail[len..];
    }
    builtin().check(rest);
    if !keywords.is_empty() {
        Searches::new(&keywords).check(rest);
    }
});
