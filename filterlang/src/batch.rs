//! Batch evaluation: [`Plan`] runs a filter over up to 64 records at a
//! time, test by test, into bitmasks (bit i = record i of the chunk).
//! Groups are ANDs of tests, ORed; each test runs only on the records its
//! group still needs (the candidates), and a test shared by several
//! groups runs at most once per record (its results are remembered per
//! chunk). Every kernel is a tight loop over the chunk specialised for one
//! field and one table shape (equality or a range for one-value and
//! contiguous bitsets, a bitset otherwise, a few compares for small
//! address sets, the prefix table), so there is no per-record dispatch.
//!
//! Results equal `Filter::matches` record by record: tests are pure (the
//! random-sample test is not, so definitions with one get no plan and use
//! the per-record path), and AND / OR do not depend on the order.

use formats::Record;

use super::{
    bit256, bit65536, AddrField, Bits16, ExprField, ExprNode, Leaf, PrefixTable, SmallSet, Test,
    U16Field, U8Field,
};
use std::sync::Arc;

/// One test, specialised for batch runs.
#[derive(Debug)]
pub(super) enum Kernel {
    /// `(v - lo) <= width` (wrapping), negated or not.
    U8Range {
        field: U8Field,
        lo: u8,
        width: u8,
        negate: bool,
    },
    U8Bits {
        field: U8Field,
        bits: [u64; 4],
    },
    U16Range {
        field: U16Field,
        lo: u16,
        width: u16,
        negate: bool,
    },
    U16Bits {
        field: U16Field,
        bits: Arc<Bits16>,
    },
    /// One address: its verdict, the default otherwise.
    Addr1 {
        field: AddrField,
        key: u32,
        hit: bool,
        default: bool,
    },
    /// Two addresses, each with its verdict.
    Addr2 {
        field: AddrField,
        keys: [u32; 2],
        hits: [bool; 2],
        default: bool,
    },
    /// Up to eight addresses.
    AddrSet {
        field: AddrField,
        set: SmallSet,
    },
    Prefix {
        field: AddrField,
        table: Arc<PrefixTable>,
    },
    /// An expression leaf: the field as an i64, `(v - lo) <= width` as u64.
    ExprRange {
        field: ExprField,
        lo: u64,
        width: u64,
        negate: bool,
    },
    /// Anything else, one record at a time.
    Other(Test),
}

/// A contiguous run `[lo, lo + width]` of set bits, or its complement,
/// when the set is one (`negate` = complement).
fn run_of(bits: &[u64], universe: u32) -> Option<(u32, u32, bool)> {
    let get = |v: u32| (bits[(v >> 6) as usize] >> (v & 63)) & 1 != 0;
    let ones: u32 = bits.iter().map(|w| w.count_ones()).sum();
    for negate in [false, true] {
        let count = if negate { universe - ones } else { ones };
        if count == 0 || count == universe {
            continue;
        }
        let want = !negate;
        let first = (0..universe).find(|&v| get(v) == want)?;
        let last = (0..universe).rev().find(|&v| get(v) == want)?;
        if last - first + 1 == count {
            return Some((first, last - first, negate));
        }
    }
    None
}

