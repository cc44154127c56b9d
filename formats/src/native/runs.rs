//! [`RunCoder`]: standard zstd frames for byte planes without zstd's match
//! search.
//!
//! A byte plane (one byte of one column, for every record of a block) has
//! few repeats beyond runs of one value: the high byte of small counters,
//! the rank of a common path. So the coder finds the runs itself (a word
//! at a time, which costs next to nothing on planes without runs), hands
//! them to zstd as matches at offset 1 and lets zstd entropy-code the rest
//! (`ZSTD_compressSequencesAndLiterals`, zstd's experimental API). On the
//! benchmark captures this is faster than zstd's fastest match finder and
//! the files come out slightly smaller. The frames are ordinary zstd
//! frames: the reader decompresses them like any other.

use zstd_sys as sys;

/// Shortest run of equal bytes coded as a match: shorter runs cost about
/// as much as a sequence as they do as entropy-coded literals. Runs of 15
/// or more always cover an aligned 8-byte word, which is how they are found.
const MIN_RUN: usize = 16;

/// Largest input: one zstd block (128 KiB), as explicit block delimiters
/// require; planes are at most `MAX_BLOCK_RECORDS` bytes.
const MAX_INPUT: usize = 128 << 10;

/// A zstd compression context used only through the sequence API, with
/// its sequence and literal buffers.
pub(crate) struct RunCoder {
    cctx: std::ptr::NonNull<sys::ZSTD_CCtx>,
    seqs: Vec<sys::ZSTD_Sequence>,
    lits: Vec<u8>,
}

// SAFETY: the context is owned by this value alone and used only through
// `&mut self`; zstd contexts may move between threads.
unsafe impl Send for RunCoder {}

impl Drop for RunCoder {
    fn drop(&mut self) {
        // SAFETY: created by ZSTD_createCCtx, freed once.
        unsafe { sys::ZSTD_freeCCtx(self.cctx.as_ptr()) };
    }
}

/// A zstd return code as a result (the error as zstd names it).
fn check(code: usize) -> Result<usize, &'static str> {
    // SAFETY: only looks at the integer.
    if unsafe { sys::ZSTD_isError(code) } != 0 {
        Err(zstd::zstd_safe::get_error_name(code))
    } else {
        Ok(code)
    }
}

impl RunCoder {
    /// A coder whose entropy stage works at zstd `level`.
    pub(crate) fn new(level: i32) -> std::io::Result<RunCoder> {
        // SAFETY: plain constructor; null means out of memory.
        let cctx = std::ptr::NonNull::new(unsafe { sys::ZSTD_createCCtx() })
            .ok_or_else(|| std::io::Error::other("zstd context: out of memory"))?;
        let c = RunCoder {
            cctx,
            seqs: Vec::new(),
            lits: Vec::new(),
        };
        for (p, v) in [
            (sys::ZSTD_cParameter::ZSTD_c_compressionLevel, level),
            // a block of up to 128 KiB (the block size follows the window)
            (sys::ZSTD_cParameter::ZSTD_c_windowLog, 17),
            // no match search happens: keep its tables (reset per frame) tiny
            (sys::ZSTD_cParameter::ZSTD_c_hashLog, 6),
            (sys::ZSTD_cParameter::ZSTD_c_chainLog, 6),
            // ZSTD_c_blockDelimiters = ZSTD_sf_explicitBlockDelimiters
            (sys::ZSTD_cParameter::ZSTD_c_experimentalParam11, 1),
        ] {
            // SAFETY: valid context; parameters are plain integers.
            check(unsafe { sys::ZSTD_CCtx_setParameter(c.cctx.as_ptr(), p, v) })
                .map_err(|e| std::io::Error::other(format!("zstd parameter rejected: {e}")))?;
        }
        Ok(c)
    }

