//! The import report (spec §6.2): per input file, every counter the
//! acceptance figures use, plus run-wide facts (files written, exporters,
//! zone and year assumptions). [`Report`]'s `Display` is the text printed
//! on stderr at the end of a run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

/// Line numbers kept per list (malformed, duplicates); counts are exact.
pub const MAX_LISTED_LINES: usize = 10_000;

/// Counters for one input file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Input name (`-` for stdin).
    pub input: String,
    /// Format used (after auto-detection).
    pub format: String,
    /// Physical lines (a final line without newline counts).
    pub lines_total: u64,
    /// Blank lines (never malformed).
    pub blank_lines: u64,
    /// Lines that started with NUL bytes, stripped and parsed.
    pub nul_prefixed_recovered: u64,
    /// Lines of another kind (other programs, non-LOG kernel messages).
    pub unrelated_lines: u64,
    /// conntrack stderr lines (ENOBUFS warning, trailer).
    pub diagnostic_lines: u64,
    /// Malformed lines per reason.
    pub malformed: BTreeMap<&'static str, u64>,
    /// Malformed line numbers (first [`MAX_LISTED_LINES`]).
    pub malformed_lines: Vec<u64>,
    /// Exact duplicate lines dropped.
    pub duplicates: u64,
    /// Their line numbers (first [`MAX_LISTED_LINES`]).
    pub duplicate_lines: Vec<u64>,
    /// `message repeated N times` / `last message repeated` lines.
    pub repeat_summaries: u64,
    /// Records added by expanding them.
    pub records_from_repeats: u64,
    /// IPv4 packets (LOG) or connections (conntrack/ulogd) per protocol
    /// name (`tcp`, `udp`, `icmp`, `icmpv6`, `other`).
    pub ipv4_by_protocol: BTreeMap<&'static str, u64>,
    /// Protocol numbers counted as `other` (IPv4).
    pub ipv4_other_protocols: BTreeSet<u8>,
    /// IPv6 packets or connections per protocol name (not storable in v5).
    pub ipv6_by_protocol: BTreeMap<&'static str, u64>,
    /// Layer-3 bytes of IPv4 packets (LOG sources).
    pub ipv4_bytes: u64,
    /// Layer-3 bytes of IPv6 packets (LOG sources).
    pub ipv6_bytes: u64,
    /// Events by kind (`NEW`, `UPDATE`, `DESTROY`).
    pub events: BTreeMap<&'static str, u64>,
    /// Connections with NEW and DESTROY.
    pub connections_complete: u64,
    /// Connections never destroyed (written with Last = last event).
    pub connections_open_at_end: u64,
    /// Connections destroyed without a NEW seen.
    pub connections_without_new: u64,
    /// Connections whose start time is unknown (First = Last).
    pub connections_start_unknown: u64,
    /// IPv4 orig-direction packets from DESTROY events.
    pub ipv4_orig_packets: u64,
    /// IPv4 orig-direction bytes from DESTROY events.
    pub ipv4_orig_bytes: u64,
    /// IPv4 reply-direction packets from DESTROY events.
    pub ipv4_reply_packets: u64,
    /// IPv4 reply-direction bytes from DESTROY events.
    pub ipv4_reply_bytes: u64,
    /// IPv6 orig-direction bytes from DESTROY events.
    pub ipv6_orig_bytes: u64,
    /// IPv6 reply-direction bytes from DESTROY events.
    pub ipv6_reply_bytes: u64,
    /// IPv4 connections with source NAT (reply.dst != orig.src).
    pub snat_connections: u64,
    /// … of which the port changed too.
    pub snat_with_port_change: u64,
    /// IPv4 connections with destination NAT (reply.src != orig.dst).
    pub dnat_connections: u64,
    /// Connections with a non-zero mark.
    pub connections_with_mark: u64,
    /// DESTROY events caused by a netlink client (`conntrack -D`).
    pub destroyed_by_userspace: u64,
    /// ENOBUFS warnings (events were lost).
    pub enobufs_warnings: u64,
    /// N of each "N flow events have been shown" trailer.
    pub trailer_reported_events: Vec<u64>,
    /// v5 records written.
    pub v5_records: u64,
    /// IPv6 records (not written as v5; see `--ipv6-out`).
    pub ipv6_records: u64,
    /// Records per LOG prefix.
    pub records_by_prefix: BTreeMap<String, u64>,
    /// Records per logging host.
    pub records_by_host: BTreeMap<String, u64>,
    /// anetcon records per kind.
    pub records_by_kind: BTreeMap<&'static str, u64>,
    /// anetcon (new format) records per namespace.
    pub records_by_namespace: BTreeMap<String, u64>,
    /// Earliest record/event time, µs since the epoch (UTC).
    pub first_us: Option<i64>,
    /// Latest record/event time, µs since the epoch (UTC).
    pub last_us: Option<i64>,
    /// Local times that did not exist (DST gap), shifted forward.
    pub nonexistent_local_times: u64,
    /// Durations clamped to fit v5's 32-bit uptime arithmetic.
    pub durations_clamped: u64,
    /// How year-less stamps were resolved (anchor), if any were seen.
    pub year_anchor: Option<String>,
}

impl Summary {
    /// Counts one malformed line.
    pub fn malformed(&mut self, line: u64, reason: &'static str) {
        *self.malformed.entry(reason).or_default() += 1;
        if self.malformed_lines.len() < MAX_LISTED_LINES {
            self.malformed_lines.push(line);
        }
    }

    /// Total malformed lines.
    pub fn malformed_total(&self) -> u64 {
        self.malformed.values().sum()
    }

