//! Filter::matches throughput on a realistic record mix: the O'Reilly
//! `allmail` definition, a 1,000-entry ip-address-prefix primitive, and
//! an inline expression. Reported as records per second.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use filterlang::{compile_expr, Filter, FilterConfig, ParseOptions, Symbols};
use formats::Record;

/// Records per pass: a batch as a reader would hand over (fits in L2, so the
/// numbers measure the filter rather than memory bandwidth).
const N: usize = 4_096;

/// xorshift64 for reproducible data.
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

/// A mix like a small hosting network's: mostly TCP (web, mail, ssh,
/// high ports), some UDP (DNS, NTP), a little ICMP; a quarter of the
/// flows touch the hosting net 198.18.7.0/24 and its mail servers.
pub(crate) fn records() -> Vec<Record> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mail = [0xC612_0719u32, 0xC612_071A];
    (0..N)
        .map(|_| {
            let protocol = rng.pick(&[6u8, 6, 6, 6, 6, 6, 6, 17, 17, 1]);
            let well_known = rng.pick(&[25u16, 80, 443, 22, 53, 123, 110, 8080]);
            let high = 1024 + (rng.next() % 64_000) as u16;
            let inside = 0xC612_0700 | (rng.next() % 256) as u32;
            let outside = rng.next() as u32;
            let (src, dst, sport, dport) = match rng.next() % 8 {
                0 => (outside, rng.pick(&mail), high, 25),
                1 => (rng.pick(&mail), outside, high, 25),
                2 => (outside, inside, high, well_known),
                3 => (inside, outside, well_known, high),
                _ => (outside, rng.next() as u32, high, well_known),
            };
            Record {
                unix_secs: 1_120_668_908,
                sys_uptime_ms: 3_600_000,
                exporter: 0x7F00_0002,
                src_addr: src,
                dst_addr: dst,
                next_hop: 0x0AFF_0001,
                input_if: 1,
                output_if: 2,
                packets: 1 + (rng.next() % 100) as u32,
                octets: 40 + (rng.next() % 100_000) as u32,
                first_uptime_ms: 3_500_000,
                last_uptime_ms: 3_590_000,
                src_port: sport,
                dst_port: dport,
                protocol,
                tcp_flags: (rng.next() % 64) as u8,
                src_mask: 24,
                dst_mask: 24,
                ..Record::default()
            }
        })
        .collect()
}

fn config(text: &str) -> FilterConfig {
    let options = ParseOptions {
        now: Some(1_120_668_908),
        zone: filterlang::Zone::UTC,
    };
    match FilterConfig::parse_with(text, "bench.cfg", &[], &Symbols::builtin(), &options) {
        Ok((cfg, _)) => cfg,
        Err(e) => panic!("{e}"),
    }
}

fn prefix_config(rng: &mut Rng) -> String {
    let mut text = String::from("filter-primitive nets\n type ip-address-prefix\n");
    for i in 0..1000 {
        let len = rng.pick(&[8u32, 12, 16, 16, 20, 24, 24, 24, 28, 32]);
        let addr = (rng.next() as u32) & (u32::MAX << (32 - len));
        let mode = if i % 5 == 0 { "deny" } else { "permit" };
        text.push_str(&format!(
            " {mode} {}/{len}\n",
            std::net::Ipv4Addr::from(addr)
        ));
    }
    text.push_str("filter-definition d\n match src-ip-addr nets\n");
    text
}

/// The three benchmarked filters: allmail, the prefix table, the expression.
pub(crate) fn filters() -> (Filter, Filter, Filter) {
    let oreilly = include_str!("../../testdata/filters/oreilly.cfg");
    let allmail = match config(oreilly).definition("allmail") {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let mut rng = Rng(42);
    let prefixes = match config(&prefix_config(&mut rng)).definition("d") {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let expr = match compile_expr("6 ne $protocol && 17 ne $protocol && 1 ne $protocol") {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    (allmail, prefixes, expr)
}

/// Records kept, one `matches` call per record.
pub(crate) fn count_one(f: &Filter, records: &[Record]) -> usize {
    records.iter().filter(|r| f.matches(r)).count()
}

/// Records kept, through the batch API.
pub(crate) fn count_batch(f: &Filter, records: &[Record]) -> usize {
    f.count(records)
}

fn bench(c: &mut Criterion) {
    let records = records();
    let (allmail, prefixes, expr) = filters();
    let mut group = c.benchmark_group("matches");
    group.throughput(Throughput::Elements(records.len() as u64));
    for (name, f) in [
        ("allmail", &allmail),
        ("prefix_1000", &prefixes),
        ("expr_not_tcp_udp_icmp", &expr),
    ] {
        group.bench_function(name, |b| b.iter(|| count_one(f, black_box(&records))));
        group.bench_function(format!("{name}_batch"), |b| {
            b.iter(|| count_batch(f, black_box(&records)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
