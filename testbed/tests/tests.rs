//! flow-send end to end: datagrams received on a loopback socket decode
//! back to the records that were sent.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use formats::ft::{ByteOrder, FtHeader, FtReader, FtWriter, FLAG_STREAMING};
use formats::v5;
use formats::Record;

mod util;

fn golden(rel: &str) -> PathBuf {
    util::fixture(&format!("golden/flowtools/inputs/{rel}"))
}

fn read_ft(path: &Path) -> Vec<Record> {
    let f = std::fs::File::open(path).unwrap();
    FtReader::new(f).unwrap().read_all().unwrap()
}

/// A receiving socket on an ephemeral loopback port.
fn receiver() -> (UdpSocket, u16) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    (s, port)
}

/// Receives datagrams until none arrives for a while.
fn receive_all(s: &UdpSocket) -> Vec<(Ipv4Addr, Vec<u8>)> {
    s.set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 65_536];
    while let Ok((n, from)) = s.recv_from(&mut buf) {
        let SocketAddr::V4(from) = from else {
            panic!("IPv6 source {from}")
        };
        out.push((*from.ip(), buf[..n].to_vec()));
    }
    out
}

fn flow_send(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-send"))
        .args(args)
        .output()
        .unwrap()
}

/// Decodes the datagrams, checking sequence numbers are consecutive per
/// (exporter, engine); returns the records (exporter = datagram source).
fn decode_checked(got: &[(Ipv4Addr, Vec<u8>)]) -> Vec<Record> {
    let mut next_seq: HashMap<(Ipv4Addr, u8, u8), u32> = HashMap::new();
    let mut records = Vec::new();
    for (from, bytes) in got {
        let p = v5::decode(bytes).unwrap();
        let h = p.header;
        let key = (*from, h.engine_type, h.engine_id);
        let want = *next_seq.entry(key).or_insert(h.flow_sequence);
        assert_eq!(h.flow_sequence, want, "sequence gap for {key:?}");
        next_seq.insert(key, want.wrapping_add(h.count as u32));
        p.push_records(u32::from(*from), &mut records);
    }
    records
}

#[test]
fn small_ft_arrives_intact_with_consecutive_sequence_numbers() {
    let input = golden("small.ft");
    let want = read_ft(&input);
    assert_eq!(want.len(), 296);
    let (rx, port) = receiver();
    let out = flow_send(&[&format!("127.0.0.1:{port}"), input.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("296 flows"), "{stderr}");
    let got = receive_all(&rx);
    assert!(got
        .iter()
        .all(|(from, _)| *from == Ipv4Addr::new(127, 0, 0, 2)));
    assert_eq!(got.len(), 10, "296 flows in datagrams of 30");
    assert_eq!(decode_checked(&got), want);
}

#[test]
fn several_exporters_send_from_their_own_addresses() {
    // two exporters and two engines interleaved by datagram, via stdin
    let mut rs = Vec::new();
    for d in 0..12u32 {
        let exporter = 0x7f00_0002 + d % 2;
        for i in 0..(5 + d) {
            rs.push(Record {
                unix_secs: 1_767_225_600 + d,
                unix_nsecs: d * 1000,
                sys_uptime_ms: 1_000_000 + d * 1000,
                exporter,
                engine_id: (d % 4 / 2) as u8,
                src_addr: 0x0a00_0000 + i,
                dst_addr: 0xc633_6401,
                packets: i + 1,
                octets: 40 * (i + 1),
                first_uptime_ms: 999_000,
                last_uptime_ms: 1_000_000,
                protocol: 6,
                dst_port: 443,
                ..Record::default()
            });
        }
    }
    let h = FtHeader {
        byte_order: ByteOrder::Little,
        export_version: Some(5),
        flags: Some(FLAG_STREAMING),
        ..FtHeader::default()
    };
    let mut w = FtWriter::new(Vec::new(), &h, None).unwrap();
    w.write_all(&rs).unwrap();
    let stream = w.finish().unwrap();

    let (rx, port) = receiver();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow-send"))
        .arg(format!("127.0.0.1/{port}"))
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&stream).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = receive_all(&rx);
    let sources: std::collections::BTreeSet<Ipv4Addr> = got.iter().map(|(f, _)| *f).collect();
    assert_eq!(
        sources.into_iter().collect::<Vec<_>>(),
        vec![Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3)]
    );
    let mut back = decode_checked(&got);
    let key = |r: &Record| (r.exporter, r.engine_id, r.unix_secs, r.src_addr);
    back.sort_by_key(key);
    rs.sort_by_key(key);
    assert_eq!(back, rs);
}

#[test]
fn from_maps_exporters_onto_given_sources() {
    let (rx, port) = receiver();
    let out = flow_send(&[
        "--from",
        "127.0.0.9",
        &format!("localhost:{port}"),
        golden("small.ft").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = receive_all(&rx);
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|(f, _)| *f == Ipv4Addr::new(127, 0, 0, 9)));
}

#[test]
fn replay_hex_sends_the_dump_byte_for_byte() {
    let dump = golden("packets/bad.hex");
    let text = std::fs::read_to_string(&dump).unwrap();
    let want: Vec<(Ipv4Addr, Vec<u8>)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let bytes = (0..f[2].len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&f[2][i..i + 2], 16).unwrap())
                .collect();
            (f[1].parse().unwrap(), bytes)
        })
        .collect();
    let (rx, port) = receiver();
    let out = flow_send(&[
        "--replay-hex",
        dump.to_str().unwrap(),
        "--batch",
        "first",
        &format!("127.0.0.1:{port}"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(receive_all(&rx), want);
}

#[test]
fn remote_destinations_are_refused() {
    let out = flow_send(&["192.0.2.1:9995", golden("small.ft").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("flow-send: refusing to send to 192.0.2.1:9995"),
        "{err}"
    );
}
