//! Exporters and their sequence numbers (spec §2.3, §2.4).
//!
//! State is kept per exporter (source address, local address) and, inside
//! it, per engine (`engine_id << 8 | engine_type`), as flow-tools does. The
//! accounting is flow-tools' with the arithmetic made right:
//!
//! * a forward gap of fewer than [`RESET_THRESHOLD`] flows counts as lost
//!   flows; the distance is taken modulo 2^32, so a sequence that wraps past
//!   2^32 is neither an error nor off by one;
//! * a larger forward gap, or **any** backward jump (an exporter restart, a
//!   duplicated or late datagram) is a sequence reset, counted once, never
//!   as four billion lost flows.
//!
//! After either, the next expected number is `received + count`. Nothing
//! here does I/O: [`SeqState::check`] is a pure step.

use std::collections::HashMap;

/// Forward gaps of at least this many flows are resets, not losses.
pub const RESET_THRESHOLD: u32 = 1000;

/// Most exporters tracked at once; datagrams from further exporters are
/// stored but their sequence numbers are not checked.
pub const MAX_EXPORTERS: usize = 65_536;

/// What one datagram's sequence number says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqOutcome {
    /// First datagram seen from this exporter/engine.
    First,
    /// Exactly the expected number.
    InOrder,
    /// `lost` flows were skipped (forward gap below the threshold).
    Lost {
        /// The number that was expected.
        expected: u32,
        /// Flows missing.
        lost: u32,
    },
    /// The sequence jumped backwards or too far forward: a reset.
    Reset {
        /// The number that was expected.
        expected: u32,
        /// True when the sequence went backwards (restart, duplicate, late
        /// datagram); false for a forward jump of at least the threshold.
        backward: bool,
        /// Distance of the jump in flows (either direction).
        distance: u32,
    },
}

/// The sequence state of one exporter engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqState {
    expected: Option<u32>,
}

impl SeqState {
    /// Accounts for a datagram whose first flow is `seq` and that carries
    /// `count` flows.
    pub fn check(&mut self, seq: u32, count: u16) -> SeqOutcome {
        let outcome = match self.expected {
            None => SeqOutcome::First,
            Some(e) if e == seq => SeqOutcome::InOrder,
            Some(e) => {
                let forward = seq.wrapping_sub(e);
                if forward < RESET_THRESHOLD {
                    SeqOutcome::Lost {
                        expected: e,
                        lost: forward,
                    }
                } else if forward > u32::MAX / 2 {
                    SeqOutcome::Reset {
                        expected: e,
                        backward: true,
                        distance: e.wrapping_sub(seq),
                    }
                } else {
                    SeqOutcome::Reset {
                        expected: e,
                        backward: false,
                        distance: forward,
                    }
                }
            }
        };
        self.expected = Some(seq.wrapping_add(count as u32));
        outcome
    }
}

/// Running totals for one exporter (for the `STAT` log line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExporterStats {
    /// Valid datagrams.
    pub packets: u64,
    /// Flows received (before the filter).
    pub flows: u64,
    /// Flows lost to sequence gaps.
    pub lost: u64,
    /// Sequence resets.
    pub resets: u64,
    /// Flows the filter did not keep.
    pub filter_drops: u64,
    /// Malformed datagrams from this exporter.
    pub corrupt: u64,
}

/// One exporter: its engines' sequence states and its totals.
#[derive(Clone, Debug, Default)]
pub struct Exporter {
    /// Per-engine sequence state, keyed `engine_id << 8 | engine_type`.
    pub engines: HashMap<u16, SeqState>,
    /// Totals since start-up.
    pub stats: ExporterStats,
    /// Unix time of the first datagram.
    pub first_seen: i64,
}

/// Key of an exporter: UDP source address and local destination address
/// (host order).
pub type ExporterKey = (u32, u32);

/// All exporters seen, bounded by [`MAX_EXPORTERS`].
#[derive(Debug, Default)]
pub struct Exporters {
    map: HashMap<ExporterKey, Exporter>,
    overflowed: bool,
}

