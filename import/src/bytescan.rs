//! Byte scanning for the hot paths: the first occurrence of a byte (line
//! splitting) and bitmasks of spaces and brackets over 64-byte blocks
//! (the LOG tokenizer); and a cache prefetch hint (the duplicate window).
//! SSE2 on x86_64 (16 bytes per compare), eight bytes at a time in a `u64`
//! elsewhere; both give the same answers, which the tests check.
//!
//! The SSE/SSE2 intrinsics are `#[target_feature]` functions, so calling
//! them needs `unsafe`: the only requirement is that the CPU has the
//! feature, which every x86_64 CPU has (both are part of the x86_64
//! baseline, and this code is compiled only when the `target_feature` is
//! on). The intrinsics work on registers; slices are read only through
//! safe indexing.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in the bytes of `x` that are zero; the lowest flagged
/// byte is always exact (borrows only run upwards).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

/// Position of the first `b` in `hay`, eight bytes at a time.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline]
fn find_byte_swar(hay: &[u8], b: u8) -> Option<usize> {
    let rep = LO.wrapping_mul(b as u64);
    let mut at = 0;
    for c in hay.chunks_exact(8) {
        if let Some(w) = c.first_chunk::<8>() {
            let z = zero_bytes(u64::from_le_bytes(*w) ^ rep);
            if z != 0 {
                return Some(at + (z.trailing_zeros() / 8) as usize);
            }
        }
        at += 8;
    }
    hay[at..].iter().position(|&c| c == b).map(|p| at + p)
}

#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
/// Bit k set when byte k of `w` equals the byte repeated in `rep`
/// (exact, no false positives).
#[inline(always)]
fn eq_bits8(w: u64, rep: u64) -> u64 {
    const M7F: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let x = w ^ rep;
    let zero = !(((x & M7F).wrapping_add(M7F)) | x | M7F);
    // gather the eight high bits into one byte, byte k -> bit k
    ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// (spaces, brackets) bitmasks of a 64-byte block, eight bytes at a time.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline]
fn masks64_swar(block: &[u8; 64]) -> (u64, u64) {
    let (mut spaces, mut brackets) = (0u64, 0u64);
    for (k, part) in block.chunks_exact(8).enumerate() {
        if let Some(a) = part.first_chunk::<8>() {
            let w = u64::from_le_bytes(*a);
            spaces |= eq_bits8(w, LO * b' ' as u64) << (8 * k);
            brackets |= (eq_bits8(w, LO * b'[' as u64) | eq_bits8(w, LO * b']' as u64)) << (8 * k);
        }
    }
    (spaces, brackets)
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x,
    };

    /// 16 bytes as a vector (two safe 8-byte loads; the compiler makes
    /// one unaligned load of them).
    #[inline(always)]
    fn load(c: &[u8; 16]) -> __m128i {
        let (mut lo, mut hi) = ([0u8; 8], [0u8; 8]);
        lo.copy_from_slice(&c[..8]);
        hi.copy_from_slice(&c[8..]);
        // SAFETY: SSE2 is enabled for this build (module cfg)
        unsafe { _mm_set_epi64x(i64::from_le_bytes(hi), i64::from_le_bytes(lo)) }
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
        let needle = _mm_set1_epi8(b as i8);
        let mut at = 0;
        let mut pairs = hay.chunks_exact(32);
        for c in &mut pairs {
            let (Some(x), Some(y)) = (c.first_chunk::<16>(), c.last_chunk::<16>()) else {
                break;
            };
            let mx = _mm_cmpeq_epi8(load(x), needle);
            let my = _mm_cmpeq_epi8(load(y), needle);
            let m = _mm_movemask_epi8(_mm_or_si128(mx, my));
            if m != 0 {
                let lo = _mm_movemask_epi8(mx) as u32;
                let hi = _mm_movemask_epi8(my) as u32;
                return Some(at + ((hi << 16) | lo).trailing_zeros() as usize);
            }
            at += 32;
        }
        let rest = pairs.remainder();
        if let Some(x) = rest.first_chunk::<16>() {
            let m = _mm_movemask_epi8(_mm_cmpeq_epi8(load(x), needle));
            if m != 0 {
                return Some(at + m.trailing_zeros() as usize);
            }
            at += 16;
        }
        hay[at..].iter().position(|&c| c == b).map(|p| at + p)
    }

    /// Plain code (not a `#[target_feature]` function) so that it
    /// inlines into the tokenizer's loop.
    #[inline(always)]
    pub(super) fn masks64(block: &[u8; 64]) -> (u64, u64) {
        // SAFETY: SSE2 is enabled for this build (module cfg); the
        // intrinsics only compute on registers.
        unsafe {
            let sp = _mm_set1_epi8(b' ' as i8);
            let open = _mm_set1_epi8(b'[' as i8);
            let close = _mm_set1_epi8(b']' as i8);
            let (mut spaces, mut brackets) = (0u64, 0u64);
            for (k, part) in block.chunks_exact(16).enumerate() {
                if let Some(c) = part.first_chunk::<16>() {
                    let v = load(c);
                    let s = _mm_movemask_epi8(_mm_cmpeq_epi8(v, sp)) as u16 as u64;
                    let b = _mm_movemask_epi8(_mm_or_si128(
                        _mm_cmpeq_epi8(v, open),
                        _mm_cmpeq_epi8(v, close),
                    )) as u16 as u64;
                    spaces |= s << (16 * k);
                    brackets |= b << (16 * k);
                }
            }
            (spaces, brackets)
        }
    }
}

