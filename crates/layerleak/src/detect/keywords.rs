//! Keyword search: every occurrence of every rule keyword, ASCII case-insensitively, overlapping
//! occurrences included. It reports exactly what an overlapping Aho-Corasick search over the same
//! keywords reports, faster: on 259 MB of real layer files (the `detect` bench) 1.49 GiB/s per
//! core with AVX-512 VBMI and 1.07 GiB/s without, against 614 MiB/s for the DFA.
//!
//! Why not the automaton itself: a DFA over a couple of hundred case-insensitive keywords has a
//! transition table of several hundred KiB, and every input byte is one dependent load into it;
//! it was the biggest cost of a scan. Keyword hits are rare (one per few KiB of real files), so a
//! filter that rejects almost every position with independent work, and looks closer only where
//! it must, does less:
//!
//! 1. Every keyword of three bytes or more stands for itself by one of its trigrams, the one made
//!    of the rarest bytes by [`BYTE_FREQ`]; a two-byte keyword by its two bytes and any third byte.
//!    The trigrams are spread greedily over [`BUCKETS`] buckets so that each bucket's three byte
//!    sets stay rare together.
//! 2. Every byte value maps to a `u64` of three lanes: bit `b` of lane `k` says the byte may be
//!    byte `k` of a trigram in bucket `b`. A position passes when the AND of its three bytes' lanes
//!    is not zero. The portable first stage does that with one table load per byte and no branch
//!    inside a 64-byte block; with AVX-512 VBMI (`vbmi`) the same lanes are looked up 64 bytes
//!    per instruction.
//! 3. At a passing position the exact case-folded trigram is looked up in a hash table and the
//!    keywords it stands for are compared in full.
//!
//! A one-byte (or empty) keyword gives nothing to filter on, and a keyword set so large that the
//! estimated pass rate exceeds [`MAX_PASS_RATE`] would make the filter slower than the automaton;
//! both fall back to an Aho-Corasick DFA, which finds the same occurrences. So do the next 64 KiB
//! wherever the filter really passes more than one position in 16 over 4 KiB (keyword after
//! keyword, or bytes crafted to pass): the worst case is about the automaton's speed, not the
//! filter's checks one by one.

#[cfg(target_arch = "x86_64")]
mod vbmi;

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::byte_freq::BYTE_FREQ;
use crate::error::Error;

/// Buckets of the filter: three lanes of 21 bits fill a `u64`.
const BUCKETS: usize = 21;
/// Bits of one lane.
const LANE_MASK: u64 = (1 << BUCKETS) - 1;
/// Positions tested per block before any branch.
const BLOCK: usize = 64;
/// How much more often two adjacent letters occur than their frequencies alone say.
const LETTER_RUN: f64 = 3.0;
/// How much more often a byte repeats (`---`, `aaa`, `\0\0`) than its frequency alone says.
const SAME_RUN: f64 = 20.0;
/// Above this estimated share of passing positions the DFA is used instead. The estimate counts
/// each bucket's byte sets as independent and is low for letter-heavy sets; with the catalogue's
/// 2,700 keywords (estimated 3.3%) the SIMD filter still searched faster than the DFA (150 vs 133
/// MiB/s in one run of the `detect` bench), so the switch sits just above that.
const MAX_PASS_RATE: f64 = 0.04;
/// Bytes over which the filter's real pass rate is watched.
const DENSE_SPAN: usize = 64 * BLOCK;
/// More passing positions than this in one span (one in 16) and the DFA takes over for the next
/// [`DENSE_RUN`] bytes: checking that many positions one by one is slower than the automaton.
const DENSE_PASSES: u32 = (DENSE_SPAN / 16) as u32;
/// Bytes the DFA searches before the filter is tried again.
const DENSE_RUN: usize = 16 * DENSE_SPAN;

/// One keyword occurrence: `haystack[start..end]` equals keyword `keyword`, ignoring ASCII case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct KeywordMatch {
    /// Index of the keyword in the list given to [`Keywords::new`].
    pub keyword: usize,
    /// Offset of its first byte.
    pub start: usize,
    /// Offset just past its last byte.
    pub end: usize,
}

