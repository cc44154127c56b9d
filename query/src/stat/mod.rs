//! flow-stat's reports (spec §7), byte-identical to flow-tools 0.68.5.
//!
//! Every report is an accumulator ([`Report`]) fed with batches of records
//! and merged with reports built over later parts of the same input, so the
//! parallel file path and the sequential pipe path print the same bytes:
//!
//! * [`new_report`] makes an empty report for a [`StatConfig`];
//! * [`Report::add_batch`] takes the global sequence number of the batch's
//!   first record (hash reports keep, per key, the sequence number of its
//!   first appearance, and print in that order);
//! * [`Report::merge`] folds in a report over *any* other part of the
//!   input (sums, minima, maxima, earliest first-seen; formats 13/14, which
//!   print every flow, append `later`, so merge those in input order);
//! * [`write_report`] prints the report header, the optional `-p` stream
//!   header block, and the body.
//!
//! The families: the summary (format 0), array tables (5-7, 12, 17-20, 22,
//! 28, 29: fixed counter arrays indexed by a port, protocol, interface, AS,
//! ToS or engine value), hash tables (1-3, 8-11, 16, 21, 23-27) and the
//! small ones (13-15). Formats 30-32 need tag fields that v5 lacks and only
//! warn, as flow-tools does; format 4 prints `Not implemented.`.
//!
//! Nothing here reads stdin or parses arguments: see `bin/flow-stat.rs`.

mod array;
mod cfmt;
mod hash;
mod misc;
mod spill;
mod summary;

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use formats::ft::FtHeader;
use formats::Record;

use flowio::input::{RecordSource, BATCH};

pub use hash::{MulBuild, MulHasher};
pub use spill::DEFAULT_LIMIT as DEFAULT_MEMORY;

/// Number of formats (valid `-f` values are `0..FORMATS`).
pub const FORMATS: u32 = 33;

/// The report names, by format number (`# Name:` and `-h -h`).
pub const FORMAT_NAMES: [&str; FORMATS as usize] = [
    "Overall Summary",
    "Average packet size distribution",
    "Packets per flow distribution",
    "Octets per flow distribution",
    "Bandwidth per flow distribution",
    "UDP/TCP destination port",
    "UDP/TCP source port",
    "UDP/TCP port",
    "Destination IP",
    "Source IP",
    "Source/Destination IP",
    "Source or Destination IP",
    "IP protocol",
    "octets for flow duration plot data",
    "packets for flow duration plot data",
    "short summary",
    "IP Next Hop",
    "Input interface",
    "Output interface",
    "Source AS",
    "Destination AS",
    "Source/Destination AS",
    "IP ToS",
    "Input/Output Interface",
    "Source Prefix",
    "Destination Prefix",
    "Source/Destination Prefix",
    "Exporter IP",
    "Engine Id",
    "Engine Type",
    "Source Tag",
    "Destination Tag",
    "Source/Destination Tag",
];

/// The usage text (printed on stderr). flow-tools prints the first part on
/// the first `-h` (or bad option) and the format list on every later one.
pub const USAGE: &str = "Usage: flow-stat [-hnpPw] [-d debug_level] [-f format] [-S sort_field]\n       [-s sort_field] [-t tally_lines] [-T title]\n";

/// The `-h -h` format list.
pub fn formats_usage() -> String {
    let mut s = String::from("Formats:\n");
    for (i, n) in FORMAT_NAMES.iter().enumerate() {
        s.push_str(&format!("  {i:<2} {n}\n"));
    }
    s
}

/// The usage text for `calls` uses of `-h`, the way flow-tools' `usage()`
/// prints it: the synopsis first, the format list on every later call.
pub fn usage(calls: u32) -> String {
    let mut s = String::new();
    for i in 0..calls {
        if i == 0 {
            s.push_str(USAGE);
        } else {
            s.push_str(&formats_usage());
        }
    }
    s
}

/// flow-stat's options as typed, before they are checked (numbers are
/// read with C `atoi`, as flow-tools reads them).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    /// `-f`.
    pub format: Option<String>,
    /// `-s` (ascending), when it was the last sort option.
    pub sort_asc: Option<String>,
    /// `-S` (descending), when it was the last sort option.
    pub sort_desc: Option<String>,
    /// `-P`.
    pub percent: bool,
    /// `-w`.
    pub wide: bool,
    /// `-n`.
    pub names: bool,
    /// `-t`.
    pub tally: Option<String>,
    /// `-T`.
    pub title: Option<std::ffi::OsString>,
    /// `-p`.
    pub header: bool,
    /// `-c`.
    pub comment: Option<std::ffi::OsString>,
    /// `--memory`.
    pub memory: Option<usize>,
    /// `--temp-dir`.
    pub temp_dir: Option<PathBuf>,
    /// The whole command line, for the report header's `# Args:` line.
    pub argv: Vec<std::ffi::OsString>,
}