    /// Widens the time range.
    pub fn saw_time(&mut self, us: i64) {
        self.first_us = Some(self.first_us.map_or(us, |f| f.min(us)));
        self.last_us = Some(self.last_us.map_or(us, |l| l.max(us)));
    }

    /// IPv4 records/connections of every protocol.
    pub fn ipv4_total(&self) -> u64 {
        self.ipv4_by_protocol.values().sum()
    }

    /// Total number of connections.
    pub fn connections_total(&self) -> u64 {
        self.connections_complete + self.connections_open_at_end + self.connections_without_new
    }
}

/// RFC 3339 UTC text of a µs time (fraction only when non-zero).
pub fn utc_text(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    if frac == 0 {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        format!("{}.{frac:06}Z", t.format("%Y-%m-%dT%H:%M:%S"))
    }
}

/// The whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// One summary per input.
    pub inputs: Vec<Summary>,
    /// Native files written (empty for `-o -`).
    pub files_written: Vec<PathBuf>,
    /// Exporter host name -> address used, and how it was chosen.
    pub exporters: Vec<(String, std::net::Ipv4Addr, &'static str)>,
    /// Zone used for zone-less stamps.
    pub zone: String,
    /// NAT rows that did not fit in a file header.
    pub nat_rows_dropped: u64,
    /// NAT rows stored.
    pub nat_rows: u64,
}

impl Report {
    /// Records imported (v5 + IPv6) over all inputs.
    pub fn records_imported(&self) -> u64 {
        self.inputs
            .iter()
            .map(|s| s.v5_records + s.ipv6_records)
            .sum()
    }
}

fn map<K: fmt::Display, V: fmt::Display>(m: impl IntoIterator<Item = (K, V)>) -> String {
    let v: Vec<String> = m.into_iter().map(|(k, v)| format!("{k} {v}")).collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(", ")
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} ({}):", self.input, self.format)?;
        writeln!(
            f,
            "  lines {}  blank {}  unrelated {}  diagnostic {}  malformed {}  duplicates {}  NUL-prefixed recovered {}",
            self.lines_total,
            self.blank_lines,
            self.unrelated_lines,
            self.diagnostic_lines,
            self.malformed_total(),
            self.duplicates,
            self.nul_prefixed_recovered
        )?;
        for (r, n) in &self.malformed {
            writeln!(f, "    malformed: {r}: {n}")?;
        }
        if !self.malformed_lines.is_empty() {
            let shown: Vec<String> = self
                .malformed_lines
                .iter()
                .take(20)
                .map(u64::to_string)
                .collect();
            let more = if self.malformed_lines.len() > 20 {
                " …"
            } else {
                ""
            };
            writeln!(f, "    malformed at lines {}{more}", shown.join(", "))?;
        }
        if self.repeat_summaries > 0 {
            writeln!(
                f,
                "  repeat summaries {} -> {} records",
                self.repeat_summaries, self.records_from_repeats
            )?;
        }
        if !self.events.is_empty() {
            writeln!(f, "  events: {}", map(self.events.iter()))?;
            writeln!(
                f,
                "  connections {}: complete {}, open at end {} (written with Last = last event), without NEW {}, start unknown {}",
                self.connections_total(),
                self.connections_complete,
                self.connections_open_at_end,
                self.connections_without_new,
                self.connections_start_unknown
            )?;
            writeln!(
                f,
                "  NAT: SNAT {} (port changed {}), DNAT {}; TCP flags synthesised from state",
                self.snat_connections, self.snat_with_port_change, self.dnat_connections
            )?;
        }
        writeln!(f, "  IPv4: {}", map(self.ipv4_by_protocol.iter()))?;
        writeln!(
            f,
            "  IPv6 (not stored as v5): {}",
            map(self.ipv6_by_protocol.iter())
        )?;
        writeln!(f, "  v5 records written {}", self.v5_records)?;
        if self.enobufs_warnings > 0 {
            writeln!(
                f,
                "  ENOBUFS: conntrack lost events ({} warning lines)",
                self.enobufs_warnings
            )?;
        }
        if !self.records_by_host.is_empty() {
            writeln!(f, "  by host: {}", map(self.records_by_host.iter()))?;
        }
        if !self.records_by_kind.is_empty() {
            writeln!(f, "  anetcon: {}", map(self.records_by_kind.iter()))?;
            writeln!(
                f,
                "  anetcon: the public (SNAT/floating) address is not in these lines; it must come from Neutron"
            )?;
        }
        if let (Some(a), Some(b)) = (self.first_us, self.last_us) {
            writeln!(f, "  time range {} .. {}", utc_text(a), utc_text(b))?;
        }
        if let Some(y) = &self.year_anchor {
            writeln!(f, "  year-less stamps resolved against {y}")?;
        }
        if self.nonexistent_local_times > 0 {
            writeln!(
                f,
                "  warning: {} local times in a DST gap, shifted forward",
                self.nonexistent_local_times
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.inputs {
            write!(f, "{s}")?;
        }
        writeln!(f, "zone for zone-less stamps: {}", self.zone)?;
        for (h, a, how) in &self.exporters {
            writeln!(f, "exporter {h} -> {a} ({how})")?;
        }
        if self.nat_rows > 0 || self.nat_rows_dropped > 0 {
            writeln!(
                f,
                "NAT rows stored {} (dropped, header full: {})",
                self.nat_rows, self.nat_rows_dropped
            )?;
        }
        writeln!(f, "files written {}", self.files_written.len())
    }
}