    /// Compresses `data` as one zstd frame appended to `out` and returns
    /// its length; `None` (and `out` unchanged) when zstd cannot shrink it
    /// (it then refuses: this API has no stored blocks) or `data` is empty
    /// or longer than a zstd block.
    pub(crate) fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        self.seqs.clear();
        self.lits.clear();
        let n = data.len();
        if n == 0 || n > MAX_INPUT {
            return None;
        }
        let mut lit_start = 0;
        // A run of MIN_RUN >= 15 equal bytes covers a whole aligned 8-byte
        // word: look for constant words, then find each run's extent.
        let mut w = 0;
        while w + 8 <= n {
            let mut word = [0; 8];
            word.copy_from_slice(&data[w..w + 8]);
            let word = u64::from_le_bytes(word);
            if word != (word & 0xff).wrapping_mul(0x0101_0101_0101_0101) {
                w += 8;
                continue;
            }
            let b = data[w];
            let mut start = w;
            while start > lit_start && data[start - 1] == b {
                start -= 1;
            }
            let mut end = w + 8;
            while end < n && data[end] == b {
                end += 1;
            }
            if end - start >= MIN_RUN {
                // the run's first byte is a literal, the rest a match at offset 1
                self.seqs.push(sys::ZSTD_Sequence {
                    offset: 1,
                    litLength: (start + 1 - lit_start) as u32,
                    matchLength: (end - start - 1) as u32,
                    rep: 0,
                });
                self.lits.extend_from_slice(&data[lit_start..=start]);
                lit_start = end;
            }
            w = (end + 7) & !7;
        }
        self.seqs.push(sys::ZSTD_Sequence {
            offset: 0,
            litLength: (n - lit_start) as u32,
            matchLength: 0,
            rep: 0,
        });
        self.lits.extend_from_slice(&data[lit_start..]);
        let lit_len = self.lits.len();
        self.lits.resize(lit_len + 32, 0);
        let at = out.len();
        let cap = n + 64;
        out.reserve(cap);
        // SAFETY: `out` has `cap` bytes of spare capacity after `at`; the
        // sequences end with a block delimiter, their literal lengths add up
        // to `lit_len` and literal plus match lengths to `n`; the literal
        // buffer has the 8+ bytes of slack zstd reads past the end, and
        // every match (offset 1) follows at least one literal.
        let r = unsafe {
            sys::ZSTD_compressSequencesAndLiterals(
                self.cctx.as_ptr(),
                out.as_mut_ptr().add(at).cast(),
                cap,
                self.seqs.as_ptr(),
                self.seqs.len(),
                self.lits.as_ptr().cast(),
                lit_len,
                self.lits.len(),
                n,
            )
        };
        let len = check(r).ok()?;
        if len > cap {
            return None; // cannot happen: zstd stays within dstCapacity
        }
        // SAFETY: zstd initialised `len` bytes after `at`.
        unsafe { out.set_len(at + len) };
        Some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8]) -> Option<usize> {
        let mut c = RunCoder::new(1).expect("coder");
        let mut out = vec![0xee; 3]; // appends after what is there
        let len = c.compress(data, &mut out);
        match len {
            Some(len) => {
                assert_eq!(out.len(), 3 + len);
                let back = zstd::bulk::decompress(&out[3..], data.len()).expect("valid frame");
                assert_eq!(back, data);
            }
            None => assert_eq!(out, [0xee; 3]),
        }
        len
    }

    #[test]
    fn frames_decode_to_the_input() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // runs of every length around MIN_RUN, at the start, middle, end
        for run in [1, 7, 8, 9, 14, 15, 16, 17, 31, 64, 1000] {
            for at in [0, 3, 8, 100] {
                let mut d: Vec<u8> = (0..300).map(|_| (next() % 4) as u8).collect();
                let end = (at + run).min(d.len());
                d[at..end].fill(9);
                roundtrip(&d).expect("a skewed plane shrinks");
                d.reverse();
                roundtrip(&d).expect("a skewed plane shrinks");
            }
        }
        // many runs of one value next to each other, and a whole block
        let mut d = vec![0u8; MAX_INPUT];
        for (i, b) in d.iter_mut().enumerate() {
            *b = if (i / 20) % 3 == 0 {
                (next() % 3) as u8
            } else {
                0
            };
        }
        assert!(roundtrip(&d).expect("runs shrink") < d.len() / 5);
        // a constant plane (the writer stores those as one byte anyway)
        roundtrip(&[5; 4096]).expect("a run shrinks");
    }

    #[test]
    fn every_writer_level_gives_valid_frames() {
        let d: Vec<u8> = (0..20_000u32)
            .map(|i| if i % 100 < 40 { 0 } else { (i * 7 % 5) as u8 })
            .collect();
        for level in [-7, -1, 1, 3, 9, 19, 22] {
            let mut c = RunCoder::new(level).expect("coder");
            let mut out = Vec::new();
            if let Some(len) = c.compress(&d, &mut out) {
                assert_eq!(len, out.len());
                let back = zstd::bulk::decompress(&out, d.len()).expect("valid frame");
                assert_eq!(back, d, "level {level}");
            }
        }
    }

    #[test]
    fn incompressible_or_oversized_input_is_refused() {
        let mut x = 1u64;
        let random: Vec<u8> = (0..8192)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 56) as u8
            })
            .collect();
        assert_eq!(roundtrip(&random), None);
        assert_eq!(roundtrip(&[]), None);
        assert_eq!(roundtrip(&vec![0; MAX_INPUT + 1]), None);
        // the coder is still usable after a refusal
        roundtrip(&[
            1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2,
        ]);
    }
}
