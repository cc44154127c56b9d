//! Helpers of the collector integration tests: the committed fixtures,
//! the realworld captures beside the project, skip reports, pcap reading,
//! datagrams to send.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

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

/// A binary of another crate of the workspace (`flow-cat`, `flow-print`),
/// beside this test's own binaries in the target directory; fails, saying
/// how to build it, when it is not there.
pub fn workspace_bin(name: &str) -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_flow-capture"))
        .parent()
        .expect("the target directory")
        .join(name);
    assert!(
        bin.is_file(),
        "{} not built: run `cargo build --workspace --bins` (add --release for a release \
         test run) first, or run the tests with `cargo test --workspace`",
        bin.display()
    );
    bin
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

/// The UDP payloads of a classic little-endian pcap of Ethernet frames
/// (optionally 802.1Q tagged) carrying IPv4: what the test captures hold.
/// Panics, naming the offset, on anything else.
pub fn pcap_udp_payloads(name: &str, bytes: &[u8]) -> Vec<Vec<u8>> {
    let u16be = |b: &[u8], at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    let u32le = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert!(
        bytes.len() >= 24 && bytes[..4] == [0xd4, 0xc3, 0xb2, 0xa1],
        "{name}: not a little-endian classic pcap"
    );
    assert_eq!(u32le(bytes, 20), 1, "{name}: link type is not Ethernet");
    let mut out = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        assert!(
            at + 16 <= bytes.len(),
            "{name}: truncated record header at {at}"
        );
        let caplen = u32le(bytes, at + 8) as usize;
        let frame = &bytes[at + 16..at + 16 + caplen];
        let (mut ethertype, mut ip) = (u16be(frame, 12), 14);
        if ethertype == 0x8100 {
            (ethertype, ip) = (u16be(frame, 16), 18);
        }
        assert_eq!(ethertype, 0x0800, "{name}: frame at {at} is not IPv4");
        assert_eq!(frame[ip + 9], 17, "{name}: packet at {at} is not UDP");
        let udp = ip + (frame[ip] & 0x0f) as usize * 4;
        let len = u16be(frame, udp + 4) as usize;
        out.push(frame[udp + 8..udp + len].to_vec());
        at += 16 + caplen;
    }
    out
}

/// A NetFlow v5 datagram of `count` flows with sequence number `seq`; the
/// flows' source addresses are 10.0.0.`salt`, their destinations count up
/// from `seq` (so every flow of a run is distinct).
pub fn v5_datagram(seq: u32, count: u16, salt: u32) -> Vec<u8> {
    let mut b = vec![0u8; 24 + 48 * count as usize];
    b[0..2].copy_from_slice(&5u16.to_be_bytes());
    b[2..4].copy_from_slice(&count.to_be_bytes());
    b[4..8].copy_from_slice(&1_000_000u32.to_be_bytes());
    b[8..12].copy_from_slice(&1_795_313_964u32.to_be_bytes());
    b[16..20].copy_from_slice(&seq.to_be_bytes());
    for i in 0..count as usize {
        let r = &mut b[24 + 48 * i..24 + 48 * (i + 1)];
        r[0..4].copy_from_slice(&(0x0a00_0000 + salt).to_be_bytes());
        r[4..8].copy_from_slice(&(seq + i as u32).to_be_bytes());
        r[16..20].copy_from_slice(&1u32.to_be_bytes());
        r[20..24].copy_from_slice(&64u32.to_be_bytes());
        r[24..28].copy_from_slice(&999_000u32.to_be_bytes());
        r[28..32].copy_from_slice(&999_500u32.to_be_bytes());
        r[38] = 17;
    }
    b
}
