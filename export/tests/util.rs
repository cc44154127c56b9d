//! Helpers of the flow-export integration tests: inputs, the records the
//! query layer reads from them, readers for each export format.

#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use flowio::input::RecordSource;
use flowio::select::{ChainSource, ScanOptions};
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

/// `<rel>` under the flow-tools golden inputs
/// (`testdata/golden/flowtools/inputs`).
pub fn golden_input(rel: &str) -> PathBuf {
    fixture(&format!("golden/flowtools/inputs/{rel}"))
}

/// Reports a check left out because an optional peer (Spark, ...) is
/// missing: `SKIPPED: <why>`, written straight to stderr, not through
/// `eprintln!`, which the test harness captures and shows only on
/// failure, so plain `cargo test` output shows it.
pub fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// The flow-export binary.
pub fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_flow-export")
}

/// Runs flow-export with `args` in `dir`, stdin from `stdin` (or empty).
pub fn run(dir: &Path, args: &[&str], stdin: Option<&Path>) -> Output {
    let mut c = Command::new(exe());
    c.args(args).current_dir(dir).env("TZ", "UTC");
    match stdin {
        Some(p) => c.stdin(std::fs::File::open(p).expect("stdin file")),
        None => c.stdin(Stdio::null()),
    };
    c.output().expect("run flow-export")
}

/// Runs and expects success; returns stdout.
pub fn run_ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = run(dir, args, None);
    assert!(
        out.status.success(),
        "flow-export {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every record the query layer reads from `inputs`, in flow-cat order.
pub fn records(inputs: &[&Path]) -> Vec<Record> {
    let opts = ScanOptions {
        inputs: inputs
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        ..ScanOptions::default()
    };
    let mut src = ChainSource::new(flowio::select::prepare(&opts).expect("prepare"));
    let mut all = Vec::new();
    while src.next_batch(&mut all).expect("read") > 0 {}
    all
}

/// A multi-file native data set from flow-gen's library (one file per
/// 5-minute slot, several hours).
pub fn generate(dir: &Path, count: u64, rate: f64, seed: u64) {
    let cfg = testbed::gen::Config {
        gen: testbed::gen::GenConfig {
            seed,
            count,
            rate,
            ..Default::default()
        },
        output: testbed::gen::Output::Split {
            dir: dir.to_path_buf(),
        },
    };
    testbed::gen::run(&cfg).expect("generate flows");
}

fn addr(s: &str) -> u32 {
    u32::from(
        s.parse::<Ipv4Addr>()
            .unwrap_or_else(|_| panic!("address {s:?}")),
    )
}

fn num(s: &str) -> u32 {
    s.parse().unwrap_or_else(|_| panic!("number {s:?}"))
}

fn time_ms(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|_| panic!("RFC 3339 time {s:?}"))
        .timestamp_millis()
}

/// A record from the 26 exported values (text form), checking that the
/// derived start and end agree with the raw fields.
fn record_of(v: &[&str]) -> Record {
    assert_eq!(v.len(), 26, "row {v:?}");
    let r = Record {
        unix_secs: num(v[0]),
        unix_nsecs: num(v[1]),
        sys_uptime_ms: num(v[2]),
        exporter: addr(v[3]),
        src_addr: addr(v[4]),
        dst_addr: addr(v[5]),
        next_hop: addr(v[6]),
        input_if: num(v[7]) as u16,
        output_if: num(v[8]) as u16,
        packets: num(v[9]),
        octets: num(v[10]),
        first_uptime_ms: num(v[11]),
        last_uptime_ms: num(v[12]),
        src_port: num(v[13]) as u16,
        dst_port: num(v[14]) as u16,
        protocol: num(v[15]) as u8,
        tos: num(v[16]) as u8,
        tcp_flags: num(v[17]) as u8,
        engine_type: num(v[18]) as u8,
        engine_id: num(v[19]) as u8,
        src_mask: num(v[20]) as u8,
        dst_mask: num(v[21]) as u8,
        src_as: num(v[22]) as u16,
        dst_as: num(v[23]) as u16,
    };
    assert_eq!(time_ms(v[24]), r.start_ms(), "start of {v:?}");
    assert_eq!(time_ms(v[25]), r.end_ms(), "end of {v:?}");
    r
}

/// Parses a CSV export (header checked against the column table).
pub fn parse_csv(text: &[u8]) -> Vec<Record> {
    let text = std::str::from_utf8(text).expect("CSV is UTF-8");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(export::columns::csv_header().as_str()));
    lines
        .map(|l| record_of(&l.split(',').collect::<Vec<_>>()))
        .collect()
}

/// Parses a JSON-lines export.
pub fn parse_json(text: &[u8]) -> Vec<Record> {
    let text = std::str::from_utf8(text).expect("JSON is UTF-8");
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON object per line");
            let owned: Vec<String> = export::columns::COLUMNS
                .iter()
                .map(|c| match &v[c.name] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    other => panic!("{}: {other:?}", c.name),
                })
                .collect();
            record_of(&owned.iter().map(|s| s.as_str()).collect::<Vec<_>>())
        })
        .collect()
}

/// Reads a Parquet export with the parquet crate's row reader. With
/// `strings`, the dotted-quad columns must match the numeric ones.
pub fn read_parquet(path: &Path) -> Vec<Record> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;
    let f = std::fs::File::open(path).expect("open parquet");
    let reader = SerializedFileReader::new(f).expect("parquet footer");
    let names: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let mut out = Vec::new();
    for row in reader.get_row_iter(None).expect("rows") {
        let row = row.expect("row");
        let u = |i| row.get_uint(i).expect("uint32");
        let s = |i| row.get_ushort(i).expect("uint16");
        let b = |i| row.get_ubyte(i).expect("uint8");
        let r = Record {
            unix_secs: u(0),
            unix_nsecs: u(1),
            sys_uptime_ms: u(2),
            exporter: u(3),
            src_addr: u(4),
            dst_addr: u(5),
            next_hop: u(6),
            input_if: s(7),
            output_if: s(8),
            packets: u(9),
            octets: u(10),
            first_uptime_ms: u(11),
            last_uptime_ms: u(12),
            src_port: s(13),
            dst_port: s(14),
            protocol: b(15),
            tos: b(16),
            tcp_flags: b(17),
            engine_type: b(18),
            engine_id: b(19),
            src_mask: b(20),
            dst_mask: b(21),
            src_as: s(22),
            dst_as: s(23),
        };
        assert_eq!(row.get_timestamp_millis(24).expect("start"), r.start_ms());
        assert_eq!(row.get_timestamp_millis(25).expect("end"), r.end_ms());
        if names.len() > 26 {
            assert_eq!(
                names[26..],
                ["exaddr_str", "srcaddr_str", "dstaddr_str", "nexthop_str"]
            );
            for (i, a) in [r.exporter, r.src_addr, r.dst_addr, r.next_hop]
                .iter()
                .enumerate()
            {
                assert_eq!(
                    row.get_string(26 + i).expect("string"),
                    &Ipv4Addr::from(*a).to_string()
                );
            }
        }
        out.push(r);
    }
    out
}

/// Every file under `dir`, relative, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(
                    p.strip_prefix(base)
                        .unwrap_or(&p)
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}
