//! The report: a subject line, then per definition the totals, the top
//! sources and destinations and a few raw flows; then the problems met
//! (missing, corrupt or unreadable files). Plain text for people, JSON
//! for machines. Everything here is pure formatting of a [`Report`].

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use chrono::{Local, TimeZone, Timelike};
use formats::ft::FtHeader;
use formats::Record;

use crate::scan::{DefTally, PeerRow};
use crate::Error;
use flowio::input::RecordSource;

/// What went wrong with the window's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// Slots with no flow file at all (collector down or files removed).
    Missing,
    /// A file (or some of its blocks) could not be decoded.
    Corrupt,
    /// A file under its final name that its writer never finished.
    Incomplete,
    /// A file that could not be read now; it is retried next run.
    Unreadable,
    /// A file that disappeared before it could be read.
    Vanished,
}

impl ProblemKind {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Missing => "missing",
            ProblemKind::Corrupt => "corrupt",
            ProblemKind::Incomplete => "incomplete",
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::Vanished => "vanished",
        }
    }
}

/// One problem, about a file or a span of slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// The file (relative to the flow directory), or the slot span.
    pub subject: String,
    /// What happened and what was done about it.
    pub message: String,
}

/// How the window was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Finished files not reported before (the state file decides).
    SinceLastRun {
        /// No state existed: the first-run look-back applies.
        first_run: bool,
    },
    /// `--since`/`--until` on flow start times; the state is not used.
    Range,
}

/// One definition's part of the report.
#[derive(Clone, Debug)]
pub struct DefReport {
    /// The definition name as given on the command line.
    pub name: String,
    /// What it matched.
    pub tally: DefTally,
}

/// Everything a report shows.
#[derive(Clone, Debug)]
pub struct Report {
    /// The flow directory, as given.
    pub flow_dir: String,
    /// The filter configuration file, as given.
    pub filter_file: String,
    /// How the window was chosen.
    pub mode: Mode,
    /// `[start, end)` of the window, ms since the epoch; `None` when no
    /// file was examined.
    pub window: Option<(i64, i64)>,
    /// Files examined.
    pub files: usize,
    /// Flows examined.
    pub scanned: u64,
    /// Flows matching at least one definition.
    pub matched: u64,
    /// Distinct sources of those flows.
    pub sources: usize,
    /// Per definition, in command-line order.
    pub defs: Vec<DefReport>,
    /// Problems, reported once.
    pub problems: Vec<Problem>,
    /// Remarks that do not make a report on their own (files still open).
    pub notes: Vec<String>,
    /// Rows in the top-sources and top-destinations tables.
    pub top: usize,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn local(ms: i64) -> chrono::DateTime<Local> {
    match Local.timestamp_millis_opt(ms) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t,
        chrono::LocalResult::None => Local
            .timestamp_millis_opt(0)
            .earliest()
            .unwrap_or_else(|| chrono::DateTime::<chrono::Utc>::default().with_timezone(&Local)),
    }
}

/// `2026-11-22 10:30 - 11:30 +0000` (dates repeated when they differ,
/// seconds shown only when a bound has some).
pub fn window_text(start_ms: i64, end_ms: i64) -> String {
    let (a, b) = (local(start_ms), local(end_ms));
    let tf = if a.second() != 0 || b.second() != 0 {
        "%H:%M:%S"
    } else {
        "%H:%M"
    };
    if a.date_naive() == b.date_naive() {
        format!(
            "{} {} - {} {}",
            a.format("%Y-%m-%d"),
            a.format(tf),
            b.format(tf),
            b.format("%z")
        )
    } else {
        format!(
            "{} {} - {} {} {}",
            a.format("%Y-%m-%d"),
            a.format(tf),
            b.format("%Y-%m-%d"),
            b.format(tf),
            b.format("%z")
        )
    }
}