/// Finds every occurrence of a set of keywords, ignoring ASCII case, overlapping occurrences
/// included: the matches of an overlapping Aho-Corasick search, found by a trigram filter (with
/// AVX-512 VBMI where the CPU has it) that rejects almost every position cheaply and compares
/// whole keywords only where a keyword's rarest trigram occurs. One-byte keywords and sets of
/// thousands of keywords fall back to an Aho-Corasick DFA.
#[derive(Debug, Clone)]
pub struct Keywords {
    imp: Imp,
}

#[derive(Debug, Clone)]
enum Imp {
    Empty,
    Filter(Box<Filter>),
    Automaton(AhoCorasick),
}

#[derive(Debug, Clone)]
struct Filter {
    /// Per byte value: lane 0 (bits 0..21), lane 1 (21..42), lane 2 (42..63).
    lanes: [u64; 256],
    /// Keywords of three bytes or more, grouped by the hash slot of their folded trigram.
    trigrams: Vec<Entry>,
    /// `trigrams[slots[h]..slots[h + 1]]` are the entries of hash slot `h`.
    slots: Vec<u32>,
    /// Bits of the slot hash.
    slot_bits: u32,
    /// Two-byte keywords (few: compared one by one).
    pairs: Vec<Entry>,
    /// Every keyword, as given.
    keywords: Vec<Box<[u8]>>,
    /// The first stage with AVX-512 VBMI, when the CPU has it.
    #[cfg(target_arch = "x86_64")]
    vbmi: Option<vbmi::Vbmi>,
    /// Per keyword, the offset of the bytes that anchor it in the filter.
    anchors: Vec<usize>,
    /// The longest keyword's length.
    longest: usize,
    /// The DFA that takes over where the filter passes too often (built on first need; `None` if
    /// it cannot be built, and the filter then goes on).
    dense: OnceLock<Option<AhoCorasick>>,
}

/// A keyword found through the folded bytes `key` at `offset` from its start.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u32,
    offset: usize,
    keyword: usize,
}

impl Keywords {
    /// Prepares a search for `keywords` (matched ignoring ASCII case). Fails with
    /// [`Error::Rule`] (rule `keywords`) only when the fallback automaton exceeds aho-corasick's
    /// size limits.
    pub fn new<K: AsRef<[u8]>>(keywords: &[K]) -> crate::Result<Keywords> {
        Keywords::build(keywords, true)
    }

    /// [`Keywords::new`] without the SIMD first stage (AVX-512 VBMI, used when the CPU has it):
    /// the portable filter, for comparison. Both report exactly the same matches.
    pub fn new_portable<K: AsRef<[u8]>>(keywords: &[K]) -> crate::Result<Keywords> {
        Keywords::build(keywords, false)
    }

    fn build<K: AsRef<[u8]>>(keywords: &[K], simd: bool) -> crate::Result<Keywords> {
        let imp = if keywords.is_empty() {
            Imp::Empty
        } else if let Some(filter) = Filter::new(keywords, simd) {
            Imp::Filter(Box::new(filter))
        } else {
            let ac = automaton(keywords)
                .map_err(|e| Error::Rule { rule: "keywords".into(), message: e.to_string() })?;
            Imp::Automaton(ac)
        };
        Ok(Keywords { imp })
    }

    /// Whether the trigram filter is in use (false: the Aho-Corasick fallback, or no keywords).
    pub fn is_filtered(&self) -> bool {
        matches!(self.imp, Imp::Filter(_))
    }

    /// Whether the filter's first stage runs with SIMD instructions (AVX-512 VBMI).
    pub fn is_simd(&self) -> bool {
        match &self.imp {
            #[cfg(target_arch = "x86_64")]
            Imp::Filter(f) => f.vbmi.is_some(),
            _ => false,
        }
    }

