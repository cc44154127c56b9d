//! Other projects' NetFlow v5 test data (`../shared/realworld`, never
//! committed): the datagrams decode to what those projects' own tests
//! assert, and flow-tools' ft file written by flow-import reads as
//! py3flowtools' tests say. Skipped with `SKIPPED: ../shared/realworld not
//! found` when the directory is absent, failed instead when
//! `FLOWTOOLS_REQUIRE_REALWORLD=1`.

use std::net::Ipv4Addr;

use formats::ft::FtReader;
use formats::v5::{self, V5Error, WireRecord};
use formats::Record;

use crate::util::{realworld, realworld_bytes};

/// Splits datagrams stored back to back (`.dat`) by their record counts.
fn split_datagrams(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        assert!(rest.len() >= 4, "{} trailing bytes", rest.len());
        let count = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        let len = (v5::HEADER_LEN + v5::RECORD_LEN * count).min(rest.len());
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

fn packet(bytes: &[u8]) -> (v5::Header, Vec<WireRecord>) {
    let p = v5::decode(bytes).unwrap_or_else(|e| panic!("{e}"));
    (p.header, p.records().collect())
}

fn ip(r: u32) -> Ipv4Addr {
    Ipv4Addr::from(r)
}

#[test]
fn realworld_v5_datagrams_decode_as_their_projects_assert() {
    let Some(dir) = realworld() else { return };

    // goflow2 decoders/netflowlegacy/netflow_test.go: version 5, the
    // first record's input interface is 9.
    let (h, recs) = packet(&realworld_bytes(&dir, "goflow2-v5sample.bin"));
    assert_eq!((h.count, recs.len()), (6, 6));
    assert_eq!((h.engine_type, h.engine_id), (8, 8));
    assert_eq!(recs[0].input_if, 9);

    // Graylog NetFlowV5ParserTest.testParse1 (the first of 12 datagrams).
    let dat = realworld_bytes(&dir, "graylog-netflow-v5-1.dat");
    let datagrams = split_datagrams(&dat);
    assert_eq!(datagrams.len(), 12);
    let all: usize = datagrams.iter().map(|d| packet(d).1.len()).sum();
    assert_eq!(all, 30);
    let (h, recs) = packet(datagrams[0]);
    assert_eq!(
        (h.count, h.sys_uptime_ms, h.unix_secs, h.unix_nsecs),
        (2, 3381, 1_430_591_888, 280_328_000)
    );
    for (r, src, dst, sport, dport, octets, packets, flags) in [
        (&recs[0], "10.0.2.2", "10.0.2.15", 54435, 22, 230, 5, 16),
        (&recs[1], "10.0.2.15", "10.0.2.2", 22, 54435, 304, 4, 24),
    ] {
        assert_eq!(ip(r.src_addr).to_string(), src);
        assert_eq!(ip(r.dst_addr).to_string(), dst);
        assert_eq!((r.src_port, r.dst_port), (sport, dport));
        assert_eq!((r.octets, r.packets, r.tcp_flags), (octets, packets, flags));
        assert_eq!((r.protocol, r.tos, r.next_hop), (6, 0, 0));
        assert_eq!((r.input_if, r.output_if), (0, 0));
        assert_eq!((r.src_as, r.dst_as, r.src_mask, r.dst_mask), (0, 0, 0, 0));
        // First = 0xFFFFFFFF (VirtualBox's NAT exporter), Last = 2577.
        assert_eq!((r.first_uptime_ms, r.last_uptime_ms), (u32::MAX, 2577));
    }

    // Graylog NetFlowV5ParserTest.testParse2.
    let (h, recs) = packet(&realworld_bytes(&dir, "graylog-netflow-v5-2.dat"));
    assert_eq!(
        (h.count, h.sys_uptime_ms, h.unix_secs, h.unix_nsecs),
        (30, 234_994, 1_369_017_138, 805)
    );
    assert_eq!(h.engine_id, 71);
    let r = &recs[0];
    assert_eq!(ip(r.src_addr).to_string(), "14.63.211.15");
    assert_eq!(ip(r.dst_addr).to_string(), "192.168.124.20");
    assert_eq!((r.src_port, r.dst_port, r.protocol), (80, 47994, 6));
    assert_eq!((r.octets, r.packets, r.tcp_flags), (317_221, 110, 27));
    assert_eq!((r.first_uptime_ms, r.last_uptime_ms), (202_473, 202_992));

    // NiFi TestNetflowv5Parser: two valid samples, one version-9 header
    // that must be refused.
    assert_eq!(
        packet(&realworld_bytes(&dir, "nifi-sample1.bin")).1.len(),
        1
    );
    assert_eq!(
        packet(&realworld_bytes(&dir, "nifi-sample2.bin")).1.len(),
        3
    );
    assert_eq!(
        v5::decode(&realworld_bytes(&dir, "nifi-invalidVersion.bin")).map(|p| p.header),
        Err(V5Error::BadVersion { version: 9 })
    );

    // netflow_parser it_parses_v5: one record of protocol 8 (EGP), every
    // field non-zero, exported in 1972.
    let (h, recs) = packet(&realworld_bytes(&dir, "netflow_parser-it_parses_v5.bin"));
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].protocol, 8);
    assert!(
        (63_072_000..94_694_400).contains(&h.unix_secs),
        "{}",
        h.unix_secs
    );

    // python-netflow-v9-softflowd tests/lib.py PACKET_V5: 3 records.
    assert_eq!(
        packet(&realworld_bytes(&dir, "pynetflow-packet-v5.bin"))
            .1
            .len(),
        3
    );
}