fn seen(ms: i64) -> String {
    local(ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn utc_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Report {
    /// True when there is nothing to tell: no flow matched and no problem.
    pub fn is_quiet(&self) -> bool {
        self.matched == 0 && self.problems.is_empty()
    }

    /// The first line: `N suspicious flows from M sources, <window>`, plus
    /// the number of problems when there are any.
    pub fn subject(&self) -> String {
        let window = match self.window {
            Some((a, b)) => window_text(a, b),
            None => "no new flow files".to_string(),
        };
        let mut s = format!(
            "{} from {}, {window}",
            plural(self.matched, "suspicious flow", "suspicious flows"),
            plural(self.sources as u64, "source", "sources"),
        );
        if !self.problems.is_empty() {
            s.push_str(&format!(
                " ({})",
                plural(self.problems.len() as u64, "problem", "problems")
            ));
        }
        s
    }

    /// The plain-text report; its first line is [`Report::subject`].
    pub fn text(&self) -> Result<String, Error> {
        let mut s = String::new();
        let _ = writeln!(s, "{}\n", self.subject());
        let mut head = Table::new(&[("", Align::Left), ("", Align::Left)]);
        head.row(vec!["Flow directory".into(), self.flow_dir.clone()]);
        let window = match (self.window, self.mode) {
            (None, _) => "no flow file examined".to_string(),
            (Some((a, b)), Mode::SinceLastRun { first_run }) => format!(
                "{}, {} finished since {}",
                window_text(a, b),
                plural(self.files as u64, "file", "files"),
                if first_run {
                    "the first-run look-back"
                } else {
                    "the last run"
                }
            ),
            (Some((a, b)), Mode::Range) => format!(
                "{}, flows starting in it ({} examined)",
                window_text(a, b),
                plural(self.files as u64, "file", "files")
            ),
        };
        head.row(vec!["Window".into(), window]);
        head.row(vec!["Flows examined".into(), self.scanned.to_string()]);
        let defs: Vec<String> = self
            .defs
            .iter()
            .map(|d| match d.tally.flows {
                0 => format!("{} (none)", d.name),
                n => format!("{} ({})", d.name, plural(n, "flow", "flows")),
            })
            .collect();
        head.row(vec![
            "Filter".into(),
            format!("{}: {}", self.filter_file, defs.join(", ")),
        ]);
        head.write_plain(&mut s);

        for d in self.defs.iter().filter(|d| d.tally.flows > 0) {
            self.write_definition(&mut s, d)?;
        }

        if !self.problems.is_empty() {
            s.push_str("\nProblems\n");
            let width = self
                .problems
                .iter()
                .map(|p| p.kind.as_str().len())
                .max()
                .unwrap_or(0);
            for p in &self.problems {
                let _ = writeln!(
                    s,
                    "  {:width$}  {}\n  {:width$}  {}",
                    p.kind.as_str(),
                    p.subject,
                    "",
                    p.message
                );
            }
        }
        if !self.notes.is_empty() {
            s.push_str("\nNotes\n");
            for n in &self.notes {
                let _ = writeln!(s, "  {n}");
            }
        }
        Ok(s)
    }

    fn write_definition(&self, s: &mut String, d: &DefReport) -> Result<(), Error> {
        let t = &d.tally;
        let title = format!(
            "{}: {}, {} octets, {} packets, {}, {}",
            d.name,
            plural(t.flows, "flow", "flows"),
            t.octets,
            t.packets,
            plural(t.by_src.len() as u64, "source", "sources"),
            plural(t.by_dst.len() as u64, "destination", "destinations"),
        );
        let _ = writeln!(s, "\n{title}\n{}", "=".repeat(title.len().min(78)));
        let (srcs, dsts) = t.top(self.top);
        let table = |label: &str,
                     first: &str,
                     peer: &str,
                     rows: &[PeerRow],
                     total: usize,
                     s: &mut String| {
            let _ = writeln!(s, "\n{label} ({} of {total})", rows.len());
            let mut tab = Table::new(&[
                (first, Align::Left),
                ("Flows", Align::Right),
                ("Octets", Align::Right),
                ("Packets", Align::Right),
                (peer, Align::Right),
                ("DstPorts", Align::Right),
                ("First seen", Align::Left),
                ("Last seen", Align::Left),
            ]);
            for r in rows {
                tab.row(peer_cells(r));
            }
            tab.write_with_header(s);
        };
        table("Top sources", "Source", "Dsts", &srcs, t.by_src.len(), s);
        table(
            "Top destinations",
            "Destination",
            "Srcs",
            &dsts,
            t.by_dst.len(),
            s,
        );
        if !t.samples.is_empty() {
            let _ = writeln!(
                s,
                "\nSample flows (first {} of {}, flow-print -f 5)",
                t.samples.len(),
                t.flows
            );
            let rows: Vec<Record> = t.samples.iter().map(|(_, r)| *r).collect();
            s.push_str(&print_f5(&rows)?);
        }
        Ok(())
    }

    /// The report as one JSON object (see the README for the fields).
    pub fn json(&self) -> String {
        let mut s = String::with_capacity(4096);
        s.push('{');
        let _ = write!(s, "\"subject\":{}", json_str(&self.subject()));
        let _ = write!(s, ",\"flow_dir\":{}", json_str(&self.flow_dir));
        let _ = write!(s, ",\"filter_file\":{}", json_str(&self.filter_file));
        let mode = match self.mode {
            Mode::SinceLastRun { first_run: false } => "since-last-run",
            Mode::SinceLastRun { first_run: true } => "first-run",
            Mode::Range => "range",
        };
        let _ = write!(s, ",\"mode\":\"{mode}\"");
        match self.window {
            Some((a, b)) => {
                let _ = write!(
                    s,
                    ",\"window\":{{\"start\":\"{}\",\"end\":\"{}\"}}",
                    utc_ms(a),
                    utc_ms(b)
                );
            }
            None => s.push_str(",\"window\":null"),
        }
        let _ = write!(
            s,
            ",\"files\":{},\"flows_examined\":{},\"suspicious_flows\":{},\"sources\":{}",
            self.files, self.scanned, self.matched, self.sources
        );
        s.push_str(",\"definitions\":[");
        for (i, d) in self.defs.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let t = &d.tally;
            let _ = write!(
                s,
                "{{\"name\":{},\"flows\":{},\"octets\":{},\"packets\":{},\"sources\":{},\"destinations\":{}",
                json_str(&d.name),
                t.flows,
                t.octets,
                t.packets,
                t.by_src.len(),
                t.by_dst.len()
            );
            let (srcs, dsts) = t.top(self.top);
            s.push_str(",\"top_sources\":");
            json_peers(&mut s, &srcs, "destinations");
            s.push_str(",\"top_destinations\":");
            json_peers(&mut s, &dsts, "sources");
            s.push_str(",\"samples\":[");
            for (k, (_, r)) in t.samples.iter().enumerate() {
                if k > 0 {
                    s.push(',');
                }
                json_record(&mut s, r);
            }
            s.push_str("]}");
        }
        s.push_str("],\"problems\":[");
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                "{{\"kind\":\"{}\",\"subject\":{},\"message\":{}}}",
                p.kind.as_str(),
                json_str(&p.subject),
                json_str(&p.message)
            );
        }
        s.push_str("],\"notes\":[");
        for (i, n) in self.notes.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&json_str(n));
        }
        s.push_str("]}\n");
        s
    }
}

