//! Compiled filters and their evaluation: [`Filter::matches`] does no
//! allocation and no string work. Lookup tables are built once by
//! `compile.rs`: bitsets for protocols, ports and other small integers,
//! sorted arrays for exact addresses, a flattened interval table for
//! longest-prefix matches, ordered lists for the first-match types.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use formats::Record;

use crate::ast::CmpOp;
use crate::date::LocalZone;

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
        if self.keys.len() <= 8 {
            for (k, p) in self.keys.iter().zip(self.permit.iter()) {
                if *k == a {
                    return *p;
                }
            }
            return self.default;
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
#[derive(Debug)]
pub(crate) struct PrefixTable {
    pub starts: Box<[u32]>,
    pub permit: Box<[bool]>,
}

impl PrefixTable {
    #[inline(always)]
    fn lookup(&self, a: u32) -> bool {
        let i = self.starts.partition_point(|&s| s <= a);
        // starts[0] == 0, so i >= 1
        self.permit.get(i.wrapping_sub(1)).copied().unwrap_or(false)
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
        zone: LocalZone,
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

impl Test {
    #[inline(always)]
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
                let second_of_day = (t + zone.offset_at(t)).rem_euclid(86_400);
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

impl ExprField {
    #[inline(always)]
    fn get(self, r: &Record) -> i64 {
        match self {
            ExprField::U8(f) => i64::from(f.get(r)),
            ExprField::U16(f) => i64::from(f.get(r)),
            ExprField::Addr(f) => i64::from(f.get(r)),
            ExprField::Counter(f) => i64::from(f.get(r)),
            ExprField::Time(f) => f.secs(r),
        }
    }
}

/// A compiled inline expression.
#[derive(Clone, Debug)]
pub(crate) enum ExprNode {
    Or(Box<[ExprNode]>),
    And(Box<[ExprNode]>),
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

impl ExprNode {
    fn eval(&self, r: &Record) -> bool {
        match self {
            ExprNode::Or(items) => items.iter().any(|e| e.eval(r)),
            ExprNode::And(items) => items.iter().all(|e| e.eval(r)),
            ExprNode::Not(e) => !e.eval(r),
            ExprNode::Cmp { field, op, value } => compare(field.get(r), *op, *value),
            ExprNode::CmpFields { left, op, right } => compare(left.get(r), *op, right.get(r)),
            ExprNode::InPrefix {
                field,
                addr,
                mask,
                inside,
            } => (field.get(r) & mask == *addr) == *inside,
        }
    }
}

#[derive(Debug)]
enum Body {
    Definition {
        groups: Box<[Box<[Test]>]>,
        invert: bool,
    },
    Expr(ExprNode),
}

/// A compiled filter: a `filter-definition` from a config, or an inline
/// expression. Cheap to clone (shared tables); `Send + Sync`.
#[derive(Clone, Debug)]
pub struct Filter {
    body: Arc<Body>,
    name: Arc<str>,
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
    pub(crate) fn from_definition(name: &str, groups: Vec<Vec<Test>>, invert: bool) -> Filter {
        let groups: Box<[Box<[Test]>]> = groups.into_iter().map(Vec::into_boxed_slice).collect();
        let filter = Filter {
            body: Arc::new(Body::Definition { groups, invert }),
            name: Arc::from(name),
        };
        filter.set_seed(clock_seed());
        filter
    }

    pub(crate) fn from_expr(text: &str, node: ExprNode) -> Filter {
        Filter {
            body: Arc::new(Body::Expr(node)),
            name: Arc::from(text),
        }
    }

    /// A filter that permits every record.
    pub fn permit_all() -> Filter {
        Filter::from_definition("(everything)", Vec::new(), true)
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
            Body::Definition { groups, invert } => {
                for group in groups.iter() {
                    if group.iter().all(|t| t.permits(r)) {
                        return !*invert;
                    }
                }
                *invert
            }
            Body::Expr(e) => e.eval(r),
        }
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
        match &*self.body {
            Body::Definition { groups, .. } => {
                for t in groups.iter().flat_map(|g| g.iter()) {
                    if let Test::Sample { state, .. } = t {
                        seed_one(state);
                    }
                }
            }
            Body::Expr(_) => {}
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
        let t = PrefixTable {
            starts: vec![0, 10, 20].into_boxed_slice(),
            permit: vec![false, true, false].into_boxed_slice(),
        };
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
            vec![vec![Test::Sample {
                rate: 10,
                hit: true,
                state: Arc::new(AtomicU64::new(1)),
            }]],
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
