//! flow-print: one text layout per format number (spec §6.1), byte for byte
//! as flow-tools 0.68.5 prints them, trailing spaces included.
//!
//! [`run`] reads batches from a [`RecordSource`] and formats each record
//! into a reusable byte buffer with small hand-written integer and address
//! writers (no `format!` per field). Times are local time through
//! [`Clock`]; flow start and end use the wrap-corrected
//! [`Record::start_ms`]/[`Record::end_ms`], which deliberately differs
//! from flow-tools for exporters whose sysUpTime wrapped.
//!
//! Only formats 0–6 apply to NetFlow v5 records; 7–24 need fields v5 lacks
//! and end with exit status 255, as in flow-tools.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use filterlang::Symbols;
use formats::ft::FtHeader;
use formats::Record;

use crate::header_print::write_header_block;
use crate::timefmt::Clock;
use crate::Error;
use flowio::input::RecordSource;

/// Number of format slots flow-tools has (0..=24).
pub const NFORMATS: i64 = 25;

/// Exit status when the format needs fields the records lack.
pub const EXIT_MISSING_FIELD: u8 = 255;

/// What flow-print was asked to do.
#[derive(Clone, Debug)]
pub struct PrintConfig {
    /// `-f N`; `None` picks the default for the stream's export version.
    pub format: Option<i64>,
    /// `-n`: protocol, port and AS names from the symbol tables.
    pub names: bool,
    /// `-w`: the wide variants of formats 3 and 4.
    pub wide: bool,
    /// `-p`: print the stream header block first.
    pub header: bool,
    /// `-c`: the comment character of the header block.
    pub comment_char: char,
    /// `-l`: flush after every line.
    pub line_flush: bool,
    /// Where the symbol tables are (`None`: `$FLOWTOOLS_SYMDIR`).
    pub symbol_dir: Option<PathBuf>,
    /// Where problems that do not stop the printing go.
    pub warnings: flowio::Warnings,
}

impl Default for PrintConfig {
    fn default() -> Self {
        PrintConfig {
            format: None,
            names: false,
            wide: false,
            header: false,
            comment_char: '#',
            line_flush: false,
            symbol_dir: None,
            warnings: flowio::Warnings::default(),
        }
    }
}

/// Rejects format numbers flow-tools does not know, with its message
/// (`No such format, N` plus an empty line). Checked before any input is
/// read, as flow-tools does.
pub fn check_format(format: Option<i64>) -> Result<(), Error> {
    match format {
        Some(f) if !(0..NFORMATS).contains(&f) => Err(Error::NoSuchFormat(f)),
        _ => Ok(()),
    }
}

/// The format flow-print uses when `-f` is not given: 3 for v5 (and v1),
/// 8 for v6, 7 for v7, 9 for v1005, 9 + method for v8 aggregations.
pub fn default_format(h: &FtHeader) -> i64 {
    match h.export_version {
        Some(8) => match h.agg_method {
            Some(m @ 1..=14) => 9 + m as i64,
            // flow-tools leaves the index unset here; 3 is the sane choice.
            _ => 3,
        },
        Some(7) => 7,
        Some(6) => 8,
        Some(1005) => 9,
        _ => 3,
    }
}