fn peer_cells(r: &PeerRow) -> Vec<String> {
    vec![
        Ipv4Addr::from(r.addr).to_string(),
        r.stats.flows.to_string(),
        r.stats.octets.to_string(),
        r.stats.packets.to_string(),
        r.peers.to_string(),
        r.ports.to_string(),
        seen(r.stats.first_ms),
        seen(r.stats.last_ms),
    ]
}

fn json_peers(s: &mut String, rows: &[PeerRow], peers: &str) {
    s.push('[');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let p = &r.stats;
        let _ = write!(
            s,
            "{{\"addr\":\"{}\",\"flows\":{},\"octets\":{},\"packets\":{},\"{peers}\":{},\"dst_ports\":{},\"first_seen\":\"{}\",\"last_seen\":\"{}\"}}",
            Ipv4Addr::from(r.addr),
            p.flows,
            p.octets,
            p.packets,
            r.peers,
            r.ports,
            utc_ms(p.first_ms),
            utc_ms(p.last_ms)
        );
    }
    s.push(']');
}

fn json_record(s: &mut String, r: &Record) {
    let _ = write!(
        s,
        "{{\"start\":\"{}\",\"end\":\"{}\",\"exporter\":\"{}\",\"src_addr\":\"{}\",\"src_port\":{},\"dst_addr\":\"{}\",\"dst_port\":{},\"protocol\":{},\"tcp_flags\":{},\"packets\":{},\"octets\":{},\"input_if\":{},\"output_if\":{}}}",
        utc_ms(r.start_ms()),
        utc_ms(r.end_ms()),
        Ipv4Addr::from(r.exporter),
        r.src_ip(),
        r.src_port,
        r.dst_ip(),
        r.dst_port,
        r.protocol,
        r.tcp_flags,
        r.packets,
        r.octets,
        r.input_if,
        r.output_if
    );
}

