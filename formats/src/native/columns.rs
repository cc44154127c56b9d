//! Codec 1 of a records block: per-block dictionaries plus byte planes,
//! each plane its own zstd frame.
//!
//! Flow records are highly redundant across fields that travel together, so
//! each block first factors them into small tables (see `FORMAT.md`):
//!
//! * `T0`, datagram tuples `(unix_secs, unix_nsecs, sys_uptime_ms, exporter,
//!   engine_type, engine_id)`, numbered in order of first appearance; a
//!   record stores the difference between its tuple number and the
//!   previous record's (mostly 0);
//! * `T1`, path tuples `(next_hop, input_if, output_if, src_mask, dst_mask,
//!   src_as, dst_as)`, and `T2`, kind tuples `(protocol, tos, tcp_flags,
//!   ports_swapped)`, numbered in order of first appearance;
//! * `A`, the sorted distinct source and destination addresses, and `P`,
//!   the sorted distinct "low" ports (`min(src_port, dst_port)`); records
//!   store ranks in these, which keeps address pools together.
//!
//! The per-record columns are then split into byte planes (least
//! significant first); every plane, and the table stream, is compressed as
//! its own zstd frame so that each gets its own entropy tables (one frame
//! for everything costs ~35% more on typical captures). A plane whose bytes
//! are all equal is stored as that one byte. The table stream goes through
//! zstd's match finder; the planes through [`RunCoder`] (runs only, then
//! zstd's entropy coder), which is cheaper and at least as small.
//!
//! The encoder is the collector's hot loop, so it avoids passes over the
//! records and zero-filling: one pass collects what needs the whole block
//! first (address pairs and their radix histograms, the low ports present,
//! the time bounds), then the columns are computed a chunk of records at a
//! time and split into byte planes while the chunk is in L1.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::runs::RunCoder;
use super::NativeError;
use crate::Record;

/// Per-record columns: (name, bytes). 40 planes in all.
const COLUMNS: [(&str, usize); 11] = [
    ("t0_delta", 4),
    ("t1", 4),
    ("t2", 4),
    ("src", 4),
    ("dst", 4),
    ("port_lo", 2),
    ("port_hi", 2),
    ("packets", 4),
    ("octets", 4),
    ("duration", 4),
    ("lag", 4),
];

/// A set of record fields to decode (a projection): the per-record columns
/// that carry them. Decoding skips the planes of the other columns
/// (neither decompressed nor combined), and the fields only they carry
/// hold unspecified values in the records it gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields(u16);

impl Fields {
    /// Every field.
    pub const ALL: Fields = Fields((1 << COLUMNS.len()) - 1);
    /// No field (what a filter that reads nothing needs).
    pub const NONE: Fields = Fields(0);
    /// Export time, exporter, engine (the datagram tuple of each record).
    pub const EXPORT: Fields = Fields(1 << 0);
    /// Next hop, interfaces, masks, AS numbers.
    pub const PATH: Fields = Fields(1 << 1);
    /// Protocol, ToS, TCP flags.
    pub const KIND: Fields = Fields(1 << 2);
    /// Source address.
    pub const SRC_ADDR: Fields = Fields(1 << 3);
    /// Destination address.
    pub const DST_ADDR: Fields = Fields(1 << 4);
    /// Source and destination ports.
    pub const PORTS: Fields = Fields(1 << 5 | 1 << 6 | 1 << 2);
    /// Packets.
    pub const PACKETS: Fields = Fields(1 << 7);
    /// Octets.
    pub const OCTETS: Fields = Fields(1 << 8);
    /// `last - first` (the duration), not the two times themselves.
    pub const DURATION: Fields = Fields(1 << 9);
    /// First and last switched times (with what they are relative to).
    pub const TIMES: Fields = Fields(1 << 0 | 1 << 9 | 1 << 10);

    /// Whether every field of `other` is in this set.
    pub fn contains(self, other: Fields) -> bool {
        self.0 & other.0 == other.0
    }

    fn has_column(self, c: usize) -> bool {
        self.0 >> c & 1 == 1
    }
}

impl std::ops::BitOr for Fields {
    type Output = Fields;
    fn bitor(self, o: Fields) -> Fields {
        Fields(self.0 | o.0)
    }
}

/// Number of per-record byte planes.
pub(crate) const NPLANES: usize = 40;

/// Number of streams in a block: the table stream, then the planes.
const NSTREAMS: usize = 1 + NPLANES;

/// Bytes per entry of each table, in the table stream.
const T0_BYTES: usize = 18;
const T1_BYTES: usize = 14;
const T2_BYTES: usize = 4;
const TABLE_COUNTS: usize = 20;

/// Stream storage modes.
const MODE_RAW: u8 = 0;
const MODE_ZSTD: u8 = 1;
const MODE_CONST: u8 = 2;

/// Records transposed at a time when decoding.
const CHUNK: usize = 128;

/// zstd minimum match length used by the writer.
const MIN_MATCH: u32 = 7;

/// Largest raw (decompressed) size of a block of `n` records.
pub(crate) fn max_raw_len(n: usize) -> usize {
    TABLE_COUNTS + n * (T0_BYTES + T1_BYTES + T2_BYTES + 2 * 4) + n.min(1 << 16) * 2 + n * NPLANES
}

