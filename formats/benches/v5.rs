//! NetFlow v5 datagram decode: `decode` + `push_records` of realistic
//! 30-record datagrams, throughput in records.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use formats::v5::{self, Header, WireRecord, MAX_RECORDS};
use formats::Record;

mod common;
use common::Rng;

/// A full datagram as a busy router sends it: 30 flows, a port mix,
/// heavy-tailed counters, First/Last shortly before the header uptime.
fn datagram(g: &mut Rng, seq: u32) -> Vec<u8> {
    let uptime = 86_400_000 + g.below(1_000_000) as u32;
    let h = Header {
        count: MAX_RECORDS as u16,
        sys_uptime_ms: uptime,
        unix_secs: 1_767_225_600 + g.below(3600) as u32,
        unix_nsecs: g.below(1_000_000_000) as u32,
        flow_sequence: seq,
        engine_type: 0,
        engine_id: 1,
        sampling: 0,
    };
    let ports = [443u16, 80, 53, 25, 22, 123, 8080, 993];
    let records: Vec<WireRecord> = (0..MAX_RECORDS)
        .map(|_| {
            let packets = 1 + (1u64 << g.below(12)) as u32 + g.below(8) as u32;
            let last = uptime - g.below(15_000) as u32;
            WireRecord {
                src_addr: 0x0a00_0000 | g.below(1 << 16) as u32,
                dst_addr: 0xc633_0000 | g.below(1 << 16) as u32,
                next_hop: 0xc000_0201,
                input_if: 1 + g.below(4) as u16,
                output_if: 1 + g.below(4) as u16,
                packets,
                octets: packets * (40 + g.below(1460) as u32),
                first_uptime_ms: last - g.below(60_000) as u32,
                last_uptime_ms: last,
                src_port: 1024 + g.below(60_000) as u16,
                dst_port: ports[g.below(ports.len() as u64) as usize],
                tcp_flags: 0x1b,
                protocol: 6,
                src_as: g.below(65_000) as u16,
                dst_as: 0,
                src_mask: 16,
                dst_mask: 24,
                ..WireRecord::default()
            }
        })
        .collect();
    v5::encode(&h, &records).expect("30 records encode")
}

fn bench(c: &mut Criterion) {
    let mut g = Rng(42);
    let datagrams: Vec<Vec<u8>> = (0..64).map(|i| datagram(&mut g, i * 30)).collect();
    let per_iter = (datagrams.len() * MAX_RECORDS) as u64;
    let mut group = c.benchmark_group("v5");
    group.throughput(Throughput::Elements(per_iter));
    let mut out: Vec<Record> = Vec::with_capacity(per_iter as usize);
    group.bench_function("decode_push_records", |b| {
        b.iter(|| {
            out.clear();
            for d in &datagrams {
                let p = v5::decode(black_box(d)).expect("valid datagram");
                p.push_records(0x7f00_0002, &mut out);
            }
            black_box(out.len())
        })
    });
    group.bench_function("decode_header_only", |b| {
        b.iter(|| {
            let mut n = 0u32;
            for d in &datagrams {
                n += v5::decode(black_box(d)).map_or(0, |p| p.header.count as u32);
            }
            black_box(n)
        })
    });
    let headers: Vec<(Header, Vec<WireRecord>)> = datagrams
        .iter()
        .map(|d| {
            let p = v5::decode(d).expect("valid datagram");
            (p.header, p.records().collect())
        })
        .collect();
    let mut buf = Vec::with_capacity(v5::MAX_DATAGRAM_LEN);
    group.bench_function("encode_into", |b| {
        b.iter(|| {
            let mut n = 0;
            for (h, rs) in &headers {
                v5::encode_into(h, black_box(rs), &mut buf).expect("encodes");
                n += buf.len();
            }
            black_box(n)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
