//! Helpers of the flow-graph integration tests: running the binary,
//! reading the structure of an SVG, flow-stat -f 0 totals through the
//! query library, golden files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use formats::ft::{ByteOrder, FtHeader, FtWriter};
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

/// The project's goldens for this crate.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/golden/graph")
}

/// Runs flow-graph with `args` in `dir`, TZ=UTC, optional stdin bytes.
pub fn run(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flow-graph"));
    cmd.args(args)
        .current_dir(dir)
        .env("TZ", "UTC")
        .env_remove("FLOWTOOLS_SYMDIR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn flow-graph");
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut si = child.stdin.take().expect("stdin");
        si.write_all(bytes).expect("write stdin");
    }
    child.wait_with_output().expect("wait flow-graph")
}

/// Runs and asserts success; returns stderr.
pub fn run_ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args, None);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "flow-graph {args:?} failed: {err}");
    err
}

/// Runs and asserts failure; returns stderr.
pub fn run_err(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args, None);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "flow-graph {args:?} should fail");
    assert_eq!(o.status.code(), Some(1), "{err}");
    err
}

/// The value of attribute `name` in an XML start tag `tag`.
pub fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')?;
    Some(&tag[i..i + j])
}

/// Every start tag `<name ...>` of `svg`, in order.
pub fn tags<'a>(svg: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name} ");
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find(&open) {
        let t = &rest[i..];
        let end = t.find('>').map_or(t.len(), |j| j + 1);
        out.push(&t[..end]);
        rest = &t[end..];
    }
    out
}

/// The text content of every `<text>` element, trimmed.
pub fn texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text ") {
        let t = &rest[i..];
        let Some(a) = t.find('>') else { break };
        let Some(b) = t.find("</text>") else { break };
        out.push(t[a + 1..b].trim().to_string());
        rest = &t[b..];
    }
    out
}

/// The text of the first `<name>...</name>` element.
pub fn element(svg: &str, name: &str) -> Option<String> {
    let a = svg.find(&format!("<{name}>"))? + name.len() + 2;
    let b = svg[a..].find(&format!("</{name}>"))?;
    Some(svg[a..a + b].to_string())
}

/// A stable description of an SVG chart, for goldens: its title, desc,
/// metadata elements, the fill colours of its bands, and its labels.
pub fn structure(svg: &str) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "title: {}\n",
        element(svg, "title").unwrap_or_default()
    ));
    s.push_str(&format!(
        "desc: {}\n",
        element(svg, "desc").unwrap_or_default()
    ));
    for t in tags(svg, "fg:graph")
        .into_iter()
        .chain(tags(svg, "fg:series"))
    {
        s.push_str(t);
        s.push('\n');
    }
    let fills: Vec<&str> = tags(svg, "polygon")
        .into_iter()
        .filter_map(|t| attr(t, "fill"))
        .collect();
    s.push_str(&format!("bands: {}\n", fills.join(" ")));
    s.push_str("labels:\n");
    for t in texts(svg) {
        s.push_str(&format!("  {t}\n"));
    }
    s
}

/// Compares `got` with golden `name` (rewritten with UPDATE_GOLDEN=1),
/// showing a line diff on failure.
pub fn golden(name: &str, got: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).expect("golden dir");
        std::fs::write(&path, got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    if want != got {
        let mut diff = String::new();
        let (w, g): (Vec<_>, Vec<_>) = (want.lines().collect(), got.lines().collect());
        for i in 0..w.len().max(g.len()) {
            match (w.get(i), g.get(i)) {
                (Some(a), Some(b)) if a == b => {}
                (a, b) => diff.push_str(&format!(
                    "line {}:\n  - {}\n  + {}\n",
                    i + 1,
                    a.unwrap_or(&"<none>"),
                    b.unwrap_or(&"<none>")
                )),
            }
        }
        panic!(
            "{} differs (UPDATE_GOLDEN=1 rewrites it):\n{diff}",
            path.display()
        );
    }
}

/// flow-stat -f 0's totals (flows, octets, packets) for the same inputs
/// and window, through the query library (the flow-stat fast path).
pub fn flow_stat_totals(
    inputs: &[&Path],
    since: Option<&str>,
    until: Option<&str>,
) -> (u64, u64, u64) {
    use query::stat::{self, StatConfig};
    let opts = flowio::select::ScanOptions {
        inputs: inputs
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        since: since.map(str::to_string),
        until: until.map(str::to_string),
        threads: 1,
        ..Default::default()
    };
    let cfg = StatConfig::new(0);
    let prepared = flowio::select::prepare(&opts).unwrap();
    let report = stat::compute(&cfg, &prepared, 1).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    stat::write_report(&cfg, &prepared.header, &report, &mut out, &mut err).unwrap();
    let text = String::from_utf8(out).unwrap();
    let get = |k: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.rsplit(':').next())
            .map_or(0, |v| v.trim().parse().unwrap())
    };
    (
        get("Total Flows"),
        get("Total Octets"),
        get("Total Packets"),
    )
}

/// The fg:graph totals of an SVG.
pub fn svg_totals(svg: &str) -> (u64, u64, u64) {
    let g = tags(svg, "fg:graph");
    let g = g.first().expect("fg:graph");
    let n = |k| attr(g, k).unwrap().parse::<u64>().unwrap();
    (n("flows"), n("octets"), n("packets"))
}

/// A flow from `start` (unix seconds) lasting `dur_ms`.
pub fn flow(
    start: u32,
    dur_ms: u32,
    proto: u8,
    dst_port: u16,
    octets: u32,
    packets: u32,
) -> Record {
    Record {
        unix_secs: start + 3600,
        sys_uptime_ms: 10_000_000,
        first_uptime_ms: 10_000_000 - 3_600_000,
        last_uptime_ms: 10_000_000 - 3_600_000 + dur_ms,
        protocol: proto,
        src_addr: 0x0A00_0001,
        dst_addr: 0xC000_0201,
        src_port: 50_000,
        dst_port,
        exporter: 0x7F00_0002,
        octets,
        packets,
        ..Record::default()
    }
}

/// Writes `recs` as an ft file.
pub fn write_ft(path: &Path, recs: &[Record]) {
    let header = FtHeader {
        byte_order: ByteOrder::host(),
        stream_version: 3,
        export_version: Some(5),
        ..FtHeader::default()
    };
    let f = std::fs::File::create(path).unwrap();
    let mut w = FtWriter::new(f, &header, None).unwrap();
    w.write_all(recs).unwrap();
    w.finish().unwrap();
}

/// Width, height and the share of non-white pixels of a PNG.
pub fn png_facts(bytes: &[u8]) -> (u32, u32, f64) {
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    let px = &buf[..info.buffer_size()];
    let step = info.color_type.samples();
    let inked = px
        .chunks(step)
        .filter(|p| p[..3] != [255, 255, 255])
        .count();
    (
        info.width,
        info.height,
        inked as f64 / (px.len() / step) as f64,
    )
}
