//! Array-indexed reports (flow-tools `tbl_out1`): one row per possible key
//! value in a fixed table of 65536 (ports, interfaces, AS numbers) or 256
//! (protocol, ToS, engine id/type) counters.
//!
//! Order (spec §7.2): the keys start in ascending order and are stably
//! sorted ascending by the chosen counter (glibc's merge-sort `qsort`); a
//! descending or unsorted report walks that list from the end. So unsorted
//! and `-S 0` list keys descending, ties under `-S k` come out in descending
//! key order, ties under `-s k` ascending. Only keys with flows are printed.

use std::fmt::Write as _;
use std::io::{self, Write};

use formats::Record;

use super::cfmt;
use filterlang::SymbolTable as SymTable;

use super::SymFile;
use super::{Counters, StatConfig};

/// What an array report is indexed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArrayKey {
    /// f5: destination port of TCP/UDP flows.
    DstPort,
    /// f6: source port of TCP/UDP flows.
    SrcPort,
    /// f7: both ports of TCP/UDP flows (each flow counted twice, also in
    /// the totals).
    BothPorts,
    /// f12: IP protocol.
    Protocol,
    /// f17: input interface.
    InputIf,
    /// f18: output interface.
    OutputIf,
    /// f19: source AS.
    SrcAs,
    /// f20: destination AS.
    DstAs,
    /// f22: ToS byte.
    Tos,
    /// f28: engine id.
    EngineId,
    /// f29: engine type.
    EngineType,
}

impl ArrayKey {
    fn size(self) -> usize {
        match self {
            ArrayKey::Protocol | ArrayKey::Tos | ArrayKey::EngineId | ArrayKey::EngineType => 256,
            _ => 65536,
        }
    }

    /// The column title, before `%-10.10s` / `%-15.15s` is applied.
    fn title(self) -> &'static str {
        match self {
            ArrayKey::DstPort | ArrayKey::SrcPort | ArrayKey::BothPorts => "port      ",
            ArrayKey::Protocol => "protocol  ",
            ArrayKey::InputIf | ArrayKey::OutputIf => "interface ",
            ArrayKey::SrcAs => "src AS    ",
            ArrayKey::DstAs => "dst AS    ",
            ArrayKey::Tos => "ToS       ",
            ArrayKey::EngineId => "engine_id ",
            // 12 characters: cut to "engine_typ" by %-10.10s, as in flow-tools.
            ArrayKey::EngineType => "engine_type ",
        }
    }

    /// The symbol table used with `-n`. Interfaces ignore `-n`; ToS and the
    /// engine fields have no table in flow-tools.
    fn symbols(self) -> Option<SymFile> {
        match self {
            ArrayKey::DstPort | ArrayKey::SrcPort | ArrayKey::BothPorts => Some(SymFile::TcpPort),
            ArrayKey::Protocol => Some(SymFile::IpProt),
            ArrayKey::SrcAs | ArrayKey::DstAs => Some(SymFile::Asn),
            _ => None,
        }
    }
}

/// Counters per key value. The report totals are their sum (every counted
/// flow lands in a row; f7's two rows per flow are its two totals), so
/// they are added up once at the end instead of per flow.
#[derive(Clone, Debug)]
pub(crate) struct ArrayTable {
    key: ArrayKey,
    rows: Box<[Counters]>,
}

#[inline]
fn is_tcp_udp(r: &Record) -> bool {
    r.protocol == 6 || r.protocol == 17
}

impl ArrayTable {
    pub(crate) fn new(key: ArrayKey) -> Self {
        ArrayTable {
            key,
            rows: vec![Counters::default(); key.size()].into_boxed_slice(),
        }
    }

    /// Adds a batch (array reports need no sequence numbers).
    pub(crate) fn add_batch(&mut self, recs: &[Record]) {
        let rows = &mut self.rows[..];
        macro_rules! each {
            ($filter:expr, $idx:expr) => {
                for r in recs {
                    if $filter(r) {
                        rows[$idx(r) as usize].add_record(r);
                    }
                }
            };
        }
        let all = |_: &Record| true;
        match self.key {
            ArrayKey::DstPort => each!(is_tcp_udp, |r: &Record| r.dst_port),
            ArrayKey::SrcPort => each!(is_tcp_udp, |r: &Record| r.src_port),
            ArrayKey::BothPorts => {
                for r in recs.iter().filter(|r| is_tcp_udp(r)) {
                    rows[r.src_port as usize].add_record(r);
                    rows[r.dst_port as usize].add_record(r);
                }
            }
            ArrayKey::Protocol => each!(all, |r: &Record| r.protocol),
            ArrayKey::InputIf => each!(all, |r: &Record| r.input_if),
            ArrayKey::OutputIf => each!(all, |r: &Record| r.output_if),
            ArrayKey::SrcAs => each!(all, |r: &Record| r.src_as),
            ArrayKey::DstAs => each!(all, |r: &Record| r.dst_as),
            ArrayKey::Tos => each!(all, |r: &Record| r.tos),
            ArrayKey::EngineId => each!(all, |r: &Record| r.engine_id),
            ArrayKey::EngineType => each!(all, |r: &Record| r.engine_type),
        }
    }