    /// Calls `f` for every keyword occurrence in `haystack`. Occurrences come in the order of
    /// the byte that anchors them in the filter, so starts may be out of order by less than the
    /// longest keyword.
    #[inline]
    pub fn for_each_match(&self, haystack: &[u8], mut f: impl FnMut(KeywordMatch)) {
        match &self.imp {
            Imp::Empty => {}
            Imp::Filter(filter) => filter.search(haystack, &mut f),
            Imp::Automaton(ac) => {
                for m in ac.find_overlapping_iter(haystack) {
                    f(KeywordMatch { keyword: m.pattern().as_usize(), start: m.start(), end: m.end() });
                }
            }
        }
    }
}

/// The fallback: what the filter replaces, and what it is tested against.
pub(crate) fn automaton<K: AsRef<[u8]>>(keywords: &[K]) -> Result<AhoCorasick, aho_corasick::BuildError> {
    let build = |kind| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(kind)
            .match_kind(MatchKind::Standard)
            .build(keywords)
    };
    // A DFA can exceed aho-corasick's size limits on huge keyword sets; then let the crate pick
    // (an NFA), which finds the same occurrences.
    build(Some(AhoCorasickKind::DFA)).or_else(|_| build(None))
}

fn fold(b: u8) -> u8 {
    b.to_ascii_lowercase()
}

/// Estimated share of input bytes equal to `b` once folded, in parts per million.
fn freq(b: u8) -> f64 {
    f64::from(BYTE_FREQ[usize::from(fold(b))])
}

/// The byte sets of one bucket, as probabilities of a byte falling in each.
struct Bucket {
    sets: [[bool; 256]; 3],
    prob: [f64; 3],
}

impl Bucket {
    fn new() -> Bucket {
        Bucket { sets: [[false; 256]; 3], prob: [0.0; 3] }
    }

    fn cost(&self) -> f64 {
        self.prob.iter().product()
    }

    /// `bytes[k] = None` means any byte.
    fn add(&mut self, bytes: [Option<u8>; 3]) {
        for (k, b) in bytes.into_iter().enumerate() {
            match b {
                Some(b) => {
                    let b = fold(b);
                    if !self.sets[k][usize::from(b)] {
                        self.sets[k][usize::from(b)] = true;
                        self.prob[k] += freq(b) / 1e6;
                    }
                }
                None => {
                    self.sets[k] = [true; 256];
                    self.prob[k] = 1.0;
                }
            }
        }
    }

    /// The cost if `bytes` were added.
    fn cost_with(&self, bytes: [Option<u8>; 3]) -> f64 {
        let mut prob = self.prob;
        for (k, b) in bytes.into_iter().enumerate() {
            match b.map(fold) {
                Some(b) if !self.sets[k][usize::from(b)] => prob[k] += freq(b) / 1e6,
                Some(_) => {}
                None => prob[k] = 1.0,
            }
        }
        prob.iter().product()
    }
}

