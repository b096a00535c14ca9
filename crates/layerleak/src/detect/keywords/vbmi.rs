//! The keyword filter's first stage with AVX-512 VBMI: 64 positions at a time.
//!
//! `vpermi2b` looks up 64 bytes at once in a 128-entry byte table; two lookups and a blend on
//! the top bit make a 256-entry table. Each of the filter's four lanes is split into rounds of
//! eight buckets, one byte table per lane and round, so one round is four such lookups (the
//! block, the block shifted by one, two and three) and an AND. The positions whose AND is non-zero in any
//! round are exactly the positions the portable filter passes: same lanes, same buckets.
//!
//! # Safety
//!
//! [`Vbmi::new`] returns `None` unless the CPU has AVX-512 F, BW and VBMI, and a [`Vbmi`] exists
//! only after that check, which is what makes calling its `#[target_feature]` functions sound.
//! Every load reads 64 bytes inside a `&[u8; BLOCK_READ]` it is given.

use std::arch::x86_64::{
    __m512i, _mm512_and_si512, _mm512_loadu_si512, _mm512_mask_blend_epi8, _mm512_movepi8_mask,
    _mm512_or_si512, _mm512_permutex2var_epi8, _mm512_setzero_si512, _mm512_test_epi8_mask,
};

use super::{BLOCK_READ, BUCKETS, GRAM};

/// Rounds of eight buckets that cover [`BUCKETS`].
const ROUNDS: usize = BUCKETS.div_ceil(8);

/// Byte tables: `[round][lane][quarter]`, quarter `q` holding byte values `64q..64q + 64`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Vbmi {
    tables: [[[__m512i; 4]; GRAM]; ROUNDS],
}

impl Vbmi {
    /// The tables for `lanes` (the portable filter's), or `None` without the CPU features.
    pub(super) fn new(lanes: &[u128; 256]) -> Option<Vbmi> {
        let supported = std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vbmi");
        if !supported {
            return None;
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
        Some(unsafe { Vbmi::load(&bytes) })
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn load(bytes: &[[[[u8; 64]; 4]; GRAM]; ROUNDS]) -> Vbmi {
        let mut tables = [[[_mm512_setzero_si512(); 4]; GRAM]; ROUNDS];
        for (t, b) in tables.iter_mut().flatten().flatten().zip(bytes.iter().flatten().flatten()) {
            // SAFETY: `b` is 64 readable bytes; the load is unaligned.
            *t = unsafe { _mm512_loadu_si512(b.as_ptr().cast()) };
        }
        Vbmi { tables }
    }

    /// Bit `i` set: the anchor at `block[i..i + GRAM]` passes the filter.
    #[inline]
    pub(super) fn passes(&self, block: &[u8; BLOCK_READ]) -> u64 {
        // SAFETY: a `Vbmi` exists only where `new` found the features.
        unsafe { self.passes_vbmi(block) }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    unsafe fn passes_vbmi(&self, block: &[u8; BLOCK_READ]) -> u64 {
        let p = block.as_ptr();
        // SAFETY: `block` holds BLOCK + GRAM - 1 = 67 bytes, so 64 bytes from offsets 0 to 3
        // are inside it; the loads are unaligned.
        let mut x = [_mm512_setzero_si512(); GRAM];
        let mut high = [0u64; GRAM];
        for k in 0..GRAM {
            x[k] = unsafe { _mm512_loadu_si512(p.add(k).cast()) };
            high[k] = _mm512_movepi8_mask(x[k]);
        }
        let mut any = _mm512_setzero_si512();
        for round in &self.tables {
            let mut all = lookup(x[0], high[0], &round[0]);
            for k in 1..GRAM {
                all = _mm512_and_si512(all, lookup(x[k], high[k], &round[k]));
            }
            any = _mm512_or_si512(any, all);
        }
        _mm512_test_epi8_mask(any, any)
    }
}

/// 256-entry byte table lookup of every byte of `x` (`high`: their top bits).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn lookup(x: __m512i, high: u64, t: &[__m512i; 4]) -> __m512i {
    let low = _mm512_permutex2var_epi8(t[0], x, t[1]);
    let up = _mm512_permutex2var_epi8(t[2], x, t[3]);
    _mm512_mask_blend_epi8(high, low, up)
}
