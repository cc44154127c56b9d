//! Hash-keyed reports (flow-tools `ftchash` + the `chash_*_dump` routines):
//! one row per distinct key, in first-seen order unless sorted.
//!
//! Order (spec §7.2): every key remembers the global sequence number of its
//! first appearance (`first`), so partial tables built on different threads
//! merge into the same order as one sequential pass (merge keeps the
//! minimum). At write time the rows are put in first-seen order; a sort is a
//! stable ascending sort of that list, walked from the end for `-S`, so ties
//! come out in reverse first-seen order under `-S` and in first-seen order
//! under `-s`.
//!
//! Over 65536 keys: flow-tools stores records in chunks of 65536 and walks
//! the newest chunk first, so its "first-seen order" is the order of the
//! chunks reversed (each chunk in insertion order). We reproduce that
//! exactly (it is deterministic), so large reports stay byte-identical to
//! flow-tools; see [`first_seen_order`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::{self, Write};

use formats::Record;

use super::array::push_percents;
use super::cfmt;
use filterlang::SymbolTable as SymTable;

use super::SymFile;
use super::{Counters, StatConfig};

/// Records per flow-tools hash chunk.
pub(crate) const CHUNK_ENTRIES: usize = 65536;

/// A multiply-shift hasher for small integer keys: each word is folded in
/// with a rotate, xor and a multiplication by an odd constant; `finish`
/// folds the well-mixed high half into the low half, because hashbrown
/// takes its bucket index from the low bits and its tag from the top 7.
#[derive(Clone, Copy, Default)]
pub struct MulHasher {
    h: u64,
}

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for MulHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.h ^ (self.h >> 32)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.h = (self.h.rotate_left(5) ^ n).wrapping_mul(MUL);
    }
    #[inline]
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// `BuildHasher` for [`MulHasher`].
pub type MulBuild = BuildHasherDefault<MulHasher>;

/// A hash-report key: its fields that `-s/-S` can sort on.
pub(crate) trait Key: Copy + Eq + Hash + Send + 'static {
    /// How many key columns come before the counters (1 or 2).
    const KEY_FIELDS: u32;
    /// Sort value of key column `field` (1-based).
    fn sort_value(&self, field: u32) -> u64;
}

/// One 32-bit key: an address or a counter value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct One(pub u32);
/// Two addresses (src, dst).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct AddrPair(pub u64);
/// Two 16-bit values (src/dst AS, input/output interface).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Pair16(pub u32);
/// Masked prefix and its length (`addr << 8 | len`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Prefix(pub u64);
/// Two prefixes (`src_addr, src_len, dst_addr, dst_len` packed).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct PrefixPair(pub u128);

impl Key for One {
    const KEY_FIELDS: u32 = 1;
    fn sort_value(&self, _: u32) -> u64 {
        self.0 as u64
    }
}
impl Key for AddrPair {
    const KEY_FIELDS: u32 = 2;
    fn sort_value(&self, f: u32) -> u64 {
        if f == 1 {
            self.0 >> 32
        } else {
            self.0 & 0xFFFF_FFFF
        }
    }
}
impl Key for Pair16 {
    const KEY_FIELDS: u32 = 2;
    fn sort_value(&self, f: u32) -> u64 {
        if f == 1 {
            (self.0 >> 16) as u64
        } else {
            (self.0 & 0xFFFF) as u64
        }
    }
}
impl Key for Prefix {
    const KEY_FIELDS: u32 = 1;
    /// Sorts on the address only (flow-tools compares 32 bits).
    fn sort_value(&self, _: u32) -> u64 {
        self.0 >> 8
    }
}
impl Key for PrefixPair {
    const KEY_FIELDS: u32 = 2;
    fn sort_value(&self, f: u32) -> u64 {
        if f == 1 {
            ((self.0 >> 72) & 0xFFFF_FFFF) as u64
        } else {
            ((self.0 >> 8) & 0xFFFF_FFFF) as u64
        }
    }
}

