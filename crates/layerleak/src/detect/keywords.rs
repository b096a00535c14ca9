//! Keyword search: every occurrence of every rule keyword, ASCII case-insensitively, overlapping
//! occurrences included. It reports exactly what an overlapping Aho-Corasick search over the same
//! keywords reports, faster (figures in `benches/README.md`, the `detect` bench).
//!
//! Why not the automaton itself: a DFA over a couple of thousand case-insensitive keywords has a
//! transition table of megabytes, and every input byte is one dependent load into it. Keyword hits
//! are rare (one per few hundred bytes of real files at worst), so a filter that rejects almost
//! every position with independent work, and looks closer only where it must, does less:
//!
//! 1. Every keyword of four bytes or more stands for itself by [`GRAM`] of its bytes, the four
//!    rarest together: by [`GRAM_FREQ`] where they make a common window of real files, else by
//!    [`BYTE_FREQ`]; a shorter keyword by all its bytes and any byte after.
//!    These anchors are spread greedily over [`BUCKETS`] buckets so that each bucket's four byte
//!    sets stay rare together; anchors shorter than four bytes (which pass on any byte after
//!    them) get buckets of their own, so that they neither make the others' buckets pass on
//!    three bytes nor have every passing position looked up at every width.
//! 2. Every byte value maps to a `u128` of four lanes: bit `b` of lane `k` says the byte may be
//!    byte `k` of an anchor in bucket `b`. A position passes when the AND of its four bytes'
//!    lanes is not zero. The portable first stage does that with one table load per byte and no
//!    branch inside a 64-byte block; with AVX-512 VBMI (`vbmi`) the same lanes are looked up 64
//!    bytes per instruction.
//! 3. With thousands of keywords, most of them made of letters, every bucket's sets hold most
//!    letters and text passes the first stage often (about one position in ten). So a passing
//!    position's folded anchor bytes, at the widths of the buckets it passed, are looked up in a
//!    32 KiB bit set of every anchor, without a branch; about one in a hundred positions is left.
//! 4. There the exact anchor is looked up in a hash table and the keywords it stands for are
//!    compared in full.
//!
//! A one-byte (or empty) keyword gives nothing to filter on, and a keyword set so large that the
//! estimated pass rate exceeds [`MAX_PASS_RATE`] would make the filter slower than the automaton;
//! both fall back to an Aho-Corasick DFA, which finds the same occurrences. So do the next 64 KiB
//! wherever more than one position in 16 over 4 KiB passes the bit set (keyword after keyword, or
//! bytes crafted to pass): the worst case is about the automaton's speed, not the filter's checks
//! one by one.

#[cfg(target_arch = "x86_64")]
mod vbmi;

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::byte_freq::BYTE_FREQ;
use super::gram_freq::GRAM_FREQ;
use crate::error::Error;