/// Largest stored payload for a raw size: each stream is stored raw when
/// zstd does not shrink it, plus the stream directory.
pub(crate) fn max_stored_len(raw: usize) -> usize {
    raw + NSTREAMS * 6
}

// ---------------------------------------------------------------------------
// Hashing for the writer's tuple maps (std's SipHash is needlessly slow here).

#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64)
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(i as u64)
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64)
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(26) ^ i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64)
    }
}

type Map<K> = HashMap<K, u32, BuildHasherDefault<MixHasher>>;

type T0 = (u32, u32, u32, u32, u8, u8);

fn t0_of(r: &Record) -> T0 {
    (
        r.unix_secs,
        r.unix_nsecs,
        r.sys_uptime_ms,
        r.exporter,
        r.engine_type,
        r.engine_id,
    )
}

/// The path tuple packed into 112 bits (the key of the `T1` table).
#[inline]
fn t1_key(r: &Record) -> u128 {
    (r.next_hop as u128)
        | (r.input_if as u128) << 32
        | (r.output_if as u128) << 48
        | (r.src_mask as u128) << 64
        | (r.dst_mask as u128) << 72
        | (r.src_as as u128) << 80
        | (r.dst_as as u128) << 96
}

/// The kind tuple packed into 25 bits (the key of the `T2` table).
#[inline]
fn t2_key(r: &Record) -> u32 {
    r.protocol as u32
        | (r.tos as u32) << 8
        | (r.tcp_flags as u32) << 16
        | ((r.src_port > r.dst_port) as u32) << 24
}

/// An insert-only open-addressing table numbering distinct keys in order of
/// first appearance; cleared per block. Slots hold `index + 1` (0: empty);
/// the keys themselves live in `keys`, in index order. The table is sized
/// for as many keys as the previous block had and doubles at half load, so
/// that the few distinct keys of a typical block are looked up in L1 rather
/// than in a table sized for the worst case, and a block like the last one
/// does not rehash on the way.
struct Numbering<K> {
    slots: Vec<u32>,
    mask: usize,
    keys: Vec<K>,
    /// The slot hash of each key (for rehashing when the table grows).
    hashes: Vec<u32>,
}

/// Initial slots of a [`Numbering`].
const NUMBERING_MIN_SLOTS: usize = 256;

impl<K: Copy + Eq> Numbering<K> {
    fn new() -> Self {
        Numbering {
            slots: Vec::new(),
            mask: 0,
            keys: Vec::new(),
            hashes: Vec::new(),
        }
    }

    /// Empties the table, sized for as many keys as it last held.
    fn reset(&mut self) {
        let size = (2 * self.keys.len() + 1)
            .next_power_of_two()
            .max(NUMBERING_MIN_SLOTS);
        self.slots.clear();
        self.slots.resize(size, 0);
        self.mask = size - 1;
        self.keys.clear();
        self.hashes.clear();
    }

