//! Compiled filters and their evaluation: [`Filter::matches`] does no
//! allocation and no string work. Lookup tables are built once by
//! `compile.rs`: bitsets for protocols, ports and other small integers,
//! sorted arrays for exact addresses, a flattened interval table for
//! longest-prefix matches, ordered lists for the first-match types.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use formats::native::Fields;
use formats::Record;

use crate::ast::CmpOp;
use crate::date::Zone;

#[path = "batch.rs"]
mod batch;

/// An 8-bit field of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum U8Field {
    Protocol,
    Tos,
    TcpFlags,
    SrcMask,
    DstMask,
    EngineId,
    EngineType,
}

impl U8Field {
    #[inline(always)]
    fn get(self, r: &Record) -> u8 {
        match self {
            U8Field::Protocol => r.protocol,
            U8Field::Tos => r.tos,
            U8Field::TcpFlags => r.tcp_flags,
            U8Field::SrcMask => r.src_mask,
            U8Field::DstMask => r.dst_mask,
            U8Field::EngineId => r.engine_id,
            U8Field::EngineType => r.engine_type,
        }
    }
}

/// A 16-bit field of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum U16Field {
    SrcPort,
    DstPort,
    SrcAs,
    DstAs,
    Input,
    Output,
}

impl U16Field {
    #[inline(always)]
    fn get(self, r: &Record) -> u16 {
        match self {
            U16Field::SrcPort => r.src_port,
            U16Field::DstPort => r.dst_port,
            U16Field::SrcAs => r.src_as,
            U16Field::DstAs => r.dst_as,
            U16Field::Input => r.input_if,
            U16Field::Output => r.output_if,
        }
    }
}

/// An address field of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddrField {
    Src,
    Dst,
    Exporter,
    NextHop,
}

impl AddrField {
    #[inline(always)]
    fn get(self, r: &Record) -> u32 {
        match self {
            AddrField::Src => r.src_addr,
            AddrField::Dst => r.dst_addr,
            AddrField::Exporter => r.exporter,
            AddrField::NextHop => r.next_hop,
        }
    }
}

/// A 32-bit counter of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CounterField {
    Octets,
    Packets,
    /// `(Last - First) mod 2^32`, ms.
    Duration,
}

impl CounterField {
    #[inline(always)]
    fn get(self, r: &Record) -> u32 {
        match self {
            CounterField::Octets => r.octets,
            CounterField::Packets => r.packets,
            CounterField::Duration => r.duration_ms(),
        }
    }
}

/// Start or end of the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeField {
    Start,
    End,
}

impl TimeField {
    /// Whole seconds since the epoch (floor), from the wrap-corrected
    /// absolute times (a documented difference from flow-tools).
    #[inline(always)]
    fn secs(self, r: &Record) -> i64 {
        let ms = match self {
            TimeField::Start => r.start_ms(),
            TimeField::End => r.end_ms(),
        };
        ms.div_euclid(1000)
    }
}

/// bits or packets per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RateField {
    Bps,
    Pps,
}

impl RateField {
    #[inline(always)]
    fn get(self, r: &Record) -> f64 {
        let duration = r.duration_ms();
        if duration == 0 {
            return 0.0;
        }
        let seconds = f64::from(duration) / 1000.0;
        match self {
            RateField::Bps => f64::from(r.octets) * 8.0 / seconds,
            RateField::Pps => f64::from(r.packets) / seconds,
        }
    }
}

#[inline(always)]
pub(crate) fn compare<T: PartialOrd>(value: T, op: CmpOp, against: T) -> bool {
    match op {
        CmpOp::Lt => value < against,
        CmpOp::Gt => value > against,
        CmpOp::Eq => value == against,
        CmpOp::Ne => value != against,
        CmpOp::Le => value <= against,
        CmpOp::Ge => value >= against,
    }
}

/// A set of 65536 bits.
pub(crate) type Bits16 = [u64; 1024];

#[inline(always)]
fn bit256(bits: &[u64; 4], v: u8) -> bool {
    (bits[usize::from(v >> 6)] >> (v & 63)) & 1 != 0
}

#[inline(always)]
fn bit65536(bits: &Bits16, v: u16) -> bool {
    (bits[usize::from(v >> 6)] >> (v & 63)) & 1 != 0
}

/// Exact addresses (ip-address): sorted keys, each with its mode.
#[derive(Debug)]
pub(crate) struct ExactSet {
    pub keys: Box<[u32]>,
    pub permit: Box<[bool]>,
    pub default: bool,
}

impl ExactSet {
    #[inline(always)]
    fn lookup(&self, a: u32) -> bool {
        if self.keys.len() <= SMALL_SET_KEYS {
            // keys are distinct: at most one hit; no data-dependent branch
            let mut verdict = self.default;
            for (k, p) in self.keys.iter().zip(self.permit.iter()) {
                verdict = if *k == a { *p } else { verdict };
            }
            return verdict;
        }
        match self.keys.binary_search(&a) {
            Ok(i) => self.permit.get(i).copied().unwrap_or(self.default),
            Err(_) => self.default,
        }
    }
}

