//! The keyword filter's first stage with AVX-512 VBMI: 64 positions at a time.
//!
//! `vpermi2b` looks up 64 bytes at once in a 128-entry byte table; two lookups and a blend on
//! the top bit make a 256-entry table. When no anchor names a byte of 128 or more (keywords are
//! ASCII; a short keyword's anchor takes any byte after it), every table's upper half is one
//! value, so one lookup and a masked move of that value do. Each of the filter's four lanes is
//! split into rounds of eight buckets, one byte table per lane and round, so one round is four
//! such lookups (the block, the block shifted by one, two and three) and an AND. The positions
//! whose AND is non-zero in any round are exactly the positions the portable filter passes: same
//! lanes, same buckets.
//!
//! The second stage, the anchor bit set, is tested only at the positions that pass, one load
//! each; but the folding and hashing of every position's anchor bytes ([`super::bit_of`]) is done
//! here sixteen positions per instruction, from the same four loads: the dwords of the load at
//! offset `k` are the little-endian four-byte windows at positions `k, k + 4, .., k + 60`.
//!
//! # Safety
//!
//! [`Vbmi::new`] returns `None` unless the CPU has AVX-512 F, BW and VBMI, and a [`Vbmi`] exists
//! only after that check, which is what makes calling its `#[target_feature]` functions sound.
//! Every load reads 64 bytes inside a `&[u8; BLOCK_READ]` it is given, and every store writes 64
//! bytes into a `[u32; 16]`.

use std::arch::x86_64::{
    __m512i, _mm512_and_si512, _mm512_cmplt_epu8_mask, _mm512_loadu_si512, _mm512_mask_add_epi8,
    _mm512_mask_blend_epi8, _mm512_mask_mov_epi8, _mm512_movepi8_mask, _mm512_mullo_epi32, _mm512_or_si512,
    _mm512_permutex2var_epi8, _mm512_set1_epi32, _mm512_set1_epi8, _mm512_setzero_si512, _mm512_srli_epi32,
    _mm512_storeu_si512, _mm512_sub_epi8, _mm512_test_epi8_mask, _mm512_xor_si512,
};

use super::{salt, ANCHOR_BITS, ANCHOR_WORDS, BLOCK_READ, BUCKETS, GRAM, HASH_MUL, HASH_SHIFT};

/// Rounds of eight buckets that cover [`BUCKETS`].
const ROUNDS: usize = BUCKETS.div_ceil(8);

/// Byte tables: `[round][lane][quarter]`, quarter `q` holding byte values `64q..64q + 64`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Vbmi {
    tables: [[[__m512i; 4]; GRAM]; ROUNDS],
    /// Per anchor width in use: the mask of its bytes in a little-endian dword, its salt, and
    /// whether it is looked up where the short anchors' rounds passed (else the others').
    widths: [(u32, u32, bool); GRAM],
    /// Per round: whether its buckets hold the anchors shorter than [`GRAM`].
    short: [bool; ROUNDS],
    /// How many of `widths` are in use.
    used: usize,
    /// Every table's upper half (bytes 128 to 255) holds one value.
    uniform_top: bool,
}