/// Bytes of the anchor every keyword is filtered by (fewer for shorter keywords).
const GRAM: usize = 4;
/// Buckets of the filter: four lanes of 32 bits fill a `u128`.
const BUCKETS: usize = 32;
/// Bits of one lane.
const LANE_MASK: u128 = (1 << BUCKETS) - 1;
/// Buckets of the anchors shorter than [`GRAM`] when there are longer ones too: the last round
/// of eight of the SIMD first stage.
const SHORT_BUCKETS: usize = 8;
/// Bits of the anchor bit set's index: 2^18 bits, 32 KiB, so it stays in L1 and a few thousand
/// anchors fill under one percent of it.
const ANCHOR_BITS: u32 = 18;
/// The anchor bit set's `u64` words.
const ANCHOR_WORDS: usize = 1 << (ANCHOR_BITS - 6);
/// Multiplier of the anchor hash ([`bit_of`]).
const HASH_MUL: u32 = 0x9E37_79B1;
/// The anchor hash first folds a key's high bits onto its low bits by this shift, so that every
/// byte of the key reaches the product's top bits.
const HASH_SHIFT: u32 = 15;
/// Positions tested per block before any branch.
const BLOCK: usize = 64;
/// Bytes one block reads: a position's anchor may run past the block's last position.
const BLOCK_READ: usize = BLOCK + GRAM - 1;
/// How much more often two adjacent letters occur than their frequencies alone say.
const LETTER_RUN: f64 = 3.0;
/// How much more often a byte repeats (`---`, `aaa`, `\0\0`) than its frequency alone says.
const SAME_RUN: f64 = 20.0;
/// Above this estimated share of passing positions the DFA is used instead. The estimate counts
/// each bucket's byte sets as independent and is low for letter-heavy sets (the catalogue's
/// keywords pass about ten times more text than estimated); the bit set behind the first stage
/// is what keeps the filter ahead of the DFA then.
const MAX_PASS_RATE: f64 = 0.04;
/// Bytes over which the filter's real pass rate is watched.
const DENSE_SPAN: usize = 64 * BLOCK;
/// More positions passing the bit set than this in one span (one in 16) and the DFA takes over for the next
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
/// included: the matches of an overlapping Aho-Corasick search, found by a four-byte anchor filter (with
/// AVX-512 VBMI where the CPU has it) that rejects almost every position cheaply and compares
/// whole keywords only where a keyword's rarest four bytes occur. One-byte keywords and sets too
/// large to filter fall back to an Aho-Corasick DFA.
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
    /// Per byte value: lane `k` in bits `32k..32k + 32` says in which buckets the byte may be
    /// byte `k` of an anchor.
    lanes: [u128; 256],
    /// The exact anchors, one table per anchor width in use (four bytes, and three or two for
    /// keywords that short), widest first.
    tables: Vec<Table>,
    /// The buckets of anchors shorter than [`GRAM`]: a position that passes only through other
    /// buckets is looked up at four bytes alone, one that passes only through these at the
    /// shorter widths alone.
    short: u32,
    /// The second stage: bit [`bit_of`] of every anchor, so that most positions that pass the
    /// first stage by a mix of several anchors' bytes are dropped with one load.
    bits: Box<[u64; ANCHOR_WORDS]>,
    /// Every keyword, as given.
    keywords: Vec<Box<[u8]>>,
    /// The first stage, and the folding and hashing of every position for the second, with
    /// AVX-512 VBMI, when the CPU has it.
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

/// The keywords anchored by `width` bytes, grouped by the hash slot of their folded anchor.
#[derive(Debug, Clone)]
struct Table {
    width: usize,
    entries: Vec<Entry>,
    /// `entries[slots[h]..slots[h + 1]]` are the entries of hash slot `h`.
    slots: Vec<u32>,
    /// Bits of the slot hash.
    slot_bits: u32,
}

impl Table {
    fn new(width: usize, mut entries: Vec<Entry>) -> Table {
        let slot_bits = (entries.len() * 4).next_power_of_two().trailing_zeros().max(4);
        entries.sort_by_key(|e| slot(e.key, slot_bits));
        let mut slots = vec![0u32; (1 << slot_bits) + 1];
        for e in &entries {
            slots[slot(e.key, slot_bits) + 1] += 1;
        }
        for i in 1..slots.len() {
            slots[i] += slots[i - 1];
        }
        Table { width, entries, slots, slot_bits }
    }

    /// The entries whose anchor may be `key`.
    #[inline]
    fn candidates(&self, key: u32) -> &[Entry] {
        let at = slot(key, self.slot_bits);
        &self.entries[self.slots[at] as usize..self.slots[at + 1] as usize]
    }
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
    #[cfg(any(test, feature = "bench"))]
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

    /// Whether the anchor filter is in use (false: the Aho-Corasick fallback, or no keywords).
    #[cfg(any(test, feature = "bench"))]
    pub fn is_filtered(&self) -> bool {
        matches!(self.imp, Imp::Filter(_))
    }