/// Asks the CPU to start loading the cache line of `x` (a hint: no
/// effect on results; nothing on targets without SSE).
#[inline]
pub fn prefetch<T>(x: &T) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    {
        #[target_feature(enable = "sse")]
        fn hint(p: *const i8) {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(p);
        }
        // SAFETY: SSE is enabled for this build (cfg above), so the CPU
        // has it; a prefetch never faults and reads nothing into Rust.
        unsafe { hint(x as *const T as *const i8) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    {
        let _ = x;
    }
}

/// Position of the first `b` in `hay`.
#[inline]
pub fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: SSE2 is enabled for this build (cfg above), so the CPU
        // has it; the function itself does only safe slice accesses.
        unsafe { sse2::find_byte(hay, b) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        find_byte_swar(hay, b)
    }
}

/// Bitmasks of a 64-byte block: bit k of the first is set when byte k is
/// a space, of the second when it is `[` or `]`.
#[inline(always)]
pub fn masks64(block: &[u8; 64]) -> (u64, u64) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::masks64(block)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        masks64_swar(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rnd_bytes(seed: u64, n: usize, alphabet: &[u8]) -> Vec<u8> {
        let mut rng = crate::TestRng(seed | 1);
        (0..n)
            .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
            .collect()
    }

    #[test]
    fn find_byte_finds_the_first() {
        for n in 0..100 {
            for seed in 1..20 {
                let h = rnd_bytes(seed * 7919 + n as u64, n, b"abcdefghij\n\x80\xff ");
                for b in [b'\n', b' ', 0x80, 0xff, b'z'] {
                    let want = h.iter().position(|&c| c == b);
                    assert_eq!(find_byte(&h, b), want, "{h:?} {b}");
                    assert_eq!(find_byte_swar(&h, b), want, "{h:?} {b}");
                }
            }
        }
    }

    #[test]
    fn masks_mark_spaces_and_brackets() {
        for seed in 1..500 {
            let v = rnd_bytes(seed, 64, b"ab []=\0\x80\xa0\xdb\xdd\x7f");
            let mut block = [0u8; 64];
            block.copy_from_slice(&v);
            let (mut s, mut b) = (0u64, 0u64);
            for (i, &c) in block.iter().enumerate() {
                s |= ((c == b' ') as u64) << i;
                b |= ((c == b'[' || c == b']') as u64) << i;
            }
            assert_eq!(masks64(&block), (s, b));
            assert_eq!(masks64_swar(&block), (s, b));
        }
    }
}
