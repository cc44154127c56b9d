//! Helpers the formats benchmarks share.

/// splitmix64: deterministic, dependency-free.
pub struct Rng(pub u64);

#[allow(dead_code)] // each bench uses the helpers it needs
impl Rng {
    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Zipf-like rank below 2^bits.
    pub fn zipf(&mut self, bits: u64) -> u32 {
        let k = self.below(bits + 1);
        (self.next() & ((1u64 << k) - 1)) as u32
    }
    /// Heavy-tailed (roughly Pareto) value >= 1.
    pub fn heavy(&mut self, max_bits: u64) -> u32 {
        let bits = (self.below(1 << 16) as f64 / 65536.0).powi(3) * max_bits as f64;
        1 + self.below(1u64 << (bits as u64).max(1)) as u32
    }
}
