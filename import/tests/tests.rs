//! Acceptance tests: every sample of `testdata/golden/connlogs` imported into
//! native files, the figures of `expected.json` checked against the report
//! and against the records read back from the written files.

mod util;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use formats::native::NativeFile;
use formats::Record;
use import::summary::{utc_text, Report, Summary};
use import::{Anchor, Config, Format, Output};
use serde_json::Value;
use util::connlog;

fn expected(name: &str) -> Value {
    let text = std::fs::read_to_string(connlog("expected.json")).expect("expected.json");
    let v: Value = serde_json::from_str(&text).expect("json");
    v[name].clone()
}

struct Imported {
    report: Report,
    records: Vec<Record>,
    /// exporter ip -> ifindex -> name, from the files' headers
    ifnames: HashMap<(u32, u16), String>,
    _dir: tempfile::TempDir,
}

fn import_sample(name: &str, format: Format, anchor: Option<&str>) -> Imported {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = Config::new(vec![connlog(name)], Output::Dir(dir.path().join("flows")));
    cfg.format = format;
    if let Some(a) = anchor {
        cfg.anchor = Anchor::At(import::syslog::parse_time(a).expect("anchor"));
    }
    cfg.namespace_hash = Some(connlog("namespace.hash"));
    let report = import::run(&cfg).expect("import");
    let mut records = Vec::new();
    let mut ifnames = HashMap::new();
    for f in &report.files_written {
        let nf = NativeFile::open(std::fs::read(f).expect("read")).expect("open");
        assert!(nf.header().complete, "{} is complete", f.display());
        assert!(nf.warnings().is_empty(), "{:?}", nf.warnings());
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("nf-v05."), "{name}");
        for (k, v) in &nf.header().metadata {
            if k == "import.ifname" {
                let p: Vec<&str> = v.split('\t').collect();
                let ip: std::net::Ipv4Addr = p[0].parse().unwrap();
                ifnames.insert((u32::from(ip), p[1].parse().unwrap()), p[2].to_string());
            }
        }
        let before = records.len();
        assert!(nf.decode_all(&mut records).is_empty());
        assert_eq!(nf.header().flows as usize, records.len() - before);
        // every record sits in its file's 5-minute slot
        for r in &records[before..] {
            assert_eq!(r.unix_secs - r.unix_secs % 300, nf.header().cap_start);
        }
    }
    Imported {
        report,
        records,
        ifnames,
        _dir: dir,
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn lines_of(v: &Value) -> Vec<u64> {
    v.as_array().expect("array").iter().map(u).collect()
}

fn proto_map(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.clone(), u(v)))
        .collect()
}

fn proto_name(p: u8) -> &'static str {
    import::model::protocol_name(p)
}

fn count_by<'a>(
    rs: impl Iterator<Item = &'a Record>,
    key: impl Fn(&Record) -> String,
) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for r in rs {
        *m.entry(key(r)).or_default() += 1;
    }
    m
}

/// Top-5 destination ports (TCP+UDP, IPv4) like `flow-stat -f 5 -S 1`
/// ranks them: count descending, then port ascending; plus the 6th count.
fn top5<'a>(rs: impl Iterator<Item = &'a Record>) -> (Vec<[u64; 2]>, u64) {
    let mut c: BTreeMap<u16, u64> = BTreeMap::new();
    for r in rs.filter(|r| matches!(r.protocol, 6 | 17)) {
        *c.entry(r.dst_port).or_default() += 1;
    }
    let mut v: Vec<(u16, u64)> = c.into_iter().collect();
    v.sort_by_key(|&(p, n)| (std::cmp::Reverse(n), p));
    let sixth = v.get(5).map_or(0, |x| x.1);
    (
        v.into_iter().take(5).map(|(p, n)| [p as u64, n]).collect(),
        sixth,
    )
}

fn top_expected(v: &Value) -> Vec<[u64; 2]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| [u(&p[0]), u(&p[1])])
        .collect()
}

fn ms_text(ms: i64) -> String {
    utc_text(ms * 1000)
}