impl StatConfig {
    /// The configuration `flags` ask for; an unknown `-f` is refused with
    /// flow-tools' message.
    pub fn from_flags(flags: Flags) -> Result<StatConfig, crate::Error> {
        let format = flags.format.as_deref().map_or(0, atoi);
        if !(0..FORMATS as i32).contains(&format) {
            return Err(crate::Error::NoSuchFormat(i64::from(format)));
        }
        let mut cfg = StatConfig::new(format as u32);
        cfg.sort = match (&flags.sort_asc, &flags.sort_desc) {
            (Some(f), _) => Some(Sort {
                descending: false,
                field: atoi(f),
            }),
            (_, Some(f)) => Some(Sort {
                descending: true,
                field: atoi(f),
            }),
            _ => None,
        };
        cfg.percent = flags.percent;
        cfg.wide = flags.wide;
        cfg.names = flags.names;
        cfg.tally = flags.tally.as_deref().map(|t| atoi(t).max(0) as u32);
        cfg.title = flags.title;
        cfg.header_block = flags.header;
        if let Some(c) = &flags.comment {
            use std::os::unix::ffi::OsStrExt;
            cfg.comment_char = c.as_bytes().first().copied().unwrap_or(0);
        }
        cfg.args = flags.argv;
        if let Some(m) = flags.memory {
            cfg.memory = m;
        }
        cfg.temp_dir = flags.temp_dir;
        Ok(cfg)
    }
}

/// A sort request: `-S field` (descending) or `-s field` (ascending).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    /// `-S` rather than `-s`.
    pub descending: bool,
    /// The field number as typed (0 = the key; see spec §7.2).
    pub field: i32,
}

/// Everything that shapes a report.
#[derive(Clone, Debug)]
pub struct StatConfig {
    /// `-f`: the report format, `0..FORMATS`.
    pub format: u32,
    /// `-S` / `-s` (the last one given wins).
    pub sort: Option<Sort>,
    /// `-P`: percentages instead of totals.
    pub percent: bool,
    /// `-w`: wide output (adds the duration column).
    pub wide: bool,
    /// `-n`: symbolic names.
    pub names: bool,
    /// `-t N`: a `#SUB` tally line every N rows (array reports with `-P`).
    pub tally: Option<u32>,
    /// `-T`: the report title.
    pub title: Option<OsString>,
    /// `-p`: print the stream header block after the report header.
    pub header_block: bool,
    /// `-c`: the comment character (a byte; `#` by default).
    pub comment_char: u8,
    /// argv as typed, `argv[0]` included (echoed in `# Args:`).
    pub args: Vec<OsString>,
    /// Where the symbol files are; `None`: `$FLOWTOOLS_SYMDIR`, then the
    /// built-in tables.
    pub sym_dir: Option<PathBuf>,
    /// Bytes a hash report's table may hold before it spills to a
    /// temporary file (0: no limit); see [`Report::limit_memory`].
    pub memory: usize,
    /// Where spill files go; `None`: `$TMPDIR`, else `/tmp`.
    pub temp_dir: Option<PathBuf>,
    /// Where problems that do not stop the report go (an unreadable
    /// symbol table, a spill that failed, a damaged input).
    pub warnings: flowio::Warnings,
}

impl StatConfig {
    /// Defaults for `format`: no sort, totals, `#`.
    pub fn new(format: u32) -> Self {
        StatConfig {
            format,
            sort: None,
            percent: false,
            wide: false,
            names: false,
            tally: None,
            title: None,
            header_block: false,
            comment_char: b'#',
            args: Vec::new(),
            sym_dir: None,
            memory: DEFAULT_MEMORY,
            temp_dir: None,
            warnings: flowio::Warnings::default(),
        }
    }

    /// flow-tools' `sort_order`: `field + 1` for `-S`, `-(field + 1)` for
    /// `-s`, 0 unsorted (so `-S -1` means unsorted, as in flow-tools).
    pub fn sort_order(&self) -> i32 {
        match self.sort {
            None => 0,
            Some(s) => {
                let v = s.field.wrapping_add(1);
                if s.descending {
                    v
                } else {
                    v.wrapping_neg()
                }
            }
        }
    }

    /// Loads one symbol table for `-n` through `filterlang::Symbols`
    /// (`sym_dir`, else `$FLOWTOOLS_SYMDIR`, else the built-in protocol and
    /// port tables). A malformed symbol file is reported and gives numbers,
    /// as flow-tools prints numbers when `ftsym_new` fails.
    fn symbols(&self, file: SymFile) -> Option<filterlang::SymbolTable> {
        let syms = match filterlang::Symbols::load(self.sym_dir.as_deref()) {
            Ok(s) => s,
            Err(e) => {
                let skipped = flowio::Skipped::Nothing;
                self.warnings.push(flowio::Warning::new("", e, skipped));
                return None;
            }
        };
        Some(match file {
            SymFile::IpProt => syms.protocols().clone(),
            SymFile::TcpPort => syms.ports().clone(),
            SymFile::Asn => syms.asns().clone(),
            SymFile::Tag => syms.tags().clone(),
        })
    }
}