/// The result of looking up an exporter.
pub enum Lookup<'a> {
    /// Known before.
    Known(&'a mut Exporter),
    /// Seen for the first time (log `New exporter`).
    New(&'a mut Exporter),
    /// The table is full; this exporter is not tracked.
    Full,
}

impl Exporters {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Finds or creates the exporter for `key`; `now` is the unix time.
    pub fn lookup(&mut self, key: ExporterKey, now: i64) -> Lookup<'_> {
        let len = self.map.len();
        match self.map.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => Lookup::Known(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(v) => {
                if len >= MAX_EXPORTERS {
                    self.overflowed = true;
                    Lookup::Full
                } else {
                    Lookup::New(v.insert(Exporter {
                        first_seen: now,
                        ..Exporter::default()
                    }))
                }
            }
        }
    }

    /// True once an exporter could not be tracked because the table was full.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Every exporter, in address order.
    pub fn sorted(&self) -> Vec<(ExporterKey, &Exporter)> {
        let mut v: Vec<_> = self.map.iter().map(|(k, e)| (*k, e)).collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    /// Number of exporters tracked.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no exporter has been seen.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_datagrams_lose_nothing() {
        let mut s = SeqState::default();
        assert_eq!(s.check(77, 5), SeqOutcome::First);
        assert_eq!(s.check(82, 5), SeqOutcome::InOrder);
        assert_eq!(s.check(87, 30), SeqOutcome::InOrder);
    }

    #[test]
    fn a_small_gap_is_lost_flows() {
        // Golden main: 127.0.0.3 expecting=50726 received=50756 lost=30.
        let mut s = SeqState::default();
        s.check(50_696, 30);
        assert_eq!(
            s.check(50_756, 30),
            SeqOutcome::Lost {
                expected: 50_726,
                lost: 30
            }
        );
        assert_eq!(s.check(50_786, 30), SeqOutcome::InOrder);
    }

    #[test]
    fn wrapping_past_2_32_is_not_an_error() {
        // Golden main: 127.0.0.4 starts at 4294967000.
        let mut s = SeqState::default();
        let mut seq = 4_294_967_000u32;
        s.check(seq, 30);
        for _ in 0..40 {
            seq = seq.wrapping_add(30);
            assert_eq!(s.check(seq, 30), SeqOutcome::InOrder);
        }
    }

    #[test]
    fn a_gap_across_the_wrap_is_counted_exactly() {
        // flow-tools computes (0xFFFFFFFF - E) + R here: one too few.
        let mut s = SeqState::default();
        s.check(u32::MAX - 9, 5); // expects u32::MAX - 4
        assert_eq!(
            s.check(5, 5),
            SeqOutcome::Lost {
                expected: u32::MAX - 4,
                lost: 10
            }
        );
    }

    #[test]
    fn an_exporter_restart_is_a_reset_not_four_billion_lost_flows() {
        // Golden bad: expecting=97 received=5; flow-tools logs lost=4294967203.
        let mut s = SeqState::default();
        for seq in [77, 82, 87, 92] {
            s.check(seq, 5);
        }
        assert_eq!(
            s.check(5, 1),
            SeqOutcome::Reset {
                expected: 97,
                backward: true,
                distance: 92
            }
        );
        assert_eq!(s.check(6, 1), SeqOutcome::InOrder);
    }

    #[test]
    fn a_large_forward_jump_is_a_reset() {
        let mut s = SeqState::default();
        s.check(0, 30);
        assert_eq!(
            s.check(30 + 1000, 30),
            SeqOutcome::Reset {
                expected: 30,
                backward: false,
                distance: 1000
            }
        );
        let mut s = SeqState::default();
        s.check(0, 30);
        assert_eq!(
            s.check(30 + 999, 30),
            SeqOutcome::Lost {
                expected: 30,
                lost: 999
            }
        );
    }

    #[test]
    fn the_table_is_bounded() {
        let mut t = Exporters::new();
        for i in 0..MAX_EXPORTERS as u32 {
            assert!(matches!(t.lookup((i, 0), 0), Lookup::New(_)));
        }
        assert!(matches!(t.lookup((1, 0), 0), Lookup::Known(_)));
        assert!(matches!(t.lookup((u32::MAX, 0), 0), Lookup::Full));
        assert!(t.overflowed());
    }
}
