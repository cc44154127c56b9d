//! The batch API (`Filter::select`, `count`, `retain`) agrees with
//! `Filter::matches` record by record, on every shape of test.

use filterlang::compile_expr;
use formats::Record;

use crate::util::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Field values drawn from small pools, so every test sees hits and misses.
fn records(n: usize) -> Vec<Record> {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let addrs = [
        ip("10.0.0.1"),
        ip("10.0.0.2"),
        ip("10.1.2.3"),
        ip("198.18.7.25"),
        ip("198.18.7.26"),
        ip("198.18.7.9"),
        ip("192.168.1.1"),
        0,
        u32::MAX,
    ];
    (0..n)
        .map(|_| Record {
            unix_secs: 1_120_668_908,
            sys_uptime_ms: 3_600_000,
            src_addr: if rng.next() % 3 == 0 {
                rng.next() as u32
            } else {
                rng.pick(&addrs)
            },
            dst_addr: rng.pick(&addrs),
            next_hop: rng.pick(&addrs),
            exporter: rng.pick(&addrs),
            src_port: rng.pick(&[25u16, 80, 443, 1024, 5000, 0, 65535]),
            dst_port: rng.pick(&[25u16, 80, 443, 1024, 5000, 0, 65535]),
            protocol: rng.pick(&[6u8, 17, 1, 47, 0, 255]),
            tos: rng.pick(&[0u8, 0x10, 0xb8]),
            tcp_flags: (rng.next() % 64) as u8,
            src_as: rng.pick(&[0u16, 100, 200, 65000]),
            dst_as: rng.pick(&[0u16, 100, 200, 65000]),
            input_if: rng.pick(&[0u16, 1, 2, 3]),
            output_if: rng.pick(&[0u16, 1, 2, 3]),
            packets: rng.pick(&[1u32, 2, 100, 5000]),
            octets: rng.pick(&[40u32, 1500, 100_000]),
            first_uptime_ms: 3_500_000,
            last_uptime_ms: rng.pick(&[3_500_000u32, 3_590_000]),
            src_mask: rng.pick(&[0u8, 8, 24, 32]),
            dst_mask: rng.pick(&[0u8, 8, 24, 32]),
            ..Record::default()
        })
        .collect()
}

fn check(name: &str, f: &filterlang::Filter, recs: &[Record]) {
    let want: Vec<bool> = recs.iter().map(|r| f.matches(r)).collect();
    let mut mask = Vec::new();
    f.select(recs, &mut mask);
    assert_eq!(mask.len(), recs.len().div_ceil(64), "{name}");
    let got: Vec<bool> = (0..recs.len())
        .map(|i| mask[i / 64] >> (i % 64) & 1 != 0)
        .collect();
    assert_eq!(got, want, "{name}: select");
    assert_eq!(
        f.count(recs),
        want.iter().filter(|&&b| b).count(),
        "{name}: count"
    );
    let mut kept = recs.to_vec();
    f.retain(&mut kept);
    let expect: Vec<Record> = recs
        .iter()
        .zip(&want)
        .filter(|(_, &b)| b)
        .map(|(r, _)| *r)
        .collect();
    assert_eq!(kept, expect, "{name}: retain");
}

const CONFIG: &str = "
filter-primitive TCP
 type ip-protocol
 permit tcp
filter-primitive notcp
 type ip-protocol
 deny 6
 default permit
filter-primitive someprot
 type ip-protocol
 permit 6,17,47
filter-primitive lowports
 type ip-port
 permit 0-1023
filter-primitive ports
 type ip-port
 permit 25,443,5000
filter-primitive smtp
 type ip-port
 permit 25
filter-primitive one
 type ip-address
 permit 10.0.0.1
filter-primitive oneno
 type ip-address
 deny 10.0.0.1
 default permit
filter-primitive two
 type ip-address
 permit 198.18.7.25
 permit 198.18.7.26
filter-primitive twomixed
 type ip-address
 permit 198.18.7.25
 deny 10.0.0.2
 default permit
filter-primitive three
 type ip-address
 permit 198.18.7.25
 permit 10.0.0.2
 deny 0.0.0.0
filter-primitive many
 type ip-address
 permit 10.0.0.1
 permit 10.0.0.2
 permit 10.0.0.3
 permit 10.0.0.4
 permit 10.0.0.5
 permit 10.0.0.6
 permit 10.0.0.7
 permit 10.0.0.8
 permit 10.0.0.9
 permit 10.1.2.3