fn check_common(s: &Summary, e: &Value) {
    assert_eq!(s.lines_total, u(&e["lines_total"]), "lines_total");
    assert_eq!(s.blank_lines, u(&e["blank_lines"]), "blank_lines");
    if let Some(n) = e.get("nul_prefixed_lines_recovered") {
        assert_eq!(s.nul_prefixed_recovered, u(n), "nul");
    }
    assert_eq!(
        s.malformed_total(),
        u(&e["malformed_lines"]),
        "malformed count"
    );
    assert_eq!(
        s.malformed_lines,
        lines_of(&e["malformed_line_numbers"]),
        "malformed lines"
    );
}

/// Kernel LOG samples: one line = one record.
fn check_log(name: &str, format: Format, anchor: Option<&str>) -> Imported {
    let e = expected(name);
    let im = import_sample(name, format, anchor);
    let s = &im.report.inputs[0];
    check_common(s, &e);
    assert_eq!(s.unrelated_lines, u(&e["unrelated_lines"]), "unrelated");
    assert_eq!(s.duplicates, u(&e["duplicate_lines_dropped"]), "duplicates");
    if let Some(d) = e.get("duplicate_line_numbers") {
        assert_eq!(s.duplicate_lines, lines_of(d), "duplicate lines");
    }
    if let Some(r) = e.get("repeat_summary_lines") {
        assert_eq!(s.repeat_summaries, u(r));
        assert_eq!(
            s.records_from_repeats,
            u(&e["records_from_repeat_expansion"])
        );
    }
    let rs = &im.records;
    assert_eq!(
        s.v5_records + s.ipv6_records,
        u(&e["records_total"]),
        "records_total"
    );
    assert_eq!(rs.len() as u64, s.v5_records);
    if let Some(n) = e.get("ipv4_records") {
        assert_eq!(rs.len() as u64, u(n), "ipv4_records");
    }
    assert_eq!(
        count_by(rs.iter(), |r| proto_name(r.protocol).into()),
        proto_map(&e["ipv4_by_protocol"])
    );
    if let Some(o) = e.get("ipv4_other_protocol_numbers") {
        let got: BTreeSet<u64> = s.ipv4_other_protocols.iter().map(|&p| p as u64).collect();
        assert_eq!(got, lines_of(o).into_iter().collect());
    }
    assert_eq!(s.ipv6_records, u(&e["ipv6_records"]), "ipv6_records");
    if let Some(p) = e.get("ipv6_by_protocol") {
        let got: BTreeMap<String, u64> = s
            .ipv6_by_protocol
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        assert_eq!(got, proto_map(p));
    }
    if let Some(p) = e.get("records_by_prefix") {
        assert_eq!(s.records_by_prefix, proto_map(p), "by prefix");
        assert_eq!(
            s.records_by_host,
            proto_map(&e["records_by_host"]),
            "by host"
        );
    }
    let pairs: BTreeSet<(u32, u32)> = rs.iter().map(|r| (r.src_addr, r.dst_addr)).collect();
    assert_eq!(
        pairs.len() as u64,
        u(&e["unique_src_dst_pairs_ipv4"]),
        "pairs"
    );
    let srcs: BTreeSet<u32> = rs.iter().map(|r| r.src_addr).collect();
    let dsts: BTreeSet<u32> = rs.iter().map(|r| r.dst_addr).collect();
    assert_eq!(srcs.len() as u64, u(&e["unique_src_ipv4"]));
    assert_eq!(dsts.len() as u64, u(&e["unique_dst_ipv4"]));
    let (top, sixth) = top5(rs.iter());
    assert_eq!(top, top_expected(&e["top5_dst_ports_ipv4_tcp_udp"]), "top5");
    assert_eq!(sixth, u(&e["sixth_place_count"]), "sixth place");
    let bytes: u64 = rs.iter().map(|r| r.octets as u64).sum();
    assert_eq!(bytes, u(&e["bytes_ipv4"]), "bytes_ipv4");
    if let Some(b) = e.get("bytes_ipv6") {
        assert_eq!(s.ipv6_bytes, u(b));
        let packets: u64 = rs.iter().map(|r| r.packets as u64).sum();
        assert_eq!(packets, u(&e["packets_ipv4"]));
    }
    let (first, last) = (
        e["first_record_utc"].as_str().unwrap(),
        e["last_record_utc"].as_str().unwrap(),
    );
    assert_eq!(utc_text(s.first_us.unwrap()), first);
    assert_eq!(utc_text(s.last_us.unwrap()), last);
    // read back at ms precision, First == Last for one packet
    let min = rs.iter().map(|r| r.start_ms()).min().unwrap();
    let max = rs.iter().map(|r| r.end_ms()).max().unwrap();
    assert_eq!(ms_text(min)[..19], first[..19]);
    assert_eq!(ms_text(max)[..19], last[..19]);
    assert!(rs
        .iter()
        .all(|r| r.start_ms() == r.end_ms() && r.packets == 1));
    im
}