    /// The report totals: the sum of the rows.
    pub(crate) fn total(&self) -> Counters {
        let mut t = Counters::default();
        for r in self.rows.iter() {
            t.add(r);
        }
        t
    }

    /// Adds the counters of `later` (same key kind) to these.
    pub(crate) fn merge(&mut self, later: &ArrayTable) {
        for (a, b) in self.rows.iter_mut().zip(later.rows.iter()) {
            a.add(b);
        }
    }

    /// The printed keys in report order, or `Err(sort_order)` for a field
    /// that cannot be sorted on.
    pub(crate) fn ordered_keys(&self, sort_order: i32) -> Result<Vec<u32>, i32> {
        let mut keys: Vec<u32> = (0..self.rows.len() as u32)
            .filter(|&k| self.rows[k as usize].flows != 0)
            .collect();
        let rows = &self.rows;
        match sort_order.unsigned_abs() {
            0 | 1 => {}
            2 => keys.sort_by_key(|&k| rows[k as usize].flows),
            3 => keys.sort_by_key(|&k| rows[k as usize].octets),
            4 => keys.sort_by_key(|&k| rows[k as usize].packets),
            5 => keys.sort_by_key(|&k| rows[k as usize].duration),
            _ => return Err(sort_order),
        }
        if sort_order >= 0 {
            keys.reverse();
        }
        Ok(keys)
    }