/// Prints every record of `src` to `out` in the configured format.
///
/// Returns the exit status: success, or 255 when the format needs fields
/// v5 records lack (after `-p`'s header block, as flow-tools does).
/// `out` is not flushed at the end; the caller owns it.
pub fn run(
    cfg: &PrintConfig,
    src: &mut dyn RecordSource,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, Error> {
    check_format(cfg.format)?;
    let format = cfg.format.unwrap_or_else(|| default_format(src.header()));
    if cfg.header {
        write_header_block(out, src.header(), cfg.comment_char)?;
    }
    let layout = match Layout::for_v5(format) {
        Some(l) => l,
        None => {
            out.flush()?;
            let message = "Flow record missing required field for format.";
            let skipped = flowio::Skipped::Rest;
            cfg.warnings
                .push(flowio::Warning::new("", message, skipped));
            return Ok(ExitCode::from(EXIT_MISSING_FIELD));
        }
    };
    let symbols = if cfg.names && layout.uses_symbols() {
        symbols(cfg.symbol_dir.as_deref(), &cfg.warnings)
    } else {
        Symbols::empty()
    };
    let mut printer = Printer {
        layout,
        wide: cfg.wide,
        symbols,
        clock: Clock::local(),
    };

    let mut buf = Vec::with_capacity(256 * 1024);
    printer.write_title(&mut buf);
    out.write_all(&buf)?;
    if cfg.line_flush {
        out.flush()?;
    }

    let mut batch = Vec::with_capacity(flowio::input::BATCH);
    let mut bogus = 0u64;
    loop {
        batch.clear();
        if src.next_batch(&mut batch)? == 0 {
            break;
        }
        buf.clear();
        for r in &batch {
            match printer.write_row(r, &mut buf) {
                Row::Printed => {
                    if cfg.line_flush {
                        out.write_all(&buf)?;
                        out.flush()?;
                        buf.clear();
                    }
                }
                Row::Skipped => {}
                Row::Bogus => bogus += 1,
            }
        }
        out.write_all(&buf)?;
        for _ in 0..bogus {
            // flow-tools' unprefixed warning, once per skipped record
            err.write_all(b"Ignoring bogus flow dPkts=0\n")?;
        }
        bogus = 0;
    }
    Ok(ExitCode::SUCCESS)
}

/// The layouts that v5 records can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// 0: one line, hex ifIndex and ports.
    OneLine,
    /// 1: two lines with times, active time, bytes/packet, ToS, flags.
    TwoLine,
    /// 2: format 1 restricted to SYN-attack candidates.
    SynCandidates,
    /// 3: addresses, protocol, ports, octets, packets.
    Ports,
    /// 4: prefixes, protocol, AS numbers.
    Prefixes,
    /// 5: one 132-column line with times.
    Wide132,
    /// 6: "show ip accounting".
    Accounting,
}

impl Layout {
    fn for_v5(format: i64) -> Option<Layout> {
        Some(match format {
            0 => Layout::OneLine,
            1 => Layout::TwoLine,
            2 => Layout::SynCandidates,
            3 => Layout::Ports,
            4 => Layout::Prefixes,
            5 => Layout::Wide132,
            6 => Layout::Accounting,
            _ => return None,
        })
    }

    /// Whether `-n` changes this layout (3: protocol and ports, 4:
    /// protocol and AS numbers).
    fn uses_symbols(self) -> bool {
        matches!(self, Layout::Ports | Layout::Prefixes)
    }
}

/// What happened to one record.
enum Row {
    Printed,
    Skipped,
    /// dPkts = 0 in a format that divides by it.
    Bogus,
}

struct Printer {
    layout: Layout,
    wide: bool,
    symbols: Symbols,
    clock: Clock,
}

const TITLE_F0: &str =
    "Sif  SrcIPaddress     Dif  DstIPaddress      Pr SrcP DstP  Pkts       Octets\n";
const TITLE_F1: &str = "Sif  SrcIPaddress     DIf  DstIPaddress      Pr SrcP DstP  Pkts  Octets\n";
const TITLE_F2: &str = "Sif SrcIPaddress     DIf DstIPaddress    Pr SrcP DstP Pkts       Octets\n";
const TITLE_TIMES: &str = " StartTime          EndTime             Active   B/Pk Ts Fl\n\n";
const TITLE_F3: &str =
    "srcIP            dstIP            prot  srcPort  dstPort  octets      packets\n";
const TITLE_F3_WIDE: &str = "srcIP            dstIP            prot   srcPort           dstPort           octets      packets\n";
const TITLE_F4: &str =
    "srcIP              dstIP              prot  srcAS  dstAS  octets      packets\n";
const TITLE_F4_WIDE: &str = "Sif  Dif  srcIP               dstIP               prot   srcAS             dstAS             octets      packets\n";
const TITLE_F5: &str = "Start             End               Sif   SrcIPaddress    SrcP  DIf   DstIPaddress    DstP    P Fl Pkts       Octets\n\n";
const TITLE_F6: &str = "   Source           Destination              Packets               Bytes\n";

