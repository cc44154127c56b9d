//! Helpers shared by the formats integration tests.
#![allow(dead_code)]

use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use formats::ft::FtReader;
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

/// `<rel>` under the golden corpus inputs (`testdata/golden/flowtools/inputs`).
pub fn golden_input(rel: &str) -> PathBuf {
    fixture(&format!("golden/flowtools/inputs/{rel}"))
}

/// Reports a test that did not run its checks: `SKIPPED: <why>`, written
/// straight to stderr, not through `eprintln!`, which the test harness
/// captures and shows only on failure, so plain `cargo test` shows it.
pub fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// `../shared/realworld` beside the project root: NetFlow captures from
/// other projects' test suites, which are not ours to commit. Absent, the
/// calling test prints `SKIPPED: ../shared/realworld not found` and gets
/// `None`, unless `FLOWTOOLS_REQUIRE_REALWORLD=1` (set by `.ci/run`),
/// which makes it fail instead.
pub fn realworld() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/realworld");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("FLOWTOOLS_REQUIRE_REALWORLD").is_none_or(|v| v != "1"),
        "../shared/realworld not found (looked for {}) and FLOWTOOLS_REQUIRE_REALWORLD=1: \
         put the realworld captures beside the project root, or unset the variable to skip",
        dir.display()
    );
    skipped("../shared/realworld not found");
    None
}

/// The bytes of `name` in the realworld directory `dir`, failing with
/// what to provide when it is missing.
pub fn realworld_bytes(dir: &Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: ../shared/realworld is incomplete; provide {name} (see its README.md)",
            path.display()
        )
    })
}

fn ip(v: &serde_json::Value) -> u32 {
    u32::from(v.as_str().unwrap().parse::<Ipv4Addr>().unwrap())
}

fn num(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("field {k} in {v}"))
}

/// Parses a truth file (`*.truth.jsonl`, optionally gzipped) into records.
pub fn truth(name: &str) -> Vec<Record> {
    let path = golden_input(&format!("packets/{name}"));
    let raw = std::fs::read(&path).unwrap();
    let text = if name.ends_with(".gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(raw).unwrap()
    };
    text.lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Record {
                unix_secs: num(&v, "unix_secs") as u32,
                unix_nsecs: num(&v, "unix_nsecs") as u32,
                sys_uptime_ms: num(&v, "sysUpTime") as u32,
                exporter: ip(&v["exaddr"]),
                src_addr: ip(&v["srcaddr"]),
                dst_addr: ip(&v["dstaddr"]),
                next_hop: ip(&v["nexthop"]),
                input_if: num(&v, "input") as u16,
                output_if: num(&v, "output") as u16,
                packets: num(&v, "dPkts") as u32,
                octets: num(&v, "dOctets") as u32,
                first_uptime_ms: num(&v, "First") as u32,
                last_uptime_ms: num(&v, "Last") as u32,
                src_port: num(&v, "srcport") as u16,
                dst_port: num(&v, "dstport") as u16,
                protocol: num(&v, "prot") as u8,
                tos: num(&v, "tos") as u8,
                tcp_flags: num(&v, "tcp_flags") as u8,
                engine_type: num(&v, "engine_type") as u8,
                engine_id: num(&v, "engine_id") as u8,
                src_mask: num(&v, "src_mask") as u8,
                dst_mask: num(&v, "dst_mask") as u8,
                src_as: num(&v, "src_as") as u16,
                dst_as: num(&v, "dst_as") as u16,
            }
        })
        .collect()
}

/// Reads every record of an ft file under the golden inputs.
pub fn read_ft(rel: &str) -> Vec<Record> {
    let bytes = std::fs::read(golden_input(rel)).unwrap();
    let mut r = FtReader::new(&bytes[..]).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let recs = r.read_all().unwrap();
    assert_eq!(r.warning(), None, "{rel}");
    recs
}

/// The two files of the golden `main` capture, oldest first.
pub fn main_files() -> [&'static str; 2] {
    [
        "main/2026/2026-11/2026-11-21/ft-v05.2026-11-21.211924-0500",
        "main/2026/2026-11/2026-11-21/ft-v05.2026-11-21.211927-0500",
    ]
}