/// flow-tools' own ft file (flow-import output, stream v3, little endian,
/// uncompressed, streaming header) as py3flowtools' tests read it.
#[test]
fn realworld_py3flowtools_ft_file_reads_as_py3flowtools_asserts() {
    let Some(dir) = realworld() else { return };
    let bytes = realworld_bytes(&dir, "py3flowtools-flowtools.ft");
    let mut r = FtReader::new(&bytes[..]).unwrap_or_else(|e| panic!("{e}"));
    let flows: Vec<Record> = r.read_all().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.warning(), None);
    // test_length, test_ip_addresses, test_fields (file order).
    assert_eq!(flows.len(), 20);
    assert_eq!(flows[1].src_ip().to_string(), "192.0.2.121");
    assert_eq!(flows[2].src_addr, 3_221_225_999);
    assert_eq!(flows[3].dst_ip().to_string(), "192.0.2.222");
    assert_eq!(flows[4].dst_addr, 3_221_225_995);
    assert_eq!(flows[1].octets, 13_156);
    assert_eq!(flows[2].packets, 16);
    assert_eq!(flows[3].src_port, 954);
    assert_eq!(flows[4].dst_port, 42_777);
    assert_eq!((flows[5].protocol, flows[6].protocol), (6, 17));
    // test_first_calc / test_last_calc: the 0th, 10th and last flow by
    // start (and by end). py3flowtools adds the export time's microseconds;
    // flow-tools' millisecond times are those values truncated.
    let ms = |s: &str| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap()
            .and_utc()
            .timestamp_millis()
    };
    let mut starts: Vec<i64> = flows.iter().map(Record::start_ms).collect();
    let mut ends: Vec<i64> = flows.iter().map(Record::end_ms).collect();
    starts.sort_unstable();
    ends.sort_unstable();
    assert_eq!(
        [starts[0], starts[10], starts[19]],
        [
            ms("2014-12-05 00:26:53.082"),
            ms("2014-12-05 01:59:37.226"),
            ms("2014-12-05 19:28:43.999")
        ]
    );
    assert_eq!(
        [ends[0], ends[10], ends[19]],
        [
            ms("2014-12-05 00:26:53.089"),
            ms("2014-12-05 01:59:37.231"),
            ms("2014-12-05 19:28:44.001")
        ]
    );
}