#[test]
fn iptables_new_outbound() {
    let im = check_log(
        "iptables-new-outbound.log",
        Format::Iptables,
        Some("2025-01-01T00:20:00Z"),
    );
    let rs = &im.records;
    // traps: the quoted ICMP header does not leak, the ICMP echo's type
    let icmp_err: Vec<&Record> = rs
        .iter()
        .filter(|r| r.protocol == 1 && r.dst_port == 0x0303)
        .collect();
    assert_eq!(icmp_err.len(), 1);
    assert_eq!(icmp_err[0].src_ip().to_string(), "192.168.10.40");
    assert_eq!(icmp_err[0].tos, 0xC0);
    assert!(rs
        .iter()
        .filter(|r| r.protocol == 1)
        .all(|r| r.src_port == 0));
    // TCP flags of the IPv4 records: SYN-only except the ACK PSH ones
    let syn_only = rs
        .iter()
        .filter(|r| r.protocol == 6 && r.tcp_flags == 0x02)
        .count();
    let other = rs
        .iter()
        .filter(|r| r.protocol == 6 && r.tcp_flags != 0x02)
        .count();
    assert_eq!((syn_only + other) as u64, 187);
    assert_eq!(other, 2);
    // the skewed dev07 line stays in 2024
    let s = &im.report.inputs[0];
    assert!(utc_text(s.first_us.unwrap()).starts_with("2024-12-31"));
    // interface names are stored in the headers
    let gw = rs.iter().find(|r| r.input_if != 0).unwrap();
    assert_eq!(im.ifnames[&(gw.exporter, gw.input_if)], "eth1");
}

#[test]
fn iptables_rfc3339_across_dst() {
    check_log("iptables-rfc3339.log", Format::Iptables, None);
}

fn check_anetcon(name: &str, anchor: &str) {
    let e = expected(name);
    let im = check_log(name, Format::Anetcon, Some(anchor));
    let s = &im.report.inputs[0];
    let kinds: BTreeMap<String, u64> = s
        .records_by_kind
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    assert_eq!(kinds, proto_map(&e["records_by_kind"]));
    if let Some(ns) = e.get("records_by_namespace") {
        assert_eq!(s.records_by_namespace, proto_map(ns));
    }
    // inside host: DST for DNAT/FLOAT lines (engine_id bit 7), else SRC
    let inside: BTreeSet<u32> = im
        .records
        .iter()
        .map(|r| {
            if r.engine_id & 0x80 != 0 {
                r.dst_addr
            } else {
                r.src_addr
            }
        })
        .collect();
    assert_eq!(inside.len() as u64, u(&e["distinct_inside_addresses"]));
    let pairs = count_by(im.records.iter(), |r| {
        format!(
            "{}>{}",
            im.ifnames[&(r.exporter, r.input_if)],
            im.ifnames[&(r.exporter, r.output_if)]
        )
    });
    assert_eq!(pairs, proto_map(&e["records_by_interface_pair"]));
}

#[test]
fn anetcon_old_nat() {
    check_anetcon("anetcon.nat.log", "2023-11-14T12:00:00Z");
}

#[test]
fn anetcon_old_float() {
    check_anetcon("anetcon.float.log", "2023-11-14T12:00:00Z");
}

#[test]
fn anetcon_new_other() {
    check_anetcon("anetcon.other.log", "2024-07-03T16:00:00Z");
}

#[test]
fn anetcon_new_dnat() {
    check_anetcon("anetcon.dnat.log", "2024-07-03T16:00:00Z");
}