impl Printer {
    fn write_title(&self, b: &mut Vec<u8>) {
        let title: &[&str] = match (self.layout, self.wide) {
            (Layout::OneLine, _) => &[TITLE_F0],
            (Layout::TwoLine, _) => &[TITLE_F1, TITLE_TIMES],
            (Layout::SynCandidates, _) => &[TITLE_F2, TITLE_TIMES],
            (Layout::Ports, false) => &[TITLE_F3],
            (Layout::Ports, true) => &[TITLE_F3_WIDE],
            (Layout::Prefixes, false) => &[TITLE_F4],
            (Layout::Prefixes, true) => &[TITLE_F4_WIDE],
            (Layout::Wide132, _) => &[TITLE_F5],
            (Layout::Accounting, _) => &[TITLE_F6],
        };
        for t in title {
            b.extend_from_slice(t.as_bytes());
        }
    }

    fn write_row(&mut self, r: &Record, b: &mut Vec<u8>) -> Row {
        match self.layout {
            Layout::OneLine => {
                self.line_f0(r, b);
            }
            Layout::TwoLine => {
                if r.packets == 0 {
                    return Row::Bogus;
                }
                self.line_f0(r, b);
                self.times_line(r, b);
            }
            Layout::SynCandidates => {
                if r.packets == 0 {
                    return Row::Bogus;
                }
                // SYN-only TCP flows of exactly two 40-byte packets.
                if r.protocol != 6
                    || r.tcp_flags != 0x02
                    || r.packets != 2
                    || r.octets != r.packets.wrapping_mul(40)
                {
                    return Row::Skipped;
                }
                hex(b, r.input_if as u32, 2);
                b.extend_from_slice(b"  ");
                ip_field(b, r.src_addr, 15);
                b.extend_from_slice(b"  ");
                hex(b, r.output_if as u32, 2);
                b.extend_from_slice(b"  ");
                ip_field(b, r.dst_addr, 15);
                b.push(b' ');
                hex(b, r.protocol as u32, 2);
                b.push(b' ');
                hex_left(b, r.src_port as u32, 4);
                b.push(b' ');
                hex_left(b, r.dst_port as u32, 4);
                b.push(b' ');
                dec_left(b, r.packets as u64, 10);
                b.push(b' ');
                dec_left(b, r.octets as u64, 10);
                b.push(b'\n');
                self.times_line(r, b);
            }
            Layout::Ports => {
                let (prot_w, port_w) = if self.wide { (5, 16) } else { (4, 7) };
                ip_field(b, r.src_addr, 15);
                b.extend_from_slice(b"  ");
                ip_field(b, r.dst_addr, 15);
                b.extend_from_slice(b"  ");
                let s = &self.symbols;
                sym_field(b, s.proto_name(r.protocol), r.protocol as u16, 5, prot_w);
                b.extend_from_slice(b"  ");
                sym_field(b, s.port_name(r.src_port), r.src_port, 16, port_w);
                b.extend_from_slice(b"  ");
                sym_field(b, s.port_name(r.dst_port), r.dst_port, 16, port_w);
                b.extend_from_slice(b"  ");
                dec_left(b, r.octets as u64, 10);
                b.extend_from_slice(b"  ");
                dec_left(b, r.packets as u64, 10);
                b.push(b'\n');
            }
            Layout::Prefixes => {
                let s = &self.symbols;
                if self.wide {
                    hex(b, r.input_if as u32, 4);
                    b.push(b' ');
                    hex(b, r.output_if as u32, 4);
                    b.push(b' ');
                    prefix_field(b, r.src_addr, r.src_mask, 18);
                    b.extend_from_slice(b"  ");
                    prefix_field(b, r.dst_addr, r.dst_mask, 18);
                    b.extend_from_slice(b"  ");
                    sym_field(b, s.proto_name(r.protocol), r.protocol as u16, 5, 5);
                    b.extend_from_slice(b"  ");
                    sym_field(b, s.as_name(r.src_as), r.src_as, 18, 16);
                    b.extend_from_slice(b"  ");
                    sym_field(b, s.as_name(r.dst_as), r.dst_as, 18, 16);
                } else {
                    prefix_field(b, r.src_addr, r.src_mask, 18);
                    b.push(b' ');
                    prefix_field(b, r.dst_addr, r.dst_mask, 18);
                    b.push(b' ');
                    sym_field(b, s.proto_name(r.protocol), r.protocol as u16, 5, 4);
                    b.extend_from_slice(b"  ");
                    sym_field(b, s.as_name(r.src_as), r.src_as, 18, 5);
                    b.extend_from_slice(b"  ");
                    sym_field(b, s.as_name(r.dst_as), r.dst_as, 18, 5);
                }
                b.extend_from_slice(b"  ");
                dec_left(b, r.octets as u64, 10);
                b.extend_from_slice(b"  ");
                dec_left(b, r.packets as u64, 10);
                b.push(b'\n');
            }
            Layout::Wide132 => {
                self.clock.write_mmdd(b, r.start_ms());
                b.push(b' ');
                self.clock.write_mmdd(b, r.end_ms());
                b.push(b' ');
                dec_left(b, r.input_if as u64, 5);
                b.push(b' ');
                ip_field(b, r.src_addr, 15);
                b.push(b' ');
                dec_left(b, r.src_port as u64, 5);
                b.push(b' ');
                dec_left(b, r.output_if as u64, 5);
                b.push(b' ');
                ip_field(b, r.dst_addr, 15);
                b.push(b' ');
                dec_left(b, r.dst_port as u64, 5);
                b.push(b' ');
                dec_left(b, r.protocol as u64, 3);
                b.push(b' ');
                dec_left(b, (r.tcp_flags & 0x7) as u64, 2);
                b.push(b' ');
                dec_left(b, r.packets as u64, 10);
                b.push(b' ');
                dec_left(b, r.octets as u64, 10);
                b.push(b'\n');
            }
            Layout::Accounting => {
                b.push(b' ');
                ip_field(b, r.src_addr, 15);
                b.extend_from_slice(b"  ");
                ip_field(b, r.dst_addr, 15);
                b.extend_from_slice(b"  ");
                dec_right(b, r.packets as u64, 17);
                b.extend_from_slice(b"  ");
                dec_right(b, r.octets as u64, 18);
                b.push(b'\n');
            }
        }
        Row::Printed
    }