/// Which symbol table a report's `-n` uses (flow-tools' `ftsym` files).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymFile {
    /// `ip-prot.sym`
    IpProt,
    /// `tcp-port.sym`
    TcpPort,
    /// `asn.sym`
    Asn,
    /// `tag.sym` (formats 1-3 use it, faithfully to flow-tools'
    /// `chash_c32_dump`)
    Tag,
}

/// flows, octets, packets and duration (ms) of a set of flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Number of flows.
    pub flows: u64,
    /// Sum of octets.
    pub octets: u64,
    /// Sum of packets.
    pub packets: u64,
    /// Sum of (Last - First) mod 2^32.
    pub duration: u64,
}

impl Counters {
    /// Counts one flow.
    #[inline]
    pub fn add_record(&mut self, r: &Record) {
        self.flows += 1;
        self.octets += r.octets as u64;
        self.packets += r.packets as u64;
        self.duration += r.duration_ms() as u64;
    }

    /// Adds another set.
    #[inline]
    pub fn add(&mut self, o: &Counters) {
        self.flows += o.flows;
        self.octets += o.octets;
        self.packets += o.packets;
        self.duration += o.duration;
    }
}

#[derive(Clone, Debug)]
enum Body {
    Summary(Box<summary::Summary>),
    Array(array::ArrayTable),
    Hash(Box<hash::HashReport>),
    Plot(misc::Plot),
    Short(Counters),
    NotImplemented,
    MissingField,
}

/// A report being accumulated (see the module docs).
#[derive(Clone, Debug)]
pub struct Report {
    format: u32,
    body: Body,
}

/// An empty report for `cfg.format`.
pub fn new_report(cfg: &StatConfig) -> Result<Report, crate::Error> {
    use array::ArrayKey as A;
    use hash::HashKind as H;
    let arr = |k| Body::Array(array::ArrayTable::new(k));
    let hash = |k| Body::Hash(Box::new(hash::HashReport::new(k)));
    let body = match cfg.format {
        0 => Body::Summary(Box::default()),
        1 => hash(H::PacketSize),
        2 => hash(H::Packets),
        3 => hash(H::Octets),
        4 => Body::NotImplemented,
        5 => arr(A::DstPort),
        6 => arr(A::SrcPort),
        7 => arr(A::BothPorts),
        8 => hash(H::DstAddr),
        9 => hash(H::SrcAddr),
        10 => hash(H::SrcDstAddr),
        11 => hash(H::SrcOrDstAddr),
        12 => arr(A::Protocol),
        13 => Body::Plot(misc::Plot::new(false)),
        14 => Body::Plot(misc::Plot::new(true)),
        15 => Body::Short(Counters::default()),
        16 => hash(H::NextHop),
        17 => arr(A::InputIf),
        18 => arr(A::OutputIf),
        19 => arr(A::SrcAs),
        20 => arr(A::DstAs),
        21 => hash(H::SrcDstAs),
        22 => arr(A::Tos),
        23 => hash(H::InOutIf),
        24 => hash(H::SrcPrefix),
        25 => hash(H::DstPrefix),
        26 => hash(H::SrcDstPrefix),
        27 => hash(H::Exporter),
        28 => arr(A::EngineId),
        29 => arr(A::EngineType),
        30..=32 => Body::MissingField,
        n => return Err(crate::Error::NoSuchFormat(n as i64)),
    };
    let mut report = Report {
        format: cfg.format,
        body,
    };
    report.limit_memory(cfg, 1);
    Ok(report)
}

impl Report {
    /// The format this report was made for.
    pub fn format(&self) -> u32 {
        self.format
    }

    /// Accumulates `recs`; `first_index` is the position of `recs[0]` in
    /// the whole input (0-based). Allocation-free except when a hash report
    /// meets new keys.
    pub fn add_batch(&mut self, first_index: u64, recs: &[Record]) {
        match &mut self.body {
            Body::Summary(s) => s.add_batch(recs),
            Body::Array(t) => t.add_batch(recs),
            Body::Hash(h) => h.add_batch(first_index, recs),
            Body::Plot(p) => p.add_batch(recs),
            Body::Short(c) => {
                for r in recs {
                    c.add_record(r);
                }
            }
            Body::NotImplemented | Body::MissingField => {}
        }
    }