    /// The number of `key`, given its 64-bit hash; new keys get the next one.
    #[inline]
    fn number(&mut self, key: K, hash: u64) -> u32 {
        let h = (hash >> 40) as u32;
        let mut at = h as usize & self.mask;
        loop {
            let s = self.slots[at];
            if s == 0 {
                self.keys.push(key);
                self.hashes.push(h);
                let i = self.keys.len() as u32;
                self.slots[at] = i;
                if 2 * self.keys.len() > self.slots.len() {
                    self.grow();
                }
                return i - 1;
            }
            if self.keys[s as usize - 1] == key {
                return s - 1;
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Doubles the table and reinserts every key.
    #[cold]
    fn grow(&mut self) {
        let size = 2 * self.slots.len();
        self.slots.clear();
        self.slots.resize(size, 0);
        self.mask = size - 1;
        for (i, &h) in self.hashes.iter().enumerate() {
            let mut at = h as usize & self.mask;
            while self.slots[at] != 0 {
                at = (at + 1) & self.mask;
            }
            self.slots[at] = i as u32 + 1;
        }
    }
}

#[inline]
fn mix64(x: u64) -> u64 {
    (x ^ (x >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Bits per digit of [`radix_sort_hi32`] (three digits cover 32 bits).
const RADIX_BITS: usize = 11;
const RADIX_BUCKETS: usize = 1 << RADIX_BITS;

/// Per-digit histograms of the keys [`radix_sort_hi32`] sorts.
struct RadixCounts(Vec<[u32; RADIX_BUCKETS]>);

impl RadixCounts {
    fn new() -> Self {
        RadixCounts(vec![[0; RADIX_BUCKETS]; 3])
    }

    fn clear(&mut self) {
        for c in &mut self.0 {
            c.fill(0);
        }
    }

    /// Counts one key (the high 32 bits of an element).
    #[inline]
    fn add(&mut self, k: u32) {
        let k = k as usize;
        self.0[0][k & (RADIX_BUCKETS - 1)] += 1;
        self.0[1][(k >> RADIX_BITS) & (RADIX_BUCKETS - 1)] += 1;
        self.0[2][k >> (2 * RADIX_BITS)] += 1;
    }
}

/// Sorts `v` by the high 32 bits (LSD radix sort, three 11-bit digits,
/// stable), given the histograms of exactly its keys (counted while `v`
/// was built, which saves a pass); `tmp` is the second buffer. Skips
/// digits all keys share.
fn radix_sort_hi32(v: &mut Vec<u64>, tmp: &mut Vec<u64>, counts: &mut RadixCounts) {
    let len = v.len() as u32;
    for (d, c) in counts.0.iter_mut().enumerate() {
        if c.contains(&len) {
            continue; // every key has the same digit: nothing to do
        }
        let mut sum = 0u32;
        for x in c.iter_mut() {
            let here = *x;
            *x = sum;
            sum += here;
        }
        tmp.resize(v.len(), 0); // a no-op after the first pass: all overwritten
        let shift = 32 + RADIX_BITS * d;
        for &x in v.iter() {
            let b = (x >> shift) as usize & (RADIX_BUCKETS - 1);
            tmp[c[b] as usize] = x;
            c[b] += 1;
        }
        std::mem::swap(v, tmp);
    }
}

/// Appends the `w` low byte planes of `vals`.
fn put_planes(out: &mut Vec<u8>, vals: impl Iterator<Item = u32> + Clone, w: usize) {
    for k in 0..w {
        out.extend(vals.clone().map(|v| (v >> (8 * k)) as u8));
    }
}

/// Reusable encoding state, owned by a writer.
pub(crate) struct Encoder {
    cctx: zstd::zstd_safe::CCtx<'static>,
    t0: Map<T0>,
    t0_list: Vec<T0>,
    t1: Numbering<u128>,
    t2: Numbering<u32>,
    /// (address << 32 | slot), slot 2i: src of record i, 2i + 1: dst.
    addr_keys: Vec<u64>,
    addr_tmp: Vec<u64>,
    radix: RadixCounts,
    /// Earliest start and latest end (ms) of the last block encoded.
    bounds: (i64, i64),
    addr_rank: Vec<u32>,
    /// The sorted distinct addresses: the first `n_addrs` elements.
    addrs: Vec<u32>,
    n_addrs: usize,
    /// Bitmap of the low ports present.
    port_seen: Vec<u64>,
    ports: Vec<u16>,
    port_rank: Vec<u16>,
    /// The byte planes of a block, `n` bytes each, in stream order.
    planes: Vec<u8>,
    raw: Vec<u8>,
    frame: Vec<u8>,
    /// Streams that zstd could not shrink in the last block they were
    /// tried in: stored raw without trying, except every
    /// [`RETRY_RAW_EVERY`]th block (high-entropy planes, such as the low
    /// byte of octets, stay that way; trying costs as much as compressing).
    raw_last: [bool; NSTREAMS],
    blocks: u32,
    /// Entropy coder for the byte planes.
    runs: RunCoder,
}

impl Encoder {
    /// Earliest start and latest end time (ms since the epoch) of the
    /// records of the last block encoded.
    pub(crate) fn bounds(&self) -> (i64, i64) {
        self.bounds
    }
}

/// Records whose column values are computed before being split into byte
/// planes (small enough for the values to stay in L1).
const ENC_CHUNK: usize = 256;

/// Makes `v` at least `len` long without touching existing elements
/// (callers overwrite what they use).
fn grow<T: Copy + Default>(v: &mut Vec<T>, len: usize) {
    if v.len() < len {
        v.resize(len, T::default());
    }
}

/// How often (in blocks) a stream stored raw is tried with zstd again.
const RETRY_RAW_EVERY: u32 = 8;

impl Encoder {
    /// An encoder compressing at zstd `level` (validated by the writer).
    pub(crate) fn new(level: i32) -> std::io::Result<Self> {
        use zstd::zstd_safe::CParameter;
        let mut cctx = zstd::zstd_safe::CCtx::create();
        // Short matches in byte planes barely shrink them but cost decode
        // time: only long matches (runs) are worth it; entropy coding does
        // the rest.
        for p in [
            CParameter::CompressionLevel(level),
            CParameter::MinMatch(MIN_MATCH),
        ] {
            cctx.set_parameter(p).map_err(|code| {
                std::io::Error::other(format!(
                    "zstd parameter rejected: {}",
                    zstd::zstd_safe::get_error_name(code)
                ))
            })?;
        }
        Ok(Encoder {
            cctx,
            t0: Map::default(),
            t0_list: Vec::new(),
            t1: Numbering::new(),
            t2: Numbering::new(),
            addr_keys: Vec::new(),
            addr_tmp: Vec::new(),
            radix: RadixCounts::new(),
            bounds: (0, 0),
            addr_rank: Vec::new(),
            addrs: Vec::new(),
            n_addrs: 0,
            port_seen: vec![0; (1 << 16) / 64],
            ports: Vec::new(),
            port_rank: vec![0; 1 << 16],
            planes: Vec::new(),
            raw: Vec::new(),
            frame: Vec::new(),
            raw_last: [false; NSTREAMS],
            blocks: 0,
            runs: RunCoder::new(level)?,
        })
    }

    /// Encodes `rs` (1..=MAX_BLOCK_RECORDS records), appending the stored
    /// payload to `out`; returns the raw (decompressed) length. The block's
    /// time bounds are then in [`bounds`](Self::bounds).
    pub(crate) fn encode(&mut self, rs: &[Record], out: &mut Vec<u8>) -> std::io::Result<usize> {
        let n = rs.len();
        self.t0.clear();
        self.t0_list.clear();
        self.t1.reset();
        self.t2.reset();

        // One pass over the records for what needs the whole block first:
        // (address, slot) pairs and their histograms, the low ports present
        // and the block's time bounds.
        self.addr_keys.clear();
        self.addr_keys.reserve(2 * n);
        self.radix.clear();
        let (mut min_start, mut max_end) = (i64::MAX, i64::MIN);
        for (i, r) in rs.iter().enumerate() {
            let i = 2 * i as u64;
            self.addr_keys.push((r.src_addr as u64) << 32 | i);
            self.addr_keys.push((r.dst_addr as u64) << 32 | (i + 1));
            self.radix.add(r.src_addr);
            self.radix.add(r.dst_addr);
            let lo = r.src_port.min(r.dst_port) as usize;
            self.port_seen[lo >> 6] |= 1 << (lo & 63);
            min_start = min_start.min(r.start_ms());
            max_end = max_end.max(r.end_ms());
        }
        self.bounds = (min_start, max_end);

        // Addresses: sort the pairs, then rank each slot.
        radix_sort_hi32(&mut self.addr_keys, &mut self.addr_tmp, &mut self.radix);
        // Every slot gets its rank below and every kept address is written
        // before it is counted, so neither buffer needs clearing.
        grow(&mut self.addr_rank, 2 * n);
        grow(&mut self.addrs, 2 * n);
        let mut distinct = 0usize;
        if let Some(&k) = self.addr_keys.first() {
            let mut last = !((k >> 32) as u32); // differs from the first
            for &k in &self.addr_keys {
                let a = (k >> 32) as u32;
                let new = (a != last) as usize;
                self.addrs[distinct] = a; // overwritten unless new
                distinct += new;
                last = a;
                if let Some(slot) = self.addr_rank.get_mut(k as u32 as usize) {
                    *slot = distinct as u32 - 1;
                }
            }
        }
        self.n_addrs = distinct;

        // Low ports: the presence bitmap read in order gives the sorted
        // distinct ports and their ranks.
        self.ports.clear();
        for (w, word) in self.port_seen.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                let p = w * 64 + bits.trailing_zeros() as usize;
                self.port_rank[p] = self.ports.len() as u16;
                self.ports.push(p as u16);
                bits &= bits - 1;
            }
        }

        // Per-record columns, a chunk of records at a time (the values stay
        // in L1), each chunk then split into its byte planes. Every byte of
        // the planes is written, so they need no clearing.
        grow(&mut self.planes, NPLANES * n);
        let planes = &mut self.planes[..NPLANES * n];
        let mut vals = [[0u32; ENC_CHUNK]; COLUMNS.len()];
        let mut prev_t0 = 0u32;
        let mut last_t0: Option<(T0, u32)> = None;
        for (ci, chunk) in rs.chunks(ENC_CHUNK).enumerate() {
            let base = ci * ENC_CHUNK;
            let ranks = &self.addr_rank[2 * base..2 * (base + chunk.len())];
            // Separate tight loops: the table lookups of several records
            // overlap (their cache misses do not wait on one another), and
            // the plain fields vectorise.
            for (j, r) in chunk.iter().enumerate() {
                let k0 = t0_of(r);
                let i0 = match last_t0 {
                    Some((t, i)) if t == k0 => i,
                    _ => {
                        let next = self.t0_list.len() as u32;
                        let i = *self.t0.entry(k0).or_insert(next);
                        if i == next {
                            self.t0_list.push(k0);
                        }
                        last_t0 = Some((k0, i));
                        i
                    }
                };
                vals[0][j] = i0.wrapping_sub(prev_t0);
                prev_t0 = i0;
            }
            for (v, r) in vals[1].iter_mut().zip(chunk) {
                let k1 = t1_key(r);
                let h1 = mix64(k1 as u64 ^ ((k1 >> 64) as u64).wrapping_mul(0xff51_afd7_ed55_8ccd));
                *v = self.t1.number(k1, h1);
            }
            for (v, r) in vals[2].iter_mut().zip(chunk) {
                let k2 = t2_key(r);
                *v = self.t2.number(k2, mix64(k2 as u64));
            }
            for (j, rank) in ranks.chunks_exact(2).enumerate() {
                vals[3][j] = rank[0];
                vals[4][j] = rank[1];
            }
            for (v, r) in vals[5].iter_mut().zip(chunk) {
                *v = self.port_rank[r.src_port.min(r.dst_port) as usize] as u32;
            }
            for (j, r) in chunk.iter().enumerate() {
                vals[6][j] = r.src_port.max(r.dst_port) as u32;
                vals[7][j] = r.packets;
                vals[8][j] = r.octets;
                vals[9][j] = r.last_uptime_ms.wrapping_sub(r.first_uptime_ms);
                vals[10][j] = r.sys_uptime_ms.wrapping_sub(r.last_uptime_ms);
            }
            let m = chunk.len();
            let mut plane = 0;
            for (col, &(_, w)) in vals.iter().zip(COLUMNS.iter()) {
                for k in 0..w {
                    let dst = &mut planes[plane * n + base..][..m];
                    for (d, &v) in dst.iter_mut().zip(&col[..m]) {
                        *d = (v >> (8 * k)) as u8;
                    }
                    plane += 1;
                }
            }
        }

        // The table stream.
        let raw = &mut self.raw;
        raw.clear();
        for k in [
            self.t0_list.len(),
            self.t1.keys.len(),
            self.t2.keys.len(),
            self.n_addrs,
            self.ports.len(),
        ] {
            raw.extend_from_slice(&(k as u32).to_le_bytes());
        }
        let t0 = &self.t0_list;
        let deltas = |f: fn(&T0) -> u32| {
            t0.iter()
                .scan(0u32, move |p, t| {
                    let v = f(t).wrapping_sub(*p);
                    *p = f(t);
                    Some(v)
                })
                .collect::<Vec<u32>>()
        };
        put_planes(raw, deltas(|t| t.0).into_iter(), 4);
        put_planes(raw, deltas(|t| t.1).into_iter(), 4);
        put_planes(raw, deltas(|t| t.2).into_iter(), 4);
        put_planes(raw, t0.iter().map(|t| t.3), 4);
        put_planes(raw, t0.iter().map(|t| t.4 as u32), 1);
        put_planes(raw, t0.iter().map(|t| t.5 as u32), 1);
        let t1 = &self.t1.keys;
        put_planes(raw, t1.iter().map(|&t| t as u32), 4);
        for shift in [32, 48] {
            put_planes(raw, t1.iter().map(|&t| (t >> shift) as u32 & 0xffff), 2);
        }
        for shift in [64, 72] {
            put_planes(raw, t1.iter().map(|&t| (t >> shift) as u32 & 0xff), 1);
        }
        for shift in [80, 96] {
            put_planes(raw, t1.iter().map(|&t| (t >> shift) as u32 & 0xffff), 2);
        }
        let t2 = &self.t2.keys;
        for shift in [0, 8, 16, 24] {
            put_planes(raw, t2.iter().map(|&t| (t >> shift) & 0xff), 1);
        }
        let a = &self.addrs[..self.n_addrs];
        put_planes(
            raw,
            (0..a.len()).map(|i| a[i].wrapping_sub(if i == 0 { 0 } else { a[i - 1] })),
            4,
        );
        let p = &self.ports;
        put_planes(
            raw,
            (0..p.len()).map(|i| p[i].wrapping_sub(if i == 0 { 0 } else { p[i - 1] }) as u32),
            2,
        );
        let table_len = raw.len();

        let raw_len = raw.len() + NPLANES * n;

        // Stream directory, then the streams.
        let mut dir = Vec::with_capacity(NSTREAMS * 6);
        self.frame.clear();
        let retry = self.blocks % RETRY_RAW_EVERY == 0;
        self.blocks = self.blocks.wrapping_add(1);
        for s in 0..NSTREAMS {
            let (data, len) = if s == 0 {
                (&self.raw[..table_len], table_len)
            } else {
                (&self.planes[(s - 1) * n..s * n], n)
            };
            let at = self.frame.len();
            let mode = if is_constant(data) {
                self.frame.push(data[0]);
                MODE_CONST
            } else if self.raw_last[s] && !retry {
                self.frame.extend_from_slice(data);
                MODE_RAW
            } else {
                let clen = if s == 0 {
                    // The table stream holds repeats (tuples, address
                    // prefixes) that zstd's match finder pays for.
                    // Compress straight into the spare capacity (no zero fill).
                    self.frame.reserve(zstd::zstd_safe::compress_bound(len));
                    let mut sink = std::io::Cursor::new(&mut self.frame);
                    sink.set_position(at as u64);
                    Some(self.cctx.compress2(&mut sink, data).map_err(|code| {
                        std::io::Error::other(format!(
                            "zstd compression failed: {}",
                            zstd::zstd_safe::get_error_name(code)
                        ))
                    })?)
                } else {
                    // A byte plane's only repeats are runs of one value.
                    self.runs.compress(data, &mut self.frame)
                };
                self.raw_last[s] = clen.is_none_or(|c| c >= len - len / 16);
                if let (false, Some(clen)) = (self.raw_last[s], clen) {
                    self.frame.truncate(at + clen);
                    MODE_ZSTD
                } else {
                    self.frame.truncate(at);
                    self.frame.extend_from_slice(data);
                    MODE_RAW
                }
            };
            dir.push(mode);
            put_varint(&mut dir, (self.frame.len() - at) as u32);
        }
        out.extend_from_slice(&dir);
        out.extend_from_slice(&self.frame);
        Ok(raw_len)
    }
}

/// True when `data` is non-empty and all its bytes are equal (checked 64
/// bytes at a time without early exit inside a chunk, so it vectorises).
fn is_constant(data: &[u8]) -> bool {
    let Some(&first) = data.first() else {
        return false;
    };
    data.chunks(64)
        .all(|c| c.iter().fold(0u8, |acc, &b| acc | (b ^ first)) == 0)
}

fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 u32 at `*pos`.
fn get_varint(b: &[u8], pos: &mut usize) -> Option<u32> {
    let mut v = 0u32;
    for shift in [0, 7, 14, 21, 28] {
        let byte = *b.get(*pos)?;
        *pos += 1;
        let bits = (byte & 0x7f) as u32;
        if shift == 28 && bits > 0x0f {
            return None;
        }
        v |= bits << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Decoding.

/// One datagram tuple, decoded.
#[derive(Clone, Copy, Default)]
struct D0 {
    secs: u32,
    nsecs: u32,
    uptime: u32,
    exporter: u32,
    engine_type: u8,
    engine_id: u8,
}

#[derive(Clone, Copy, Default)]
struct D1 {
    next_hop: u32,
    input_if: u16,
    output_if: u16,
    src_mask: u8,
    dst_mask: u8,
    src_as: u16,
    dst_as: u16,
}

#[derive(Clone, Copy, Default)]
struct D2 {
    protocol: u8,
    tos: u8,
    tcp_flags: u8,
    swapped: bool,
}

/// Reusable decoding state: decompression buffer, tables, zstd context.
///
/// [`super::NativeFile::decode_block`] keeps one per thread; hold your own
/// and call [`super::NativeFile::decode_block_with`] to control it.
pub struct Scratch {
    raw: Vec<u8>,
    t0: Vec<D0>,
    t1: Vec<D1>,
    t2: Vec<D2>,
    addrs: Vec<u32>,
    ports: Vec<u16>,
    dctx: zstd::zstd_safe::DCtx<'static>,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch")
            .field("raw_capacity", &self.raw.capacity())
            .finish_non_exhaustive()
    }
}

impl Scratch {
    /// A fresh scratch (allocates a zstd context; buffers grow on use).
    pub fn new() -> Self {
        Scratch {
            raw: Vec::new(),
            t0: Vec::new(),
            t1: Vec::new(),
            t2: Vec::new(),
            addrs: Vec::new(),
            ports: Vec::new(),
            dctx: zstd::zstd_safe::DCtx::create(),
        }
    }
}

/// Little-endian value of `w` planes of `k` entries starting at `at`.
#[inline]
fn plane_val(b: &[u8], at: usize, k: usize, i: usize, w: usize) -> u32 {
    let mut v = 0u32;
    for j in 0..w {
        v |= (b[at + j * k + i] as u32) << (8 * j);
    }
    v
}

/// Decompresses and decodes the payload of the block at `offset` (already
/// checksummed), appending its `n` records to `out`; only the columns of
/// `fields` are decoded.
pub(crate) fn decode(
    payload: &[u8],
    offset: u64,
    n: usize,
    raw_len: usize,
    scratch: &mut Scratch,
    out: &mut Vec<Record>,
    fields: Fields,
) -> Result<(), NativeError> {
    let malformed = |what| NativeError::Malformed { what, offset };
    let planes_len = n * NPLANES;
    if n == 0 || raw_len > max_raw_len(n) || raw_len < TABLE_COUNTS + planes_len {
        return Err(malformed("block raw length"));
    }
    let table_len = raw_len - planes_len;

    // Stream directory.
    let mut pos = 0;
    let mut dir = [(0u8, 0usize); NSTREAMS];
    for d in dir.iter_mut() {
        let mode = *payload.get(pos).ok_or(malformed("stream directory"))?;
        pos += 1;
        let len = get_varint(payload, &mut pos).ok_or(malformed("stream directory"))?;
        *d = (mode, len as usize);
    }
    let total: usize = dir.iter().map(|d| d.1).sum();
    if payload.len() - pos != total {
        return Err(malformed("stream directory (lengths do not add up)"));
    }

    // Which column each plane stream belongs to.
    let mut stream_col = [0usize; NSTREAMS];
    let mut s = 1;
    for (c, &(_, w)) in COLUMNS.iter().enumerate() {
        stream_col[s..s + w].fill(c);
        s += w;
    }

    // Streams into one raw buffer.
    let raw = &mut scratch.raw;
    if raw.len() < raw_len {
        raw.resize(raw_len, 0);
    }
    let mut at = 0;
    for (s, &(mode, len)) in dir.iter().enumerate() {
        let slot_len = if s == 0 { table_len } else { n };
        let src = &payload[pos..pos + len];
        pos += len;
        let slot = &mut raw[at..at + slot_len];
        at += slot_len;
        if s > 0 && !fields.has_column(stream_col[s]) {
            continue;
        }
        match mode {
            MODE_RAW if len == slot_len => slot.copy_from_slice(src),
            MODE_CONST if len == 1 => slot.fill(src[0]),
            MODE_ZSTD => {
                let got =
                    scratch
                        .dctx
                        .decompress(slot, src)
                        .map_err(|code| NativeError::Decompress {
                            offset,
                            reason: zstd::zstd_safe::get_error_name(code).to_string(),
                        })?;
                if got != slot_len {
                    return Err(malformed("block stream (wrong decompressed length)"));
                }
            }
            _ => return Err(malformed("block stream mode")),
        }
    }
    let raw = &raw[..raw_len];

    // Tables.
    let (tables, planes) = raw.split_at(table_len);
    let count = |i: usize| {
        u32::from_le_bytes([
            tables[4 * i],
            tables[4 * i + 1],
            tables[4 * i + 2],
            tables[4 * i + 3],
        ]) as usize
    };
    let (k0, k1, k2, ka, kp) = (count(0), count(1), count(2), count(3), count(4));
    if k0 > n || k1 > n || k2 > n || ka > 2 * n || kp > n.min(1 << 16) {
        return Err(malformed("block tables (counts)"));
    }
    let expect = TABLE_COUNTS + k0 * T0_BYTES + k1 * T1_BYTES + k2 * T2_BYTES + ka * 4 + kp * 2;
    if expect != table_len {
        return Err(malformed("block tables (length)"));
    }
    let mut at = TABLE_COUNTS;
    let mut col = |k: usize, w: usize| {
        let c = at;
        at += k * w;
        c
    };
    let (c_secs, c_nsecs, c_up, c_exp, c_et, c_ei) = (
        col(k0, 4),
        col(k0, 4),
        col(k0, 4),
        col(k0, 4),
        col(k0, 1),
        col(k0, 1),
    );
    // A table whose column is not asked for is one default entry: the
    // skipped column's indexes are all zero.
    let skip = |c: usize| !fields.has_column(c);
    scratch.t0.clear();
    let mut prev = D0::default();
    if skip(0) {
        scratch.t0.push(prev);
    }
    for i in (0..k0).take_while(|_| !skip(0)) {
        let d = D0 {
            secs: prev.secs.wrapping_add(plane_val(tables, c_secs, k0, i, 4)),
            nsecs: prev
                .nsecs
                .wrapping_add(plane_val(tables, c_nsecs, k0, i, 4)),
            uptime: prev.uptime.wrapping_add(plane_val(tables, c_up, k0, i, 4)),
            exporter: plane_val(tables, c_exp, k0, i, 4),
            engine_type: tables[c_et + i],
            engine_id: tables[c_ei + i],
        };
        scratch.t0.push(d);
        prev = d;
    }
    let (c_nh, c_in, c_out, c_sm, c_dm, c_sas, c_das) = (
        col(k1, 4),
        col(k1, 2),
        col(k1, 2),
        col(k1, 1),
        col(k1, 1),
        col(k1, 2),
        col(k1, 2),
    );
    scratch.t1.clear();
    if skip(1) {
        scratch.t1.push(D1::default());
    }
    scratch
        .t1
        .extend((0..k1).take_while(|_| !skip(1)).map(|i| D1 {
            next_hop: plane_val(tables, c_nh, k1, i, 4),
            input_if: plane_val(tables, c_in, k1, i, 2) as u16,
            output_if: plane_val(tables, c_out, k1, i, 2) as u16,
            src_mask: tables[c_sm + i],
            dst_mask: tables[c_dm + i],
            src_as: plane_val(tables, c_sas, k1, i, 2) as u16,
            dst_as: plane_val(tables, c_das, k1, i, 2) as u16,
        }));
    let c2 = col(k2, 4);
    scratch.t2.clear();
    if skip(2) {
        scratch.t2.push(D2::default());
    }
    scratch
        .t2
        .extend((0..k2).take_while(|_| !skip(2)).map(|i| D2 {
            protocol: tables[c2 + i],
            tos: tables[c2 + k2 + i],
            tcp_flags: tables[c2 + 2 * k2 + i],
            swapped: tables[c2 + 3 * k2 + i] != 0,
        }));
    let ca = col(ka, 4);
    scratch.addrs.clear();
    let ka_used = if skip(3) && skip(4) {
        scratch.addrs.push(0);
        0
    } else {
        ka
    };
    let a = &tables[ca..ca + 4 * ka_used];
    let (a0, rest) = a.split_at(ka_used);
    let (a1, rest) = rest.split_at(ka_used);
    let (a2, a3) = rest.split_at(ka_used);
    let mut acc = 0u32;
    scratch.addrs.extend(
        a0.iter()
            .zip(a1)
            .zip(a2)
            .zip(a3)
            .map(|(((&b0, &b1), &b2), &b3)| {
                acc = acc.wrapping_add(u32::from_le_bytes([b0, b1, b2, b3]));
                acc
            }),
    );
    let cp = col(kp, 2);
    scratch.ports.clear();
    if skip(5) {
        scratch.ports.push(0);
    }
    let mut p = 0u16;
    for i in (0..kp).take_while(|_| !skip(5)) {
        p = p.wrapping_add(plane_val(tables, cp, kp, i, 2) as u16);
        scratch.ports.push(p);
    }

    // Records, CHUNK at a time: first each column's planes are combined
    // into a small u32 array (vectorisable), then records are assembled
    // straight into the spare capacity of `out` (no per-record length
    // update or capacity check); `out`'s length is only set once all `n`
    // records are written, so on error nothing is appended.
    let (t0, t1, t2) = (&scratch.t0[..], &scratch.t1[..], &scratch.t2[..]);
    let (addrs, ports) = (&scratch.addrs[..], &scratch.ports[..]);
    let mut v = [[0u32; CHUNK]; COLUMNS.len()];
    out.reserve(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    let mut i0 = 0u32;
    for (chunk_no, dst_chunk) in spare.chunks_mut(CHUNK).enumerate() {
        let done = chunk_no * CHUNK;
        let len = dst_chunk.len();
        let mut p = 0;
        for (c, &(_, w)) in COLUMNS.iter().enumerate() {
            let plane = |k: usize| &planes[(p + k) * n + done..][..len];
            let dst = &mut v[c][..len];
            if !fields.has_column(c) {
                // Zero: the first entry of each table, no time offsets.
                if chunk_no == 0 {
                    dst.fill(0);
                }
            } else if w == 2 {
                for ((d, &b0), &b1) in dst.iter_mut().zip(plane(0)).zip(plane(1)) {
                    *d = b0 as u32 | (b1 as u32) << 8;
                }
            } else {
                for ((((d, &b0), &b1), &b2), &b3) in dst
                    .iter_mut()
                    .zip(plane(0))
                    .zip(plane(1))
                    .zip(plane(2))
                    .zip(plane(3))
                {
                    *d = u32::from_le_bytes([b0, b1, b2, b3]);
                }
            }
            p += w;
        }
        let [c_t0, c_t1, c_t2, c_src, c_dst, c_lo, c_hi, c_pk, c_oc, c_dur, c_lag] = &v;
        for (j, slot) in dst_chunk.iter_mut().enumerate() {
            let j = j % CHUNK; // proves the bound for the indexing below
            i0 = i0.wrapping_add(c_t0[j]);
            let (Some(d0), Some(d1), Some(d2), Some(&src), Some(&dst), Some(&lo)) = (
                t0.get(i0 as usize),
                t1.get(c_t1[j] as usize),
                t2.get(c_t2[j] as usize),
                addrs.get(c_src[j] as usize),
                addrs.get(c_dst[j] as usize),
                ports.get(c_lo[j] as usize),
            ) else {
                return Err(malformed("block columns (table index out of range)"));
            };
            let hi = c_hi[j] as u16;
            let (src_port, dst_port) = if d2.swapped { (hi, lo) } else { (lo, hi) };
            let last = d0.uptime.wrapping_sub(c_lag[j]);
            slot.write(Record {
                unix_secs: d0.secs,
                unix_nsecs: d0.nsecs,
                sys_uptime_ms: d0.uptime,
                exporter: d0.exporter,
                src_addr: src,
                dst_addr: dst,
                next_hop: d1.next_hop,
                input_if: d1.input_if,
                output_if: d1.output_if,
                packets: c_pk[j],
                octets: c_oc[j],
                first_uptime_ms: last.wrapping_sub(c_dur[j]),
                last_uptime_ms: last,
                src_port,
                dst_port,
                protocol: d2.protocol,
                tos: d2.tos,
                tcp_flags: d2.tcp_flags,
                engine_type: d0.engine_type,
                engine_id: d0.engine_id,
                src_mask: d1.src_mask,
                dst_mask: d1.dst_mask,
                src_as: d1.src_as,
                dst_as: d1.dst_as,
            });
        }
    }
    let new_len = out.len() + n;
    // SAFETY: `spare` was `out.spare_capacity_mut()[..n]` (the slice index
    // proves capacity >= len + n), and the loop above wrote every one of its
    // elements: `chunks_mut` covers the whole slice and each chunk's
    // `iter_mut` visits every slot, the only early exit being the error
    // return, which leaves the length untouched.
    unsafe { out.set_len(new_len) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The storage mode of every stream of an encoded block.
    fn modes(enc: &mut Encoder, rs: &[Record]) -> Vec<u8> {
        let mut out = Vec::new();
        enc.encode(rs, &mut out).unwrap();
        let mut pos = 0;
        (0..NSTREAMS)
            .map(|_| {
                let mode = out[pos];
                pos += 1;
                get_varint(&out, &mut pos).unwrap();
                mode
            })
            .collect()
    }

    #[test]
    fn a_plane_stored_raw_is_tried_again_every_few_blocks() {
        // The low byte of octets: stream 1 + 28 (after the table stream and
        // the planes of t0, t1, t2, src, dst, both ports and packets).
        const OCTETS_LOW: usize = 29;
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut rs: Vec<Record> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                Record {
                    octets: x as u32,
                    packets: (x >> 40) as u32 % 7,
                    ..Record::default()
                }
            })
            .collect();
        let mut enc = Encoder::new(1).unwrap();
        assert_eq!(modes(&mut enc, &rs)[OCTETS_LOW], MODE_RAW);
        // Now three values: zstd would shrink it, but it is only tried
        // again at the next retry block.
        for r in &mut rs {
            r.octets = 40 + r.packets % 3;
        }
        let mut raw_blocks = 0;
        loop {
            match modes(&mut enc, &rs)[OCTETS_LOW] {
                MODE_RAW => raw_blocks += 1,
                MODE_ZSTD => break,
                m => panic!("mode {m}"),
            }
            assert!(raw_blocks < RETRY_RAW_EVERY, "never tried again");
        }
        assert_eq!(raw_blocks, RETRY_RAW_EVERY - 1);
        assert_eq!(modes(&mut enc, &rs)[OCTETS_LOW], MODE_ZSTD);
    }
}