    /// Format 0's line, also the first line of format 1.
    fn line_f0(&self, r: &Record, b: &mut Vec<u8>) {
        hex(b, r.input_if as u32, 4);
        b.push(b' ');
        ip_field(b, r.src_addr, 15);
        b.extend_from_slice(b"  ");
        hex(b, r.output_if as u32, 4);
        b.push(b' ');
        ip_field(b, r.dst_addr, 15);
        b.extend_from_slice(b"   ");
        hex(b, r.protocol as u32, 2);
        b.push(b' ');
        hex_left(b, r.src_port as u32, 4);
        b.push(b' ');
        hex_left(b, r.dst_port as u32, 4);
        b.extend_from_slice(b"  ");
        dec_left(b, r.packets as u64, 10);
        b.push(b' ');
        dec_left(b, r.octets as u64, 10);
        b.push(b'\n');
    }

    /// The second line of formats 1 and 2, then an empty line. The caller
    /// has checked that `packets` is not 0.
    fn times_line(&mut self, r: &Record, b: &mut Vec<u8>) {
        b.push(b' ');
        self.clock.write_mmdd(b, r.start_ms());
        b.extend_from_slice(b"  ");
        self.clock.write_mmdd(b, r.end_ms());
        b.extend_from_slice(b"  ");
        let active = r.duration_ms();
        dec_right(b, (active / 1000) as u64, 5);
        b.push(b'.');
        zero_padded(b, (active % 1000) as u64, 3);
        b.push(b' ');
        let bytes_per_packet = r.octets.checked_div(r.packets).unwrap_or(0);
        dec_left(b, bytes_per_packet as u64, 3);
        b.push(b' ');
        hex(b, r.tos as u32, 2);
        b.push(b' ');
        hex(b, r.tcp_flags as u32, 2);
        b.extend_from_slice(b"\n\n");
    }
}

// ---------------------------------------------------------------------
// Field writers: printf conversions without printf.

/// Decimal digits of `v` into the tail of `tmp`; returns the start index.
#[inline]
fn digits(tmp: &mut [u8; 20], mut v: u64) -> usize {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return i;
        }
    }
}

/// Spaces until the field that began at `start` is `width` wide.
#[inline]
fn pad_to(b: &mut Vec<u8>, start: usize, width: usize) {
    let len = b.len() - start;
    if len < width {
        b.resize(b.len() + (width - len), b' ');
    }
}

/// `%-Nlu`
#[inline]
fn dec_left(b: &mut Vec<u8>, v: u64, width: usize) {
    let start = b.len();
    let mut tmp = [0u8; 20];
    let i = digits(&mut tmp, v);
    b.extend_from_slice(&tmp[i..]);
    pad_to(b, start, width);
}