/// Longest-prefix table flattened into disjoint intervals: `starts[i]` is
/// the first address of interval i (`starts[0] == 0`), `permit[i]` its
/// verdict (the mode of the longest covering prefix, or the default).
///
/// Tables with many intervals also get an index on the top 16 bits of
/// the address: `index[a >> 16]` is either a verdict (the whole /16 has
/// one) or the first interval of that /16 and how many there are, so most
/// lookups are one load and the rest search a handful of intervals.
#[derive(Debug)]
pub(crate) struct PrefixTable {
    starts: Box<[u32]>,
    permit: Box<[bool]>,
    index: Option<Box<[u32]>>,
}

/// Index entry flag: the entry is a verdict (in bit 0).
const INDEX_VERDICT: u32 = 1 << 31;
/// Index entry count meaning "too many": search the whole table.
const INDEX_MAX_COUNT: u32 = 0xff;
/// Build an index above this many intervals.
const INDEX_THRESHOLD: usize = 64;

impl PrefixTable {
    /// A table from interval starts (`starts[0] == 0`, ascending) and
    /// their verdicts.
    pub(crate) fn new(starts: Vec<u32>, permit: Vec<bool>) -> PrefixTable {
        let mut table = PrefixTable {
            starts: starts.into_boxed_slice(),
            permit: permit.into_boxed_slice(),
            index: None,
        };
        if table.starts.len() > INDEX_THRESHOLD && table.starts.len() < (1 << 23) {
            let mut index = Vec::with_capacity(1 << 16);
            for block in 0u32..(1 << 16) {
                let first = block << 16;
                let lo = table.search(first);
                let hi = table.search(first | 0xffff);
                if lo == hi {
                    let verdict = table.permit.get(lo).copied().unwrap_or(false);
                    index.push(INDEX_VERDICT | u32::from(verdict));
                } else {
                    let count = ((hi - lo + 1) as u32).min(INDEX_MAX_COUNT);
                    index.push(((lo as u32) << 8) | count);
                }
            }
            table.index = Some(index.into_boxed_slice());
        }
        table
    }

    /// Index of the interval holding `a`.
    #[inline(always)]
    fn search(&self, a: u32) -> usize {
        self.starts.partition_point(|&s| s <= a).saturating_sub(1)
    }

    #[inline(always)]
    fn lookup(&self, a: u32) -> bool {
        let i = match &self.index {
            None => self.search(a),
            Some(index) => {
                let entry = index
                    .get((a >> 16) as usize)
                    .copied()
                    .unwrap_or(INDEX_VERDICT);
                if entry & INDEX_VERDICT != 0 {
                    return entry & 1 != 0;
                }
                let lo = (entry >> 8) as usize;
                let count = entry & 0xff;
                if count >= INDEX_MAX_COUNT {
                    self.search(a)
                } else {
                    let slice = self.starts.get(lo..lo + count as usize).unwrap_or(&[]);
                    lo + slice.partition_point(|&s| s <= a).saturating_sub(1)
                }
            }
        };
        self.permit.get(i).copied().unwrap_or(false)
    }
}

/// ip-address-mask: ordered (address, mask, permit), first match wins.
#[derive(Debug)]
pub(crate) struct MaskList {
    pub entries: Box<[(u32, u32, bool)]>,
    pub default: bool,
}

/// Ordered (op, value, permit) entries, first match wins.
#[derive(Debug)]
pub(crate) struct OrderedList<T> {
    pub entries: Box<[(CmpOp, T, bool)]>,
    pub default: bool,
}

impl<T: PartialOrd + Copy> OrderedList<T> {
    #[inline(always)]
    fn lookup(&self, v: T) -> bool {
        for &(op, against, permit) in self.entries.iter() {
            if compare(v, op, against) {
                return permit;
            }
        }
        self.default
    }
}

/// One `match` line, ready to run.
#[derive(Clone, Debug)]
pub(crate) enum Test {
    U8 {
        field: U8Field,
        mask: u8,
        bits: [u64; 4],
    },
    U16 {
        field: U16Field,
        bits: Arc<Bits16>,
    },
    Exact {
        field: AddrField,
        set: Arc<ExactSet>,
    },
    Mask {
        field: AddrField,
        list: Arc<MaskList>,
    },
    Prefix {
        field: AddrField,
        table: Arc<PrefixTable>,
    },
    Counter {
        field: CounterField,
        list: Arc<OrderedList<u32>>,
    },
    TimeDate {
        field: TimeField,
        list: Arc<OrderedList<i64>>,
    },
    /// Seconds of the local day compared with HH:MM:SS targets.
    TimeOfDay {
        field: TimeField,
        list: Arc<OrderedList<i64>>,
        zone: Zone,
    },
    Double {
        field: RateField,
        list: Arc<OrderedList<f64>>,
    },
    /// random-sample: permits with probability 1/rate when `hit` is permit.
    Sample {
        rate: u64,
        hit: bool,
        state: Arc<AtomicU64>,
    },
}

