//! Native flow file write and full-scan throughput over ~1M synthetic,
//! realistic records; prints bytes/record once.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use formats::native::{NativeFile, NativeHeader, NativeWriter, Scratch, WriterOptions};
use formats::Record;

const N: usize = 1 << 20;

mod common;
use common::Rng;

/// Datagrams of up to 30 flows from 4 exporters, addresses from a few /16
/// pools, a service-port mix, heavy-tailed sizes, times increasing.
fn synthetic(n: usize) -> Vec<Record> {
    let mut g = Rng(7);
    let pools = [
        0x0a01_0000u32,
        0x0a02_0000,
        0xac10_0000,
        0xc0a8_0000,
        0x5db8_0000,
    ];
    let services = [80u16, 443, 53, 22, 25, 123, 3306, 8080];
    let mut out = Vec::with_capacity(n);
    let mut secs = 1_763_700_000u32;
    let mut uptime = [3_600_000u32, 86_400_000, 5_000, 4_294_000_000];
    while out.len() < n {
        let e = g.below(4) as usize;
        secs += (g.below(10) == 0) as u32;
        uptime[e] = uptime[e].wrapping_add(g.below(400) as u32);
        let nsecs = g.below(1000) as u32 * 1_000_000;
        for _ in 0..(1 + g.below(30)).min((n - out.len()) as u64) {
            let inside = pools[g.below(3) as usize] | (g.heavy(16) & 0xffff);
            let outside = if g.below(3) == 0 {
                pools[3 + g.below(2) as usize] | (g.next() as u32 & 0xffff)
            } else {
                g.next() as u32
            };
            let outbound = g.below(2) == 0;
            let (src_addr, dst_addr) = if outbound {
                (inside, outside)
            } else {
                (outside, inside)
            };
            let svc = services[(g.heavy(3) as usize - 1) % services.len()];
            let eph = 1024 + g.below(64_511) as u16;
            let (src_port, dst_port) = if outbound { (eph, svc) } else { (svc, eph) };
            let protocol = if svc == 53 || svc == 123 { 17 } else { 6 };
            let packets = g.heavy(20);
            let octets = packets.saturating_mul(40 + g.below(1460) as u32);
            let last = uptime[e].wrapping_sub(g.below(15_000) as u32);
            let first = last.wrapping_sub(if packets == 1 { 0 } else { g.heavy(21) });
            out.push(Record {
                unix_secs: secs,
                unix_nsecs: nsecs,
                sys_uptime_ms: uptime[e],
                exporter: 0x7f00_0001 + e as u32,
                src_addr,
                dst_addr,
                next_hop: if outbound { 0x0a00_0001 + e as u32 } else { 0 },
                input_if: if outbound { 1 + g.below(4) as u16 } else { 10 },
                output_if: if outbound { 10 } else { 1 + g.below(4) as u16 },
                packets,
                octets,
                first_uptime_ms: first,
                last_uptime_ms: last,
                src_port,
                dst_port,
                protocol,
                tos: if g.below(10) == 0 { 0xb8 } else { 0 },
                tcp_flags: if protocol == 6 {
                    [0x1b, 0x02, 0x1f, 0x12, 0x10][g.below(5) as usize]
                } else {
                    0
                },
                engine_type: 0,
                engine_id: e as u8,
                src_mask: if outbound { 16 } else { 24 },
                dst_mask: if outbound { 24 } else { 16 },
                src_as: if outbound {
                    0
                } else {
                    64_500 + g.below(20) as u16
                },
                dst_as: if outbound {
                    64_500 + g.below(20) as u16
                } else {
                    0
                },
            });
        }
    }
    out
}

fn write(rs: &[Record], opts: WriterOptions) -> Vec<u8> {
    let mut w = NativeWriter::new(
        Vec::with_capacity(rs.len() * 16),
        &NativeHeader::default(),
        opts,
    )
    .expect("writer");
    w.write_all(rs).expect("write");
    w.finish().expect("finish")
}