impl Vbmi {
    /// The tables for `lanes` (the portable filter's) and anchors of `widths` bytes (each 1 to
    /// [`GRAM`]), the shorter ones in the buckets of `short` (whole rounds), or `None` without
    /// the CPU features.
    pub(super) fn new(lanes: &[u128; 256], widths: &[usize], short: u32) -> Option<Vbmi> {
        let supported = std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vbmi");
        let rounds: [u32; ROUNDS] = std::array::from_fn(|r| short >> (8 * r) & 0xff);
        if !supported || widths.len() > GRAM || rounds.iter().any(|&r| r != 0 && r != 0xff) {
            return None;
        }
        let mut w = [(0, 0, false); GRAM];
        for (to, &width) in w.iter_mut().zip(widths) {
            *to = (u32::MAX >> (8 * (GRAM - width)), salt(width), width < GRAM);
        }
        let mut bytes = [[[[0u8; 64]; 4]; GRAM]; ROUNDS];
        for (v, &lane) in lanes.iter().enumerate() {
            for (round, tables) in bytes.iter_mut().enumerate() {
                for (k, quarters) in tables.iter_mut().enumerate() {
                    let bits = lane >> (k * BUCKETS + round * 8);
                    let width = (BUCKETS - round * 8).min(8);
                    quarters[v / 64][v % 64] = (bits & ((1 << width) - 1)) as u8;
                }
            }
        }
        // SAFETY: the features were detected just above.
        let tables = unsafe { Vbmi::load(&bytes) };
        let uniform_top = bytes.iter().flatten().all(|q| q[2..].iter().flatten().all(|&b| b == q[2][0]));
        Some(Vbmi { tables, widths: w, short: rounds.map(|r| r != 0), used: widths.len(), uniform_top })
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn load(bytes: &[[[[u8; 64]; 4]; GRAM]; ROUNDS]) -> [[[__m512i; 4]; GRAM]; ROUNDS] {
        let mut tables = [[[_mm512_setzero_si512(); 4]; GRAM]; ROUNDS];
        for (t, b) in tables.iter_mut().flatten().flatten().zip(bytes.iter().flatten().flatten()) {
            // SAFETY: `b` is 64 readable bytes; the load is unaligned.
            *t = unsafe { _mm512_loadu_si512(b.as_ptr().cast()) };
        }
        tables
    }

    /// Bit `i` set: the anchor at `block[i..i + GRAM]` passes the first stage and, at some
    /// width in use, its folded bytes have their bit set in `bits`.
    #[inline]
    pub(super) fn candidates(&self, block: &[u8; BLOCK_READ], bits: &[u64; ANCHOR_WORDS]) -> u64 {
        // SAFETY: a `Vbmi` exists only where `new` found the features.
        unsafe {
            if self.uniform_top {
                self.candidates_vbmi::<true>(block, bits)
            } else {
                self.candidates_vbmi::<false>(block, bits)
            }
        }
    }

    /// `UNIFORM_TOP`: [`Vbmi::uniform_top`] holds, so each table lookup is one permutation.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    unsafe fn candidates_vbmi<const UNIFORM_TOP: bool>(
        &self,
        block: &[u8; BLOCK_READ],
        bits: &[u64; ANCHOR_WORDS],
    ) -> u64 {
        let p = block.as_ptr();
        // SAFETY: `block` holds BLOCK + GRAM - 1 = 67 bytes, so 64 bytes from offsets 0 to 3
        // are inside it; the loads are unaligned.
        let mut x = [_mm512_setzero_si512(); GRAM];
        let mut high = [0u64; GRAM];
        for k in 0..GRAM {
            x[k] = unsafe { _mm512_loadu_si512(p.add(k).cast()) };
            high[k] = _mm512_movepi8_mask(x[k]);
        }
        let (mut long, mut short) = (_mm512_setzero_si512(), _mm512_setzero_si512());
        for (round, &is_short) in self.tables.iter().zip(&self.short) {
            let mut all = lookup::<UNIFORM_TOP>(x[0], high[0], &round[0]);
            for k in 1..GRAM {
                all = _mm512_and_si512(all, lookup::<UNIFORM_TOP>(x[k], high[k], &round[k]));
            }
            if is_short {
                short = _mm512_or_si512(short, all);
            } else {
                long = _mm512_or_si512(long, all);
            }
        }
        let (long, short) = (_mm512_test_epi8_mask(long, long), _mm512_test_epi8_mask(short, short));
        if long | short == 0 {
            return 0;
        }
        let (a, letters, case) = (_mm512_set1_epi8(b'A' as i8), _mm512_set1_epi8(26), _mm512_set1_epi8(0x20));
        for x in &mut x {
            let upper = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(*x, a), letters);
            *x = _mm512_mask_add_epi8(*x, upper, *x, case);
        }
        let mut kept = 0u64;
        for &(mask, salt, is_short) in &self.widths[..self.used] {
            let mut rest = if is_short { short } else { long };
            if rest == 0 {
                continue;
            }
            // `at[k][m]`: the bit of the anchor at position 4m + k.
            let mut at = [[0u32; 16]; GRAM];
            for (at, x) in at.iter_mut().zip(x) {
                let h = hash(_mm512_and_si512(x, _mm512_set1_epi32(mask as i32)), salt);
                // SAFETY: `at` is 64 writable bytes; the store is unaligned.
                unsafe { _mm512_storeu_si512(at.as_mut_ptr().cast(), h) };
            }
            while rest != 0 {
                let i = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                let bit = at[i % GRAM][i / GRAM] as usize;
                kept |= (bits[bit / 64 % ANCHOR_WORDS] >> (bit % 64) & 1) << i;
            }
        }
        kept
    }
}

/// [`super::bit_of`] of sixteen folded, masked keys at once.
#[inline]
#[target_feature(enable = "avx512f")]
fn hash(key: __m512i, salt: u32) -> __m512i {
    let mixed = _mm512_xor_si512(key, _mm512_srli_epi32::<HASH_SHIFT>(key));
    let mixed = _mm512_xor_si512(mixed, _mm512_set1_epi32(salt as i32));
    _mm512_srli_epi32::<{ 32 - ANCHOR_BITS }>(_mm512_mullo_epi32(mixed, _mm512_set1_epi32(HASH_MUL as i32)))
}

/// 256-entry byte table lookup of every byte of `x` (`high`: their top bits); with
/// `UNIFORM_TOP`, the table's upper half is known to hold one value, the whole of `t[2]`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn lookup<const UNIFORM_TOP: bool>(x: __m512i, high: u64, t: &[__m512i; 4]) -> __m512i {
    if UNIFORM_TOP {
        return _mm512_mask_mov_epi8(_mm512_permutex2var_epi8(t[0], x, t[1]), high, t[2]);
    }
    let low = _mm512_permutex2var_epi8(t[0], x, t[1]);
    let up = _mm512_permutex2var_epi8(t[2], x, t[3]);
    _mm512_mask_blend_epi8(high, low, up)
}