impl Prefix {
    fn new(addr: u32, len: u8) -> Self {
        Prefix(((addr & len2mask(len)) as u64) << 8 | len as u64)
    }
    fn parts(self) -> (u32, u8) {
        ((self.0 >> 8) as u32, self.0 as u8)
    }
}

impl PrefixPair {
    fn new(src: Prefix, dst: Prefix) -> Self {
        PrefixPair((src.0 as u128) << 64 | dst.0 as u128)
    }
    fn parts(self) -> (Prefix, Prefix) {
        (Prefix((self.0 >> 64) as u64), Prefix(self.0 as u64))
    }
}

/// `ipv4_len2mask`: a length above 32 gives mask 0.
fn len2mask(len: u8) -> u32 {
    match len {
        0 | 33.. => 0,
        l => u32::MAX << (32 - l as u32),
    }
}

/// Per-key counters plus the first-seen sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub first: u64,
    pub c: Counters,
}

/// A mergeable table of keys.
#[derive(Clone, Debug)]
pub(crate) struct Table<K: Key> {
    map: HashMap<K, Entry, MulBuild>,
}

impl<K: Key> Default for Table<K> {
    fn default() -> Self {
        Table {
            map: HashMap::with_capacity_and_hasher(1024, MulBuild::default()),
        }
    }
}

impl<K: Key> Table<K> {
    #[inline]
    fn update(&mut self, key: K, seq: u64, r: &Record) {
        self.map
            .entry(key)
            .or_insert(Entry {
                first: seq,
                c: Counters::default(),
            })
            .c
            .add_record(r);
    }

    fn merge(&mut self, later: Table<K>) {
        if self.map.is_empty() {
            self.map = later.map;
            return;
        }
        for (k, e) in later.map {
            let mine = self.map.entry(k).or_insert(Entry {
                first: e.first,
                c: Counters::default(),
            });
            mine.first = mine.first.min(e.first);
            mine.c.add(&e.c);
        }
    }

    /// Number of distinct keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Rows in report order, or `Err(sort_order)` for an invalid field.
    pub(crate) fn ordered(&self, sort_order: i32) -> Result<Vec<(K, Entry)>, i32> {
        let s = sort_order.unsigned_abs();
        if s > K::KEY_FIELDS + 4 {
            return Err(sort_order);
        }
        let mut rows = first_seen_order(self.map.iter().map(|(k, e)| (*k, *e)).collect());
        if s != 0 {
            if s <= K::KEY_FIELDS {
                rows.sort_by_key(|(k, _)| k.sort_value(s));
            } else {
                match s - K::KEY_FIELDS {
                    1 => rows.sort_by_key(|(_, e)| e.c.flows),
                    2 => rows.sort_by_key(|(_, e)| e.c.octets),
                    3 => rows.sort_by_key(|(_, e)| e.c.packets),
                    _ => rows.sort_by_key(|(_, e)| e.c.duration),
                }
            }
            if sort_order > 0 {
                rows.reverse();
            }
        }
        Ok(rows)
    }
}

/// Puts rows in flow-tools' traversal order: by first appearance, but with
/// more than [`CHUNK_ENTRIES`] keys the chunks of 65536 come newest first.
pub(crate) fn first_seen_order<K: Copy>(mut rows: Vec<(K, Entry)>) -> Vec<(K, Entry)> {
    rows.sort_unstable_by_key(|(_, e)| e.first);
    if rows.len() <= CHUNK_ENTRIES {
        return rows;
    }
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(CHUNK_ENTRIES).rev() {
        out.extend_from_slice(chunk);
    }
    out
}