/// A JSON string literal.
pub fn json_str(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// Records as `flow-print -f 5` prints them, title included, without
/// trailing blanks.
fn print_f5(rows: &[Record]) -> Result<String, Error> {
    struct Rows<'a> {
        header: FtHeader,
        rows: &'a [Record],
    }
    impl RecordSource for Rows<'_> {
        fn header(&self) -> &FtHeader {
            &self.header
        }
        fn next_batch(&mut self, out: &mut Vec<Record>) -> Result<usize, flowio::Error> {
            out.extend_from_slice(self.rows);
            let n = self.rows.len();
            self.rows = &[];
            Ok(n)
        }
    }
    let mut src = Rows {
        header: FtHeader {
            export_version: Some(5),
            ..FtHeader::default()
        },
        rows,
    };
    let cfg = query::print::PrintConfig {
        format: Some(5),
        ..query::print::PrintConfig::default()
    };
    let mut out = Vec::new();
    query::print::run(&cfg, &mut src, &mut out, &mut std::io::sink())?;
    // flow-print pads its last column; mail does not need the blanks.
    let text = String::from_utf8_lossy(&out);
    let mut s = String::with_capacity(text.len());
    for line in text.lines() {
        s.push_str(line.trim_end());
        s.push('\n');
    }
    Ok(s)
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Columns padded to their widest cell, two spaces apart, indented by two.
struct Table {
    head: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(head: &[(&str, Align)]) -> Table {
        Table {
            head: head.iter().map(|(h, a)| (h.to_string(), *a)).collect(),
            rows: Vec::new(),
        }
    }
    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    fn widths(&self, with_head: bool) -> Vec<usize> {
        let mut w: Vec<usize> = self
            .head
            .iter()
            .map(|(h, _)| if with_head { h.len() } else { 0 })
            .collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(x) = w.get_mut(i) {
                    *x = (*x).max(c.chars().count());
                }
            }
        }
        w
    }
    fn line(&self, s: &mut String, cells: &[String], w: &[usize]) {
        let mut line = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            let width = w.get(i).copied().unwrap_or(0);
            let align = self.head.get(i).map_or(Align::Left, |h| h.1);
            let pad = width.saturating_sub(c.chars().count());
            line.push(' ');
            match align {
                Align::Left => {
                    line.push_str(c);
                    line.push_str(&" ".repeat(pad));
                }
                Align::Right => {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(c);
                }
            }
            line.push(' ');
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    fn write_with_header(&self, s: &mut String) {
        let w = self.widths(true);
        let head: Vec<String> = self.head.iter().map(|(h, _)| h.clone()).collect();
        self.line(s, &head, &w);
        for r in &self.rows {
            self.line(s, r, &w);
        }
    }
    fn write_plain(&self, s: &mut String) {
        let w = self.widths(false);
        for r in &self.rows {
            self.line(s, r, &w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }

    #[test]
    fn tables_align_columns() {
        let mut t = Table::new(&[("Addr", Align::Left), ("Flows", Align::Right)]);
        t.row(vec!["10.0.0.1".into(), "7".into()]);
        t.row(vec!["1.2.3.4".into(), "1234".into()]);
        let mut s = String::new();
        t.write_with_header(&mut s);
        assert_eq!(
            s,
            "  Addr      Flows\n  10.0.0.1      7\n  1.2.3.4    1234\n"
        );
    }
}