filter-primitive nets
 type ip-address-prefix
 permit 10.0.0.0/8
 deny 10.1.0.0/16
 permit 198.18.7.0/24
 deny 198.18.7.25/32
filter-primitive notmail
 type ip-address-mask
 deny 198.18.7.25 255.255.255.255
 permit 198.18.7.0 255.255.255.0
filter-primitive flags
 type ip-tcp-flags
 mask 0x3f
 permit 0x29,0x3f
 permit 0x02
filter-primitive syn
 type ip-tcp-flags
 mask 0x02
 permit 0x02
filter-primitive big
 type counter
 permit gt 100
filter-primitive ases
 type as
 permit 100,65000
filter-primitive ifs
 type ifindex
 permit 1
filter-primitive lowdelay
 type ip-tos
 permit 0x10
filter-primitive masklen
 type ip-address-prefix-len
 permit 24
filter-definition allmail
 match ip-protocol TCP
 match ip-destination-port smtp
 match ip-destination-address two
 or
 match ip-protocol TCP
 match ip-source-address two
 match ip-destination-port smtp
filter-definition mixed
 match ip-source-address nets
 match ip-protocol someprot
 match ip-destination-port ports
 or
 match ip-destination-address notmail
 match octets big
 or
 match ip-tcp-flags flags
 match ip-source-port lowports
filter-definition inv
 invert
 match ip-protocol notcp
 match ip-source-address many
 or
 match ip-nexthop-address three
filter-definition addrs
 match ip-exporter-address one
 match ip-destination-address oneno
 or
 match ip-source-address twomixed
 match ip-tcp-flags syn
filter-definition misc
 match source-as ases
 match input-interface ifs
 or
 match ip-tos lowdelay
 or
 match destination-as ases
 match output-interface ifs
 match ip-source-address-prefix-len masklen
filter-definition empty
";

#[test]
fn batch_agrees_with_matches() {
    let (cfg, _) = load(CONFIG).unwrap_or_else(|e| panic!("{e}"));
    let recs = records(1000);
    let names: Vec<String> = cfg.definition_names().map(String::from).collect();
    assert!(names.len() >= 6, "{names:?}");
    for name in &names {
        let f = cfg.definition(name).unwrap_or_else(|e| panic!("{e}"));
        for len in [0, 1, 63, 64, 65, 130, 1000] {
            check(name, &f, &recs[..len]);
        }
    }
    let oreilly = std::fs::read_to_string(fixture("filters/oreilly.cfg")).unwrap();
    let (cfg, _) = load(&oreilly).unwrap_or_else(|e| panic!("{e}"));
    for name in cfg.definition_names() {
        let f = cfg.definition(name).unwrap_or_else(|e| panic!("{e}"));
        check(name, &f, &recs);
    }
    for expr in [
        "6 ne $protocol && 17 ne $protocol && 1 ne $protocol",
        "6 eq $protocol || 25 eq $dstport",
        "!(6 eq $protocol && 1000 lt $srcport)",
        "\"10.0.0.0/8\" eq $srcip",
        "100 lt $octets && 2 ge $packets",
        "$srcport gt $dstport",
        "25 eq $dstport",
    ] {
        let f = compile_expr(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        check(expr, &f, &recs);
    }
}

#[test]
fn batch_with_random_sample_keeps_sampling() {
    let text = format!(
        "{CONFIG}\nfilter-primitive s\n type rate\n permit 10\nfilter-definition sampled\n match ip-protocol TCP\n match random-sample s\n"
    );
    let (cfg, _) = load(&text).unwrap_or_else(|e| panic!("{e}"));
    let f = cfg.definition("sampled").unwrap_or_else(|e| panic!("{e}"));
    let mut recs = records(20_000);
    let tcp = recs.iter().filter(|r| r.protocol == 6).count();
    f.set_seed(7);
    let mut mask = Vec::new();
    f.select(&recs, &mut mask);
    f.set_seed(7);
    let want: Vec<bool> = recs.iter().map(|r| f.matches(r)).collect();
    let got: Vec<bool> = (0..recs.len())
        .map(|i| mask[i / 64] >> (i % 64) & 1 != 0)
        .collect();
    assert_eq!(got, want);
    f.retain(&mut recs);
    assert!(recs.iter().all(|r| r.protocol == 6));
    let n = recs.len();
    assert!(
        n * 10 > tcp * 7 / 10 && n * 10 < tcp * 13 / 10,
        "{n} of {tcp}"
    );
}