    /// Folds in a report of the same format built over another part of the
    /// input. Order-independent except for formats 13/14, where `later`
    /// must cover records after this one's.
    pub fn merge(&mut self, later: Report) {
        match (&mut self.body, later.body) {
            (Body::Summary(a), Body::Summary(b)) => a.merge(&b),
            (Body::Array(a), Body::Array(b)) => a.merge(&b),
            (Body::Hash(a), Body::Hash(b)) => a.merge(*b),
            (Body::Plot(a), Body::Plot(b)) => a.merge(b),
            (Body::Short(a), Body::Short(b)) => a.add(&b),
            (Body::NotImplemented, Body::NotImplemented)
            | (Body::MissingField, Body::MissingField) => {}
            _ => debug_assert!(false, "merging reports of different formats"),
        }
    }

    /// The record fields this report reads, so that a scan can decode
    /// only those ([`formats::native::Fields`]).
    pub fn fields(&self) -> formats::native::Fields {
        use formats::native::Fields as F;
        let counters = F::PACKETS | F::OCTETS | F::DURATION;
        match self.format {
            // Export times and switched times for the time span.
            0 => counters | F::TIMES,
            1..=3 | 15 => counters,
            // PORTS includes the protocol (tcp/udp only).
            5..=7 => counters | F::PORTS,
            8 => counters | F::DST_ADDR,
            9 => counters | F::SRC_ADDR,
            10 | 11 => counters | F::SRC_ADDR | F::DST_ADDR,
            12 | 22 => counters | F::KIND,
            16..=21 | 23 => counters | F::PATH,
            24 => counters | F::SRC_ADDR | F::PATH,
            25 => counters | F::DST_ADDR | F::PATH,
            26 => counters | F::SRC_ADDR | F::DST_ADDR | F::PATH,
            27..=29 => counters | F::EXPORT,
            // The plots (13, 14) print whole flows.
            _ => F::ALL,
        }
    }

    /// Bounds a hash report's table to `cfg.memory / workers` bytes (each
    /// of `workers` accumulators gets an equal share; 0 = no limit): past
    /// it, the table spills to an unnamed file in `cfg.temp_dir` and the
    /// report is finished from there, with the same bytes out.
    pub fn limit_memory(&mut self, cfg: &StatConfig, workers: usize) {
        if let Body::Hash(h) = &mut self.body {
            if cfg.memory > 0 {
                let dir = cfg.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
                h.limit_memory(cfg.memory / workers.max(1), &dir, &cfg.warnings);
            }
        }
    }

    /// Whether partial reports may be merged in any order with the same
    /// result: integer sums and smallest first-seen indexes (the array and
    /// hash formats), not the plot formats (records in order) or the
    /// summary (float sums).
    pub fn merges_in_any_order(&self) -> bool {
        matches!(self.body, Body::Array(_) | Body::Hash(_))
    }

    /// Flows skipped with `Ignoring bogus flow dPkts=0` (formats 0 and 1).
    pub fn bogus_flows(&self) -> u64 {
        match &self.body {
            Body::Summary(s) => s.bogus,
            Body::Hash(h) => h.bogus,
            _ => 0,
        }
    }
}

/// Writes the `Report Information` block (and with `-p` the stream header
/// block) that precedes every report.
pub fn write_report_header(
    cfg: &StatConfig,
    header: &FtHeader,
    out: &mut dyn Write,
) -> io::Result<()> {
    let cc = cfg.comment_char;
    let mut b: Vec<u8> = Vec::with_capacity(512);
    let line = |b: &mut Vec<u8>, text: &[u8]| {
        b.push(cc);
        b.extend_from_slice(text);
        b.push(b'\n');
    };
    line(&mut b, b"  --- ---- ---- Report Information --- --- ---");
    line(&mut b, b"");
    if let Some(t) = &cfg.title {
        let mut l = b" Title:     ".to_vec();
        l.extend_from_slice(t.as_bytes());
        line(&mut b, &l);
    }
    line(
        &mut b,
        if cfg.percent {
            b" Fields:    Percent Total"
        } else {
            b" Fields:    Total"
        },
    );
    line(
        &mut b,
        if cfg.names {
            b" Symbols:   Enabled"
        } else {
            b" Symbols:   Disabled"
        },
    );
    let so = cfg.sort_order();
    let sorting = match so {
        0 => "None".to_string(),
        s if s > 0 => format!("Descending Field {}", so.unsigned_abs() - 1),
        _ => format!("Ascending Field {}", so.unsigned_abs() - 1),
    };
    line(&mut b, format!(" Sorting:   {sorting}").as_bytes());
    let name = FORMAT_NAMES.get(cfg.format as usize).copied().unwrap_or("");
    line(&mut b, format!(" Name:      {name}").as_bytes());
    line(&mut b, b"");
    // Every argument, printable characters only, each followed by a space.
    let mut l = b" Args:      ".to_vec();
    for a in &cfg.args {
        l.extend(a.as_bytes().iter().filter(|c| (0x20..0x7f).contains(*c)));
        l.push(b' ');
    }
    line(&mut b, &l);
    line(&mut b, b"");
    out.write_all(&b)?;
    if cfg.header_block {
        crate::header_print::write_header_block(out, header, cc as char)?;
    }
    Ok(())
}