impl Filter {
    /// `None` when a keyword is shorter than two bytes or the filter would pass too much.
    fn new<K: AsRef<[u8]>>(keywords: &[K], simd: bool) -> Option<Filter> {
        let mut trigrams = Vec::new();
        let mut pairs = Vec::new();
        let mut anchors: Vec<[Option<u8>; 3]> = Vec::new();
        for (i, kw) in keywords.iter().enumerate() {
            let kw = kw.as_ref();
            match kw.len() {
                0 | 1 => return None,
                2 => {
                    pairs.push(Entry { key: key(&[kw[0], kw[1]]), offset: 0, keyword: i });
                    anchors.push([Some(kw[0]), Some(kw[1]), None]);
                }
                _ => {
                    let offset = rarest_trigram(kw);
                    let t = &kw[offset..offset + 3];
                    trigrams.push(Entry { key: key(t), offset, keyword: i });
                    anchors.push([Some(t[0]), Some(t[1]), Some(t[2])]);
                }
            }
        }
        let buckets = spread(anchors);
        let pass_rate: f64 = buckets.iter().map(Bucket::cost).sum();
        if pass_rate > MAX_PASS_RATE {
            return None;
        }
        let mut lanes = [0u64; 256];
        for (bit, bucket) in buckets.iter().enumerate() {
            for (v, lane) in lanes.iter_mut().enumerate() {
                let f = usize::from(fold(v as u8));
                for k in 0..3 {
                    if bucket.sets[k][f] {
                        *lane |= 1 << (bit + k * BUCKETS);
                    }
                }
            }
        }
        let slot_bits = (trigrams.len() * 4).next_power_of_two().trailing_zeros().max(4);
        trigrams.sort_by_key(|e| slot(e.key, slot_bits));
        let mut slots = vec![0u32; (1 << slot_bits) + 1];
        for e in &trigrams {
            slots[slot(e.key, slot_bits) + 1] += 1;
        }
        for i in 1..slots.len() {
            slots[i] += slots[i - 1];
        }
        let mut anchors = vec![0; keywords.len()];
        for e in trigrams.iter().chain(&pairs) {
            anchors[e.keyword] = e.offset;
        }
        let longest = keywords.iter().map(|k| k.as_ref().len()).max().unwrap_or(0);
        let keywords = keywords.iter().map(|k| k.as_ref().into()).collect();
        #[cfg(target_arch = "x86_64")]
        let vbmi = if simd { vbmi::Vbmi::new(&lanes) } else { None };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = simd;
        Some(Filter {
            lanes,
            trigrams,
            slots,
            slot_bits,
            pairs,
            keywords,
            #[cfg(target_arch = "x86_64")]
            vbmi,
            anchors,
            longest,
            dense: OnceLock::new(),
        })
    }

    #[inline(always)]
    fn pass(&self, a: u8, b: u8, c: u8) -> u64 {
        let l = &self.lanes;
        l[usize::from(a)] & (l[usize::from(b)] >> BUCKETS) & (l[usize::from(c)] >> (2 * BUCKETS)) & LANE_MASK
    }

    /// Bit `i` set: the trigram at `block[i..i + 3]` passes the first stage.
    #[inline]
    fn passes(&self, block: &[u8; BLOCK + 2]) -> u64 {
        #[cfg(target_arch = "x86_64")]
        if let Some(v) = &self.vbmi {
            return v.passes(block);
        }
        let mut v = [0u64; BLOCK + 2];
        for (v, &b) in v.iter_mut().zip(block) {
            *v = self.lanes[usize::from(b)];
        }
        let mut any = 0;
        for i in 0..BLOCK {
            any |= v[i] & (v[i + 1] >> BUCKETS) & (v[i + 2] >> (2 * BUCKETS));
        }
        let mut passed = 0u64;
        if any & LANE_MASK != 0 {
            for i in 0..BLOCK {
                let m = v[i] & (v[i + 1] >> BUCKETS) & (v[i + 2] >> (2 * BUCKETS)) & LANE_MASK;
                passed |= u64::from(m != 0) << i;
            }
        }
        passed
    }

    fn search(&self, h: &[u8], f: &mut dyn FnMut(KeywordMatch)) {
        let mut p = 0;
        let (mut span, mut passes) = (0, 0);
        while let Some(block) = h.get(p..p + BLOCK + 2) {
            let Ok(block) = <&[u8; BLOCK + 2]>::try_from(block) else { break };
            let mut passed = self.passes(block);
            passes += passed.count_ones();
            while passed != 0 {
                self.check(h, p + passed.trailing_zeros() as usize, f);
                passed &= passed - 1;
            }
            p += BLOCK;
            if p - span >= DENSE_SPAN {
                if passes > DENSE_PASSES {
                    if let Some(dfa) = self.dense.get_or_init(|| automaton(&self.keywords).ok()) {
                        let to = (p + DENSE_RUN).min(h.len());
                        self.automaton_between(dfa, h, p, to, f);
                        p = to;
                    }
                }
                (span, passes) = (p, 0);
            }
        }
        while p + 3 <= h.len() {
            if self.pass(h[p], h[p + 1], h[p + 2]) != 0 {
                self.check(h, p, f);
            }
            p += 1;
        }
        // The last two bytes can only hold a two-byte keyword.
        if p + 2 == h.len() {
            self.verify(h, p, &self.pairs, key(&h[p..]), f);
        }
    }