/// CPU time of this thread in ns (Linux), so that figures stay meaningful
/// on a shared machine; None elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Prints records/s of on-CPU time for `f` run `iters` times: over all
/// runs, and for the fastest run (the least disturbed by other processes on
/// a shared machine, so the better figure for A/B comparisons).
///
/// `NATIVE_BENCH_ONLY=write` (or `scan`) runs only the matching figures,
/// for profiling one side.
fn cpu_rate(what: &str, iters: u32, mut f: impl FnMut()) {
    if let Ok(only) = std::env::var("NATIVE_BENCH_ONLY") {
        if !what.starts_with(only.as_str()) {
            return;
        }
    }
    let (Some(t0), w0) = (thread_cpu_ns(), std::time::Instant::now()) else {
        return;
    };
    let mut best = u64::MAX;
    let mut last = t0;
    for _ in 0..iters {
        f();
        let Some(t) = thread_cpu_ns() else { return };
        best = best.min(t - last);
        last = t;
    }
    let wall = w0.elapsed();
    let recs = N as f64 * iters as f64;
    println!(
        "native/{what}: {:.2} M records/s of CPU time, best run {:.2} ({:.2} M records/s wall)",
        recs / ((last - t0) as f64 / 1e9) / 1e6,
        N as f64 / (best as f64 / 1e9) / 1e6,
        recs / wall.as_secs_f64() / 1e6
    );
}

fn bench(c: &mut Criterion) {
    let rs = synthetic(N);
    let bytes = write(&rs, WriterOptions::default());
    println!(
        "native: {} records, {} bytes, {:.2} bytes/record (raw records are 64)",
        rs.len(),
        bytes.len(),
        bytes.len() as f64 / rs.len() as f64
    );
    let file = NativeFile::open(bytes).expect("open");
    cpu_rate("write", 5, || {
        black_box(write(&rs, WriterOptions::default()));
    });
    for block_records in [16384, 32768, 65536] {
        let opts = WriterOptions {
            block_records,
            ..WriterOptions::default()
        };
        let len = write(&rs, opts).len();
        cpu_rate(
            &format!(
                "write ({block_records}-record blocks, {:.2} B/record)",
                len as f64 / N as f64
            ),
            5,
            || {
                black_box(write(&rs, opts));
            },
        );
    }
    let mut out = Vec::with_capacity(N);
    let mut scratch = Scratch::new();
    // `NATIVE_BENCH_LEVELS=1,3` adds scan figures at other zstd levels.
    let levels: Vec<i32> = std::env::var("NATIVE_BENCH_LEVELS")
        .ok()
        .map(|l| l.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_default();
    let variants = [(8192, None), (65536, None)]
        .into_iter()
        .chain(levels.into_iter().map(|l| (8192, Some(l))));
    for (block_records, level) in variants {
        let opts = WriterOptions {
            block_records,
            zstd_level: level.unwrap_or(WriterOptions::default().zstd_level),
        };
        if level.is_some() {
            cpu_rate(
                &format!("write (zstd level {})", opts.zstd_level),
                2,
                || {
                    black_box(write(&rs, opts));
                },
            );
        }
        let f = NativeFile::open(write(&rs, opts)).expect("open");
        let bytes = f.bytes().len();
        cpu_rate(
            &format!(
                "scan ({block_records}-record blocks, zstd level {}, {:.2} B/record)",
                opts.zstd_level,
                bytes as f64 / N as f64
            ),
            10,
            || {
                out.clear();
                for blk in f.blocks() {
                    f.decode_block_with(blk, &mut scratch, &mut out)
                        .expect("decode");
                }
                black_box(out.len());
            },
        );
    }

    let mut g = c.benchmark_group("native");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    g.bench_function("write", |b| {
        b.iter(|| black_box(write(&rs, WriterOptions::default())))
    });
    g.bench_function("scan", |b| {
        b.iter(|| {
            out.clear();
            for blk in file.blocks() {
                file.decode_block_with(blk, &mut scratch, &mut out)
                    .expect("decode");
            }
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