/// Which hash report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HashKind {
    /// f1: octets/packets of each flow (dPkts = 0 flows skipped, but still
    /// in the totals, as in flow-tools).
    PacketSize,
    /// f2: packets of each flow.
    Packets,
    /// f3: octets of each flow.
    Octets,
    /// f8
    DstAddr,
    /// f9
    SrcAddr,
    /// f10
    SrcDstAddr,
    /// f11: the src row then the dst row of each flow; counted once in the
    /// totals.
    SrcOrDstAddr,
    /// f16
    NextHop,
    /// f21
    SrcDstAs,
    /// f23
    InOutIf,
    /// f24
    SrcPrefix,
    /// f25
    DstPrefix,
    /// f26
    SrcDstPrefix,
    /// f27
    Exporter,
}

#[derive(Clone, Debug)]
enum Tables {
    One(Table<One>),
    AddrPair(Table<AddrPair>),
    Pair16(Table<Pair16>),
    Prefix(Table<Prefix>),
    PrefixPair(Table<PrefixPair>),
}

/// A hash report: key table, totals, and the count of skipped flows.
#[derive(Clone, Debug)]
pub(crate) struct HashReport {
    kind: HashKind,
    tables: Tables,
    pub(crate) total: Counters,
    pub(crate) bogus: u64,
}

impl HashReport {
    pub(crate) fn new(kind: HashKind) -> Self {
        let tables = match kind {
            HashKind::SrcDstAddr => Tables::AddrPair(Table::default()),
            HashKind::SrcDstAs | HashKind::InOutIf => Tables::Pair16(Table::default()),
            HashKind::SrcPrefix | HashKind::DstPrefix => Tables::Prefix(Table::default()),
            HashKind::SrcDstPrefix => Tables::PrefixPair(Table::default()),
            _ => Tables::One(Table::default()),
        };
        HashReport {
            kind,
            tables,
            total: Counters::default(),
            bogus: 0,
        }
    }