    /// Whether the filter's first stage runs with SIMD instructions (AVX-512 VBMI).
    #[cfg(any(test, feature = "bench"))]
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

/// An anchor: the bytes a keyword is filtered by (`None`: any byte, past a short keyword's end).
type Anchor = [Option<u8>; GRAM];

/// The byte sets of one bucket, as probabilities of a byte falling in each.
struct Bucket {
    sets: [[bool; 256]; GRAM],
    prob: [f64; GRAM],
}

impl Bucket {
    fn new() -> Bucket {
        Bucket { sets: [[false; 256]; GRAM], prob: [0.0; GRAM] }
    }

    fn cost(&self) -> f64 {
        self.prob.iter().product()
    }

    fn add(&mut self, bytes: Anchor) {
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
    fn cost_with(&self, bytes: Anchor) -> f64 {
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
        let mut by_width: [Vec<Entry>; GRAM + 1] = Default::default();
        let mut anchors: Vec<Anchor> = Vec::new();
        let mut offsets = Vec::with_capacity(keywords.len());
        let rare = rare_window();
        for (i, kw) in keywords.iter().enumerate() {
            let kw = kw.as_ref();
            if kw.len() < 2 {
                return None;
            }
            let offset = rarest_anchor(kw, rare);
            let bytes = &kw[offset..kw.len().min(offset + GRAM)];
            by_width[bytes.len()].push(Entry { key: key(bytes), offset, keyword: i });
            let mut anchor = [None; GRAM];
            for (a, &b) in anchor.iter_mut().zip(bytes) {
                *a = Some(b);
            }
            anchors.push(anchor);
            offsets.push(offset);
        }
        // Anchors shorter than GRAM match any byte after them: in buckets of their own (one
        // round of eight when both kinds exist), they do not make the four-byte anchors'
        // buckets pass on three bytes, and each passing position is looked up at the widths of
        // the buckets it passed.
        let (long, short): (Vec<Anchor>, Vec<Anchor>) =
            anchors.into_iter().partition(|a| a[GRAM - 1].is_some());
        let short_buckets = match (long.is_empty(), short.is_empty()) {
            (_, true) => 0,
            (true, false) => BUCKETS,
            (false, false) => SHORT_BUCKETS,
        };
        let mut buckets = spread(long, BUCKETS - short_buckets);
        buckets.extend(spread(short, short_buckets));
        let short = if short_buckets == 0 { 0 } else { u32::MAX << (BUCKETS - short_buckets) };
        let pass_rate: f64 = buckets.iter().map(Bucket::cost).sum();
        if pass_rate > MAX_PASS_RATE {
            return None;
        }
        let mut lanes = [0u128; 256];
        for (bit, bucket) in buckets.iter().enumerate() {
            for (v, lane) in lanes.iter_mut().enumerate() {
                let f = usize::from(fold(v as u8));
                for k in 0..GRAM {
                    if bucket.sets[k][f] {
                        *lane |= 1 << (bit + k * BUCKETS);
                    }
                }
            }
        }
        // Widest first: most keywords are anchored by four bytes.
        let tables: Vec<Table> = by_width
            .into_iter()
            .enumerate()
            .rev()
            .filter(|(_, entries)| !entries.is_empty())
            .map(|(width, entries)| Table::new(width, entries))
            .collect();
        let mut bits = Box::new([0u64; ANCHOR_WORDS]);
        for t in &tables {
            for e in &t.entries {
                let bit = bit_of(e.key, t.width);
                bits[bit / 64] |= 1 << (bit % 64);
            }
        }
        let longest = keywords.iter().map(|k| k.as_ref().len()).max().unwrap_or(0);
        let keywords = keywords.iter().map(|k| k.as_ref().into()).collect();
        #[cfg(target_arch = "x86_64")]
        let vbmi = if simd {
            vbmi::Vbmi::new(&lanes, &tables.iter().map(|t| t.width).collect::<Vec<_>>(), short)
        } else {
            None
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = simd;
        Some(Filter {
            lanes,
            tables,
            short,
            bits,
            keywords,
            #[cfg(target_arch = "x86_64")]
            vbmi,
            anchors: offsets,
            longest,
            dense: OnceLock::new(),
        })
    }

    /// Whether position `p` passes the first stage; bytes past the end of `h` count as any byte.
    #[inline]
    fn pass_at(&self, h: &[u8], p: usize) -> bool {
        let mut m = LANE_MASK;
        for k in 0..GRAM {
            if let Some(&b) = h.get(p + k) {
                m &= self.lanes[usize::from(b)] >> (k * BUCKETS);
            }
        }
        m & LANE_MASK != 0
    }

    /// Bit `i` set: the anchor at `block[i..i + GRAM]` passes the first stage, through the
    /// four-byte anchors' buckets (first) and through the shorter ones' (second).
    #[inline]
    fn passes(&self, block: &[u8; BLOCK_READ]) -> (u64, u64) {
        let mut v = [0u128; BLOCK_READ];
        for (v, &b) in v.iter_mut().zip(block) {
            *v = self.lanes[usize::from(b)];
        }
        let at = |i: usize| {
            v[i] & (v[i + 1] >> BUCKETS) & (v[i + 2] >> (2 * BUCKETS)) & (v[i + 3] >> (3 * BUCKETS))
        };
        let mut any = 0;
        for i in 0..BLOCK {
            any |= at(i);
        }
        let (mut long, mut short) = (0u64, 0u64);
        let short_mask = u128::from(self.short);
        if any & LANE_MASK != 0 {
            for i in 0..BLOCK {
                let m = at(i);
                long |= u64::from(m & LANE_MASK & !short_mask != 0) << i;
                short |= u64::from(m & short_mask != 0) << i;
            }
        }
        (long, short)
    }

    /// Bit `i` set: position `i` of `block` passes both stages.
    #[inline]
    fn candidates(&self, block: &[u8; BLOCK_READ]) -> u64 {
        #[cfg(target_arch = "x86_64")]
        if let Some(v) = &self.vbmi {
            return v.candidates(block, &self.bits);
        }
        let (long, short) = self.passes(block);
        self.in_bit_set(block, long, short)
    }

    /// The positions of `long` whose four anchor bytes, and of `short` whose anchor bytes at a
    /// shorter width in use, are in the bit set. No branch depends on the bytes: the first stage
    /// passes many positions of letter-heavy text, and a mispredicted branch each would cost
    /// more than the test.
    #[inline]
    fn in_bit_set(&self, block: &[u8; BLOCK_READ], long: u64, short: u64) -> u64 {
        if long | short == 0 {
            return 0;
        }
        // Folded once, four bytes at a time, so each position is one load.
        let mut folded = [0u8; BLOCK_READ + 1];
        for (to, from) in folded.chunks_exact_mut(4).zip(block.chunks(4)) {
            let mut four = [0u8; 4];
            four[..from.len()].copy_from_slice(from);
            to.copy_from_slice(&fold4(u32::from_le_bytes(four)).to_le_bytes());
        }
        let mut kept = 0u64;
        for t in &self.tables {
            let mut passed = if t.width == GRAM { long } else { short };
            while passed != 0 {
                let i = passed.trailing_zeros() as usize;
                passed &= passed - 1;
                let four = u32::from_le_bytes([folded[i], folded[i + 1], folded[i + 2], folded[i + 3]]);
                let bit = bit_of(four & (u32::MAX >> (8 * (GRAM - t.width))), t.width);
                kept |= (self.bits[bit / 64] >> (bit % 64) & 1) << i;
            }
        }
        kept
    }

    fn search(&self, h: &[u8], f: &mut dyn FnMut(KeywordMatch)) {
        let mut p = 0;
        let (mut span, mut passes) = (0, 0);
        while let Some(block) = h.get(p..p + BLOCK_READ) {
            let Ok(block) = <&[u8; BLOCK_READ]>::try_from(block) else { break };
            let mut passed = self.candidates(block);
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
        // The last positions, one by one; the last byte alone holds no keyword.
        while p + 2 <= h.len() {
            if self.pass_at(h, p) {
                self.check(h, p, f);
            }
            p += 1;
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

    /// Looks closer at a position that passed the first stage: for each anchor width, whether
    /// the bytes there are in the anchor bit set, then the keywords anchored by exactly those
    /// bytes, compared in full. True when a bit set passed (what the density watch counts).
    #[inline]
    fn check(&self, h: &[u8], p: usize, f: &mut dyn FnMut(KeywordMatch)) -> bool {
        let mut passed = false;
        for t in &self.tables {
            let Some(bytes) = h.get(p..p + t.width) else { continue };
            let k = key(bytes);
            let bit = bit_of(k, t.width);
            if self.bits[bit / 64] & (1 << (bit % 64)) == 0 {
                continue;
            }
            passed = true;
            for e in t.candidates(k).iter().filter(|e| e.key == k) {
                let Some(start) = p.checked_sub(e.offset) else { continue };
                let kw = &self.keywords[e.keyword];
                let end = start + kw.len();
                if h.get(start..end).is_some_and(|s| s.eq_ignore_ascii_case(kw)) {
                    f(KeywordMatch { keyword: e.keyword, start, end });
                }
            }
        }
        passed
    }
}

/// Bit of the anchor bit set for the folded anchor `key` of `width` bytes: a multiplicative
/// hash, in 32 bits so that the AVX-512 stage computes it sixteen keys at a time.
#[inline]
fn bit_of(key: u32, width: usize) -> usize {
    let mixed = key ^ key >> HASH_SHIFT ^ salt(width);
    (mixed.wrapping_mul(HASH_MUL) >> (32 - ANCHOR_BITS)) as usize
}

/// What sets the anchors of one width apart from the others' in [`bit_of`].
fn salt(width: usize) -> u32 {
    (width as u32).wrapping_mul(0x2545_F491)
}

/// Hash slot of an anchor key.
fn slot(key: u32, bits: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> (32 - bits)) as usize
}

/// Folded bytes (at most four) as a little-endian number: the anchor lookup key.
#[inline]
fn key(bytes: &[u8]) -> u32 {
    match <[u8; 4]>::try_from(bytes) {
        Ok(four) => fold4(u32::from_le_bytes(four)),
        Err(_) => bytes.iter().rev().fold(0, |k, &b| k << 8 | u32::from(fold(b))),
    }
}

/// [`fold`] of each byte of `x` at once.
#[inline]
fn fold4(x: u32) -> u32 {
    let low = x & 0x7f7f_7f7f;
    // High bit of each byte: at least `A`, then at least `[`; `x`'s own high bit: not ASCII.
    let from_a = low + 0x3f3f_3f3f;
    let past_z = low + 0x2525_2525;
    let upper = from_a & !past_z & !x & 0x8080_8080;
    x | upper >> 2
}

/// Offset of the [`GRAM`] bytes of `kw` that are rarest together (0 for a shorter keyword).
fn rarest_anchor(kw: &[u8], rare: f64) -> usize {
    if kw.len() <= GRAM {
        return 0;
    }
    let score = |o: usize| {
        let mut a = [None; GRAM];
        let mut window = [0u8; GRAM];
        for ((a, w), &b) in a.iter_mut().zip(&mut window).zip(&kw[o..o + GRAM]) {
            *a = Some(b);
            *w = fold(b);
        }
        window_freq(window).unwrap_or_else(|| (anchor_weight(a) / 1e24).min(rare))
    };
    (0..=kw.len() - GRAM).min_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap_or(0)
}

/// The share of windows taken for one missing from [`GRAM_FREQ`] when its bytes alone say it is
/// more common: it is rarer than every window listed there, so at most as common as the least.
fn rare_window() -> f64 {
    GRAM_FREQ.iter().map(|&(_, f)| f64::from(f) / 1e7).fold(1.0, f64::min)
}

/// Share of real files' windows that are the folded `window`, when it is a common one.
fn window_freq(window: [u8; GRAM]) -> Option<f64> {
    let at = GRAM_FREQ.binary_search_by_key(&window, |&(w, _)| w).ok()?;
    Some(f64::from(GRAM_FREQ[at].1) / 1e7)
}

/// Estimated frequency of an anchor (`None`: any byte). Bytes are not independent: letters come
/// in runs (words), so each pair of adjacent letters counts [`LETTER_RUN`] times more often than
/// their frequencies alone say.
fn anchor_weight(t: Anchor) -> f64 {
    let pairs = || t.windows(2).filter_map(|w| w[0].zip(w[1]));
    let run = pairs().filter(|(a, b)| a.is_ascii_alphabetic() && b.is_ascii_alphabetic()).count();
    let same = pairs().filter(|(a, b)| fold(*a) == fold(*b)).count();
    t.iter().map(|b| b.map_or(1e6, freq)).product::<f64>()
        * LETTER_RUN.powi(run as i32)
        * SAME_RUN.powi(same as i32)
}

/// Spreads anchors over `n` buckets: the most frequent first, each to the bucket whose
/// estimated pass rate grows least.
fn spread(mut anchors: Vec<Anchor>, n: usize) -> Vec<Bucket> {
    anchors.sort_unstable();
    anchors.dedup();
    anchors.sort_by(|a, b| anchor_weight(*b).total_cmp(&anchor_weight(*a)));
    let mut buckets: Vec<Bucket> = (0..n).map(|_| Bucket::new()).collect();
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
        expected_by(&automaton(keywords).unwrap(), hay)
    }

    fn expected_by(ac: &AhoCorasick, hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out: Vec<_> =
            ac.find_overlapping_iter(hay).map(|m| (m.start(), m.end(), m.pattern().as_usize())).collect();
        out.sort_unstable();
        out
    }

    /// Random bytes from a small alphabet with keywords planted in random case, overlapping
    /// each other and at both ends, at every length around the block size.
    fn agrees_with_automaton(keywords: &[&str], seed: u64) {
        let both = [Keywords::new(keywords).unwrap(), Keywords::new_portable(keywords).unwrap()];
        let ac = automaton(keywords).unwrap();
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
            let want = expected_by(&ac, &hay);
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

    /// `window_freq` binary-searches the table: it must be sorted, and hold folded windows only.
    #[test]
    fn the_window_table_is_sorted_and_folded() {
        assert!(GRAM_FREQ.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(GRAM_FREQ.iter().all(|(w, _)| w.iter().all(|&b| b == fold(b))));
        assert!(window_freq(*b"form").is_some_and(|f| f > rare_window()));
        assert_eq!(window_freq(*b"glpa"), None);
    }

    /// `formstack` was anchored by `form`, a window of every HTML file, and `pass=` by the `ass=`
    /// of `class=`: their anchors matched 45,000 and 98,000 times over the bench corpus for no
    /// keyword at all.
    #[test]
    fn keywords_are_not_anchored_by_common_words() {
        let cases = [
            ("formstack", "form"),
            ("alicloud", "clou"),
            ("netdata", "data"),
            ("pass=", "ass="),
            ("freshservice", "rvic"),
        ];
        for (kw, common) in cases {
            let at = rarest_anchor(kw.as_bytes(), rare_window());
            assert_ne!(&kw[at..at + GRAM], common, "{kw}");
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
