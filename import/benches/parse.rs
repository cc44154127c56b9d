//! Throughput of the kernel LOG line parser (header + body), lines/s.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const LINES: [&[u8]; 3] = [
    b"Dec 31 23:43:56 gw01 kernel: [8412581.028871] New Connection: IN=eth1 OUT=eth0 MAC=00:1b:21:3a:4f:10:52:54:00:10:28:5a:08:00 SRC=192.168.10.40 DST=192.0.2.123 LEN=76 TOS=0x00 PREC=0x00 TTL=63 ID=51337 DF PROTO=UDP SPT=60923 DPT=123 LEN=56 ",
    b"Dec 31 23:40:14 web03 kernel: NEW-OUTBOUND IN= OUT=ens3 SRC=10.20.0.13 DST=10.20.0.31 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=16879 DF PROTO=TCP SPT=39245 DPT=6379 WINDOW=64240 RES=0x00 SYN URGP=0 UID=48 GID=48 ",
    b"2024-03-31T01:40:59.671328+01:00 web05 kernel: NEW-OUTBOUND IN= OUT=eth0 SRC=10.30.0.15 DST=203.0.113.25 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=37987 DF PROTO=TCP SPT=33214 DPT=587 WINDOW=64240 RES=0x00 SYN URGP=0 ",
];

fn parse_line(l: &[u8]) -> Option<u16> {
    let h = import::syslog::parse_header(l)?;
    let (_, msg) = import::syslog::split_tag(h.rest)?;
    let (_, msg) = import::syslog::strip_uptime(msg);
    import::iptables::parse(msg).ok().map(|p| p.dst_port)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("log_line");
    g.throughput(Throughput::Elements(LINES.len() as u64));
    g.bench_function("header+body", |b| {
        b.iter(|| {
            let mut n = 0u32;
            for l in LINES {
                n += parse_line(std::hint::black_box(l)).unwrap_or(0) as u32;
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