    /// Reports, with the DFA, every keyword whose anchor lies in `from..to`: what the filter
    /// would have found there.
    #[cold]
    fn automaton_between(
        &self,
        dfa: &AhoCorasick,
        h: &[u8],
        from: usize,
        to: usize,
        f: &mut dyn FnMut(KeywordMatch),
    ) {
        let start = from.saturating_sub(self.longest);
        let end = (to + self.longest).min(h.len());
        for m in dfa.find_overlapping_iter(&h[start..end]) {
            let (keyword, at) = (m.pattern().as_usize(), start + m.start());
            if (from..to).contains(&(at + self.anchors[keyword])) {
                f(KeywordMatch { keyword, start: at, end: start + m.end() });
            }
        }
    }

    /// Looks closer at a position that passed the filter.
    #[inline]
    fn check(&self, h: &[u8], p: usize, f: &mut dyn FnMut(KeywordMatch)) {
        let k = key(&h[p..p + 3]);
        let at = slot(k, self.slot_bits);
        let (from, to) = (self.slots[at] as usize, self.slots[at + 1] as usize);
        self.verify(h, p, &self.trigrams[from..to], k, f);
        if !self.pairs.is_empty() {
            self.verify(h, p, &self.pairs, key(&h[p..p + 2]), f);
        }
    }

    /// Reports the keywords of `entries` anchored at `p` by `key` that really are there.
    fn verify(&self, h: &[u8], p: usize, entries: &[Entry], key: u32, f: &mut dyn FnMut(KeywordMatch)) {
        for e in entries.iter().filter(|e| e.key == key) {
            let Some(start) = p.checked_sub(e.offset) else { continue };
            let kw = &self.keywords[e.keyword];
            let end = start + kw.len();
            if h.get(start..end).is_some_and(|s| s.eq_ignore_ascii_case(kw)) {
                f(KeywordMatch { keyword: e.keyword, start, end });
            }
        }
    }
}

/// Hash slot of a trigram key.
fn slot(key: u32, bits: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> (32 - bits)) as usize
}

/// Folded bytes as a number: the trigram (or pair) lookup key.
fn key(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0, |k, &b| k << 8 | u32::from(fold(b)))
}

/// Offset of the trigram of `kw` (three bytes or more) whose bytes are rarest together.
fn rarest_trigram(kw: &[u8]) -> usize {
    let score = |o: usize| trigram_weight([kw[o], kw[o + 1], kw[o + 2]].map(Some));
    (0..kw.len() - 2).min_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap_or(0)
}

/// Estimated frequency of a trigram (`None`: any byte). Bytes are not independent: letters come
/// in runs (words), so each pair of adjacent letters counts [`LETTER_RUN`] times more often than
/// their frequencies alone say.
fn trigram_weight(t: [Option<u8>; 3]) -> f64 {
    let letters = |a: Option<u8>, b: Option<u8>| {
        a.zip(b).is_some_and(|(a, b)| a.is_ascii_alphabetic() && b.is_ascii_alphabetic())
    };
    let run = [letters(t[0], t[1]), letters(t[1], t[2])].iter().filter(|&&x| x).count();
    let same = [t[0] == t[1], t[1] == t[2]].iter().filter(|&&x| x).count();
    t.iter().map(|b| b.map_or(1e6, freq)).product::<f64>()
        * LETTER_RUN.powi(run as i32)
        * SAME_RUN.powi(same as i32)
}