/// xorshift64* step.
#[inline(always)]
fn next_random(state: &AtomicU64) -> u64 {
    let mut x = state.load(Ordering::Relaxed);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    if x == 0 {
        x = 0x9E37_79B9_7F4A_7C15;
    }
    state.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Up to this many distinct cheap tests per definition are evaluated into
/// one bitmask.
const MAX_CHEAP: usize = 64;

/// Exact-address sets this small become branch-free [`SmallSet`]s.
const SMALL_SET_KEYS: usize = 8;

/// Up to eight addresses with their verdicts, scanned with conditional
/// moves (no data-dependent branch; keys are distinct).
#[derive(Clone, Copy, Debug)]
struct SmallSet {
    keys: [u32; SMALL_SET_KEYS],
    permit: [bool; SMALL_SET_KEYS],
    len: usize,
    default: bool,
}

impl SmallSet {
    fn new(set: &ExactSet) -> Option<SmallSet> {
        if set.keys.len() > SMALL_SET_KEYS {
            return None;
        }
        let mut small = SmallSet {
            keys: [0; SMALL_SET_KEYS],
            permit: [false; SMALL_SET_KEYS],
            len: set.keys.len(),
            default: set.default,
        };
        for (i, (k, p)) in set.keys.iter().zip(set.permit.iter()).enumerate() {
            small.keys[i] = *k;
            small.permit[i] = *p;
        }
        Some(small)
    }

    #[inline(always)]
    fn lookup(&self, a: u32) -> bool {
        let n = self.len.min(SMALL_SET_KEYS);
        let mut verdict = self.default;
        for (k, p) in self.keys[..n].iter().zip(self.permit[..n].iter()) {
            verdict = if *k == a { *p } else { verdict };
        }
        verdict
    }
}

/// The table of a cheap test.
#[derive(Clone, Debug)]
enum CheapTable {
    Bits8([u64; 4]),
    Bits16(Arc<Bits16>),
    /// One address: (address, its verdict, default).
    Set1(u32, bool, bool),
    /// Two addresses.
    Set2([u32; 2], [bool; 2], bool),
    Set(SmallSet),
}

/// A test that is a few instructions with no data-dependent branch: a
/// table and a function specialised for one record field. The call is
/// indirect (and perfectly predicted: the same sequence for every
/// record); keeping each test in its own tiny function stops the
/// compiler from doing every field's work for every record. ToS and
/// TCP-flag masks are folded into the bitset.
#[derive(Clone, Debug)]
struct Cheap {
    table: CheapTable,
    test: CheapFn,
}

/// The function of a cheap test.
type CheapFn = fn(&CheapTable, &Record) -> bool;

macro_rules! cheap_fns {
    ($($name:ident: $variant:ident, $lookup:ident, $field:ident;)*) => {
        $(
            fn $name(t: &CheapTable, r: &Record) -> bool {
                match t {
                    CheapTable::$variant(table) => $lookup(table, r.$field),
                    _ => false,
                }
            }
        )*
    };
}

#[inline(always)]
fn set_lookup(set: &SmallSet, a: u32) -> bool {
    set.lookup(a)
}

macro_rules! address_fns {
    ($($one:ident, $two:ident, $many:ident: $field:ident;)*) => {
        $(
            fn $one(t: &CheapTable, r: &Record) -> bool {
                match *t {
                    CheapTable::Set1(k, p, d) => if r.$field == k { p } else { d },
                    _ => false,
                }
            }
            fn $two(t: &CheapTable, r: &Record) -> bool {
                match *t {
                    CheapTable::Set2(k, p, d) => {
                        let a = r.$field;
                        let v = if a == k[0] { p[0] } else { d };
                        if a == k[1] { p[1] } else { v }
                    }
                    _ => false,
                }
            }
            fn $many(t: &CheapTable, r: &Record) -> bool {
                match t {
                    CheapTable::Set(set) => set_lookup(set, r.$field),
                    _ => false,
                }
            }
        )*
    };
}

address_fns! {
    src_addr1, src_addr2, src_addr: src_addr;
    dst_addr1, dst_addr2, dst_addr: dst_addr;
    exporter1, exporter2, exporter: exporter;
    next_hop1, next_hop2, next_hop: next_hop;
}

cheap_fns! {
    protocol: Bits8, bit256, protocol;
    tos: Bits8, bit256, tos;
    tcp_flags: Bits8, bit256, tcp_flags;
    src_mask: Bits8, bit256, src_mask;
    dst_mask: Bits8, bit256, dst_mask;
    engine_id: Bits8, bit256, engine_id;
    engine_type: Bits8, bit256, engine_type;
    src_port: Bits16, bit65536, src_port;
    dst_port: Bits16, bit65536, dst_port;
    src_as: Bits16, bit65536, src_as;
    dst_as: Bits16, bit65536, dst_as;
    input_if: Bits16, bit65536, input_if;
    output_if: Bits16, bit65536, output_if;
}

impl Cheap {
    /// The cheap form of a test, if it has one.
    fn from_test(test: &Test) -> Option<Cheap> {
        Some(match test {
            Test::U8 { field, mask, bits } => {
                let mut folded = [0u64; 4];
                for v in 0..=255u8 {
                    if bit256(bits, v & mask) {
                        folded[usize::from(v >> 6)] |= 1 << (v & 63);
                    }
                }
                let test = match field {
                    U8Field::Protocol => protocol,
                    U8Field::Tos => tos,
                    U8Field::TcpFlags => tcp_flags,
                    U8Field::SrcMask => src_mask,
                    U8Field::DstMask => dst_mask,
                    U8Field::EngineId => engine_id,
                    U8Field::EngineType => engine_type,
                };
                Cheap {
                    table: CheapTable::Bits8(folded),
                    test,
                }
            }
            Test::U16 { field, bits } => {
                let test = match field {
                    U16Field::SrcPort => src_port,
                    U16Field::DstPort => dst_port,
                    U16Field::SrcAs => src_as,
                    U16Field::DstAs => dst_as,
                    U16Field::Input => input_if,
                    U16Field::Output => output_if,
                };
                Cheap {
                    table: CheapTable::Bits16(Arc::clone(bits)),
                    test,
                }
            }
            Test::Exact { field, set } => {
                let small = SmallSet::new(set)?;
                let (table, fns): (CheapTable, [CheapFn; 4]) = match set.keys.len() {
                    1 => (
                        CheapTable::Set1(small.keys[0], small.permit[0], small.default),
                        [src_addr1, dst_addr1, exporter1, next_hop1],
                    ),
                    2 => (
                        CheapTable::Set2(
                            [small.keys[0], small.keys[1]],
                            [small.permit[0], small.permit[1]],
                            small.default,
                        ),
                        [src_addr2, dst_addr2, exporter2, next_hop2],
                    ),
                    _ => (
                        CheapTable::Set(small),
                        [src_addr, dst_addr, exporter, next_hop],
                    ),
                };
                let test = match field {
                    AddrField::Src => fns[0],
                    AddrField::Dst => fns[1],
                    AddrField::Exporter => fns[2],
                    AddrField::NextHop => fns[3],
                };
                Cheap { table, test }
            }
            _ => return None,
        })
    }

    #[inline(always)]
    fn permits(&self, r: &Record) -> bool {
        (self.test)(&self.table, r)
    }
}

impl Test {
    /// Kept out of line so the hot loop over cheap tests stays small.
    #[inline(never)]
    fn permits(&self, r: &Record) -> bool {
        match self {
            Test::U8 { field, mask, bits } => bit256(bits, field.get(r) & mask),
            Test::U16 { field, bits } => bit65536(bits, field.get(r)),
            Test::Exact { field, set } => set.lookup(field.get(r)),
            Test::Prefix { field, table } => table.lookup(field.get(r)),
            Test::Mask { field, list } => {
                let a = field.get(r);
                for &(addr, mask, permit) in list.entries.iter() {
                    if a & mask == addr {
                        return permit;
                    }
                }
                list.default
            }
            Test::Counter { field, list } => list.lookup(field.get(r)),
            Test::TimeDate { field, list } => list.lookup(field.secs(r)),
            Test::TimeOfDay { field, list, zone } => {
                let t = field.secs(r);
                let second_of_day = (t + i64::from(zone.offset_at(t))).rem_euclid(86_400);
                list.lookup(second_of_day)
            }
            Test::Double { field, list } => list.lookup(field.get(r)),
            Test::Sample { rate, hit, state } => {
                let sampled = next_random(state) % rate.max(&1) == 0;
                sampled == *hit
            }
        }
    }
}

/// A field readable by the expression language, as an i64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExprField {
    U8(U8Field),
    U16(U16Field),
    Addr(AddrField),
    Counter(CounterField),
    Time(TimeField),
}

