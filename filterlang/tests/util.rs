//! Helpers for the integration tests: paths to the committed fixtures
//! (the golden corpus, the symbol tables), loading configs reproducibly
//! (UTC, fixed "now"), building records.

use std::path::{Path, PathBuf};

use filterlang::{Diagnostic, FilterConfig, FilterError, ParseOptions, Symbols, Zone};
use formats::Record;

/// `testdata/<rel>` at the project root. The fixtures are committed with
/// the project: a missing one fails the test, saying what to provide,
/// instead of letting it pass without its input.
pub fn fixture(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel);
    assert!(
        path.exists(),
        "testdata/{rel} missing (looked for {}): run from a full clone of the repository, \
         which commits the fixtures under testdata/",
        path.display()
    );
    path
}

/// `testdata/golden/flowtools/<rel>`, the flow-tools golden corpus.
pub fn golden(rel: &str) -> PathBuf {
    fixture(&format!("golden/flowtools/{rel}"))
}

/// The text of `testdata/golden/flowtools/<rel>`.
pub fn golden_text(rel: &str) -> String {
    let path = golden(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `testdata/golden/flowtools/inputs/cfg/errors/<name>`: one broken config
/// per flow-nfilter error message.
pub fn error_cfg(name: &str) -> PathBuf {
    golden(&format!("inputs/cfg/errors/{name}"))
}

/// `testdata/flowtools-sym`, flow-tools' symbol tables.
pub fn golden_symdir() -> PathBuf {
    fixture("flowtools-sym")
}

/// The golden symbol tables, loaded once.
pub fn golden_symbols() -> &'static Symbols {
    static SYMBOLS: std::sync::OnceLock<Symbols> = std::sync::OnceLock::new();
    SYMBOLS.get_or_init(|| Symbols::load(Some(&golden_symdir())).unwrap_or_else(|e| panic!("{e}")))
}

/// 2005-07-06 16:55:08 UTC, inside the golden capture.
pub const NOW: i64 = 1_120_668_908;

/// Options for reproducible loads: UTC, fixed now.
pub fn utc() -> ParseOptions {
    ParseOptions {
        now: Some(NOW),
        zone: Zone::UTC,
    }
}

/// Loads a config with the built-in symbols, UTC.
pub fn load(text: &str) -> Result<(FilterConfig, Vec<Diagnostic>), FilterError> {
    FilterConfig::parse_with(text, "t.cfg", &[], &Symbols::builtin(), &utc())
}

/// Loads a config and returns the filter of `def`, panicking with the
/// message on error.
pub fn filter(text: &str, def: &str) -> filterlang::Filter {
    let (cfg, _) = load(text).unwrap_or_else(|e| panic!("{e}"));
    cfg.definition(def).unwrap_or_else(|e| panic!("{e}"))
}

/// The message of the load error of `text`.
pub fn load_error(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// An address in host order.
pub fn ip(s: &str) -> u32 {
    u32::from(
        s.parse::<std::net::Ipv4Addr>()
            .unwrap_or_else(|_| panic!("bad ip {s}")),
    )
}

/// A TCP flow from `src:sport` to `dst:dport` with plausible other fields:
/// exported at 2005-07-06 16:55:08 UTC, started 60 s and ended 10 s
/// before that.
pub fn flow(src: &str, sport: u16, dst: &str, dport: u16) -> Record {
    Record {
        unix_secs: NOW as u32,
        unix_nsecs: 0,
        sys_uptime_ms: 1_000_000,
        exporter: ip("127.0.0.2"),
        src_addr: ip(src),
        dst_addr: ip(dst),
        next_hop: ip("10.255.0.1"),
        input_if: 1,
        output_if: 2,
        packets: 10,
        octets: 4000,
        first_uptime_ms: 940_000,
        last_uptime_ms: 990_000,
        src_port: sport,
        dst_port: dport,
        protocol: 6,
        tos: 0,
        tcp_flags: 0x1b,
        engine_type: 0,
        engine_id: 0,
        src_mask: 24,
        dst_mask: 24,
        src_as: 0,
        dst_as: 0,
    }
}

/// Reads an ft file of the golden corpus.
pub fn read_ft(rel: &str) -> Vec<Record> {
    let file = std::fs::File::open(golden(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut reader = formats::ft::FtReader::new(std::io::BufReader::new(file))
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    reader.read_all().unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The data rows of a golden flow-print output, split on blanks, after
/// `header_lines` header lines.
pub fn golden_rows(id: &str, header_lines: usize) -> Vec<Vec<String>> {
    let text = golden_text(&format!("expected/{id}.out"));
    text.lines()
        .skip(header_lines)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A record as flow-print -f 5 would show it (TZ=UTC): start, end, Sif,
/// src, SrcP, DIf, dst, DstP, P, Fl (flags & 7), Pkts, Octets.
pub fn f5_row(r: &Record) -> Vec<String> {
    let t = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.format("%m%d.%H:%M:%S%.3f").to_string())
            .unwrap_or_default()
    };
    vec![
        t(r.start_ms()),
        t(r.end_ms()),
        r.input_if.to_string(),
        r.src_ip().to_string(),
        r.src_port.to_string(),
        r.output_if.to_string(),
        r.dst_ip().to_string(),
        r.dst_port.to_string(),
        r.protocol.to_string(),
        (r.tcp_flags & 7).to_string(),
        r.packets.to_string(),
        r.octets.to_string(),
    ]
}

/// A record as flow-print -f 3 would show it.
pub fn f3_row(r: &Record) -> Vec<String> {
    vec![
        r.src_ip().to_string(),
        r.dst_ip().to_string(),
        r.protocol.to_string(),
        r.src_port.to_string(),
        r.dst_port.to_string(),
        r.octets.to_string(),
        r.packets.to_string(),
    ]
}
