//! flow-dump: the flowdumper view — one `FLOW` block per record with
//! named fields — and `-s`, a one-line summary per input.

use std::io::Write;

use chrono::{Local, TimeZone};
use formats::Record;

/// The available-fields mask flowdumper shows as `index` for v5 records.
pub const V5_INDEX: u32 = 0xc7ffff;

/// TCP flag names in the order flow-dump lists them.
const FLAG_NAMES: [(u8, &str); 8] = [
    (0x01, "FIN"),
    (0x08, "PUSH"),
    (0x02, "SYN"),
    (0x10, "ACK"),
    (0x04, "RST"),
    (0x20, "URG"),
    (0x40, "ECE"),
    (0x80, "CWR"),
];

/// `0x1e (PUSH|SYN|ACK|RST)`; just `0x0` when no flag is set.
pub fn tcp_flags_text(flags: u8) -> String {
    let names: Vec<&str> = FLAG_NAMES
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        format!("{flags:#x}")
    } else {
        format!("{flags:#x} ({})", names.join("|"))
    }
}

/// `Wed Jul  6 10:47:29 2005` in local time (ctime's layout).
pub fn ctime(ms: i64) -> String {
    match Local.timestamp_millis_opt(ms) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%a %b %e %H:%M:%S %Y").to_string()
        }
        chrono::LocalResult::None => format!("@{}", ms.div_euclid(1000)),
    }
}

/// Writes one `FLOW` block.
pub fn write_flow(out: &mut dyn Write, r: &Record) -> std::io::Result<()> {
    writeln!(out, "FLOW")?;
    let mut field = |name: &str, value: &dyn std::fmt::Display| -> std::io::Result<()> {
        writeln!(out, "  {:<16}{}", format!("{name}:"), value)
    };
    field("index", &format_args!("{V5_INDEX:#x}"))?;
    field("router", &r.exporter_ip())?;
    field("src IP", &r.src_ip())?;
    field("dst IP", &r.dst_ip())?;
    field("input ifIndex", &r.input_if)?;
    field("output ifIndex", &r.output_if)?;
    field("src port", &r.src_port)?;
    field("dst port", &r.dst_port)?;
    field("pkts", &r.packets)?;
    field("bytes", &r.octets)?;
    field("IP nexthop", &r.next_hop_ip())?;
    field("start time", &ctime(r.start_ms()))?;
    field("end time", &ctime(r.end_ms()))?;
    field("protocol", &r.protocol)?;
    field("tos", &format_args!("{:#x}", r.tos))?;
    field("src AS", &r.src_as)?;
    field("dst AS", &r.dst_as)?;
    field("src masklen", &r.src_mask)?;
    field("dst masklen", &r.dst_mask)?;
    field("TCP flags", &tcp_flags_text(r.tcp_flags))?;
    field("engine type", &r.engine_type)?;
    field("engine id", &r.engine_id)?;
    Ok(())
}

/// Totals of one input for `flow-dump -s`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records.
    pub flows: u64,
    /// Sum of octets.
    pub octets: u64,
    /// Sum of packets.
    pub packets: u64,
    /// Earliest flow start (ms).
    pub first_ms: Option<i64>,
    /// Latest flow end (ms).
    pub last_ms: Option<i64>,
}

impl Summary {
    /// Adds records.
    pub fn add(&mut self, rs: &[Record]) {
        for r in rs {
            self.flows += 1;
            self.octets += r.octets as u64;
            self.packets += r.packets as u64;
            let (s, e) = (r.start_ms(), r.end_ms());
            self.first_ms = Some(self.first_ms.map_or(s, |v| v.min(s)));
            self.last_ms = Some(self.last_ms.map_or(e, |v| v.max(e)));
        }
    }
    /// `NAME: N flows, N octets, N packets, START .. END (N s)`.
    pub fn line(&self, name: &str) -> String {
        match (self.first_ms, self.last_ms) {
            (Some(a), Some(b)) => format!(
                "{name}: {} flows, {} octets, {} packets, {} .. {} ({} s)",
                self.flows,
                self.octets,
                self.packets,
                ctime(a),
                ctime(b),
                (b - a).max(0) / 1000
            ),
            _ => format!("{name}: 0 flows"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_text_matches_flowdumper_example() {
        assert_eq!(tcp_flags_text(0x1e), "0x1e (PUSH|SYN|ACK|RST)");
        assert_eq!(tcp_flags_text(0), "0x0");
        assert_eq!(tcp_flags_text(0x11), "0x11 (FIN|ACK)");
    }

    #[test]
    fn flow_block_layout_puts_values_in_column_19() {
        let r = Record {
            exporter: u32::from(std::net::Ipv4Addr::new(172, 16, 20, 1)),
            src_port: 61521,
            dst_port: 443,
            tcp_flags: 0x1e,
            ..Record::default()
        };
        let mut out = Vec::new();
        write_flow(&mut out, &r).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "FLOW");
        assert_eq!(lines[1], "  index:          0xc7ffff");
        assert_eq!(lines[2], "  router:         172.16.20.1");
        assert_eq!(lines[5], "  input ifIndex:  0");
        assert_eq!(lines[6], "  output ifIndex: 0");
        assert_eq!(lines[20], "  TCP flags:      0x1e (PUSH|SYN|ACK|RST)");
        assert_eq!(lines[22], "  engine id:      0");
        assert_eq!(lines.len(), 23);
        for l in &lines[1..] {
            assert_eq!(&l[18..19].trim().is_empty(), &false, "{l}");
        }
    }
}