impl Kernel {
    pub(super) fn from_test(test: &Test) -> Kernel {
        match test {
            Test::U8 { field, mask, bits } => {
                let mut folded = [0u64; 4];
                for v in 0..=255u8 {
                    if bit256(bits, v & mask) {
                        folded[usize::from(v >> 6)] |= 1 << (v & 63);
                    }
                }
                match run_of(&folded, 256) {
                    Some((lo, width, negate)) => Kernel::U8Range {
                        field: *field,
                        lo: lo as u8,
                        width: width as u8,
                        negate,
                    },
                    None => Kernel::U8Bits {
                        field: *field,
                        bits: folded,
                    },
                }
            }
            Test::U16 { field, bits } => match run_of(&bits[..], 65536) {
                Some((lo, width, negate)) => Kernel::U16Range {
                    field: *field,
                    lo: lo as u16,
                    width: width as u16,
                    negate,
                },
                None => Kernel::U16Bits {
                    field: *field,
                    bits: Arc::clone(bits),
                },
            },
            Test::Exact { field, set } => match SmallSet::new(set) {
                Some(small) if small.len == 1 => Kernel::Addr1 {
                    field: *field,
                    key: small.keys[0],
                    hit: small.permit[0],
                    default: small.default,
                },
                Some(small) if small.len == 2 => Kernel::Addr2 {
                    field: *field,
                    keys: [small.keys[0], small.keys[1]],
                    hits: [small.permit[0], small.permit[1]],
                    default: small.default,
                },
                Some(small) => {
                    // pad with the first key: repeats change nothing
                    let mut set = small;
                    for i in small.len..set.keys.len() {
                        set.keys[i] = small.keys[0];
                        set.permit[i] = small.permit[0];
                    }
                    set.len = if small.len == 0 { 0 } else { set.keys.len() };
                    Kernel::AddrSet { field: *field, set }
                }
                None => Kernel::Other(test.clone()),
            },
            Test::Prefix { field, table } => Kernel::Prefix {
                field: *field,
                table: Arc::clone(table),
            },
            _ => Kernel::Other(test.clone()),
        }
    }

    /// Relative cost per record, to run cheap tests first in a group.
    fn cost(&self) -> u32 {
        match self {
            Kernel::U8Range { .. } | Kernel::U16Range { .. } | Kernel::Addr1 { .. } => 1,
            Kernel::ExprRange { .. } => 1,
            Kernel::U8Bits { .. } | Kernel::U16Bits { .. } => 2,
            Kernel::Addr2 { .. } => 2,
            Kernel::AddrSet { .. } => 3,
            Kernel::Prefix { .. } => 6,
            Kernel::Other(_) => 10,
        }
    }