/// Connection samples: orig (engine_id 0) and reply (engine_id 1) records.
fn check_conn(name: &str, format: Format, anchor: Option<&str>) -> Imported {
    let e = expected(name);
    let im = import_sample(name, format, anchor);
    let s = &im.report.inputs[0];
    check_common(s, &e);
    assert_eq!(s.diagnostic_lines, u(&e["diagnostic_lines"]), "diagnostic");
    let events: BTreeMap<String, u64> = s.events.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(events, proto_map(&e["events"]));
    assert_eq!(s.connections_total(), u(&e["connections_total"]));
    assert_eq!(
        s.connections_complete,
        u(&e["connections_complete_new_and_destroy"])
    );
    assert_eq!(
        s.connections_open_at_end,
        u(&e["connections_open_at_end_no_destroy"])
    );
    assert_eq!(
        s.connections_without_new,
        u(&e["connections_destroy_without_new"])
    );
    let orig: Vec<&Record> = im.records.iter().filter(|r| r.engine_id == 0).collect();
    let reply: Vec<&Record> = im.records.iter().filter(|r| r.engine_id == 1).collect();
    assert_eq!(orig.len() as u64, u(&e["ipv4_connections"]));
    assert_eq!(orig.len() as u64, u(&e["v5_records_orig_direction"]));
    assert_eq!(im.records.len() as u64, u(&e["v5_records_orig_plus_reply"]));
    assert_eq!(
        count_by(orig.iter().copied(), |r| proto_name(r.protocol).into()),
        proto_map(&e["ipv4_by_protocol"])
    );
    let v6: BTreeMap<String, u64> = s
        .ipv6_by_protocol
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    assert_eq!(v6, proto_map(&e["ipv6_by_protocol"]));
    assert_eq!(v6.values().sum::<u64>(), u(&e["ipv6_connections"]));
    let pairs: BTreeSet<(u32, u32)> = orig.iter().map(|r| (r.src_addr, r.dst_addr)).collect();
    assert_eq!(pairs.len() as u64, u(&e["unique_orig_src_dst_pairs_ipv4"]));
    let (top, sixth) = top5(orig.iter().copied());
    assert_eq!(
        top,
        top_expected(&e["top5_orig_dst_ports_ipv4_tcp_udp"]),
        "top5"
    );
    assert_eq!(sixth, u(&e["sixth_place_count"]));
    let sum = |rs: &[&Record]| rs.iter().map(|r| r.octets as u64).sum::<u64>();
    assert_eq!(sum(&orig), u(&e["ipv4_orig_bytes"]));
    assert_eq!(sum(&reply), u(&e["ipv4_reply_bytes"]));
    assert_eq!(s.ipv4_orig_bytes, u(&e["ipv4_orig_bytes"]));
    assert_eq!(s.ipv4_orig_packets, u(&e["ipv4_orig_packets"]));
    assert_eq!(s.ipv4_reply_packets, u(&e["ipv4_reply_packets"]));
    assert_eq!(s.ipv6_orig_bytes, u(&e["ipv6_orig_bytes"]));
    assert_eq!(s.ipv6_reply_bytes, u(&e["ipv6_reply_bytes"]));
    assert_eq!(s.snat_connections, u(&e["snat_connections"]));
    assert_eq!(s.snat_with_port_change, u(&e["snat_with_port_change"]));
    assert_eq!(s.dnat_connections, u(&e["dnat_connections"]));
    // both directions of a connection carry the same First/Last
    for (o, r) in orig.iter().zip(&reply) {
        assert_eq!((o.start_ms(), o.end_ms()), (r.start_ms(), r.end_ms()));
    }
    im
}

#[test]
fn ulogd_text_logemu() {
    let e = expected("ulogd_nfct.log");
    let im = check_conn(
        "ulogd_nfct.log",
        Format::UlogdText,
        Some("2024-02-22T12:30:00Z"),
    );
    let s = &im.report.inputs[0];
    assert_eq!(
        utc_text(s.first_us.unwrap()),
        e["first_event_utc"].as_str().unwrap()
    );
    assert_eq!(
        utc_text(s.last_us.unwrap()),
        e["last_event_utc"].as_str().unwrap()
    );
    // ICMP labels swapped back: echo requests are type 8
    assert!(im
        .records
        .iter()
        .filter(|r| r.protocol == 1 && r.engine_id == 0)
        .all(|r| r.dst_port == 0x0800));
}