/// A compiled inline expression, as the compiler builds it.
#[derive(Clone, Debug)]
pub(crate) enum ExprNode {
    Or(Vec<ExprNode>),
    And(Vec<ExprNode>),
    Not(Box<ExprNode>),
    Cmp {
        field: ExprField,
        op: CmpOp,
        value: i64,
    },
    CmpFields {
        left: ExprField,
        op: CmpOp,
        right: ExprField,
    },
    InPrefix {
        field: AddrField,
        addr: u32,
        mask: u32,
        inside: bool,
    },
}

/// A comparison leaf, reduced to one branch-free form where possible:
/// `value in [lo, lo + width]` (unsigned wrap-around arithmetic), negated
/// or not. Every `field op constant` and prefix test has that form. The
/// field is read through a tiny function per field (see [`Cheap`] for
/// why).
#[derive(Clone, Copy, Debug)]
enum Leaf {
    Range {
        get: Getter,
        lo: i64,
        width: u64,
        negate: bool,
    },
    Prefix {
        get: Getter,
        addr: u32,
        mask: u32,
        inside: bool,
    },
    Fields {
        left: Getter,
        op: CmpOp,
        right: Getter,
    },
    Const(bool),
}

/// Reads one field of a record as an i64.
type Getter = fn(&Record) -> i64;