/// `%Nlu`
#[inline]
fn dec_right(b: &mut Vec<u8>, v: u64, width: usize) {
    let mut tmp = [0u8; 20];
    let i = digits(&mut tmp, v);
    let n = tmp.len() - i;
    if n < width {
        b.resize(b.len() + (width - n), b' ');
    }
    b.extend_from_slice(&tmp[i..]);
}

/// `%N.Nlu`: at least `n` digits, zero-padded.
#[inline]
fn zero_padded(b: &mut Vec<u8>, v: u64, n: usize) {
    let mut tmp = [0u8; 20];
    let i = digits(&mut tmp, v);
    let len = tmp.len() - i;
    if len < n {
        b.resize(b.len() + (n - len), b'0');
    }
    b.extend_from_slice(&tmp[i..]);
}

/// Lowercase hex digits of `v` into the tail of `tmp`; returns the start.
#[inline]
fn hex_digits(tmp: &mut [u8; 8], mut v: u32) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = HEX[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            return i;
        }
    }
}

/// `%N.Nx`: at least `n` hex digits, zero-padded.
#[inline]
fn hex(b: &mut Vec<u8>, v: u32, n: usize) {
    let mut tmp = [0u8; 8];
    let i = hex_digits(&mut tmp, v);
    let len = tmp.len() - i;
    if len < n {
        b.resize(b.len() + (n - len), b'0');
    }
    b.extend_from_slice(&tmp[i..]);
}

/// `%-Nx`
#[inline]
fn hex_left(b: &mut Vec<u8>, v: u32, width: usize) {
    let start = b.len();
    let mut tmp = [0u8; 8];
    let i = hex_digits(&mut tmp, v);
    b.extend_from_slice(&tmp[i..]);
    pad_to(b, start, width);
}

/// `%-W.Ws`
#[inline]
fn str_field(b: &mut Vec<u8>, s: &[u8], width: usize) {
    let s = &s[..s.len().min(width)];
    b.extend_from_slice(s);
    if s.len() < width {
        b.resize(b.len() + (width - s.len()), b' ');
    }
}

/// Dotted quad of a host-order address.
#[inline]
fn ipv4(b: &mut Vec<u8>, addr: u32) {
    for (k, octet) in addr.to_be_bytes().into_iter().enumerate() {
        if k > 0 {
            b.push(b'.');
        }
        let mut tmp = [0u8; 20];
        let i = digits(&mut tmp, octet as u64);
        b.extend_from_slice(&tmp[i..]);
    }
}

/// `%-W.Ws` of a dotted quad (at most 15 characters, never cut at 15+).
#[inline]
fn ip_field(b: &mut Vec<u8>, addr: u32, width: usize) {
    let start = b.len();
    ipv4(b, addr);
    b.truncate(start + (b.len() - start).min(width));
    pad_to(b, start, width);
}

/// flow-tools' prefix text: `addr/mask`, trailing all-zero octets dropped
/// (but the first octet always shown), the address not masked, a mask
/// above 32 shown as 0.
fn prefix(b: &mut Vec<u8>, addr: u32, mask: u8) {
    let octets = addr.to_be_bytes();
    let shown = match octets.iter().rposition(|&o| o != 0) {
        Some(last) => last + 1,
        None => 1,
    };
    for (k, &octet) in octets[..shown].iter().enumerate() {
        if k > 0 {
            b.push(b'.');
        }
        let mut tmp = [0u8; 20];
        let i = digits(&mut tmp, octet as u64);
        b.extend_from_slice(&tmp[i..]);
    }
    b.push(b'/');
    let mask = if mask > 32 { 0 } else { mask };
    let mut tmp = [0u8; 20];
    let i = digits(&mut tmp, mask as u64);
    b.extend_from_slice(&tmp[i..]);
}

/// `%-W.Ws` of a prefix (at most 18 characters).
#[inline]
fn prefix_field(b: &mut Vec<u8>, addr: u32, mask: u8, width: usize) {
    let start = b.len();
    prefix(b, addr, mask);
    b.truncate(start + (b.len() - start).min(width));
    pad_to(b, start, width);
}