/// Spreads anchors over [`BUCKETS`] buckets: the most frequent first, each to the bucket whose
/// estimated pass rate grows least.
fn spread(mut anchors: Vec<[Option<u8>; 3]>) -> Vec<Bucket> {
    anchors.sort_unstable();
    anchors.dedup();
    anchors.sort_by(|a, b| trigram_weight(*b).total_cmp(&trigram_weight(*a)));
    let mut buckets: Vec<Bucket> = (0..BUCKETS).map(|_| Bucket::new()).collect();
    for a in anchors {
        let growth = |b: &Bucket| b.cost_with(a) - b.cost();
        let best = buckets.iter_mut().min_by(|x, y| growth(x).total_cmp(&growth(y)));
        if let Some(best) = best {
            best.add(a);
        }
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic xorshift64*, enough for test data.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn found(k: &Keywords, hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        k.for_each_match(hay, |m| out.push((m.start, m.end, m.keyword)));
        out.sort_unstable();
        out
    }

    fn expected<K: AsRef<[u8]>>(keywords: &[K], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let ac = automaton(keywords).unwrap();
        let mut out: Vec<_> =
            ac.find_overlapping_iter(hay).map(|m| (m.start(), m.end(), m.pattern().as_usize())).collect();
        out.sort_unstable();
        out
    }

    /// Random bytes from a small alphabet with keywords planted in random case, overlapping
    /// each other and at both ends, at every length around the block size.
    fn agrees_with_automaton(keywords: &[&str], seed: u64) {
        let both = [Keywords::new(keywords).unwrap(), Keywords::new_portable(keywords).unwrap()];
        let mut rng = Rng(seed);
        let alphabet = b"aeiostxyz_-.$~ \n\0\xff0123";
        for len in (0..200).chain([1000, 5000]) {
            let mut hay: Vec<u8> = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
            for _ in 0..len / 8 + 1 {
                let kw = keywords[rng.below(keywords.len())].as_bytes();
                if kw.len() > hay.len() {
                    continue;
                }
                let at = match rng.below(4) {
                    0 => 0,
                    1 => hay.len() - kw.len(),
                    _ => rng.below(hay.len() - kw.len() + 1),
                };
                for (i, &b) in kw.iter().enumerate() {
                    hay[at + i] = if rng.below(2) == 0 { b.to_ascii_uppercase() } else { b };
                }
            }
            let want = expected(keywords, &hay);
            for k in &both {
                assert_eq!(found(k, &hay), want, "simd {} seed {seed} len {len}: {hay:?}", k.is_simd());
            }
        }
    }

    /// Every built-in rule's keywords, deduplicated.
    fn builtin_keywords() -> Vec<String> {
        let rules = crate::detect::RuleSet::builtin();
        let mut kws: Vec<String> = rules.rules().iter().flat_map(|r| r.keywords.clone()).collect();
        kws.sort();
        kws.dedup();
        kws
    }

    #[test]
    fn builtin_keywords_agree_with_the_automaton() {
        let kws = builtin_keywords();
        let refs: Vec<&str> = kws.iter().map(String::as_str).collect();
        let k = Keywords::new(&refs).unwrap();
        assert!(k.is_filtered(), "the built-in set must use the filter");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(k.is_simd(), std::arch::is_x86_feature_detected!("avx512vbmi"));
        assert!(!Keywords::new_portable(&refs).unwrap().is_simd());
        for seed in 1..40 {
            agrees_with_automaton(&refs, seed);
        }
    }

    #[test]
    fn overlapping_and_nested_keywords_are_all_found() {
        let kws = ["secret", "secret_access_key", "access_key", "key", "ke", "cret_a", "ss"];
        assert!(Keywords::new(&kws).unwrap().is_filtered());
        for seed in 1..60 {
            agrees_with_automaton(&kws, seed);
        }
        let k = Keywords::new(&kws).unwrap();
        assert_eq!(found(&k, b"AWS_SECRET_ACCESS_KEY").len(), expected(&kws, b"AWS_SECRET_ACCESS_KEY").len());
    }

    #[test]
    fn two_byte_keywords_are_found_at_the_very_end() {
        let k = Keywords::new(&["q~", "xyz"]).unwrap();
        assert!(k.is_filtered());
        assert_eq!(found(&k, b"Q~"), [(0, 2, 0)]);
        assert_eq!(found(&k, b"abcq~"), [(3, 5, 0)]);
        assert_eq!(found(&k, b"q~xyz"), [(0, 2, 0), (2, 5, 1)]);
    }

    #[test]
    fn one_byte_keywords_fall_back_to_the_automaton() {
        let kws = ["$", "token", "ab"];
        let k = Keywords::new(&kws).unwrap();
        assert!(!k.is_filtered());
        for seed in 1..10 {
            agrees_with_automaton(&kws, seed);
        }
    }

    #[test]
    fn a_set_too_large_to_filter_falls_back_to_the_automaton() {
        let mut rng = Rng(11);
        // Most three-letter words: every bucket's byte sets fill with every letter.
        let kws: Vec<String> =
            (0..8000).map(|_| (0..3).map(|_| char::from(b'a' + rng.below(26) as u8)).collect()).collect();
        let refs: Vec<&str> = kws.iter().map(String::as_str).collect();
        assert!(
            !Keywords::new(&refs).unwrap().is_filtered(),
            "8000 three-letter words saturate every bucket"
        );
        agrees_with_automaton(&refs, 7);
    }

    /// Every byte value at every position of a block, so each table entry of both first stages
    /// is read: a two-byte keyword made of any byte and each byte value around it.
    #[test]
    fn every_byte_value_is_looked_up_alike() {
        for v in 0..=255u8 {
            let kws: [&[u8]; 3] = [&[v, b'~'], &[b'q', v, b'z'], &[0x80 | v, v, v]];
            let mut hay: Vec<u8> = (0..=255u8).collect();
            hay.extend([v, b'~', b'q', v, b'z', 0x80 | v, v, v]);
            hay.extend((0..=255u8).rev());
            let want = expected(&kws, &hay);
            for k in [Keywords::new(&kws).unwrap(), Keywords::new_portable(&kws).unwrap()] {
                assert!(k.is_filtered());
                assert_eq!(found(&k, &hay), want, "byte {v} simd {}", k.is_simd());
            }
        }
    }

    /// Input that passes the filter at most positions is searched by the DFA part of the way:
    /// nothing is lost or reported twice at either switch, wherever it falls.
    #[test]
    fn dense_input_switches_to_the_automaton_without_losing_a_match() {
        let kws = builtin_keywords();
        let refs: Vec<&str> = kws.iter().map(String::as_str).collect();
        // Every lead modulo the unit length, so some anchor falls right before, on and after the
        // block boundary where the switch happens.
        let units: [&[u8]; 5] = [b"_key", b"http", b"xttp", b"q~Q~", b"ghp_akia"];
        for (lead, unit) in units.iter().flat_map(|u| (0..u.len()).map(move |l| (l, *u))) {
            let mut hay = vec![b' '; lead];
            hay.extend(unit.iter().cycle().take(DENSE_SPAN + DENSE_RUN + 3 * BLOCK + 77));
            hay.extend_from_slice(b" aws_secret_access_key=x api_key glpat- -----BEGIN ");
            let want = expected(&refs, &hay);
            for k in [Keywords::new(&refs).unwrap(), Keywords::new_portable(&refs).unwrap()] {
                assert_eq!(found(&k, &hay), want, "lead {lead} unit {unit:?} simd {}", k.is_simd());
            }
        }
    }

    #[test]
    fn no_keywords_find_nothing() {
        let k = Keywords::new::<&str>(&[]).unwrap();
        assert!(found(&k, b"anything").is_empty());
    }

    #[test]
    fn non_ascii_bytes_match_exactly() {
        let kws: [&[u8]; 2] = [b"\xc3\xa9t\xc3\xa9", b"\xff\x00\xfe"];
        let hay = b"..\xc3\xa9T\xc3\xa9..\xff\x00\xfe..\xc3\x89t\xc3\xa9";
        for k in [Keywords::new(&kws).unwrap(), Keywords::new_portable(&kws).unwrap()] {
            assert_eq!(found(&k, hay), expected(&kws, hay));
            assert_eq!(found(&k, hay).len(), 2);
        }
    }
}