    /// Number of distinct keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match &self.tables {
            Tables::One(t) => t.len(),
            Tables::AddrPair(t) => t.len(),
            Tables::Pair16(t) => t.len(),
            Tables::Prefix(t) => t.len(),
            Tables::PrefixPair(t) => t.len(),
        }
    }

    pub(crate) fn add_batch(&mut self, first_index: u64, recs: &[Record]) {
        let total = &mut self.total;
        macro_rules! each {
            ($t:expr, $key:expr) => {
                for (i, r) in recs.iter().enumerate() {
                    total.add_record(r);
                    $t.update($key(r), first_index + i as u64, r);
                }
            };
        }
        match (&mut self.tables, self.kind) {
            (Tables::One(t), HashKind::PacketSize) => {
                for (i, r) in recs.iter().enumerate() {
                    total.add_record(r);
                    if r.packets == 0 {
                        self.bogus += 1;
                        continue;
                    }
                    t.update(One(r.octets / r.packets), first_index + i as u64, r);
                }
            }
            (Tables::One(t), HashKind::Packets) => each!(t, |r: &Record| One(r.packets)),
            (Tables::One(t), HashKind::Octets) => each!(t, |r: &Record| One(r.octets)),
            (Tables::One(t), HashKind::DstAddr) => each!(t, |r: &Record| One(r.dst_addr)),
            (Tables::One(t), HashKind::SrcAddr) => each!(t, |r: &Record| One(r.src_addr)),
            (Tables::One(t), HashKind::NextHop) => each!(t, |r: &Record| One(r.next_hop)),
            (Tables::One(t), HashKind::Exporter) => each!(t, |r: &Record| One(r.exporter)),
            (Tables::One(t), HashKind::SrcOrDstAddr) => {
                for (i, r) in recs.iter().enumerate() {
                    total.add_record(r);
                    let seq = (first_index + i as u64) * 2;
                    t.update(One(r.src_addr), seq, r);
                    t.update(One(r.dst_addr), seq + 1, r);
                }
            }
            (Tables::AddrPair(t), _) => {
                each!(t, |r: &Record| AddrPair(
                    (r.src_addr as u64) << 32 | r.dst_addr as u64
                ))
            }
            (Tables::Pair16(t), HashKind::SrcDstAs) => {
                each!(t, |r: &Record| Pair16(
                    (r.src_as as u32) << 16 | r.dst_as as u32
                ))
            }
            (Tables::Pair16(t), _) => {
                each!(t, |r: &Record| Pair16(
                    (r.input_if as u32) << 16 | r.output_if as u32
                ))
            }
            (Tables::Prefix(t), HashKind::SrcPrefix) => {
                each!(t, |r: &Record| Prefix::new(r.src_addr, r.src_mask))
            }
            (Tables::Prefix(t), _) => each!(t, |r: &Record| Prefix::new(r.dst_addr, r.dst_mask)),
            (Tables::PrefixPair(t), _) => each!(t, |r: &Record| PrefixPair::new(
                Prefix::new(r.src_addr, r.src_mask),
                Prefix::new(r.dst_addr, r.dst_mask)
            )),
            // Every kind is created with its table variant (see `new`).
            (Tables::One(_), _) => {}
        }
    }

    pub(crate) fn merge(&mut self, later: HashReport) {
        self.total.add(&later.total);
        self.bogus += later.bogus;
        match (&mut self.tables, later.tables) {
            (Tables::One(a), Tables::One(b)) => a.merge(b),
            (Tables::AddrPair(a), Tables::AddrPair(b)) => a.merge(b),
            (Tables::Pair16(a), Tables::Pair16(b)) => a.merge(b),
            (Tables::Prefix(a), Tables::Prefix(b)) => a.merge(b),
            (Tables::PrefixPair(a), Tables::PrefixPair(b)) => a.merge(b),
            _ => debug_assert!(false, "merging different hash reports"),
        }
    }

    pub(crate) fn write(
        &self,
        cfg: &StatConfig,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<()> {
        let cc = cfg.comment_char as char;
        let so = cfg.sort_order();
        let bad = |err: &mut dyn Write, so: i32| writeln!(err, "{cc} can't sort on field {so}.");
        let mut s = String::with_capacity(256);
        macro_rules! rows {
            ($t:expr) => {
                match $t.ordered(so) {
                    Ok(r) => r,
                    Err(so) => return bad(err, so),
                }
            };
        }
        match &self.tables {
            Tables::One(t) => {
                let rows = rows!(t);
                match self.kind {
                    HashKind::PacketSize | HashKind::Packets | HashKind::Octets => {
                        let title = match self.kind {
                            HashKind::PacketSize => "Pkt Size ",
                            HashKind::Packets => "Packets  ",
                            _ => "Octets   ",
                        };
                        header(out, cfg, title)?;
                        // flow-tools' chash_c32_dump loads tag.sym for -n
                        // whatever the report; kept as is.
                        let syms = if cfg.names {
                            cfg.symbols(SymFile::Tag)
                        } else {
                            None
                        };
                        for (k, e) in rows {
                            s.clear();
                            c32_row(&mut s, cfg, syms.as_ref(), k.0, &e.c, &self.total);
                            out.write_all(s.as_bytes())?;
                        }
                    }
                    _ => {
                        header(out, cfg, "IPaddr        ")?;
                        for (k, e) in rows {
                            s.clear();
                            let mut key = String::with_capacity(15);
                            cfmt::ipv4(&mut key, k.0);
                            single_key_row(&mut s, cfg, &key, 15, &e.c, &self.total);
                            out.write_all(s.as_bytes())?;
                        }
                    }
                }
            }
            Tables::AddrPair(t) => {
                let rows = rows!(t);
                header(out, cfg, "src IPaddr     dst IPaddr      ")?;
                for (k, e) in rows {
                    s.clear();
                    let mut key = String::with_capacity(32);
                    cfmt::left(&mut key, &cfmt::ipv4_string(k.sort_value(1) as u32), 15);
                    key.push_str("  ");
                    cfmt::left(&mut key, &cfmt::ipv4_string(k.sort_value(2) as u32), 15);
                    pair_row(&mut s, cfg, &key, 32, &e.c, &self.total);
                    out.write_all(s.as_bytes())?;
                }
            }
            Tables::Pair16(t) => {
                let rows = rows!(t);
                if self.kind == HashKind::SrcDstAs {
                    header(out, cfg, "src AS          dst AS           ")?;
                    let syms = if cfg.names {
                        cfg.symbols(SymFile::Asn)
                    } else {
                        None
                    };
                    for (k, e) in rows {
                        s.clear();
                        let name = |v: u64| match syms.as_ref().and_then(|t| t.name(v as u32)) {
                            Some(n) => n.to_string(),
                            None => v.to_string(),
                        };
                        cfmt::left(&mut s, &name(k.sort_value(1)), 16);
                        s.push_str("  ");
                        cfmt::left(&mut s, &name(k.sort_value(2)), 16);
                        s.push_str("  ");
                        counters_tail(&mut s, cfg, &e.c, &self.total, true);
                        out.write_all(s.as_bytes())?;
                    }
                } else {
                    header(out, cfg, "in   out   ")?;
                    for (k, e) in rows {
                        s.clear();
                        cfmt::num_pad(&mut s, k.sort_value(1), 5);
                        s.push_str("  ");
                        cfmt::num_pad(&mut s, k.sort_value(2), 5);
                        s.push_str("  ");
                        counters_tail(&mut s, cfg, &e.c, &self.total, true);
                        out.write_all(s.as_bytes())?;
                    }
                }
            }
            Tables::Prefix(t) => {
                let rows = rows!(t);
                // flow-tools titles f25 "Source Prefix" too.
                header(out, cfg, "Source Prefix    ")?;
                for (k, e) in rows {
                    s.clear();
                    let (a, l) = k.parts();
                    let mut key = String::with_capacity(18);
                    cfmt::ipv4_prefix(&mut key, a, l);
                    single_key_row(&mut s, cfg, &key, 18, &e.c, &self.total);
                    out.write_all(s.as_bytes())?;
                }
            }
            Tables::PrefixPair(t) => {
                let rows = rows!(t);
                header(out, cfg, "Source Prefix     Destination Prefix ")?;
                for (k, e) in rows {
                    s.clear();
                    let (src, dst) = k.parts();
                    let mut key = String::with_capacity(38);
                    let mut p = String::with_capacity(18);
                    let (a, l) = src.parts();
                    cfmt::ipv4_prefix(&mut p, a, l);
                    cfmt::left(&mut key, &p, 18);
                    key.push_str("  ");
                    p.clear();
                    let (a, l) = dst.parts();
                    cfmt::ipv4_prefix(&mut p, a, l);
                    key.push_str(&p);
                    if cfg.percent {
                        cfmt::left(&mut s, &key, 38);
                        s.push_str("  ");
                        push_percents(&mut s, &e.c, &self.total, cfg.wide);
                        s.push('\n');
                    } else {
                        cfmt::left(&mut s, &key, 38);
                        s.push_str("  ");
                        counters_tail(&mut s, cfg, &e.c, &self.total, false);
                    }
                    out.write_all(s.as_bytes())?;
                }
            }
        }
        Ok(())
    }
}