#[test]
fn ulogd_json() {
    let e = expected("ulogd_nfct.json");
    let im = check_conn("ulogd_nfct.json", Format::UlogdJson, None);
    let s = &im.report.inputs[0];
    assert_eq!(
        utc_text(s.first_us.unwrap()),
        e["first_flow_start_utc"].as_str().unwrap()
    );
    assert_eq!(
        utc_text(s.last_us.unwrap()),
        e["last_flow_end_utc"].as_str().unwrap()
    );
    assert_eq!(
        s.connections_with_mark,
        u(&e["connections_with_nonzero_ct_mark"])
    );
    // durations from flow.start/flow.end (ms precision in v5)
    let orig: Vec<&Record> = im.records.iter().filter(|r| r.engine_id == 0).collect();
    let total_ms: i64 = orig.iter().map(|r| r.end_ms() - r.start_ms()).sum();
    let expect_ms = e["sum_duration_seconds"].as_f64().unwrap() * 1000.0;
    // the reference sums IPv4 and IPv6 connections; IPv6 ones are not v5
    assert!(
        total_ms as f64 <= expect_ms + 1.0,
        "{total_ms} vs {expect_ms}"
    );
}

#[test]
fn conntrack_events() {
    let e = expected("conntrack-E.txt");
    let im = check_conn("conntrack-E.txt", Format::Conntrack, None);
    let s = &im.report.inputs[0];
    assert_eq!(
        s.trailer_reported_events,
        lines_of(&e["trailer_reported_events"])
    );
    assert_eq!(s.destroyed_by_userspace, u(&e["destroyed_by_userspace"]));
    assert_eq!(s.connections_with_mark, u(&e["connections_with_mark"]));
    assert_eq!(
        utc_text(s.first_us.unwrap()),
        e["first_event_utc"].as_str().unwrap()
    );
    assert_eq!(
        utc_text(s.last_us.unwrap()),
        e["last_event_utc"].as_str().unwrap()
    );
    assert!(s.enobufs_warnings > 0);
}