/// Writes the whole report: header block(s), then the body. Diagnostics go
/// to `err`: one `Ignoring bogus flow dPkts=0` per skipped flow, the
/// unprefixed `# can't sort on field N.`, and `prog: Flow record missing
/// required field for format.` (formats 30-32). None of them changes the
/// exit status (flow-tools exits 0 once the report has started).
pub fn write_report(
    cfg: &StatConfig,
    header: &FtHeader,
    report: &Report,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    write_prelude(cfg, header, report.bogus_flows(), out, err)?;
    let cc = cfg.comment_char as char;
    match &report.body {
        Body::Summary(s) => s.write(out),
        Body::Array(t) => t.write(cfg, out, err),
        Body::Hash(h) => h.write(cfg, out, err),
        Body::Plot(p) => p.write(cc, out),
        Body::Short(c) => misc::write_short(c, cc, out),
        Body::NotImplemented => out.write_all(b"Not implemented.\n"),
        Body::MissingField => writeln!(
            err,
            "{}: Flow record missing required field for format.",
            flowio::cli::prog_name()
        ),
    }
}

/// [`write_report`] for a report that is no longer needed: a hash report
/// frees its table as it is written, so the peak memory of a large
/// `-f 10` stays near one table.
pub fn write_report_owned(
    cfg: &StatConfig,
    header: &FtHeader,
    report: Report,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    match report.body {
        Body::Hash(h) => {
            write_prelude(cfg, header, h.bogus, out, err)?;
            h.write_owned(cfg, out, err)
        }
        body => write_report(
            cfg,
            header,
            &Report {
                format: report.format,
                body,
            },
            out,
            err,
        ),
    }
}

/// The report header and the `Ignoring bogus flow` lines.
fn write_prelude(
    cfg: &StatConfig,
    header: &FtHeader,
    bogus: u64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    write_report_header(cfg, header, out)?;
    for _ in 0..bogus {
        err.write_all(b"Ignoring bogus flow dPkts=0\n")?;
    }
    Ok(())
}