/// `#`, `# <title> flows ...`, `#`. `title` includes its own padding up to
/// the last space before `flows`.
fn header(out: &mut dyn Write, cfg: &StatConfig, title: &str) -> io::Result<()> {
    let cc = cfg.comment_char as char;
    let cols = match (cfg.percent, cfg.wide) {
        (true, true) => "flows    octets   packets  duration",
        (true, false) => "flows    octets   packets",
        (false, true) => {
            "flows                 octets                packets               duration"
        }
        (false, false) => "flows                 octets                packets",
    };
    write!(out, "{cc}\n{cc} {title} {cols}\n{cc}\n")
}

/// Rows of the ip and prefix dumps: the key padded to `w`, then the
/// counters; without -w the packets column is not padded.
fn single_key_row(
    s: &mut String,
    cfg: &StatConfig,
    key: &str,
    w: usize,
    c: &Counters,
    total: &Counters,
) {
    cfmt::left(s, key, w);
    s.push_str("  ");
    if cfg.percent {
        push_percents(s, c, total, cfg.wide);
        s.push('\n');
    } else {
        counters_tail(s, cfg, c, total, false);
    }
}

/// Rows of the address-pair dump: the packets column is always padded.
fn pair_row(s: &mut String, cfg: &StatConfig, key: &str, w: usize, c: &Counters, total: &Counters) {
    cfmt::left(s, key, w);
    s.push_str("  ");
    counters_tail(s, cfg, c, total, true);
}

