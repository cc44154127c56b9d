//! ft stream reading: `FtReader` over ~1M records held in memory,
//! uncompressed and zlib-compressed, throughput in records.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use formats::ft::{ByteOrder, FtHeader, FtReader, FtWriter, FLAG_STREAMING};
use formats::Record;

const N: usize = 1 << 20;

mod common;
use common::Rng;

/// Datagram-shaped records: 30 per header time, 4 exporters, popular hosts
/// and ports, heavy-tailed counters.
fn synthetic(n: usize) -> Vec<Record> {
    let mut g = Rng(9);
    let ports = [443u16, 443, 443, 80, 80, 53, 25, 22, 123, 8080, 993, 3389];
    let mut out = Vec::with_capacity(n);
    let mut t_ms = 1_767_225_600_000u64;
    let boot = [86_400_000u64, 3_000_000_000, 400_000, 1_000_000_000];
    while out.len() < n {
        let e = g.below(4) as usize;
        t_ms += g.below(30);
        let uptime = (t_ms - 1_767_000_000_000 + boot[e]) as u32;
        for _ in 0..30.min(n - out.len()) {
            let packets = 1 + g.zipf(16);
            let last = uptime.wrapping_sub(g.below(15_000) as u32);
            out.push(Record {
                unix_secs: (t_ms / 1000) as u32,
                unix_nsecs: (t_ms % 1000) as u32 * 1_000_000,
                sys_uptime_ms: uptime,
                exporter: 0x7f00_0002 + e as u32,
                src_addr: 0x0a00_0000 | g.zipf(16),
                dst_addr: 0xc633_0000 | g.zipf(16),
                next_hop: 0,
                input_if: 1 + e as u16,
                output_if: 2,
                packets,
                octets: packets * (40 + g.below(1460) as u32),
                first_uptime_ms: last.wrapping_sub(g.zipf(16)),
                last_uptime_ms: last,
                src_port: 1024 + g.below(60_000) as u16,
                dst_port: ports[g.below(ports.len() as u64) as usize],
                protocol: 6,
                tcp_flags: 0x1b,
                src_mask: 16,
                dst_mask: 24,
                src_as: g.zipf(16) as u16,
                ..Record::default()
            });
        }
    }
    out
}

fn stream(records: &[Record], zlib: Option<u32>) -> Vec<u8> {
    let h = FtHeader {
        byte_order: ByteOrder::Little,
        export_version: Some(5),
        flags: Some(FLAG_STREAMING),
        ..FtHeader::default()
    };
    let mut w = FtWriter::new(Vec::new(), &h, zlib).expect("header");
    w.write_all(records).expect("records");
    w.finish().expect("finish")
}

fn bench(c: &mut Criterion) {
    let records = synthetic(N);
    let plain = stream(&records, None);
    let zlib = stream(&records, Some(6));
    eprintln!(
        "ft bench: {} records, {} bytes plain, {} bytes zlib ({:.1} bytes/record)",
        N,
        plain.len(),
        zlib.len(),
        zlib.len() as f64 / N as f64
    );
    let mut group = c.benchmark_group("ft_read");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    let mut out: Vec<Record> = Vec::with_capacity(8192);
    for (name, bytes) in [("uncompressed", &plain), ("zlib", &zlib)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut r = FtReader::new(black_box(&bytes[..])).expect("header");
                let mut n = 0usize;
                loop {
                    out.clear();
                    let k = r.read_batch(&mut out, 8192).expect("records");
                    if k == 0 {
                        break;
                    }
                    n += k;
                }
                assert_eq!(n, N);
                black_box(n)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