/// Runs flow-stat: the report of `cfg` over what `scan` names, written to
/// `out` (the report header and body; `Ignoring bogus flow` lines go to
/// `err`, as flow-tools writes them to stderr). Named files and
/// directories take the fast path ([`compute`]); without them the ft
/// stream on stdin is read ([`run_stream`]).
pub fn run(
    cfg: &StatConfig,
    scan: &flowio::select::ScanOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, crate::Error> {
    if !scan.is_fast_path() {
        let mut src = flowio::select::open_source(scan)?;
        return run_stream(cfg, src.as_mut(), out, err);
    }
    let prepared = flowio::select::prepare(scan)?;
    let report = compute(cfg, &prepared, scan.threads)?;
    write_report_owned(cfg, &prepared.header, report, out, err)?;
    err.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The fast path: the report of `cfg` over the prepared inputs, decoded,
/// filtered and accumulated on `threads` workers (0 = all cores), decoding
/// only the fields the report and the selection read. Partial reports
/// merge into exactly what the pipe would print. A hash report's tables
/// share `cfg.memory` across the workers and spill past it (see the
/// `spill` module), so memory stays bounded whatever the cardinality.
pub fn compute(
    cfg: &StatConfig,
    prepared: &flowio::select::Prepared,
    threads: usize,
) -> Result<Report, crate::Error> {
    let mut proto = new_report(cfg)?;
    let workers = match threads {
        0 => rayon::current_num_threads(),
        n => n,
    };
    proto.limit_memory(cfg, workers);
    let order = if proto.merges_in_any_order() {
        flowio::input::MergeOrder::Any
    } else {
        flowio::input::MergeOrder::Input
    };
    let fields = proto.fields();
    Ok(prepared.scan(
        fields,
        threads,
        order,
        || proto.clone(),
        |acc, base, recs| acc.add_batch(base, recs),
        |acc, later| acc.merge(later),
    )?)
}

/// The pipe path: reads every record of `src` into a report for `cfg`,
/// then writes it to `out`. A read error after the header ends the input
/// early with a warning, and the report of what was read is still printed
/// (exit 0), as flow-tools does.
pub fn run_stream(
    cfg: &StatConfig,
    src: &mut dyn RecordSource,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, crate::Error> {
    let mut report = new_report(cfg)?;
    let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
    let mut index = 0u64;
    loop {
        batch.clear();
        match src.next_batch(&mut batch) {
            Ok(0) => break,
            Ok(n) => {
                report.add_batch(index, &batch[..n.min(batch.len())]);
                index += n as u64;
            }
            Err(e) => {
                let skipped = flowio::Skipped::Rest;
                cfg.warnings.push(flowio::Warning::new("", e, skipped));
                break;
            }
        }
    }
    write_report_owned(cfg, src.header(), report, out, err)?;
    err.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// C `atoi`: leading whitespace, an optional sign, decimal digits up to the
/// first other character; anything else gives 0. Out-of-range values are
/// clamped to 64 bits then truncated to 32, like glibc's `(int)strtol`.
pub fn atoi(s: &str) -> i32 {
    flowio::cli::atoi(s) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> FtHeader {
        FtHeader::default()
    }

    fn render(cfg: &StatConfig, recs: &[Record]) -> (String, String) {
        let mut r = new_report(cfg).unwrap();
        r.add_batch(0, recs);
        let (mut o, mut e) = (Vec::new(), Vec::new());
        write_report(cfg, &header(), &r, &mut o, &mut e).unwrap();
        (String::from_utf8(o).unwrap(), String::from_utf8(e).unwrap())
    }

    fn body(cfg: &StatConfig, recs: &[Record]) -> String {
        let (o, _) = render(cfg, recs);
        let i = o.find("# Args:").unwrap();
        o[i..].splitn(3, '\n').nth(2).unwrap().to_string()
    }

    fn rec(i: u32) -> Record {
        Record {
            unix_secs: 1_000_000 + i,
            src_addr: 0x0A00_0001 + (i % 3),
            dst_addr: 0xC000_0201,
            next_hop: 0x0A00_00FE,
            exporter: 0x7F00_0002,
            input_if: (i % 2) as u16 + 1,
            output_if: 7,
            packets: 2 + i,
            octets: 100 * (i + 1),
            first_uptime_ms: 1000 * i,
            last_uptime_ms: 1000 * i + 500,
            src_port: 1024 + i as u16,
            dst_port: 80,
            protocol: 6,
            tos: 0x10,
            src_mask: 24,
            dst_mask: 16,
            src_as: 65000 + (i % 2) as u16,
            dst_as: 3,
            engine_type: 1,
            engine_id: 2,
            ..Record::default()
        }
    }

    fn recs() -> Vec<Record> {
        (0..4).map(rec).collect()
    }

    #[test]
    fn report_header_echoes_args_with_trailing_spaces() {
        let mut cfg = StatConfig::new(5);
        cfg.args = ["flow-stat", "-f", "5", "-T", "A\tB"]
            .iter()
            .map(OsString::from)
            .collect();
        cfg.title = Some("A\tB".into());
        cfg.sort = Some(Sort {
            descending: false,
            field: 2,
        });
        cfg.percent = true;
        let mut o = Vec::new();
        write_report_header(&cfg, &header(), &mut o).unwrap();
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "#  --- ---- ---- Report Information --- --- ---\n#\n# Title:     A\tB\n\
             # Fields:    Percent Total\n# Symbols:   Disabled\n# Sorting:   Ascending Field 2\n\
             # Name:      UDP/TCP destination port\n#\n# Args:      flow-stat -f 5 -T AB \n#\n"
        );
    }

    #[test]
    fn sort_minus_one_means_unsorted() {
        let mut cfg = StatConfig::new(5);
        cfg.sort = Some(Sort {
            descending: true,
            field: -1,
        });
        assert_eq!(cfg.sort_order(), 0);
    }

    #[test]
    fn bad_formats_and_bad_sort_fields() {
        let e = new_report(&StatConfig::new(33)).unwrap_err();
        assert!(matches!(e, crate::Error::NoSuchFormat(33)), "{e:?}");
        assert_eq!(e.to_string(), "No such format, 33\n");
        let mut cfg = StatConfig::new(10);
        cfg.sort = Some(Sort {
            descending: false,
            field: 9,
        });
        let (o, e) = render(&cfg, &recs());
        assert!(o.ends_with("# Args:      \n#\n"));
        assert_eq!(e, "# can't sort on field -10.\n");
    }

    #[test]
    fn format4_and_tag_formats() {
        assert_eq!(body(&StatConfig::new(4), &recs()), "Not implemented.\n");
        let (o, e) = render(&StatConfig::new(31), &recs());
        assert!(o.ends_with("#\n"));
        assert!(e.ends_with(": Flow record missing required field for format.\n"));
    }

    #[test]
    fn format1_packet_size_layout() {
        let mut r = recs();
        r[0].packets = 0;
        let (o, e) = render(&StatConfig::new(1), &r);
        assert_eq!(e, "Ignoring bogus flow dPkts=0\n");
        let b = &o[o.find("# Args:").unwrap()..];
        assert_eq!(
            b.splitn(3, '\n').nth(2).unwrap(),
            "#\n# Pkt Size  flows                 octets                packets\n#\n\
             66          1                     200                   3\n\
             75          1                     300                   4\n\
             80          1                     400                   5\n"
        );
    }

    #[test]
    fn format2_and_3_wide_and_percent_layouts() {
        let mut cfg = StatConfig::new(2);
        cfg.wide = true;
        assert_eq!(
            body(&cfg, &recs()[..1]),
            "#\n# Packets   flows                 octets                packets               duration\n#\n\
             2                1                     100                   2                     500\n"
        );
        let mut cfg = StatConfig::new(3);
        cfg.percent = true;
        cfg.wide = true;
        assert_eq!(
            body(&cfg, &recs()[..2]),
            "#\n# Octets    flows    octets   packets  duration\n#\n\
             100         50.000   33.333   40.000   50.000\n\
             200         50.000   66.667   60.000   50.000\n"
        );
    }

    #[test]
    fn ip_reports_layout_f8_f16_f27() {
        let want = |ip: &str| {
            format!(
                "#\n# IPaddr         flows                 octets                packets\n#\n\
                 {ip:<15}  4                     1000                  14\n"
            )
        };
        assert_eq!(body(&StatConfig::new(8), &recs()), want("192.0.2.1"));
        assert_eq!(body(&StatConfig::new(16), &recs()), want("10.0.0.254"));
        assert_eq!(body(&StatConfig::new(27), &recs()), want("127.0.0.2"));
    }

    #[test]
    fn interface_and_tos_and_engine_array_layouts() {
        let mut cfg = StatConfig::new(17);
        cfg.names = true;
        assert_eq!(
            body(&cfg, &recs()),
            "#\n# interface flows                 octets                packets\n#\n\
             2           2                     600                   8                   \n\
             1           2                     400                   6                   \n"
        );
        assert_eq!(
            body(&StatConfig::new(22), &recs()),
            "#\n# ToS       flows                 octets                packets\n#\n\
             16          4                     1000                  14                  \n"
        );
        let mut cfg = StatConfig::new(29);
        cfg.wide = true;
        assert_eq!(
            body(&cfg, &recs()),
            "#\n# engine_type    flows                 octets                packets               duration\n#\n\
             1                4                     1000                  14                    2000\n"
        );
        assert_eq!(
            body(&StatConfig::new(28), &recs()),
            "#\n# engine_id flows                 octets                packets\n#\n\
             2           4                     1000                  14                  \n"
        );
        assert_eq!(
            body(&StatConfig::new(18), &recs()).lines().nth(1).unwrap(),
            "# interface flows                 octets                packets"
        );
    }

    #[test]
    fn as_reports_layout() {
        let mut cfg = StatConfig::new(19);
        cfg.sort = Some(Sort {
            descending: true,
            field: 1,
        });
        assert_eq!(
            body(&cfg, &recs()),
            "#\n# src AS    flows                 octets                packets\n#\n\
             65001       2                     600                   8                   \n\
             65000       2                     400                   6                   \n"
        );
        assert_eq!(
            body(&StatConfig::new(20), &recs()).lines().nth(1).unwrap(),
            "# dst AS    flows                 octets                packets"
        );
        assert_eq!(
            body(&StatConfig::new(21), &recs()),
            "#\n# src AS          dst AS            flows                 octets                packets\n#\n\
             65000             3                 2                     400                   6                   \n\
             65001             3                 2                     600                   8                   \n"
        );
        let mut cfg = StatConfig::new(21);
        cfg.percent = true;
        cfg.sort = Some(Sort {
            descending: false,
            field: 0,
        });
        assert_eq!(
            body(&cfg, &recs()),
            "#\n# src AS          dst AS            flows    octets   packets\n#\n\
             65000             3                 50.000   40.000   42.857\n\
             65001             3                 50.000   60.000   57.143\n"
        );
    }

    #[test]
    fn in_out_interface_layout() {
        assert_eq!(
            body(&StatConfig::new(23), &recs()),
            "#\n# in   out    flows                 octets                packets\n#\n\
             1      7      2                     400                   6                   \n\
             2      7      2                     600                   8                   \n"
        );
        let mut cfg = StatConfig::new(23);
        cfg.percent = true;
        cfg.wide = true;
        assert_eq!(
            body(&cfg, &recs()).lines().nth(3).unwrap(),
            "1      7      50.000   40.000   42.857   50.000"
        );
    }

    #[test]
    fn prefix_reports_layout() {
        assert_eq!(
            body(&StatConfig::new(24), &recs()),
            "#\n# Source Prefix     flows                 octets                packets\n#\n\
             10/24               4                     1000                  14\n"
        );
        assert_eq!(
            body(&StatConfig::new(25), &recs()),
            "#\n# Source Prefix     flows                 octets                packets\n#\n\
             192/16              4                     1000                  14\n"
        );
        let mut cfg = StatConfig::new(26);
        cfg.wide = true;
        assert_eq!(
            body(&cfg, &recs()),
            "#\n# Source Prefix     Destination Prefix  flows                 octets                packets               duration\n#\n\
             10/24               192/16              4                     1000                  14                    2000\n"
        );
        let mut cfg = StatConfig::new(26);
        cfg.percent = true;
        assert_eq!(
            body(&cfg, &recs()).lines().nth(3).unwrap(),
            "10/24               192/16              100.000   100.000   100.000"
        );
    }

    #[test]
    fn src_dst_pair_layout_pads_packets() {
        let b = body(&StatConfig::new(10), &recs()[..1]);
        assert_eq!(
            b,
            "#\n# src IPaddr     dst IPaddr       flows                 octets                packets\n#\n\
             10.0.0.1         192.0.2.1        1                     100                   2                   \n"
        );
    }

    #[test]
    fn short_summary_and_plots() {
        assert_eq!(
            body(&StatConfig::new(15), &recs()),
            "#\n# Octets            Packets             MBytes\n#\n1000                14                  0.001\n"
        );
        let b = body(&StatConfig::new(13), &recs()[..1]);
        assert!(b.starts_with(
            "#\n# start      octets\n# end        octets\n#\n0            100       \n"
        ));
    }

    #[test]
    fn summary_of_nothing_prints_only_the_header() {
        let mut r = rec(0);
        r.packets = 0;
        let (o, e) = render(&StatConfig::new(0), &[r]);
        assert!(o.ends_with("# Args:      \n#\n"));
        assert_eq!(e, "Ignoring bogus flow dPkts=0\n");
    }

    #[test]
    fn summary_averages_are_single_precision() {
        let b = body(&StatConfig::new(0), &recs());
        assert!(b.starts_with(
            "Total Flows                     : 4\nTotal Octets                    : 1000\n\
             Total Packets                   : 14\nTotal Time (1/1000 secs) (flows): 2000\n\
             Duration of data  (realtime)    : 3\nDuration of data (1/1000 secs)  : 3500\n\
             Average flow time (1/1000 secs) : 500.0000\nAverage packet size (octets)    : 71.4286\n"
        ));
        assert!(b.contains("Average flows / second (flow)   : 1.3333\n"));
    }

    #[test]
    fn names_come_from_each_formats_table_and_are_cut_like_flow_tools() {
        let dir = tempfile::tempdir().unwrap();
        let w = |f: &str, t: &str| std::fs::write(dir.path().join(f), t).unwrap();
        w("ip-prot.sym", "6 tcp\n");
        w("tcp-port.sym", "80 http\n1024 averyveryverylongportname\n");
        w("asn.sym", "65000 SOME-VERY-LONG-AS-NAME\n");
        w("tag.sym", "2 OSU\n");
        let cfg_for = |format: u32, wide: bool| {
            let mut c = StatConfig::new(format);
            c.names = true;
            c.wide = wide;
            c.sym_dir = Some(dir.path().to_path_buf());
            c
        };
        let row =
            |cfg: &StatConfig, n: usize| body(cfg, &recs()).lines().nth(n).unwrap().to_string();
        assert!(row(&cfg_for(5, false), 3).starts_with("http        4 "));
        assert!(row(&cfg_for(12, false), 3).starts_with("tcp         4 "));
        // f7 -w: the symbol is cut to 15 by fmt_uint16s, the key column is 15.
        assert!(row(&cfg_for(7, true), 6).starts_with("averyveryverylo  1 "));
        assert!(row(&cfg_for(7, false), 6).starts_with("averyveryv  1 "));
        assert!(row(&cfg_for(19, false), 3).starts_with("65001       2 "));
        assert!(row(&cfg_for(19, false), 4).starts_with("SOME-VERY-  2 "));
        assert!(row(&cfg_for(21, false), 3).starts_with("SOME-VERY-LONG-A  3                 2 "));
        // formats 1-3 look values up in tag.sym (flow-tools' chash_c32_dump)
        assert!(row(&cfg_for(2, false), 3).starts_with("OSU         1 "));
        // interfaces never use names
        assert!(row(&cfg_for(17, false), 3).starts_with("2           2 "));
    }

    #[test]
    fn atoi_is_c_atoi() {
        assert_eq!(atoi("5"), 5);
        assert_eq!(atoi(" -3x"), -3);
        assert_eq!(atoi("x"), 0);
        assert_eq!(atoi("+7"), 7);
        assert_eq!(atoi("4294967297"), 1);
    }
}