/// The counter columns and the newline. `pad_packets`: the packets column
/// is padded to 20 even without -w (f10, f21, f23).
fn counters_tail(
    s: &mut String,
    cfg: &StatConfig,
    c: &Counters,
    total: &Counters,
    pad_packets: bool,
) {
    if cfg.percent {
        push_percents(s, c, total, cfg.wide);
    } else {
        cfmt::num_pad(s, c.flows, 20);
        s.push_str("  ");
        cfmt::num_pad(s, c.octets, 20);
        s.push_str("  ");
        if cfg.wide {
            cfmt::num_pad(s, c.packets, 20);
            let _ = write!(s, "  {}", c.duration);
        } else if pad_packets {
            cfmt::num_pad(s, c.packets, 20);
        } else {
            let _ = write!(s, "{}", c.packets);
        }
    }
    s.push('\n');
}

/// Rows of `chash_c32_dump` (f1-f3).
fn c32_row(
    s: &mut String,
    cfg: &StatConfig,
    syms: Option<&SymTable>,
    v: u32,
    c: &Counters,
    total: &Counters,
) {
    let key = match syms.and_then(|t| t.name(v)) {
        Some(n) => n.to_string(),
        None => format!("{v:<10}"),
    };
    if cfg.percent {
        // -P uses %-10.10s even with -w.
        cfmt::left(s, &key, 10);
        s.push_str("  ");
        push_percents(s, c, total, cfg.wide);
        s.push('\n');
    } else {
        cfmt::left(s, &key, if cfg.wide { 15 } else { 10 });
        s.push_str("  ");
        counters_tail(s, cfg, c, total, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(src: u32, dst: u32, octets: u32) -> Record {
        Record {
            src_addr: src,
            dst_addr: dst,
            packets: 1,
            octets,
            ..Record::default()
        }
    }

    fn keys(rows: &[(One, Entry)]) -> Vec<u32> {
        rows.iter().map(|(k, _)| k.0).collect()
    }

    fn one_table(h: &HashReport) -> &Table<One> {
        match &h.tables {
            Tables::One(t) => t,
            _ => unreachable!(),
        }
    }

    #[test]
    fn unsorted_is_first_seen_and_ties_reverse_under_big_s() {
        let mut h = HashReport::new(HashKind::SrcAddr);
        // 3 and 1 tie on flows (1 each), 2 has two flows.
        h.add_batch(0, &[rec(3, 0, 5), rec(2, 0, 1), rec(1, 0, 9), rec(2, 0, 1)]);
        let t = one_table(&h);
        assert_eq!(keys(&t.ordered(0).unwrap()), vec![3, 2, 1]);
        assert_eq!(keys(&t.ordered(2).unwrap()), vec![2, 1, 3]);
        assert_eq!(keys(&t.ordered(-2).unwrap()), vec![3, 1, 2]);
        assert_eq!(keys(&t.ordered(1).unwrap()), vec![3, 2, 1]);
        assert_eq!(keys(&t.ordered(-1).unwrap()), vec![1, 2, 3]);
        assert_eq!(t.ordered(6).unwrap_err(), 6);
        assert!(t.ordered(5).is_ok());
    }

    #[test]
    fn src_or_dst_inserts_src_before_dst_and_counts_totals_once() {
        let mut h = HashReport::new(HashKind::SrcOrDstAddr);
        h.add_batch(0, &[rec(5, 6, 10), rec(6, 6, 10)]);
        let t = one_table(&h);
        let rows = t.ordered(0).unwrap();
        assert_eq!(keys(&rows), vec![5, 6]);
        assert_eq!(rows[1].1.c.flows, 3);
        assert_eq!(h.total.flows, 2);
    }

    #[test]
    fn merging_partials_reproduces_the_sequential_order() {
        let recs: Vec<Record> = (0..1000u32)
            .map(|i| rec((i * 7919) % 97, i % 13, i))
            .collect();
        let mut seq = HashReport::new(HashKind::SrcAddr);
        seq.add_batch(0, &recs);
        let mut parts: Vec<HashReport> = recs
            .chunks(64)
            .enumerate()
            .map(|(n, c)| {
                let mut h = HashReport::new(HashKind::SrcAddr);
                h.add_batch(n as u64 * 64, c);
                h
            })
            .collect();
        // merge in a scrambled order
        parts.reverse();
        let mut merged = parts.remove(3);
        for p in parts {
            merged.merge(p);
        }
        for so in [0, 1, -1, 2, -2, 3, -3, 5] {
            assert_eq!(
                one_table(&seq).ordered(so).unwrap(),
                one_table(&merged).ordered(so).unwrap(),
                "sort {so}"
            );
        }
        assert_eq!(seq.total, merged.total);
    }

    #[test]
    fn over_65536_keys_the_chunks_come_newest_first() {
        let rows: Vec<(One, Entry)> = (0..(CHUNK_ENTRIES as u32 * 2 + 3))
            .map(|i| {
                (
                    One(i),
                    Entry {
                        first: i as u64,
                        c: Counters::default(),
                    },
                )
            })
            .collect();
        let order = first_seen_order(rows);
        let k = |i: usize| order[i].0 .0 as usize;
        assert_eq!(k(0), 2 * CHUNK_ENTRIES);
        assert_eq!(k(2), 2 * CHUNK_ENTRIES + 2);
        assert_eq!(k(3), CHUNK_ENTRIES);
        assert_eq!(k(3 + CHUNK_ENTRIES), 0);
    }

    #[test]
    fn prefixes_are_masked_and_pair_keys_sort_on_either_side() {
        let p = Prefix::new(0xC000_02FF, 24);
        assert_eq!(p.parts(), (0xC000_0200, 24));
        assert_eq!(Prefix::new(0xC000_02FF, 40).parts(), (0, 40));
        let pp = PrefixPair::new(p, Prefix::new(0x0A01_0203, 16));
        assert_eq!(pp.sort_value(1), 0xC000_0200);
        assert_eq!(pp.sort_value(2), 0x0A01_0000);
        let a = AddrPair(1 << 32 | 2);
        assert_eq!((a.sort_value(1), a.sort_value(2)), (1, 2));
        let q = Pair16(7 << 16 | 9);
        assert_eq!((q.sort_value(1), q.sort_value(2)), (7, 9));
    }

    #[test]
    fn packet_size_skips_bogus_flows_but_counts_them_in_totals() {
        let mut h = HashReport::new(HashKind::PacketSize);
        let mut r = rec(1, 2, 100);
        r.packets = 0;
        h.add_batch(0, &[r, rec(1, 2, 100)]);
        assert_eq!(h.bogus, 1);
        assert_eq!(h.total.flows, 2);
        assert_eq!(h.len(), 1);
    }
}