macro_rules! getters {
    ($($name:ident($r:ident) => $e:expr;)*) => {
        $( fn $name($r: &Record) -> i64 { $e } )*
    };
}

getters! {
    get_protocol(r) => i64::from(r.protocol);
    get_tos(r) => i64::from(r.tos);
    get_tcp_flags(r) => i64::from(r.tcp_flags);
    get_src_mask(r) => i64::from(r.src_mask);
    get_dst_mask(r) => i64::from(r.dst_mask);
    get_engine_id(r) => i64::from(r.engine_id);
    get_engine_type(r) => i64::from(r.engine_type);
    get_src_port(r) => i64::from(r.src_port);
    get_dst_port(r) => i64::from(r.dst_port);
    get_src_as(r) => i64::from(r.src_as);
    get_dst_as(r) => i64::from(r.dst_as);
    get_input_if(r) => i64::from(r.input_if);
    get_output_if(r) => i64::from(r.output_if);
    get_src_addr(r) => i64::from(r.src_addr);
    get_dst_addr(r) => i64::from(r.dst_addr);
    get_exporter(r) => i64::from(r.exporter);
    get_next_hop(r) => i64::from(r.next_hop);
    get_octets(r) => i64::from(r.octets);
    get_packets(r) => i64::from(r.packets);
    get_duration(r) => i64::from(r.duration_ms());
    get_start(r) => TimeField::Start.secs(r);
    get_end(r) => TimeField::End.secs(r);
}

impl ExprField {
    fn getter(self) -> Getter {
        match self {
            ExprField::U8(U8Field::Protocol) => get_protocol,
            ExprField::U8(U8Field::Tos) => get_tos,
            ExprField::U8(U8Field::TcpFlags) => get_tcp_flags,
            ExprField::U8(U8Field::SrcMask) => get_src_mask,
            ExprField::U8(U8Field::DstMask) => get_dst_mask,
            ExprField::U8(U8Field::EngineId) => get_engine_id,
            ExprField::U8(U8Field::EngineType) => get_engine_type,
            ExprField::U16(U16Field::SrcPort) => get_src_port,
            ExprField::U16(U16Field::DstPort) => get_dst_port,
            ExprField::U16(U16Field::SrcAs) => get_src_as,
            ExprField::U16(U16Field::DstAs) => get_dst_as,
            ExprField::U16(U16Field::Input) => get_input_if,
            ExprField::U16(U16Field::Output) => get_output_if,
            ExprField::Addr(AddrField::Src) => get_src_addr,
            ExprField::Addr(AddrField::Dst) => get_dst_addr,
            ExprField::Addr(AddrField::Exporter) => get_exporter,
            ExprField::Addr(AddrField::NextHop) => get_next_hop,
            ExprField::Counter(CounterField::Octets) => get_octets,
            ExprField::Counter(CounterField::Packets) => get_packets,
            ExprField::Counter(CounterField::Duration) => get_duration,
            ExprField::Time(TimeField::Start) => get_start,
            ExprField::Time(TimeField::End) => get_end,
        }
    }
}

impl Leaf {
    fn from_cmp(field: ExprField, op: CmpOp, c: i64) -> Leaf {
        let get = field.getter();
        let range = |lo: i64, hi: i64, negate: bool| Leaf::Range {
            get,
            lo,
            width: (hi as u64).wrapping_sub(lo as u64),
            negate,
        };
        match op {
            CmpOp::Eq => range(c, c, false),
            CmpOp::Ne => range(c, c, true),
            CmpOp::Le => range(i64::MIN, c, false),
            CmpOp::Ge => range(c, i64::MAX, false),
            CmpOp::Lt => match c.checked_sub(1) {
                Some(hi) => range(i64::MIN, hi, false),
                None => Leaf::Const(false),
            },
            CmpOp::Gt => match c.checked_add(1) {
                Some(lo) => range(lo, i64::MAX, false),
                None => Leaf::Const(false),
            },
        }
    }

    #[inline(always)]
    fn eval(&self, r: &Record) -> bool {
        match *self {
            Leaf::Range {
                get,
                lo,
                width,
                negate,
            } => ((get(r) as u64).wrapping_sub(lo as u64) <= width) != negate,
            Leaf::Prefix {
                get,
                addr,
                mask,
                inside,
            } => ((get(r) as u32) & mask == addr) == inside,
            Leaf::Fields { left, op, right } => compare(left(r), op, right(r)),
            Leaf::Const(b) => b,
        }
    }
}