    /// The subset of `cand` (records of `chunk`, at most 64) this test
    /// permits.
    #[inline(never)]
    fn refine(&self, chunk: &[Record], cand: u64) -> u64 {
        // cheap kernels evaluate the whole chunk when most of it is wanted
        let dense = cand.count_ones() as usize * 4 >= chunk.len();
        macro_rules! u8f {
            ($field:expr, |$v:ident| $e:expr) => {
                match $field {
                    U8Field::Protocol => run(chunk, cand, dense, |r| {
                        let $v = r.protocol;
                        $e
                    }),
                    U8Field::Tos => run(chunk, cand, dense, |r| {
                        let $v = r.tos;
                        $e
                    }),
                    U8Field::TcpFlags => run(chunk, cand, dense, |r| {
                        let $v = r.tcp_flags;
                        $e
                    }),
                    U8Field::SrcMask => run(chunk, cand, dense, |r| {
                        let $v = r.src_mask;
                        $e
                    }),
                    U8Field::DstMask => run(chunk, cand, dense, |r| {
                        let $v = r.dst_mask;
                        $e
                    }),
                    U8Field::EngineId => run(chunk, cand, dense, |r| {
                        let $v = r.engine_id;
                        $e
                    }),
                    U8Field::EngineType => run(chunk, cand, dense, |r| {
                        let $v = r.engine_type;
                        $e
                    }),
                }
            };
        }
        macro_rules! u16f {
            ($field:expr, |$v:ident| $e:expr) => {
                match $field {
                    U16Field::SrcPort => run(chunk, cand, dense, |r| {
                        let $v = r.src_port;
                        $e
                    }),
                    U16Field::DstPort => run(chunk, cand, dense, |r| {
                        let $v = r.dst_port;
                        $e
                    }),
                    U16Field::SrcAs => run(chunk, cand, dense, |r| {
                        let $v = r.src_as;
                        $e
                    }),
                    U16Field::DstAs => run(chunk, cand, dense, |r| {
                        let $v = r.dst_as;
                        $e
                    }),
                    U16Field::Input => run(chunk, cand, dense, |r| {
                        let $v = r.input_if;
                        $e
                    }),
                    U16Field::Output => run(chunk, cand, dense, |r| {
                        let $v = r.output_if;
                        $e
                    }),
                }
            };
        }
        macro_rules! addrf {
            ($field:expr, $dense:expr, |$v:ident| $e:expr) => {
                match $field {
                    AddrField::Src => run(chunk, cand, $dense, |r| {
                        let $v = r.src_addr;
                        $e
                    }),
                    AddrField::Dst => run(chunk, cand, $dense, |r| {
                        let $v = r.dst_addr;
                        $e
                    }),
                    AddrField::Exporter => run(chunk, cand, $dense, |r| {
                        let $v = r.exporter;
                        $e
                    }),
                    AddrField::NextHop => run(chunk, cand, $dense, |r| {
                        let $v = r.next_hop;
                        $e
                    }),
                }
            };
        }
        match self {
            Kernel::U8Range {
                field,
                lo,
                width,
                negate,
            } => {
                let (lo, width, negate) = (*lo, *width, *negate);
                u8f!(field, |v| (v.wrapping_sub(lo) <= width) != negate)
            }
            Kernel::U8Bits { field, bits } => u8f!(field, |v| bit256(bits, v)),
            Kernel::U16Range {
                field,
                lo,
                width,
                negate,
            } => {
                let (lo, width, negate) = (*lo, *width, *negate);
                u16f!(field, |v| (v.wrapping_sub(lo) <= width) != negate)
            }
            Kernel::U16Bits { field, bits } => u16f!(field, |v| bit65536(bits, v)),
            Kernel::Addr1 {
                field,
                key,
                hit,
                default,
            } => {
                let (key, hit, default) = (*key, *hit, *default);
                addrf!(field, dense, |a| if a == key { hit } else { default })
            }
            Kernel::Addr2 {
                field,
                keys,
                hits,
                default,
            } => {
                let ([k0, k1], [h0, h1], d) = (*keys, *hits, *default);
                if h0 == h1 {
                    addrf!(field, dense, |a| if (a == k0) | (a == k1) { h0 } else { d })
                } else {
                    addrf!(field, dense, |a| if a == k0 {
                        h0
                    } else if a == k1 {
                        h1
                    } else {
                        d
                    })
                }
            }
            Kernel::AddrSet { field, set } => addrf!(field, dense, |a| set.lookup(a)),
            Kernel::Prefix { field, table } => addrf!(field, false, |a| table.lookup(a)),
            Kernel::ExprRange {
                field,
                lo,
                width,
                negate,
            } => {
                let (lo, width, negate) = (*lo, *width, *negate);
                let get = field.getter();
                macro_rules! exprf {
                    ($($pat:pat => $get:ident,)*) => {
                        match field {
                            $($pat => run(chunk, cand, dense, |r| {
                                ((super::$get(r) as u64).wrapping_sub(lo) <= width) != negate
                            }),)*
                            _ => run(chunk, cand, false, |r| {
                                ((get(r) as u64).wrapping_sub(lo) <= width) != negate
                            }),
                        }
                    };
                }
                exprf! {
                    ExprField::U8(U8Field::Protocol) => get_protocol,
                    ExprField::U8(U8Field::Tos) => get_tos,
                    ExprField::U8(U8Field::TcpFlags) => get_tcp_flags,
                    ExprField::U16(U16Field::SrcPort) => get_src_port,
                    ExprField::U16(U16Field::DstPort) => get_dst_port,
                    ExprField::Addr(AddrField::Src) => get_src_addr,
                    ExprField::Addr(AddrField::Dst) => get_dst_addr,
                }
            }
            Kernel::Other(test) => run(chunk, cand, false, |r| test.permits(r)),
        }
    }
}

/// `f` over the records of `chunk` in `cand`: all of them then masked when
/// `dense`, else only the candidates.
#[inline(always)]
fn run<F: Fn(&Record) -> bool>(chunk: &[Record], cand: u64, dense: bool, f: F) -> u64 {
    if dense {
        let mut out = 0u64;
        for (i, r) in chunk.iter().enumerate().take(64) {
            out |= u64::from(f(r)) << i;
        }
        out & cand
    } else {
        let mut out = 0u64;
        let mut m = cand;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            if let Some(r) = chunk.get(i) {
                out |= u64::from(f(r)) << i;
            }
        }
        out
    }
}

/// A filter's batch form: distinct kernels, each group's kernels (by
/// index, cheapest first), the final inversion.
#[derive(Debug)]
pub(super) struct Plan {
    kernels: Box<[Kernel]>,
    groups: Box<[Box<[usize]>]>,
    invert: bool,
}