    /// Writes the report body (`tbl_out1`).
    pub(crate) fn write(
        &self,
        cfg: &StatConfig,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<()> {
        let cc = cfg.comment_char as char;
        let keys = match self.ordered_keys(cfg.sort_order()) {
            Ok(k) => k,
            Err(so) => return writeln!(err, "{cc} can't sort on field {so}."),
        };
        let syms = if cfg.names {
            self.key.symbols().and_then(|f| cfg.symbols(f))
        } else {
            None
        };
        let title = self.key.title();
        let mut s = String::with_capacity(256);
        s.push(cc);
        s.push('\n');
        s.push(cc);
        s.push(' ');
        cfmt::left(&mut s, title, if cfg.wide { 15 } else { 10 });
        s.push_str(match (cfg.percent, cfg.wide) {
            (true, true) => "flows    octets   packets  duration",
            (true, false) => "flows    octets   packets",
            (false, true) => {
                "flows                 octets                packets               duration"
            }
            (false, false) => "flows                 octets                packets",
        });
        s.push('\n');
        s.push(cc);
        s.push('\n');
        out.write_all(s.as_bytes())?;

        let total = &self.total();
        let mut sub = Counters::default();
        let plines = keys.len();
        for (x, &k) in keys.iter().enumerate() {
            let c = &self.rows[k as usize];
            s.clear();
            // `#SUB` tally lines (-t N with -P). flow-tools computes the
            // first column from an uninitialized line count; we use the real
            // number of printed rows, and -t 0 (a division by zero there)
            // prints no tallies.
            if let Some(t) = cfg.tally.filter(|&t| t > 0) {
                if cfg.percent && x > 0 && x % t as usize == 0 {
                    s.push(cc);
                    s.push_str("SUB ");
                    cfmt::fixed(&mut s, x as f64 / plines as f64 * 100.0, 6, 3, true);
                    s.push_str("  ");
                    push_percents(&mut s, &sub, total, true);
                    s.push('\n');
                }
            }
            let key_text = key_text(syms.as_ref(), k);
            let w = if cfg.wide { 15 } else { 10 };
            cfmt::left(&mut s, &key_text, w);
            s.push_str("  ");
            if cfg.percent {
                push_percents(&mut s, c, total, cfg.wide);
            } else {
                cfmt::num_pad(&mut s, c.flows, 20);
                s.push_str("  ");
                cfmt::num_pad(&mut s, c.octets, 20);
                s.push_str("  ");
                cfmt::num_pad(&mut s, c.packets, 20);
                if cfg.wide {
                    let _ = write!(s, "  {}", c.duration);
                }
            }
            s.push('\n');
            out.write_all(s.as_bytes())?;
            sub.add(c);
        }
        Ok(())
    }
}

/// `fmt_uint16s(sym, 16, ..)`: the symbol cut to 15 characters, or the
/// number.
fn key_text(syms: Option<&SymTable>, k: u32) -> String {
    match syms.and_then(|t| t.name(k)) {
        Some(n) => cfmt::truncate(n, 15).to_string(),
        None => k.to_string(),
    }
}

/// `%-6.3f   %-6.3f   %-6.3f[   %-6.3f]` of `c` relative to `total`.
pub(crate) fn push_percents(s: &mut String, c: &Counters, total: &Counters, wide: bool) {
    cfmt::fixed(s, cfmt::percent(c.flows, total.flows), 6, 3, true);
    s.push_str("   ");
    cfmt::fixed(s, cfmt::percent(c.octets, total.octets), 6, 3, true);
    s.push_str("   ");
    cfmt::fixed(s, cfmt::percent(c.packets, total.packets), 6, 3, true);
    if wide {
        s.push_str("   ");
        cfmt::fixed(s, cfmt::percent(c.duration, total.duration), 6, 3, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(proto: u8, sport: u16, dport: u16, octets: u32) -> Record {
        Record {
            protocol: proto,
            src_port: sport,
            dst_port: dport,
            packets: 1,
            octets,
            first_uptime_ms: 10,
            last_uptime_ms: 20,
            ..Record::default()
        }
    }

    fn table(key: ArrayKey, recs: &[Record]) -> ArrayTable {
        let mut t = ArrayTable::new(key);
        t.add_batch(recs);
        t
    }

    #[test]
    fn unsorted_and_key_sort_list_keys_descending_and_s0_ascending() {
        let t = table(
            ArrayKey::DstPort,
            &[rec(6, 1, 80, 1), rec(17, 1, 53, 1), rec(6, 1, 443, 1)],
        );
        assert_eq!(t.ordered_keys(0).unwrap(), vec![443, 80, 53]);
        assert_eq!(t.ordered_keys(1).unwrap(), vec![443, 80, 53]);
        assert_eq!(t.ordered_keys(-1).unwrap(), vec![53, 80, 443]);
    }

    #[test]
    fn ties_come_out_descending_under_big_s_and_ascending_under_small_s() {
        // 53 and 443 tie on flows (1), 80 has 2.
        let t = table(
            ArrayKey::DstPort,
            &[
                rec(6, 1, 443, 5),
                rec(6, 1, 80, 1),
                rec(6, 1, 80, 1),
                rec(17, 1, 53, 9),
            ],
        );
        assert_eq!(t.ordered_keys(2).unwrap(), vec![80, 443, 53]);
        assert_eq!(t.ordered_keys(-2).unwrap(), vec![53, 443, 80]);
        // octets: 53 = 9, 443 = 5, 80 = 2
        assert_eq!(t.ordered_keys(3).unwrap(), vec![53, 443, 80]);
        assert_eq!(t.ordered_keys(6), Err(6));
        assert_eq!(t.ordered_keys(-10), Err(-10));
    }

    #[test]
    fn ports_skip_non_tcp_udp_and_f7_counts_totals_twice() {
        let t = table(
            ArrayKey::BothPorts,
            &[rec(6, 1000, 80, 10), rec(1, 0, 0, 10)],
        );
        assert_eq!(t.total().flows, 2);
        assert_eq!(t.total().octets, 20);
        assert_eq!(t.ordered_keys(0).unwrap(), vec![1000, 80]);
        let t = table(
            ArrayKey::Protocol,
            &[rec(6, 1000, 80, 10), rec(1, 0, 0, 10)],
        );
        assert_eq!(t.total().flows, 2);
        assert_eq!(t.ordered_keys(0).unwrap(), vec![6, 1]);
    }

    #[test]
    fn merge_adds_rows_and_totals() {
        let mut a = table(ArrayKey::SrcPort, &[rec(6, 7, 1, 3)]);
        let b = table(ArrayKey::SrcPort, &[rec(6, 7, 1, 4), rec(17, 9, 1, 1)]);
        a.merge(&b);
        assert_eq!(a.rows[7].octets, 7);
        assert_eq!(a.rows[7].flows, 2);
        assert_eq!(a.total().flows, 3);
    }
}