/// The runnable form of an expression: flat leaf lists for `&&` / `||` of
/// comparisons (evaluated without short-circuit), a tree otherwise.
#[derive(Clone, Debug)]
enum Expr {
    Leaf(Leaf),
    AllOf(Box<[Leaf]>),
    AnyOf(Box<[Leaf]>),
    And(Box<[Expr]>),
    Or(Box<[Expr]>),
    Not(Box<Expr>),
}

impl Expr {
    fn from_node(node: ExprNode) -> Expr {
        let leaf = |n: &ExprNode| match *n {
            ExprNode::Cmp { field, op, value } => Some(Leaf::from_cmp(field, op, value)),
            ExprNode::CmpFields { left, op, right } => Some(Leaf::Fields {
                left: left.getter(),
                op,
                right: right.getter(),
            }),
            ExprNode::InPrefix {
                field,
                addr,
                mask,
                inside,
            } => Some(Leaf::Prefix {
                get: ExprField::Addr(field).getter(),
                addr,
                mask,
                inside,
            }),
            _ => None,
        };
        if let Some(l) = leaf(&node) {
            return Expr::Leaf(l);
        }
        match node {
            ExprNode::And(items) => match items.iter().map(leaf).collect::<Option<Vec<Leaf>>>() {
                Some(leaves) => Expr::AllOf(leaves.into_boxed_slice()),
                None => Expr::And(items.into_iter().map(Expr::from_node).collect()),
            },
            ExprNode::Or(items) => match items.iter().map(leaf).collect::<Option<Vec<Leaf>>>() {
                Some(leaves) => Expr::AnyOf(leaves.into_boxed_slice()),
                None => Expr::Or(items.into_iter().map(Expr::from_node).collect()),
            },
            ExprNode::Not(inner) => Expr::Not(Box::new(Expr::from_node(*inner))),
            _ => Expr::Leaf(Leaf::Const(false)),
        }
    }

    #[inline]
    fn eval(&self, r: &Record) -> bool {
        match self {
            Expr::Leaf(l) => l.eval(r),
            Expr::AllOf(leaves) => leaves.iter().fold(true, |acc, l| acc & l.eval(r)),
            Expr::AnyOf(leaves) => leaves.iter().fold(false, |acc, l| acc | l.eval(r)),
            Expr::And(items) => items.iter().all(|e| e.eval(r)),
            Expr::Or(items) => items.iter().any(|e| e.eval(r)),
            Expr::Not(e) => !e.eval(r),
        }
    }
}

/// One `or` group: the bits of the definition's cheap results it needs,
/// then its other tests (pure except sampling, so the order within a
/// group does not change the result).
#[derive(Debug)]
struct Group {
    cheap_mask: u64,
    costly: Box<[Test]>,
}

#[derive(Debug)]
enum Body {
    /// A definition: every distinct cheap test once per record into a
    /// bitmask, then the groups.
    Definition {
        cheap: Box<[Cheap]>,
        groups: Box<[Group]>,
        invert: bool,
        /// No group has costly tests: evaluate every group, no early exit.
        all_cheap: bool,
    },
    /// A definition with too many distinct cheap tests for the bitmask.
    Plain {
        groups: Box<[Box<[Test]>]>,
        invert: bool,
    },
    Expr(Expr),
}

/// A compiled filter: a `filter-definition` from a config, or an inline
/// expression. Cheap to clone (shared tables); `Send + Sync`.
#[derive(Clone)]
pub struct Filter {
    body: Arc<Body>,
    /// The batch form, when the filter has one.
    plan: Option<Arc<batch::Plan>>,
    name: Arc<str>,
    /// The record fields its tests read.
    fields: Fields,
}

impl U8Field {
    fn fields(self) -> Fields {
        match self {
            U8Field::Protocol | U8Field::Tos | U8Field::TcpFlags => Fields::KIND,
            U8Field::SrcMask | U8Field::DstMask => Fields::PATH,
            U8Field::EngineId | U8Field::EngineType => Fields::EXPORT,
        }
    }
}

impl U16Field {
    fn fields(self) -> Fields {
        match self {
            U16Field::SrcPort | U16Field::DstPort => Fields::PORTS,
            U16Field::SrcAs | U16Field::DstAs | U16Field::Input | U16Field::Output => Fields::PATH,
        }
    }
}

impl AddrField {
    fn fields(self) -> Fields {
        match self {
            AddrField::Src => Fields::SRC_ADDR,
            AddrField::Dst => Fields::DST_ADDR,
            AddrField::Exporter => Fields::EXPORT,
            AddrField::NextHop => Fields::PATH,
        }
    }
}

impl CounterField {
    fn fields(self) -> Fields {
        match self {
            CounterField::Octets => Fields::OCTETS,
            CounterField::Packets => Fields::PACKETS,
            CounterField::Duration => Fields::DURATION,
        }
    }
}

impl ExprField {
    fn fields(self) -> Fields {
        match self {
            ExprField::U8(f) => f.fields(),
            ExprField::U16(f) => f.fields(),
            ExprField::Addr(f) => f.fields(),
            ExprField::Counter(f) => f.fields(),
            ExprField::Time(_) => Fields::TIMES,
        }
    }
}