/// A value shown by name when `-n` found one, else as a number: the name
/// is first cut to `max - 1` bytes (flow-tools' buffer), then the field
/// is `%-W.Ws`.
#[inline]
fn sym_field(b: &mut Vec<u8>, name: Option<&str>, v: u16, max: usize, width: usize) {
    match name {
        Some(n) => {
            let n = n.as_bytes();
            str_field(b, &n[..n.len().min(max - 1)], width);
        }
        None => {
            let mut tmp = [0u8; 20];
            let i = digits(&mut tmp, v as u64);
            str_field(b, &tmp[i..], width);
        }
    }
}

// ---------------------------------------------------------------------
// Symbol tables.

/// Loads the symbol tables for `-n` from `dir` (default
/// `$FLOWTOOLS_SYMDIR`; missing files fall back to the built-in protocol
/// and port tables). A table that exists but cannot be read is reported
/// and the built-in tables are used, so unknown values print as numbers.
fn symbols(dir: Option<&Path>, warnings: &flowio::Warnings) -> Symbols {
    match Symbols::load(dir) {
        Ok(s) => s,
        Err(e) => {
            warnings.push(flowio::Warning::new("", e, flowio::Skipped::Nothing));
            Symbols::builtin()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::Zone;
    use filterlang::SymbolTable;

    /// The first flow of small.ft.
    fn flow() -> Record {
        Record {
            unix_secs: 1_120_668_893,
            unix_nsecs: 862_000_000,
            sys_uptime_ms: 600_000,
            exporter: 0x7f00_0002,
            src_addr: u32::from_be_bytes([203, 0, 113, 51]),
            dst_addr: u32::from_be_bytes([192, 0, 2, 223]),
            input_if: 1,
            output_if: 2,
            packets: 2,
            octets: 80,
            first_uptime_ms: 600_000 - 523_430,
            last_uptime_ms: 600_000,
            src_port: 2957,
            dst_port: 8080,
            protocol: 6,
            tos: 0x48,
            tcp_flags: 0x3f,
            src_mask: 24,
            dst_mask: 24,
            src_as: 64502,
            dst_as: 0,
            ..Record::default()
        }
    }

    fn printer(format: i64, wide: bool, symbols: Symbols) -> Printer {
        Printer {
            layout: Layout::for_v5(format).unwrap(),
            wide,
            symbols,
            clock: Clock::new(Zone::UTC),
        }
    }

    fn row(format: i64, wide: bool, symbols: Symbols, r: &Record) -> String {
        let mut b = Vec::new();
        printer(format, wide, symbols).write_row(r, &mut b);
        String::from_utf8(b).unwrap()
    }

    fn test_symbols() -> Symbols {
        let table = |text: &str| SymbolTable::parse(text, "test").unwrap();
        Symbols::empty()
            .with_protocols(table("6 tcp\n17 udp\n"))
            .with_ports(table("2957 jmact5\n8080 webcache\n"))
            .with_asns(table("0 IANA-RSVD-0\n64502 IANA-RSVD\n"))
    }

    #[test]
    fn f0() {
        assert_eq!(
            row(0, false, Symbols::empty(), &flow()),
            "0001 203.0.113.51     0002 192.0.2.223       06 b8d  1f90  2          80        \n"
        );
    }

    #[test]
    fn f1() {
        assert_eq!(
            row(1, false, Symbols::empty(), &flow()),
            "0001 203.0.113.51     0002 192.0.2.223       06 b8d  1f90  2          80        \n \
             0706.16:46:10.432  0706.16:54:53.862    523.430 40  48 3f\n\n"
        );
    }

    #[test]
    fn f1_and_f2_skip_zero_packets() {
        let mut r = flow();
        r.packets = 0;
        let mut b = Vec::new();
        for f in [1, 2] {
            assert!(matches!(
                printer(f, false, Symbols::empty()).write_row(&r, &mut b),
                Row::Bogus
            ));
        }
        assert!(b.is_empty());
    }

    #[test]
    fn f2_only_syn_candidates() {
        let mut r = flow();
        assert_eq!(row(2, false, Symbols::empty(), &r), "");
        r.tcp_flags = 0x02;
        assert_eq!(
            row(2, false, Symbols::empty(), &r),
            "01  203.0.113.51     02  192.0.2.223     06 b8d  1f90 2          80        \n \
             0706.16:46:10.432  0706.16:54:53.862    523.430 40  48 02\n\n"
        );
        r.octets = 81;
        assert_eq!(row(2, false, Symbols::empty(), &r), "");
    }

    #[test]
    fn f3_plain_wide_and_names() {
        let r = flow();
        assert_eq!(
            row(3, false, Symbols::empty(), &r),
            "203.0.113.51     192.0.2.223      6     2957     8080     80          2         \n"
        );
        assert_eq!(
            row(3, true, Symbols::empty(), &r),
            "203.0.113.51     192.0.2.223      6      2957              8080              80          2         \n"
        );
        assert_eq!(
            row(3, false, test_symbols(), &r),
            "203.0.113.51     192.0.2.223      tcp   jmact5   webcach  80          2         \n"
        );
        assert_eq!(
            row(3, true, test_symbols(), &r),
            "203.0.113.51     192.0.2.223      tcp    jmact5            webcache          80          2         \n"
        );
    }

    #[test]
    fn f4_prefixes_and_as() {
        let mut r = flow();
        assert_eq!(
            row(4, false, Symbols::empty(), &r),
            "203.0.113.51/24    192.0.2.223/24     6     64502  0      80          2         \n"
        );
        assert_eq!(
            row(4, true, Symbols::empty(), &r),
            "0001 0002 203.0.113.51/24     192.0.2.223/24      6      64502             0                 80          2         \n"
        );
        assert_eq!(
            row(4, false, test_symbols(), &r),
            "203.0.113.51/24    192.0.2.223/24     tcp   IANA-  IANA-  80          2         \n"
        );
        r.src_addr = u32::from_be_bytes([10, 0, 0, 0]);
        r.src_mask = 8;
        r.dst_addr = 0;
        r.dst_mask = 40;
        assert!(row(4, false, Symbols::empty(), &r).starts_with("10/8               0/0 "));
        r.src_addr = u32::from_be_bytes([10, 0, 1, 0]);
        assert!(row(4, false, Symbols::empty(), &r).starts_with("10.0.1/8 "));
    }

    #[test]
    fn f5() {
        assert_eq!(
            row(5, false, Symbols::empty(), &flow()),
            "0706.16:46:10.432 0706.16:54:53.862 1     203.0.113.51    2957  2     \
             192.0.2.223     8080  6   7  2          80        \n"
        );
    }

    #[test]
    fn f6() {
        assert_eq!(
            row(6, false, Symbols::empty(), &flow()),
            " 203.0.113.51     192.0.2.223                      2                  80\n"
        );
    }

    #[test]
    fn extreme_values_stay_in_layout() {
        let r = Record {
            src_addr: u32::MAX,
            dst_addr: u32::MAX,
            input_if: u16::MAX,
            output_if: u16::MAX,
            packets: u32::MAX,
            octets: u32::MAX,
            src_port: u16::MAX,
            dst_port: u16::MAX,
            protocol: u8::MAX,
            tcp_flags: u8::MAX,
            src_mask: 32,
            dst_mask: 255,
            first_uptime_ms: u32::MAX,
            ..Record::default()
        };
        for f in 0..=6 {
            for wide in [false, true] {
                let s = row(f, wide, Symbols::empty(), &r);
                // Format 2 skips everything but SYN candidates.
                assert!(f == 2 || s.ends_with('\n'), "format {f}");
            }
        }
        assert_eq!(
            row(0, false, Symbols::empty(), &r),
            "ffff 255.255.255.255  ffff 255.255.255.255   ff ffff ffff  4294967295 4294967295\n"
        );
    }

    #[test]
    fn format_numbers() {
        assert!(check_format(Some(24)).is_ok());
        assert!(check_format(None).is_ok());
        let e = check_format(Some(25)).unwrap_err().to_string();
        assert_eq!(e, "No such format, 25\n");
        assert!(check_format(Some(-1)).is_err());
        for f in 7..=24 {
            assert!(Layout::for_v5(f).is_none());
        }
        let mut h = FtHeader {
            export_version: Some(5),
            ..FtHeader::default()
        };
        assert_eq!(default_format(&h), 3);
        h.export_version = Some(8);
        h.agg_method = Some(2);
        assert_eq!(default_format(&h), 11);
        h.export_version = Some(1005);
        assert_eq!(default_format(&h), 9);
    }
}
