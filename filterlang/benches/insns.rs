//! Instruction-count / CPU-time harness for A/B work on a shared machine:
//! `insns <allmail|prefix|expr> <one|batch> <passes>` filters the
//! criterion bench's records `passes` times and prints the count and the
//! thread's CPU time per record (from /proc/thread-self/schedstat). Run it
//! under `valgrind --tool=callgrind` with 0 and N passes and divide the
//! difference by N * 4096 for instructions per record.

use std::hint::black_box;

#[path = "filter.rs"]
#[allow(dead_code)]
mod common;

fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("allmail", String::as_str);
    let mode = args.get(2).map_or("one", String::as_str);
    let passes: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let records = common::records();
    let (allmail, prefixes, expr) = common::filters();
    let f = match which {
        "allmail" => allmail,
        "prefix" => prefixes,
        _ => expr,
    };
    let start = cpu_ns();
    let mut total = 0usize;
    for _ in 0..passes {
        total += match mode {
            "batch" => common::count_batch(&f, black_box(&records)),
            _ => common::count_one(&f, black_box(&records)),
        };
    }
    let ns = cpu_ns() - start;
    let n = (passes * records.len()).max(1);
    println!(
        "{which} {mode}: {total} kept, {:.2} ns/record, {:.1} M records/s CPU",
        ns as f64 / n as f64,
        n as f64 * 1e3 / ns.max(1) as f64
    );
}