impl ExprNode {
    fn fields(&self) -> Fields {
        match self {
            ExprNode::Or(v) | ExprNode::And(v) => {
                v.iter().fold(Fields::NONE, |a, n| a | n.fields())
            }
            ExprNode::Not(n) => n.fields(),
            ExprNode::Cmp { field, .. } => field.fields(),
            ExprNode::CmpFields { left, right, .. } => left.fields() | right.fields(),
            ExprNode::InPrefix { field, .. } => field.fields(),
        }
    }
}

impl Test {
    fn fields(&self) -> Fields {
        match self {
            Test::U8 { field, .. } => field.fields(),
            Test::U16 { field, .. } => field.fields(),
            Test::Exact { field, .. } | Test::Mask { field, .. } | Test::Prefix { field, .. } => {
                field.fields()
            }
            Test::Counter { field, .. } => field.fields(),
            Test::TimeDate { .. } | Test::TimeOfDay { .. } => Fields::TIMES,
            Test::Double { .. } => Fields::OCTETS | Fields::PACKETS | Fields::DURATION,
            Test::Sample { .. } => Fields::NONE,
        }
    }
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A seed that differs between runs (time and process id).
fn clock_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let s = t ^ (u64::from(std::process::id()) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    if s == 0 {
        1
    } else {
        s
    }
}

impl Filter {
    /// A definition's filter from its groups of tests. `K` identifies a
    /// test (match type and primitive): tests with equal keys are
    /// evaluated once per record.
    pub(crate) fn from_definition<K: PartialEq>(
        name: &str,
        groups: Vec<Vec<(K, Test)>>,
        invert: bool,
    ) -> Filter {
        let plan = batch::Plan::from_definition(&groups, invert).map(Arc::new);
        let fields = groups
            .iter()
            .flatten()
            .fold(Fields::NONE, |a, (_, t)| a | t.fields());
        let mut keys: Vec<&K> = Vec::new();
        let mut cheap: Vec<Cheap> = Vec::new();
        let mut plans: Vec<Group> = Vec::new();
        let mut fits = true;
        for group in &groups {
            let mut cheap_mask = 0u64;
            let mut costly = Vec::new();
            for (key, test) in group {
                match Cheap::from_test(test) {
                    Some(c) => {
                        let index = match keys.iter().position(|k| *k == key) {
                            Some(i) => i,
                            None => {
                                keys.push(key);
                                cheap.push(c);
                                cheap.len() - 1
                            }
                        };
                        if index >= MAX_CHEAP {
                            fits = false;
                        } else {
                            cheap_mask |= 1 << index;
                        }
                    }
                    None => costly.push(test.clone()),
                }
            }
            plans.push(Group {
                cheap_mask,
                costly: costly.into_boxed_slice(),
            });
        }
        // matches() shifts results in: test i of n ends up at bit n-1-i
        let n = cheap.len();
        let fits = fits && n <= MAX_CHEAP;
        for plan in plans.iter_mut().filter(|_| fits) {
            let mut mask = 0u64;
            for i in 0..n {
                if plan.cheap_mask & (1 << i) != 0 {
                    mask |= 1 << (n - 1 - i);
                }
            }
            plan.cheap_mask = mask;
        }
        let body = if fits {
            let all_cheap = plans.iter().all(|g| g.costly.is_empty());
            Body::Definition {
                cheap: cheap.into_boxed_slice(),
                groups: plans.into_boxed_slice(),
                invert,
                all_cheap,
            }
        } else {
            Body::Plain {
                groups: groups
                    .into_iter()
                    .map(|g| g.into_iter().map(|(_, t)| t).collect())
                    .collect(),
                invert,
            }
        };
        let filter = Filter {
            body: Arc::new(body),
            plan,
            name: Arc::from(name),
            fields,
        };
        filter.set_seed(clock_seed());
        filter
    }

    pub(crate) fn from_expr(text: &str, node: ExprNode) -> Filter {
        Filter {
            plan: batch::Plan::from_expr(&node).map(Arc::new),
            fields: node.fields(),
            body: Arc::new(Body::Expr(Expr::from_node(node))),
            name: Arc::from(text),
        }
    }

    /// The record fields the filter reads (to decode only those and what
    /// the rest of a tool reads; see [`formats::native::Fields`]).
    pub fn fields(&self) -> Fields {
        self.fields
    }

    /// A filter that permits every record.
    pub fn permit_all() -> Filter {
        Filter::from_definition::<()>("(everything)", Vec::new(), true)
    }