#[test]
fn nat_lookup_finds_the_inside_host_of_every_translation() {
    let im = import_sample("conntrack-E.txt", Format::Conntrack, None);
    let dir = im.report.files_written[0]
        .ancestors()
        .nth(4)
        .unwrap()
        .to_path_buf();
    let mut checked = 0;
    for f in &im.report.files_written {
        let nf = NativeFile::open(std::fs::read(f).unwrap()).unwrap();
        for (k, v) in &nf.header().metadata {
            if k != import::write::META_NAT {
                continue;
            }
            let row = import::lookup::NatRow::parse(v).unwrap();
            if row.reply.2 == row.orig.0 {
                continue; // DNAT only
            }
            let at = (row.first_ms + row.last_ms) / 2;
            let hits = import::lookup::lookup(&dir, row.reply.2, Some(row.reply.3), at, 0).unwrap();
            assert!(
                hits.iter()
                    .any(|(_, inside)| *inside == (row.orig.0, row.orig.1)),
                "{v}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 29); // every SNAT connection
                             // DNAT port forward 2222 -> 192.168.50.20:22 (ulogd text sample)
    let im = import_sample(
        "ulogd_nfct.log",
        Format::UlogdText,
        Some("2024-02-22T12:30:00Z"),
    );
    let dir = im.report.files_written[0]
        .ancestors()
        .nth(4)
        .unwrap()
        .to_path_buf();
    let at = import::syslog::parse_time("2024-02-22T12:06:30Z").unwrap() / 1000;
    let hits =
        import::lookup::lookup(&dir, "203.0.113.10".parse().unwrap(), Some(2222), at, 0).unwrap();
    assert_eq!(hits.len(), 2);
    assert!(hits
        .iter()
        .all(|(_, i)| i.0.to_string() == "192.168.50.20" && i.1 == 22));
    // flow-nat-lookup --at takes every form of the suite's date parser.
    for at in [
        "2024-02-22T12:06:30Z",
        "2024-02-22 12:06:30 UTC",
        "Thu, 22 Feb 2024 06:06:30 -0600",
        "@1708603590",
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_flow-nat-lookup"))
            .args(["203.0.113.10:2222", "--at", at])
            .arg(&dir)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{at}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(out.lines().count(), 2, "{at}: {out}");
        assert!(
            out.lines().all(|l| l.starts_with("192.168.50.20:22\t")),
            "{out}"
        );
    }
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_flow-nat-lookup"))
        .args(["203.0.113.10:2222", "--at", "teatime"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--at: cannot read the date \"teatime\" at column 1"),
        "{err}"
    );
}

#[test]
fn auto_detection_picks_each_samples_format() {
    for (name, f) in [
        ("iptables-new-outbound.log", Format::Iptables),
        ("iptables-rfc3339.log", Format::Iptables),
        ("ulogd_nfct.log", Format::UlogdText),
        ("ulogd_nfct.json", Format::UlogdJson),
        ("conntrack-E.txt", Format::Conntrack),
        ("anetcon.nat.log", Format::Anetcon),
        ("anetcon.other.log", Format::Anetcon),
    ] {
        let data = std::fs::read(connlog(name)).unwrap();
        assert_eq!(import::detect_format(&data), Some(f), "{name}");
    }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_flow-import")
}

#[test]
fn cli_wrong_format_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flows");
    let o = std::process::Command::new(bin())
        .args(["--format", "conntrack", "-o"])
        .arg(&out)
        .arg(connlog("iptables-rfc3339.log"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not look like conntrack"));
    assert!(!out.exists());
}

#[test]
fn cli_ft_stream_to_stdout_and_errors_file() {
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.txt");
    let v6 = dir.path().join("v6.txt");
    let o = std::process::Command::new(bin())
        .args([
            "--format",
            "iptables",
            "--anchor",
            "2025-01-01T00:20:00Z",
            "--exporter-map",
            "gw01=10.0.0.1,web03=10.0.0.3",
            "-o",
            "-",
            "--errors",
        ])
        .arg(&errors)
        .arg("--ipv6-out")
        .arg(&v6)
        .arg(connlog("iptables-new-outbound.log"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = formats::ft::FtReader::new(&o.stdout[..]).unwrap();
    let rs = r.read_all().unwrap();
    assert_eq!(rs.len(), 270);
    assert!(rs.iter().any(|r| r.exporter_ip().to_string() == "10.0.0.1"));
    let err = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(err.lines().count(), 6);
    assert!(err
        .lines()
        .next()
        .unwrap()
        .contains("iptables-new-outbound.log:29: "));
    assert_eq!(std::fs::read_to_string(&v6).unwrap().lines().count(), 8);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("malformed 6") && stderr.contains("duplicates 2"),
        "{stderr}"
    );
}

#[test]
fn bad_lines_never_stop_the_import() {
    // arbitrary bytes around valid lines: every line is classified, no panic
    let dir = tempfile::tempdir().unwrap();
    let mut data = Vec::new();
    let good = b"Jan  1 00:00:01 h kernel: X IN=a OUT=b SRC=1.2.3.4 DST=1.2.3.5 LEN=40 TOS=0x00 PREC=0x00 TTL=1 ID=1 PROTO=TCP SPT=1 DPT=2 SYN \n";
    for i in 0..200u32 {
        data.extend_from_slice(good);
        let junk: Vec<u8> = (0..(i % 97))
            .map(|j| ((i * 31 + j * 7) % 256) as u8)
            .filter(|&b| b != b'\n')
            .collect();
        data.extend_from_slice(&good[..(i as usize % good.len())]);
        data.extend_from_slice(&junk);
        data.push(b'\n');
    }
    let input = dir.path().join("in.log");
    std::fs::write(&input, &data).unwrap();
    let mut cfg = Config::new(vec![input], Output::Dir(dir.path().join("o")));
    cfg.format = Format::Iptables;
    cfg.dedupe = false;
    let rep = import::run(&cfg).unwrap();
    let s = &rep.inputs[0];
    assert_eq!(s.lines_total, 400);
    assert!(s.v5_records >= 200);
    assert_eq!(
        s.v5_records + s.malformed_total() + s.unrelated_lines + s.blank_lines,
        400
    );
}