impl Plan {
    /// From a definition's groups; `None` when a test is impure
    /// (random-sample).
    pub(super) fn from_definition<K: PartialEq>(
        groups: &[Vec<(K, Test)>],
        invert: bool,
    ) -> Option<Plan> {
        let mut keys: Vec<&K> = Vec::new();
        let mut kernels: Vec<Kernel> = Vec::new();
        let mut plan_groups = Vec::new();
        for group in groups {
            let mut members = Vec::new();
            for (key, test) in group {
                if matches!(test, Test::Sample { .. }) {
                    return None;
                }
                let index = match keys.iter().position(|k| *k == key) {
                    Some(i) => i,
                    None => {
                        keys.push(key);
                        kernels.push(Kernel::from_test(test));
                        kernels.len() - 1
                    }
                };
                if !members.contains(&index) {
                    members.push(index);
                }
            }
            members.sort_by_key(|&i| kernels[i].cost());
            plan_groups.push(members.into_boxed_slice());
        }
        Some(Plan {
            kernels: kernels.into_boxed_slice(),
            groups: plan_groups.into_boxed_slice(),
            invert,
        })
    }

    /// From an expression made of comparison leaves (one, an `&&` of
    /// them, an `||` of them, or the negation of one of those).
    pub(super) fn from_expr(node: &ExprNode) -> Option<Plan> {
        fn leaf(n: &ExprNode) -> Option<Kernel> {
            match *n {
                ExprNode::Cmp { field, op, value } => match Leaf::from_cmp(field, op, value) {
                    Leaf::Range {
                        lo, width, negate, ..
                    } => Some(Kernel::ExprRange {
                        field,
                        lo: lo as u64,
                        width,
                        negate,
                    }),
                    _ => None,
                },
                _ => None,
            }
        }
        let (node, invert) = match node {
            ExprNode::Not(inner) => (&**inner, true),
            n => (n, false),
        };
        let (kernels, groups): (Vec<Kernel>, Vec<Box<[usize]>>) = match node {
            ExprNode::And(items) => {
                let kernels = items.iter().map(leaf).collect::<Option<Vec<_>>>()?;
                let mut order: Vec<usize> = (0..kernels.len()).collect();
                order.sort_by_key(|&i| kernels[i].cost());
                (kernels, vec![order.into_boxed_slice()])
            }
            ExprNode::Or(items) => {
                let kernels = items.iter().map(leaf).collect::<Option<Vec<_>>>()?;
                let groups = (0..kernels.len()).map(|i| Box::from([i])).collect();
                (kernels, groups)
            }
            n => (vec![leaf(n)?], vec![Box::from([0])]),
        };
        Some(Plan {
            kernels: kernels.into_boxed_slice(),
            groups: groups.into_boxed_slice(),
            invert,
        })
    }

    /// Bit i set when record i of `chunk` (at most 64 records) passes.
    /// `evaluated` / `passed` are scratch, one word per kernel.
    #[inline]
    pub(super) fn chunk(&self, chunk: &[Record], evaluated: &mut [u64], passed: &mut [u64]) -> u64 {
        let n = chunk.len().min(64);
        let full = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        evaluated.fill(0);
        passed.fill(0);
        let mut accepted = 0u64;
        for group in self.groups.iter() {
            let mut m = full & !accepted;
            for &k in group.iter() {
                if m == 0 {
                    break;
                }
                let (Some(kernel), Some(e), Some(p)) =
                    (self.kernels.get(k), evaluated.get_mut(k), passed.get_mut(k))
                else {
                    continue;
                };
                let need = m & !*e;
                if need != 0 {
                    *p |= kernel.refine(chunk, need);
                    *e |= need;
                }
                m &= *p;
            }
            accepted |= m;
            if accepted == full {
                break;
            }
        }
        if self.invert {
            !accepted & full
        } else {
            accepted
        }
    }

    /// Scratch words for [`Plan::chunk`].
    pub(super) fn scratch(&self) -> (Vec<u64>, Vec<u64>) {
        (vec![0; self.kernels.len()], vec![0; self.kernels.len()])
    }
}
