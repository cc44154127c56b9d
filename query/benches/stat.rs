//! Accumulation throughput of flow-stat reports (records per second).
//!
//! Synthetic records with a realistic spread: ~20k source addresses,
//! ~4k destinations, random ports, 90 % TCP/UDP. Run with
//! `cargo bench -p query --bench stat`, or with `STAT_CPU=1` for
//! throughput per CPU second over 20 M records (see [`cpu_report`]).

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use formats::Record;
use query::stat::{self, StatConfig};

const N: usize = 1 << 20;

fn records() -> Vec<Record> {
    let mut x: u64 = 0x1234_5678_9abc_def0;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..N)
        .map(|_| {
            let a = next();
            let b = next();
            Record {
                src_addr: 0x0A00_0000 | (a % 20_000) as u32,
                dst_addr: 0xC000_0000 | ((a >> 20) % 4_000) as u32,
                src_port: (b >> 16) as u16,
                dst_port: [80, 443, 53, 25, 22][(b % 5) as usize],
                protocol: if b % 10 == 0 {
                    1
                } else if b % 3 == 0 {
                    17
                } else {
                    6
                },
                packets: 1 + (b >> 40) as u32 % 100,
                octets: 40 + (b >> 32) as u32 % 100_000,
                first_uptime_ms: (a >> 32) as u32,
                last_uptime_ms: (a >> 32) as u32 + (b % 60_000) as u32,
                ..Record::default()
            }
        })
        .collect()
}

fn accumulate(c: &mut Criterion) {
    let recs = records();
    let mut g = c.benchmark_group("stat_accumulate");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    for format in [0u32, 5, 9, 10, 11, 12] {
        let cfg = StatConfig::new(format);
        g.bench_with_input(BenchmarkId::from_parameter(format), &recs, |b, recs| {
            b.iter(|| {
                let mut r = stat::new_report(&cfg).expect("format");
                for (n, chunk) in recs.chunks(4096).enumerate() {
                    r.add_batch((n * 4096) as u64, chunk);
                }
                r
            })
        });
    }
    g.finish();
}

/// CPU seconds used by this thread (immune to other processes competing
/// for the cores, unlike criterion's wall time).
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// `STAT_CPU=1 cargo bench -p query --bench stat`: 20 M records per
/// format, throughput per CPU second of one thread.
fn cpu_report() {
    let recs = records();
    for format in [0u32, 5, 9, 10, 11, 12] {
        let cfg = StatConfig::new(format);
        let t0 = thread_cpu_seconds();
        let mut r = stat::new_report(&cfg).expect("format");
        let rounds = 20;
        for round in 0..rounds {
            for (n, chunk) in recs.chunks(4096).enumerate() {
                r.add_batch((round * N + n * 4096) as u64, chunk);
            }
        }
        let dt = thread_cpu_seconds() - t0;
        std::hint::black_box(&r);
        let total = (rounds * N) as f64;
        println!(
            "format {format:>2}: {:.1} M records / CPU second ({:.2} ns/record)",
            total / dt / 1e6,
            dt / total * 1e9
        );
    }
}

criterion_group!(benches, accumulate);

fn main() {
    if std::env::var_os("STAT_CPU").is_some() {
        cpu_report();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