    /// The definition's name as written in the config (or the expression
    /// text).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `true` when the filter permits `r`.
    #[inline]
    pub fn matches(&self, r: &Record) -> bool {
        match &*self.body {
            Body::Definition {
                cheap,
                groups,
                invert,
                all_cheap,
            } => {
                let mut results = 0u64;
                for t in cheap.iter() {
                    results = (results << 1) | u64::from(t.permits(r));
                }
                if *all_cheap {
                    let mut any = false;
                    for g in groups.iter() {
                        any |= results & g.cheap_mask == g.cheap_mask;
                    }
                    return any != *invert;
                }
                for g in groups.iter() {
                    if results & g.cheap_mask == g.cheap_mask
                        && g.costly.iter().all(|t| t.permits(r))
                    {
                        return !*invert;
                    }
                }
                *invert
            }
            Body::Plain { groups, invert } => {
                for g in groups.iter() {
                    if g.iter().all(|t| t.permits(r)) {
                        return !*invert;
                    }
                }
                *invert
            }
            Body::Expr(e) => e.eval(r),
        }
    }

    /// Marks the records of `recs` the filter permits: bit `i % 64` of
    /// `mask[i / 64]` is set when `recs[i]` passes (`mask` is overwritten
    /// and resized). Same results as [`Filter::matches`] on each record in
    /// order, evaluated test by test over 64 records at a time.
    pub fn select(&self, recs: &[Record], mask: &mut Vec<u64>) {
        mask.clear();
        mask.reserve(recs.len().div_ceil(64));
        match self.plan.as_deref() {
            Some(plan) => {
                let (mut e, mut p) = plan.scratch();
                mask.extend(recs.chunks(64).map(|c| plan.chunk(c, &mut e, &mut p)));
            }
            None => mask.extend(recs.chunks(64).map(|c| {
                c.iter()
                    .enumerate()
                    .fold(0u64, |m, (i, r)| m | (u64::from(self.matches(r)) << i))
            })),
        }
    }

    /// How many records of `recs` the filter permits.
    pub fn count(&self, recs: &[Record]) -> usize {
        match self.plan.as_deref() {
            Some(plan) => {
                let (mut e, mut p) = plan.scratch();
                recs.chunks(64)
                    .map(|c| plan.chunk(c, &mut e, &mut p).count_ones() as usize)
                    .sum()
            }
            None => recs.iter().filter(|r| self.matches(r)).count(),
        }
    }

    /// Keeps only the records the filter permits, in order (like
    /// `recs.retain(|r| self.matches(r))`, test by test over 64 records
    /// at a time).
    pub fn retain(&self, recs: &mut Vec<Record>) {
        let Some(plan) = self.plan.as_deref() else {
            recs.retain(|r| self.matches(r));
            return;
        };
        let (mut e, mut p) = plan.scratch();
        let mut write = 0usize;
        let mut read = 0usize;
        while read < recs.len() {
            let end = recs.len().min(read + 64);
            let mut m = recs
                .get(read..end)
                .map_or(0, |c| plan.chunk(c, &mut e, &mut p));
            if m == u64::MAX && write == read {
                write += 64;
            } else {
                while m != 0 {
                    let i = read + m.trailing_zeros() as usize;
                    m &= m - 1;
                    let r = recs[i];
                    recs[write] = r;
                    write += 1;
                }
            }
            read = end;
        }
        recs.truncate(write);
    }

    /// Seeds the random-sample generators (reproducible sampling in
    /// tests). Clones of this filter share the generators.
    pub fn set_seed(&self, seed: u64) {
        let mut k: u64 = 0;
        let mut seed_one = |state: &AtomicU64| {
            k += 1;
            let s = seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            state.store(if s == 0 { 1 } else { s }, Ordering::Relaxed);
        };
        let tests: Box<dyn Iterator<Item = &Test>> = match &*self.body {
            Body::Definition { groups, .. } => {
                Box::new(groups.iter().flat_map(|g| g.costly.iter()))
            }
            Body::Plain { groups, .. } => Box::new(groups.iter().flat_map(|g| g.iter())),
            Body::Expr(_) => Box::new(std::iter::empty()),
        };
        for t in tests {
            if let Test::Sample { state, .. } = t {
                seed_one(state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Filter>();
    }

    #[test]
    fn prefix_table_lookup() {
        let t = PrefixTable::new(vec![0, 10, 20], vec![false, true, false]);
        assert!(!t.lookup(0));
        assert!(!t.lookup(9));
        assert!(t.lookup(10));
        assert!(t.lookup(19));
        assert!(!t.lookup(u32::MAX));
    }

    #[test]
    fn sampling_is_roughly_one_in_n_and_seedable() {
        let f = Filter::from_definition(
            "s",
            vec![vec![(
                0,
                Test::Sample {
                    rate: 10,
                    hit: true,
                    state: Arc::new(AtomicU64::new(1)),
                },
            )]],
            false,
        );
        f.set_seed(42);
        let r = Record::default();
        let n = (0..100_000).filter(|_| f.matches(&r)).count();
        assert!((9_000..11_000).contains(&n), "{n}");
        f.set_seed(42);
        let a: Vec<bool> = (0..64).map(|_| f.matches(&r)).collect();
        f.set_seed(42);
        let b: Vec<bool> = (0..64).map(|_| f.matches(&r)).collect();
        assert_eq!(a, b);
    }
}
