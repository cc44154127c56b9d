//! flow-gen: deterministic synthetic NetFlow v5 flows for tests and
//! benchmarks.
//!
//! The [`Generator`] is a pure function of its [`GenConfig`] and a datagram
//! index: datagram `k` (flows `30k .. 30k+30`) is produced from a PRNG
//! seeded with `(seed, k)`, so any range can be generated independently (in
//! parallel, or skipping ahead) and the output never depends on batch sizes.
//!
//! The model aims at data whose compression ratios and top-N reports mean
//! something: a few inside networks and a synthetic Internet of a few
//! hundred prefixes with AS numbers, Zipf-like popularity of networks and
//! hosts, a protocol/port mix (TCP about 80 %, UDP 17 %, ICMP, GRE/ESP),
//! request and reply flows, heavy-tailed packet counts, packet sizes of
//! 40..1500 bytes and durations tied to packet counts. Every exporter has a
//! boot time; header times (`unix_secs`, `unix_nsecs`, `sys_uptime_ms`) and
//! `First`/`Last` are what a real v5 exporter sending 30 records per
//! datagram would produce. [`run`] writes the flows as an ft stream, an ft
//! file, a native file, or one native file per 5-minute slot.
//!
//! No networking here; the only clock is [`GenConfig::start_ns`].

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use formats::archive::{
    nest_dir, ArchiveError, FileKind, FileName, Op, Schedule, Slot, TmpFile, DEFAULT_PERIOD,
};
use formats::ft::{ByteOrder, FtError, FtHeader, FtWriter, FLAG_STREAMING};
use formats::native::{NativeHeader, NativeWriter, WriterOptions};
use formats::time::Zone;
use formats::Record;
use rayon::prelude::*;

use crate::Error;

/// Flows per export datagram (the v5 maximum, what busy exporters send).
pub const FLOWS_PER_DATAGRAM: usize = 30;

/// Flows generated per parallel task (a multiple of [`FLOWS_PER_DATAGRAM`]).
const PAR_CHUNK: usize = FLOWS_PER_DATAGRAM * 128;

/// Default `--seed`.
pub const DEFAULT_SEED: u64 = 0x5eed_f10e;
/// Default `--count`.
pub const DEFAULT_COUNT: u64 = 100_000;
/// Default `--rate` in flows per second.
pub const DEFAULT_RATE: f64 = 1_000.0;
/// Default `--start`: 2026-01-01 00:00:00 UTC.
pub const DEFAULT_START_SECS: u32 = 1_767_225_600;
/// Default number of exporters (127.0.0.2 ..).
pub const DEFAULT_EXPORTERS: u32 = 4;

// --------------------------------------------------------------------- PRNG

/// One step of splitmix64: a good 64-bit mixer, used to seed [`Rng`].
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256**: small, fast, and plenty random for synthetic data.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose state is filled from `seed` by splitmix64 (never
    /// all zero).
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        Rng {
            s: [
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
            ],
        }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform value in `0..n` (`n > 0`; Lemire's multiply-shift, bias
    /// below 2^-32, irrelevant here).
    #[inline]
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * n as u64) >> 32) as u32
    }

    /// A uniform value in `lo..=hi`.
    #[inline]
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }

    /// A uniform float in `(0, 1]` (never 0, so it can be a power base).
    #[inline]
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Zipf-like rank in `0..2^bits`: the octave `[2^(k-1), 2^k)` is chosen
    /// uniformly among `bits + 1`, then a value inside it. Rank 0 gets about
    /// `2 / (bits + 1)` of the draws; the probability of rank `r` falls off
    /// roughly as `1 / r`.
    #[inline]
    pub fn zipf_bits(&mut self, bits: u32) -> u32 {
        let k = self.below(bits + 1);
        let v = self.next_u64() as u32;
        if k == 0 {
            0
        } else {
            v & (u32::MAX >> (32 - k))
        }
    }

    /// Zipf-like rank in `0..n` (`n > 0`).
    #[inline]
    pub fn zipf(&mut self, n: u32) -> u32 {
        let bits = 32 - (n.max(2) - 1).leading_zeros();
        let r = self.zipf_bits(bits);
        if r < n {
            r
        } else {
            r - n
        }
    }
}

// ---------------------------------------------------------------- addresses

/// An IPv4 prefix such as `10.0.0.0/16` (host bits are cleared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    /// Network address, host order.
    pub addr: u32,
    /// Prefix length, 0..=32.
    pub len: u8,
}

impl Prefix {
    /// Parses `a.b.c.d/len` (a bare address is a /32).
    pub fn parse(s: &str) -> Result<Prefix, Error> {
        let s = s.trim();
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let ip: Ipv4Addr = a.parse().map_err(|_| Error::BadPrefixAddress {
            addr: a.to_string(),
            prefix: s.to_string(),
        })?;
        let len = match l {
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= 32 => n,
                _ => {
                    return Err(Error::BadPrefixLength {
                        len: l.to_string(),
                        prefix: s.to_string(),
                    })
                }
            },
            None => 32,
        };
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        Ok(Prefix {
            addr: u32::from(ip) & mask,
            len,
        })
    }

    /// Parses a comma-separated list of prefixes (at least one).
    pub fn parse_list(s: &str) -> Result<Vec<Prefix>, Error> {
        let v = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Prefix::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if v.is_empty() {
            return Err(Error::EmptyPrefixList(s.to_string()));
        }
        Ok(v)
    }
}

/// Which side of the exporters a network sits on; decides interfaces and
/// next hops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Inside,
    Outside,
}

/// One network of a pool.
#[derive(Clone, Debug)]
struct Net {
    base: u32,
    host_bits: u32,
    /// Prefix length reported in src_mask/dst_mask.
    mask: u8,
    asn: u16,
    /// Odd multiplier scattering popularity ranks over the host space.
    scatter: u32,
    side: Side,
}

impl Net {
    #[inline]
    fn host(&self, rng: &mut Rng) -> u32 {
        if self.host_bits == 0 {
            return self.base;
        }
        let size_mask = if self.host_bits >= 32 {
            u32::MAX
        } else {
            (1u32 << self.host_bits) - 1
        };
        let rank = rng.zipf_bits(self.host_bits);
        let mut h = rank
            .wrapping_mul(self.scatter)
            .wrapping_add(self.scatter >> 7)
            & size_mask;
        if self.host_bits >= 2 {
            // avoid the network and broadcast addresses
            if h == 0 {
                h = 1;
            } else if h == size_mask {
                h = size_mask - 1;
            }
        }
        self.base | h
    }
}

/// A set of networks with Zipf-like popularity in list order.
#[derive(Clone, Debug)]
struct Pool {
    nets: Vec<Net>,
}

impl Pool {
    #[inline]
    fn pick(&self, rng: &mut Rng) -> (u32, &Net) {
        let net = &self.nets[rng.zipf(self.nets.len() as u32) as usize];
        (net.host(rng), net)
    }

    fn from_prefixes(ps: &[Prefix], side: Side, seed: u64) -> Pool {
        let mut x = seed;
        let nets = ps
            .iter()
            .map(|p| Net {
                base: p.addr,
                host_bits: 32 - p.len as u32,
                mask: if side == Side::Inside {
                    p.len.max(24)
                } else {
                    p.len
                },
                asn: 0,
                scatter: (splitmix64(&mut x) as u32) | 1,
                side,
            })
            .collect();
        Pool { nets }
    }

    /// The default inside networks.
    fn default_inside(seed: u64) -> Pool {
        let ps = [
            "10.0.0.0/16",
            "10.1.0.0/16",
            "172.16.0.0/16",
            "192.168.0.0/20",
        ];
        let ps: Vec<Prefix> = ps.iter().filter_map(|p| Prefix::parse(p).ok()).collect();
        Pool::from_prefixes(&ps, Side::Inside, seed)
    }

    /// A synthetic Internet: public /16../24 prefixes, each with an AS.
    fn default_outside(seed: u64) -> Pool {
        let mut rng = Rng::new(seed ^ OUTSIDE_SEED);
        let mut nets = Vec::with_capacity(OUTSIDE_NETS);
        while nets.len() < OUTSIDE_NETS {
            let len = 16 + rng.below(9) as u8; // 16..=24
            let addr = (rng.next_u64() as u32) & (u32::MAX << (32 - len));
            if !is_public(addr) {
                continue;
            }
            nets.push(Net {
                base: addr,
                host_bits: 32 - len as u32,
                mask: len,
                asn: rng.range(1, 64_495) as u16,
                scatter: (rng.next_u64() as u32) | 1,
                side: Side::Outside,
            });
        }
        Pool { nets }
    }
}

/// Seed tweak for the synthetic Internet.
const OUTSIDE_SEED: u64 = 0x0075_1d3a_11ce_0001;

/// Prefixes in the synthetic Internet.
const OUTSIDE_NETS: usize = 256;

/// True for addresses outside the private, loopback, multicast and other
/// special ranges.
fn is_public(a: u32) -> bool {
    let o = a >> 24;
    let o2 = (a >> 16) & 0xff;
    !(o == 0
        || o == 10
        || o == 127
        || o >= 224
        || (o == 100 && (64..128).contains(&o2))
        || (o == 169 && o2 == 254)
        || (o == 172 && (16..32).contains(&o2))
        || (o == 192 && o2 == 168)
        || (o == 198 && (18..20).contains(&o2)))
}

// ----------------------------------------------------------------- services

/// How a service chooses its ports.
#[derive(Clone, Copy, Debug)]
enum Ports {
    /// Server port fixed, client ephemeral.
    Server(u16),
    /// Both ends ephemeral (peer to peer).
    HighBoth,
    /// RTP: both ends even ports in 16384..32767.
    Rtp,
    /// Port scan: SYN to any port, never answered.
    Scan,
    /// ICMP: type/code in dst_port.
    Icmp,
    /// No ports (GRE, ESP).
    None,
}

/// One entry of the protocol/port mix.
#[derive(Clone, Copy, Debug)]
struct Service {
    protocol: u8,
    ports: Ports,
    /// Weight in 1/1000.
    weight: u16,
    /// Packets: `1 + scale * (u^(-1/alpha) - 1)`, capped at `max_packets`.
    scale: f32,
    alpha: f32,
    max_packets: u32,
    /// Mean packet size range of client -> server flows.
    request: (u16, u16),
    /// Mean packet size range of server -> client flows.
    reply: (u16, u16),
    /// Share of reply flows in 1/100 (0: one-way traffic).
    reply_pct: u8,
    tos: u8,
}

const fn svc(
    protocol: u8,
    ports: Ports,
    weight: u16,
    scale: f32,
    alpha: f32,
    max_packets: u32,
) -> Service {
    Service {
        protocol,
        ports,
        weight,
        scale,
        alpha,
        max_packets,
        request: (52, 600),
        reply: (300, 1500),
        reply_pct: 50,
        tos: 0,
    }
}

const fn sizes(mut s: Service, request: (u16, u16), reply: (u16, u16)) -> Service {
    s.request = request;
    s.reply = reply;
    s
}

const fn one_way(mut s: Service) -> Service {
    s.reply_pct = 0;
    s
}

const fn tos(mut s: Service, tos: u8) -> Service {
    s.tos = tos;
    s
}

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;

/// The protocol/port mix; weights sum to 1000.
const SERVICES: &[Service] = &[
    // TCP: 800
    svc(TCP, Ports::Server(443), 300, 6.0, 1.2, 500_000),
    svc(TCP, Ports::Server(80), 170, 6.0, 1.2, 500_000),
    sizes(
        svc(TCP, Ports::Server(25), 35, 10.0, 1.3, 50_000),
        (60, 1400),
        (40, 200),
    ),
    tos(
        sizes(
            svc(TCP, Ports::Server(22), 25, 20.0, 1.0, 2_000_000),
            (52, 300),
            (52, 1400),
        ),
        0x10,
    ),
    sizes(
        svc(TCP, Ports::Server(53), 10, 3.0, 2.0, 100),
        (60, 200),
        (100, 1500),
    ),
    sizes(
        svc(TCP, Ports::Server(993), 25, 8.0, 1.3, 100_000),
        (52, 400),
        (100, 1500),
    ),
    sizes(
        svc(TCP, Ports::Server(587), 10, 10.0, 1.3, 50_000),
        (60, 1400),
        (40, 200),
    ),
    sizes(
        svc(TCP, Ports::Server(143), 8, 8.0, 1.3, 100_000),
        (52, 400),
        (100, 1500),
    ),
    sizes(
        svc(TCP, Ports::Server(110), 5, 8.0, 1.3, 100_000),
        (52, 200),
        (100, 1500),
    ),
    sizes(
        svc(TCP, Ports::Server(3389), 15, 50.0, 1.0, 1_000_000),
        (60, 800),
        (100, 1500),
    ),
    svc(TCP, Ports::Server(8080), 30, 6.0, 1.2, 500_000),
    svc(TCP, Ports::Server(8443), 15, 6.0, 1.2, 500_000),
    sizes(
        svc(TCP, Ports::Server(445), 10, 10.0, 1.2, 500_000),
        (60, 1000),
        (60, 1500),
    ),
    sizes(
        svc(TCP, Ports::Server(1433), 7, 10.0, 1.2, 100_000),
        (60, 1000),
        (60, 1500),
    ),
    sizes(
        svc(TCP, Ports::Server(3306), 10, 10.0, 1.2, 100_000),
        (60, 1000),
        (60, 1500),
    ),
    sizes(
        svc(TCP, Ports::Server(21), 5, 8.0, 1.5, 10_000),
        (52, 200),
        (52, 400),
    ),
    sizes(
        svc(TCP, Ports::Server(23), 5, 1.0, 2.0, 1_000),
        (40, 90),
        (40, 200),
    ),
    sizes(
        svc(TCP, Ports::Server(179), 2, 5.0, 1.5, 100_000),
        (52, 200),
        (52, 1500),
    ),
    sizes(
        svc(TCP, Ports::Server(5222), 3, 5.0, 1.3, 10_000),
        (52, 400),
        (52, 600),
    ),
    sizes(
        svc(TCP, Ports::HighBoth, 60, 15.0, 1.1, 1_000_000),
        (52, 1500),
        (52, 1500),
    ),
    one_way(sizes(
        svc(TCP, Ports::Scan, 50, 0.3, 3.0, 3),
        (40, 44),
        (40, 44),
    )),
    // UDP: 170
    sizes(
        svc(UDP, Ports::Server(53), 80, 0.05, 2.0, 10),
        (50, 120),
        (80, 512),
    ),
    sizes(
        svc(UDP, Ports::Server(123), 20, 0.02, 2.0, 4),
        (76, 76),
        (76, 76),
    ),
    sizes(
        svc(UDP, Ports::Server(443), 30, 10.0, 1.2, 500_000),
        (60, 1350),
        (300, 1350),
    ),
    sizes(
        svc(UDP, Ports::Server(161), 8, 0.5, 1.5, 100),
        (80, 200),
        (80, 1400),
    ),
    one_way(sizes(
        svc(UDP, Ports::Server(514), 5, 5.0, 1.1, 100_000),
        (80, 500),
        (80, 500),
    )),
    sizes(
        svc(UDP, Ports::Server(500), 3, 0.5, 2.0, 20),
        (100, 600),
        (100, 600),
    ),
    sizes(
        svc(UDP, Ports::Server(4500), 4, 20.0, 1.1, 1_000_000),
        (100, 1400),
        (100, 1400),
    ),
    one_way(sizes(
        svc(UDP, Ports::Server(1900), 3, 0.3, 2.0, 8),
        (200, 400),
        (200, 400),
    )),
    sizes(
        svc(UDP, Ports::Server(5060), 3, 2.0, 1.5, 100),
        (300, 900),
        (300, 900),
    ),
    tos(
        sizes(
            svc(UDP, Ports::Rtp, 7, 500.0, 1.5, 200_000),
            (200, 214),
            (200, 214),
        ),
        0xb8,
    ),
    sizes(
        svc(UDP, Ports::HighBoth, 7, 3.0, 1.2, 100_000),
        (60, 1400),
        (60, 1400),
    ),
    // ICMP: 25
    sizes(
        svc(ICMP, Ports::Icmp, 25, 0.5, 1.5, 1_000),
        (28, 84),
        (28, 84),
    ),
    // GRE, ESP: 5
    sizes(
        svc(47, Ports::None, 3, 100.0, 1.2, 1_000_000),
        (100, 1500),
        (100, 1500),
    ),
    sizes(
        svc(50, Ports::None, 2, 100.0, 1.2, 1_000_000),
        (100, 1500),
        (100, 1500),
    ),
];

/// ICMP type/code mix (each entry 5 %).
const ICMP_TYPES: [u16; 20] = [
    0x0800, 0x0800, 0x0800, 0x0800, 0x0800, 0x0800, 0x0800, 0x0800, // echo request
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, // echo reply
    0x0303, 0x0303, 0x0303, // port unreachable
    0x0301, // host unreachable
    0x0b00, // TTL exceeded
    0x030d, // administratively prohibited
];

/// TCP flags of one-packet flows (each entry 5 %).
const FLAGS_ONE_PACKET: [u8; 20] = [
    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x14, 0x14, 0x14, 0x04, 0x04, 0x11, 0x11, 0x11, 0x18,
    0x18, 0x18, 0x02, 0x02,
];
/// TCP flags of multi-packet client -> server flows (each entry 5 %).
const FLAGS_REQUEST: [u8; 20] = [
    0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1a, 0x1a, 0x18, 0x18, 0x19,
    0x1f, 0x1e, 0x13, 0x10,
];
/// TCP flags of multi-packet server -> client flows (each entry 5 %).
const FLAGS_REPLY: [u8; 20] = [
    0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1a, 0x1a, 0x18, 0x18, 0x19,
    0x1f, 0x16, 0x12, 0x10,
];

// ---------------------------------------------------------------- exporters

/// One simulated router.
#[derive(Clone, Debug)]
struct Exporter {
    addr: u32,
    /// When it booted, ms since the epoch (sysUpTime 0).
    boot_ms: i64,
    /// (engine_type, engine_id) pairs; datagrams pick one.
    engines: Vec<(u8, u8)>,
    /// ifIndex of the upstream links.
    uplinks: [u16; 2],
    /// Next hops behind the uplinks.
    gateways: [u32; 2],
    /// ifIndex of the inside links.
    inside_ifs: Vec<u16>,
}

impl Exporter {
    fn new(addr: u32, index: usize, start_ms: i64, seed: u64) -> Exporter {
        let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0xA076_1D64_78BD_642F) ^ 0xe4);
        // up 1..45 days, never near the 49.7-day sysUpTime wrap
        let up_ms = rng.range(86_400, 45 * 86_400) as i64 * 1000 + rng.below(1000) as i64;
        let engines = if index % 3 == 2 {
            vec![(1, 0), (1, 1)]
        } else {
            vec![(0, (index % 256) as u8)]
        };
        let n_inside = rng.range(2, 15) as u16;
        let base_if = if index % 2 == 0 {
            1
        } else {
            500 + rng.below(50) as u16
        };
        let gw = |rng: &mut Rng| loop {
            let a = rng.next_u64() as u32 & 0xffff_fffc | 1;
            if is_public(a) {
                break a;
            }
        };
        Exporter {
            addr,
            boot_ms: start_ms - up_ms,
            engines,
            uplinks: [base_if, base_if + 1],
            gateways: [gw(&mut rng), gw(&mut rng)],
            inside_ifs: (0..n_inside).map(|i| base_if + 2 + i).collect(),
        }
    }

    /// (ifIndex, next hop) of the link towards `addr` in `net`.
    #[inline]
    fn link(&self, addr: u32, net: &Net) -> (u16, u32) {
        match net.side {
            Side::Outside => {
                let i = (net.asn & 1) as usize;
                (self.uplinks[i], self.gateways[i])
            }
            Side::Inside => {
                let h = ((addr >> 8).wrapping_mul(0x9E37_79B1) >> 16) as usize;
                (self.inside_ifs[(h * self.inside_ifs.len()) >> 16], 0)
            }
        }
    }
}

// ---------------------------------------------------------------- generator

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// PRNG seed; the same seed gives the same flows.
    pub seed: u64,
    /// Number of flows.
    pub count: u64,
    /// Exporter addresses (host order); datagrams are spread over them with
    /// Zipf-like weights (the first sends the most).
    pub exporters: Vec<u32>,
    /// Source networks; `None` models inside and outside traffic.
    pub src_pool: Option<Vec<Prefix>>,
    /// Destination networks; `None` models inside and outside traffic.
    pub dst_pool: Option<Vec<Prefix>>,
    /// Export time of the first flow, ns since the epoch.
    pub start_ns: u64,
    /// Flows per second (export times advance by `1 / rate` per flow).
    pub rate: f64,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: DEFAULT_SEED,
            count: DEFAULT_COUNT,
            exporters: default_exporters(DEFAULT_EXPORTERS),
            src_pool: None,
            dst_pool: None,
            start_ns: DEFAULT_START_SECS as u64 * 1_000_000_000,
            rate: DEFAULT_RATE,
        }
    }
}

/// `n` loopback exporter addresses: 127.0.0.2, 127.0.0.3, ...
pub fn default_exporters(n: u32) -> Vec<u32> {
    (0..n.min(0x00ff_fffd)).map(|i| 0x7f00_0002 + i).collect()
}

/// Parses `--exporters`: a count (`4`) or a comma-separated address list.
pub fn parse_exporters(s: &str) -> Result<Vec<u32>, Error> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u32>() {
        if n == 0 || n > 65_536 {
            return Err(Error::ExporterCount(n));
        }
        return Ok(default_exporters(n));
    }
    let v = s
        .split(',')
        .filter(|a| !a.trim().is_empty())
        .map(|a| {
            a.trim()
                .parse::<Ipv4Addr>()
                .map(u32::from)
                .map_err(|_| Error::BadExporter(a.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if v.is_empty() {
        return Err(Error::EmptyExporterList);
    }
    Ok(v)
}

/// Parses `--start`: unix seconds, or `YYYY-MM-DD HH:MM:SS` (also with a
/// `T`, or without seconds) in UTC.
pub fn parse_start(s: &str) -> Result<u32, Error> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u32>() {
        return Ok(n);
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            let secs = t.and_utc().timestamp();
            return u32::try_from(secs).map_err(|_| Error::StartOutOfRange(s.to_string()));
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return u32::try_from(t.and_utc().timestamp())
                .map_err(|_| Error::StartOutOfRange(s.to_string()));
        }
    }
    Err(Error::BadStart(s.to_string()))
}

/// Deterministic flow generator; see the module docs.
#[derive(Clone, Debug)]
pub struct Generator {
    seed: u64,
    count: u64,
    start_ns: u64,
    ns_per_flow: f64,
    exporters: Vec<Exporter>,
    /// Cumulative exporter weights (Zipf-like), last = total.
    exporter_cdf: Vec<u32>,
    /// (src, dst) pools when given on the command line.
    fixed: Option<(Pool, Pool)>,
    inside: Pool,
    outside: Pool,
    /// 1000 entries mapping a per-mille draw to a service index.
    service_of: Vec<u8>,
    /// Pareto samplers, one per entry of [`SERVICES`].
    tails: Vec<Pareto>,
    /// Next flow index for [`Generator::fill`].
    next: u64,
}

impl Generator {
    /// Checks the configuration and builds the model.
    pub fn new(cfg: &GenConfig) -> Result<Generator, Error> {
        if cfg.exporters.is_empty() {
            return Err(Error::NoExporters);
        }
        if !(cfg.rate.is_finite() && cfg.rate > 0.0) {
            return Err(Error::BadRate(cfg.rate));
        }
        let end_secs = (cfg.start_ns as f64 + cfg.count as f64 * 1e9 / cfg.rate) / 1e9;
        if end_secs >= u32::MAX as f64 {
            return Err(Error::PastYear2106 {
                count: cfg.count,
                rate: cfg.rate,
            });
        }
        let start_ms = (cfg.start_ns / 1_000_000) as i64;
        let exporters: Vec<Exporter> = cfg
            .exporters
            .iter()
            .enumerate()
            .map(|(i, &a)| Exporter::new(a, i, start_ms, cfg.seed))
            .collect();
        let mut total = 0u32;
        let exporter_cdf = (0..exporters.len())
            .map(|i| {
                total += (1_000_000 / (i as u32 + 1)).max(1);
                total
            })
            .collect();
        let fixed = match (&cfg.src_pool, &cfg.dst_pool) {
            (None, None) => None,
            (s, d) => {
                let src = match s {
                    Some(p) => Pool::from_prefixes(p, Side::Inside, cfg.seed ^ 0x5c),
                    None => Pool::default_inside(cfg.seed),
                };
                let dst = match d {
                    Some(p) => Pool::from_prefixes(p, Side::Outside, cfg.seed ^ 0xd5),
                    None => Pool::default_outside(cfg.seed),
                };
                Some((src, dst))
            }
        };
        let mut service_of = Vec::with_capacity(1000);
        for (i, s) in SERVICES.iter().enumerate() {
            service_of.resize(service_of.len() + s.weight as usize, i as u8);
        }
        debug_assert_eq!(service_of.len(), 1000);
        service_of.resize(1000, 0);
        Ok(Generator {
            seed: cfg.seed,
            count: cfg.count,
            start_ns: cfg.start_ns,
            ns_per_flow: 1e9 / cfg.rate,
            exporters,
            exporter_cdf,
            fixed,
            inside: Pool::default_inside(cfg.seed),
            outside: Pool::default_outside(cfg.seed),
            service_of,
            tails: SERVICES
                .iter()
                .map(|s| Pareto::new(s.alpha as f64))
                .collect(),
            next: 0,
        })
    }

    /// Total flows this generator produces.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flows not yet returned by [`Generator::fill`].
    pub fn remaining(&self) -> u64 {
        self.count - self.next
    }

    /// The exporter addresses, in configuration order.
    pub fn exporter_addrs(&self) -> Vec<u32> {
        self.exporters.iter().map(|e| e.addr).collect()
    }

    /// Appends the next whole datagrams (at most `max` flows, at least one
    /// datagram) to `out`; returns how many flows were added, 0 at the end.
    pub fn fill(&mut self, out: &mut Vec<Record>, max: usize) -> usize {
        let left = self.remaining();
        if left == 0 {
            return 0;
        }
        let want = (max / FLOWS_PER_DATAGRAM).max(1) * FLOWS_PER_DATAGRAM;
        let n = (want as u64).min(left) as usize;
        let at = out.len();
        out.resize(at + n, Record::default());
        // every datagram is a pure function of its index: generate chunks
        // on all cores, the result does not depend on the thread count
        let first = self.next;
        out[at..]
            .par_chunks_mut(PAR_CHUNK)
            .enumerate()
            .for_each(|(i, chunk)| self.generate(first + (i * PAR_CHUNK) as u64, chunk));
        self.next += n as u64;
        n
    }

    /// Writes flows `first ..` into `out`. `first` must be a multiple of
    /// [`FLOWS_PER_DATAGRAM`]; `out` may run past [`Generator::count`] (the
    /// model is defined for every index). Equal arguments give equal flows.
    pub fn generate(&self, first: u64, out: &mut [Record]) {
        debug_assert_eq!(first % FLOWS_PER_DATAGRAM as u64, 0);
        let k0 = first / FLOWS_PER_DATAGRAM as u64;
        for (k, chunk) in (k0..).zip(out.chunks_mut(FLOWS_PER_DATAGRAM)) {
            self.datagram(k, chunk);
        }
    }

    /// One datagram: the exporter, its header times, then the flows.
    fn datagram(&self, k: u64, out: &mut [Record]) {
        let mut rng = Rng::new(self.seed ^ k.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let pick = rng.below(*self.exporter_cdf.last().unwrap_or(&1));
        let ei = self
            .exporter_cdf
            .partition_point(|&c| c <= pick)
            .min(self.exporters.len() - 1);
        let ex = &self.exporters[ei];
        let (engine_type, engine_id) = ex.engines[rng.below(ex.engines.len() as u32) as usize];
        // the datagram leaves when its last flow is due
        let last_index = k * FLOWS_PER_DATAGRAM as u64 + (FLOWS_PER_DATAGRAM as u64 - 1);
        let last_index = last_index.min(
            self.count
                .saturating_sub(1)
                .max(k * FLOWS_PER_DATAGRAM as u64),
        );
        let t_ns = self
            .start_ns
            .saturating_add((last_index as f64 * self.ns_per_flow) as u64);
        let export_ms = (t_ns / 1_000_000) as i64;
        let template = Record {
            unix_secs: (t_ns / 1_000_000_000) as u32,
            unix_nsecs: (t_ns % 1_000_000_000) as u32,
            sys_uptime_ms: (export_ms - ex.boot_ms) as u32,
            exporter: ex.addr,
            engine_type,
            engine_id,
            ..Record::default()
        };
        for r in out.iter_mut() {
            *r = template;
            self.flow(&mut rng, ex, r);
        }
    }

    /// Fills the flow fields of `r` (header fields already set).
    #[inline]
    fn flow(&self, rng: &mut Rng, ex: &Exporter, r: &mut Record) {
        let si = self.service_of[rng.below(1000) as usize] as usize;
        let s = &SERVICES[si];
        let reply = (rng.below(100) as u8) < s.reply_pct;

        // addresses: who is client and server, then who sends this flow
        let (src, src_net, dst, dst_net) = match &self.fixed {
            Some((sp, dp)) => {
                let (a, an) = sp.pick(rng);
                let (b, bn) = dp.pick(rng);
                (a, an, b, bn)
            }
            None => {
                let d = rng.below(100);
                let (cp, sp) = if d < 50 {
                    (&self.inside, &self.outside)
                } else if d < 85 {
                    (&self.outside, &self.inside)
                } else {
                    (&self.inside, &self.inside)
                };
                let (c, cn) = cp.pick(rng);
                let (mut sv, mut sn) = sp.pick(rng);
                if sv == c {
                    let (v, n) = sp.pick(rng);
                    sv = v;
                    sn = n;
                }
                if reply {
                    (sv, sn, c, cn)
                } else {
                    (c, cn, sv, sn)
                }
            }
        };
        r.src_addr = src;
        r.dst_addr = dst;
        r.src_mask = src_net.mask;
        r.dst_mask = dst_net.mask;
        r.src_as = src_net.asn;
        r.dst_as = dst_net.asn;
        let (in_if, _) = ex.link(src, src_net);
        let (out_if, hop) = ex.link(dst, dst_net);
        r.input_if = in_if;
        r.output_if = out_if;
        r.next_hop = hop;
        r.protocol = s.protocol;
        r.tos = s.tos;

        // ports
        let client_port = |rng: &mut Rng, net: &Net| -> u16 {
            match net.side {
                Side::Inside => rng.range(32_768, 60_999) as u16,
                Side::Outside => rng.range(1024, 65_535) as u16,
            }
        };
        let (sport, dport) = match s.ports {
            Ports::Server(p) => {
                if reply {
                    (p, client_port(rng, dst_net))
                } else {
                    (client_port(rng, src_net), p)
                }
            }
            Ports::HighBoth => (
                rng.range(1024, 65_535) as u16,
                rng.range(1024, 65_535) as u16,
            ),
            Ports::Rtp => (
                (rng.range(8192, 16_383) * 2) as u16,
                (rng.range(8192, 16_383) * 2) as u16,
            ),
            Ports::Scan => (client_port(rng, src_net), scan_port(rng)),
            Ports::Icmp => (0, ICMP_TYPES[rng.below(20) as usize]),
            Ports::None => (0, 0),
        };
        r.src_port = sport;
        r.dst_port = dport;

        // packets: heavy tailed
        let extra = s.scale as f64 * (self.tails[si].draw(rng) - 1.0);
        let packets = if extra >= s.max_packets as f64 {
            s.max_packets
        } else {
            1 + extra as u32
        }
        .min(s.max_packets)
        .max(1);
        r.packets = packets;

        // octets: packets x mean size, 40..=1500 per packet on average
        let (lo, hi) = if reply { s.reply } else { s.request };
        let mean = if packets > 2 && s.protocol == TCP {
            rng.range(lo as u32, hi as u32).max(52)
        } else {
            rng.range(lo as u32, hi as u32)
        };
        let mean = mean.clamp(28, 1500);
        let spare = if mean < 1500 {
            rng.below(packets.min(1 << 16))
        } else {
            0
        };
        r.octets = packets.saturating_mul(mean).saturating_add(spare);

        // flags
        r.tcp_flags = if s.protocol != TCP {
            0
        } else if let Ports::Scan = s.ports {
            0x02
        } else if packets == 1 {
            FLAGS_ONE_PACKET[rng.below(20) as usize]
        } else if reply {
            FLAGS_REPLY[rng.below(20) as usize]
        } else {
            FLAGS_REQUEST[rng.below(20) as usize]
        };
        if let Ports::Scan = s.ports {
            // half the probes are dropped by an ACL: no output interface
            if rng.below(2) == 0 {
                r.output_if = 0;
                r.next_hop = 0;
            }
        }

        // duration: packets x a log-uniform gap of 1 us .. 2 s, cut at the
        // 30-minute active timeout
        let duration_ms: u32 = if packets <= 1 {
            0
        } else {
            let gap_us = (1u64 << rng.below(21)) | (rng.next_u64() & 0xfffff);
            let gap_us = gap_us.min(2_000_000);
            ((packets as u64 - 1).saturating_mul(gap_us) / 1000).min(1_800_000) as u32
        };
        // export delay: finished TCP flows leave fast, others after the
        // 15-second inactive timeout
        let finished = r.tcp_flags & 0x05 != 0;
        let delay_ms = if finished {
            rng.below(2000)
        } else {
            15_000 + rng.below(1000)
        };
        r.last_uptime_ms = r.sys_uptime_ms.wrapping_sub(delay_ms);
        r.first_uptime_ms = r.last_uptime_ms.wrapping_sub(duration_ms);
    }
}

/// Draws `u^(-1/alpha)` for `u` uniform in (0, 1] without calling `pow`:
/// the leading zeros of a random word give the binary exponent of `u`
/// (geometric, exactly as for a uniform variable), the next 8 bits its
/// mantissa; both powers come from tables built once.
#[derive(Clone, Debug)]
struct Pareto {
    /// `2^((e + 1) / alpha)` for `u` in `[2^-(e+1), 2^-e)`.
    octave: [f64; 64],
    /// `m^(-1/alpha)` for the mantissa `m` in `[1, 2)`, 256 steps (midpoints).
    mantissa: [f64; 256],
}

impl Pareto {
    fn new(alpha: f64) -> Pareto {
        let inv = 1.0 / alpha;
        let mut octave = [0.0; 64];
        for (e, o) in octave.iter_mut().enumerate() {
            *o = 2f64.powf((e as f64 + 1.0) * inv);
        }
        let mut mantissa = [0.0; 256];
        for (i, m) in mantissa.iter_mut().enumerate() {
            *m = (1.0 + (i as f64 + 0.5) / 256.0).powf(-inv);
        }
        Pareto { octave, mantissa }
    }

    #[inline]
    fn draw(&self, rng: &mut Rng) -> f64 {
        let x = rng.next_u64();
        let e = x.leading_zeros().min(55) as usize; // P(e) = 2^-(e+1)
        let m = ((x << e) >> 55) as usize & 0xff; // the 8 bits after the leading one
        self.octave[e] * self.mantissa[m]
    }
}

/// Ports a scanner probes: mostly well-known services, sometimes anything.
#[inline]
fn scan_port(rng: &mut Rng) -> u16 {
    const COMMON: [u16; 16] = [
        22, 23, 80, 443, 445, 1433, 3389, 8080, 3306, 5900, 25, 21, 135, 139, 6379, 9200,
    ];
    if rng.below(4) == 0 {
        rng.range(1, 65_535) as u16
    } else {
        COMMON[rng.below(16) as usize]
    }
}

// ------------------------------------------------------------------ output

/// Where the flows go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// An uncompressed ft stream on stdout, header like flow-cat's
    /// (EX_VER 5, flags STREAMING).
    Stream,
    /// An ft file, header rewritten at the end (like `flow-cat -o`);
    /// `zlib` is the compression level (0 or `None`: none).
    FtFile {
        /// Output file.
        path: PathBuf,
        /// zlib level 1..9, or none.
        zlib: Option<u32>,
    },
    /// One native flow file.
    Native {
        /// Output file.
        path: PathBuf,
    },
    /// One native file per 5-minute slot of the export time, named and
    /// nested as the collector names them.
    Split {
        /// Top directory.
        dir: PathBuf,
    },
}

/// flow-gen's whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// What to generate.
    pub gen: GenConfig,
    /// Where to write it.
    pub output: Output,
}

/// How `--split-5min` cuts and names files: the collector's 5-minute
/// slots, named and dated in UTC.
pub const SPLIT: Schedule = Schedule {
    period: DEFAULT_PERIOD,
    zone: Zone::UTC,
};

/// Nesting of `--split-5min` files: `YYYY/YYYY-MM/YYYY-MM-DD`.
pub const SPLIT_NESTING: i8 = 3;

/// Records handed to writers per batch.
const BATCH: usize = 32_760; // a multiple of 30

fn ft_err(e: FtError) -> Error {
    match e {
        FtError::Io(e) => Error::Io(e),
        e => Error::FtWrite(e),
    }
}

fn native_err(e: formats::native::NativeError) -> Error {
    match e {
        formats::native::NativeError::Io(e) => Error::Io(e),
        e => Error::NativeWrite(e),
    }
}

fn io_at(path: &Path, source: io::Error) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        source,
    }
}

/// Generates the flows and writes them; returns how many files were
/// written ([`Output::Split`]: one per slot; otherwise 1, or 0 for a
/// stream).
pub fn run(cfg: &Config) -> Result<u64, Error> {
    let mut g = Generator::new(&cfg.gen)?;
    match &cfg.output {
        Output::Stream => {
            let out = io::stdout();
            if out.is_terminal() {
                return Err(Error::Terminal);
            }
            let h = FtHeader {
                byte_order: ByteOrder::host(),
                export_version: Some(5),
                flags: Some(FLAG_STREAMING),
                ..FtHeader::default()
            };
            let mut w = FtWriter::new(out.lock(), &h, None).map_err(ft_err)?;
            let mut buf = Vec::with_capacity(BATCH);
            loop {
                buf.clear();
                if g.fill(&mut buf, BATCH) == 0 {
                    break;
                }
                w.write_all(&buf).map_err(ft_err)?;
            }
            let mut out = w.finish().map_err(ft_err)?;
            out.flush()?;
        }
        Output::FtFile { path, zlib } => {
            let f = File::create(path).map_err(|e| io_at(path, e))?;
            let mut h = FtHeader {
                byte_order: ByteOrder::host(),
                export_version: Some(5),
                cap_start: Some(u32::MAX),
                cap_end: Some(0),
                flags: Some(0),
                flow_count: Some(0),
                flow_lost: Some(0),
                pkt_corrupt: Some(0),
                ..FtHeader::default()
            };
            let mut w = FtWriter::new(f, &h, *zlib).map_err(ft_err)?;
            let mut buf = Vec::with_capacity(BATCH);
            let (mut lo, mut hi) = (u32::MAX, 0u32);
            loop {
                buf.clear();
                if g.fill(&mut buf, BATCH) == 0 {
                    break;
                }
                for r in &buf {
                    lo = lo.min(r.unix_secs);
                    hi = hi.max(r.unix_secs);
                }
                w.write_all(&buf).map_err(ft_err)?;
            }
            h.cap_start = Some(if lo == u32::MAX { 0 } else { lo });
            h.cap_end = Some(hi);
            h.flow_count = Some(g.count().min(u32::MAX as u64) as u32);
            let f = w.finish_rewrite(&h).map_err(ft_err)?;
            f.sync_all().map_err(|e| io_at(path, e))?;
        }
        Output::Native { path } => {
            let f = File::create(path).map_err(|e| io_at(path, e))?;
            let mut sink = NativeSink::new(f, g.exporter_addrs(), 0)?;
            let mut buf = Vec::with_capacity(BATCH);
            loop {
                buf.clear();
                if g.fill(&mut buf, BATCH) == 0 {
                    break;
                }
                sink.write(&buf)?;
            }
            let w = sink.finish()?;
            w.get_ref().sync_data().map_err(|e| io_at(path, e))?;
        }
        Output::Split { dir } => {
            let mut cur: Option<(Slot, SlotFile)> = None;
            let mut buf = Vec::with_capacity(BATCH);
            let mut files = 0u64;
            loop {
                buf.clear();
                if g.fill(&mut buf, BATCH) == 0 {
                    break;
                }
                let mut rest = &buf[..];
                while let Some(first) = rest.first() {
                    let t = i64::from(first.unix_secs);
                    let slot = match &cur {
                        Some((s, _)) if s.contains(t) => *s,
                        _ => SPLIT.slot(t),
                    };
                    let n = rest
                        .iter()
                        .position(|r| !slot.contains(i64::from(r.unix_secs)))
                        .unwrap_or(rest.len());
                    if cur.as_ref().map(|c| c.0) != Some(slot) {
                        if let Some((_, f)) = cur.take() {
                            f.commit()?;
                        }
                        cur = Some((slot, SlotFile::create(dir, slot, g.exporter_addrs())?));
                        files += 1;
                    }
                    if let Some((_, f)) = cur.as_mut() {
                        f.sink.write(&rest[..n])?;
                    }
                    rest = &rest[n..];
                }
            }
            if let Some((_, f)) = cur.take() {
                f.commit()?;
            }
            return Ok(files);
        }
    }
    Ok(u64::from(!matches!(cfg.output, Output::Stream)))
}

/// A native flow file being written, with the time span of its records.
struct NativeSink {
    writer: NativeWriter<io::BufWriter<File>>,
    first: u32,
    last: u32,
}

impl NativeSink {
    fn new(f: File, exporters: Vec<u32>, cap_start: u32) -> Result<Self, Error> {
        let header = NativeHeader {
            export_version: 5,
            exporters,
            cap_start,
            hostname: "flow-gen".into(),
            comment: "synthetic flows from flow-gen".into(),
            ..NativeHeader::default()
        };
        let w = io::BufWriter::with_capacity(1 << 20, f);
        let writer = NativeWriter::new(w, &header, WriterOptions::default()).map_err(native_err)?;
        Ok(NativeSink {
            writer,
            first: u32::MAX,
            last: 0,
        })
    }

    fn write(&mut self, rs: &[Record]) -> Result<(), Error> {
        for r in rs {
            self.first = self.first.min(r.unix_secs);
            self.last = self.last.max(r.unix_secs);
        }
        self.writer.write_all(rs).map_err(native_err)
    }

    /// Writes the trailer with the final counters and flushes; the caller
    /// makes the file durable.
    fn finish(mut self) -> Result<io::BufWriter<File>, Error> {
        let flows = self.writer.records_written();
        let h = self.writer.header_mut();
        if h.cap_start == 0 && self.first != u32::MAX {
            h.cap_start = self.first;
        }
        h.cap_end = self.last;
        h.flows = flows;
        self.writer.finish().map_err(native_err)
    }
}

/// The file of one `--split-5min` slot: written as `tmp-nf-v05.…` in the
/// collector's directory layout ([`formats::archive`]), renamed at commit.
struct SlotFile {
    sink: NativeSink,
    file: TmpFile,
}

impl SlotFile {
    /// Creates the slot's directories and its `tmp-` file. A finished file
    /// of the same name (an earlier run) is replaced at commit.
    fn create(dir: &Path, slot: Slot, exporters: Vec<u32>) -> Result<Self, Error> {
        let dir = dir.join(nest_dir(SPLIT_NESTING, slot.start, SPLIT.zone));
        std::fs::create_dir_all(&dir).map_err(|e| ArchiveError::io(&dir, Op::CreateDir, e))?;
        let name = FileName::new(FileKind::Native, 5, slot.start, SPLIT.zone);
        let file = TmpFile::for_name(&dir, name)?;
        let cap_start = u32::try_from(slot.start).unwrap_or(0);
        let sink = file
            .writer()
            .map_err(Error::from)
            .and_then(|f| NativeSink::new(f, exporters, cap_start));
        match sink {
            Ok(sink) => Ok(SlotFile { sink, file }),
            Err(e) => {
                let _ = file.abort();
                Err(e)
            }
        }
    }

    /// Finishes the file, then fsync, rename, fsync of the directory.
    fn commit(self) -> Result<(), Error> {
        drop(self.sink.finish()?);
        self.file.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(count: u64) -> GenConfig {
        GenConfig {
            count,
            ..GenConfig::default()
        }
    }

    #[test]
    fn same_seed_same_flows_whatever_the_batch_size() {
        let mut a = Generator::new(&small(1000)).unwrap();
        let mut b = Generator::new(&small(1000)).unwrap();
        let (mut va, mut vb) = (Vec::new(), Vec::new());
        while a.fill(&mut va, 1000) > 0 {}
        while b.fill(&mut vb, 7) > 0 {}
        assert_eq!(va.len(), 1000);
        assert_eq!(va, vb);
        let mut c = Generator::new(&GenConfig {
            seed: 1,
            ..small(1000)
        })
        .unwrap();
        let mut vc = Vec::new();
        c.fill(&mut vc, 1000);
        assert_ne!(va, vc);
    }

    #[test]
    fn flows_are_plausible() {
        let mut g = Generator::new(&small(30_000)).unwrap();
        let mut v = Vec::new();
        g.fill(&mut v, 30_000);
        let mut tcp = 0;
        for r in &v {
            assert!(r.packets >= 1);
            assert!(
                r.octets >= 28 * r.packets && r.octets <= 1500 * r.packets,
                "{r:?}"
            );
            assert!(r.duration_ms() <= 1_800_000);
            assert!(r.end_ms() <= r.export_ms());
            assert!(r.export_ms() - r.end_ms() <= 16_000);
            if r.protocol == TCP {
                tcp += 1;
                assert_ne!(r.tcp_flags, 0);
            } else {
                assert_eq!(r.tcp_flags, 0);
            }
            if r.protocol == ICMP {
                assert_eq!(r.src_port, 0);
            }
            assert!(r.src_mask <= 32 && r.dst_mask <= 32);
        }
        let share = tcp as f64 / v.len() as f64;
        assert!((0.75..0.85).contains(&share), "tcp share {share}");
    }

    #[test]
    fn header_times_are_consistent_per_exporter() {
        let cfg = GenConfig {
            rate: 50_000.0,
            ..small(60_000)
        };
        let mut g = Generator::new(&cfg).unwrap();
        let mut v = Vec::new();
        g.fill(&mut v, 60_000);
        let mut boot: std::collections::HashMap<u32, i64> = Default::default();
        let mut last_export: std::collections::HashMap<u32, i64> = Default::default();
        for d in v.chunks(FLOWS_PER_DATAGRAM) {
            let h = d[0];
            assert!(d.iter().all(|r| r.unix_secs == h.unix_secs
                && r.unix_nsecs == h.unix_nsecs
                && r.sys_uptime_ms == h.sys_uptime_ms
                && r.exporter == h.exporter
                && r.engine_id == h.engine_id));
            let b = h.export_ms() - h.sys_uptime_ms as i64;
            assert_eq!(*boot.entry(h.exporter).or_insert(b), b);
            let prev = last_export.insert(h.exporter, h.export_ms()).unwrap_or(0);
            assert!(h.export_ms() >= prev);
        }
        assert_eq!(boot.len(), 4);
        // about 1.2 s of traffic
        let span = v.last().unwrap().export_ms() - v[0].export_ms();
        assert!((1100..=1250).contains(&span), "{span}");
        assert_eq!(v[0].unix_secs, DEFAULT_START_SECS);
    }

    #[test]
    fn top_talkers_are_skewed() {
        let mut g = Generator::new(&small(60_000)).unwrap();
        let mut v = Vec::new();
        g.fill(&mut v, 60_000);
        let mut by_dst: std::collections::HashMap<u32, u32> = Default::default();
        for r in &v {
            *by_dst.entry(r.dst_addr).or_default() += 1;
        }
        let mut counts: Vec<u32> = by_dst.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top10: u32 = counts.iter().take(10).sum();
        assert!(top10 as usize > v.len() / 10, "top 10 = {top10}");
        assert!(counts.len() > 1000);
    }

    #[test]
    fn pools_given_on_the_command_line_are_respected() {
        let cfg = GenConfig {
            src_pool: Some(Prefix::parse_list("10.9.0.0/16,192.168.5.0/24").unwrap()),
            dst_pool: Some(Prefix::parse_list("203.0.113.0/24").unwrap()),
            ..small(3000)
        };
        let mut g = Generator::new(&cfg).unwrap();
        let mut v = Vec::new();
        g.fill(&mut v, 3000);
        for r in &v {
            assert!(
                r.src_addr >> 16 == 0x0a09 || r.src_addr >> 8 == 0xc0a805,
                "{}",
                r.src_ip()
            );
            assert_eq!(r.dst_addr >> 8, 0xcb0071);
        }
    }

    #[test]
    fn parsing() {
        assert_eq!(parse_start("1767225600").unwrap(), 1_767_225_600);
        assert_eq!(parse_start("2026-01-01 00:05:00").unwrap(), 1_767_225_900);
        assert_eq!(parse_start("2026-01-01").unwrap(), 1_767_225_600);
        assert!(parse_start("yesterday").is_err());
        assert_eq!(
            parse_exporters("2").unwrap(),
            vec![0x7f00_0002, 0x7f00_0003]
        );
        assert_eq!(
            parse_exporters("127.0.0.9,10.0.0.1").unwrap(),
            vec![0x7f00_0009, 0x0a00_0001]
        );
        assert!(parse_exporters("0").is_err());
        assert!(parse_exporters("1.2.3").is_err());
        assert_eq!(
            Prefix::parse("10.1.2.3/16").unwrap(),
            Prefix {
                addr: 0x0a01_0000,
                len: 16
            }
        );
        assert!(Prefix::parse("10.0.0.0/33").is_err());
        assert!(Prefix::parse_list(",").is_err());
    }

    /// The refusals name the option and the offending text, in the words
    /// flow-gen has always used.
    #[test]
    fn refusals_say_what_was_wrong() {
        fn msg<T>(r: Result<T, Error>) -> String {
            match r {
                Ok(_) => panic!("accepted"),
                Err(e) => e.to_string(),
            }
        }
        assert_eq!(
            msg(parse_start("yesterday")),
            "--start 'yesterday': expected unix seconds or 'YYYY-MM-DD HH:MM:SS' (UTC)"
        );
        assert_eq!(
            msg(parse_start("2200-01-01")),
            "--start '2200-01-01' is outside 1970..2106"
        );
        assert_eq!(msg(parse_exporters("0")), "--exporters 0: need 1..=65536");
        assert_eq!(
            msg(parse_exporters("1.2.3")),
            "--exporters: bad address '1.2.3'"
        );
        assert_eq!(msg(parse_exporters(",")), "--exporters: empty list");
        assert_eq!(
            msg(Prefix::parse("10.0.0/8")),
            "bad address '10.0.0' in prefix '10.0.0/8'"
        );
        assert_eq!(
            msg(Prefix::parse("10.0.0.0/33")),
            "bad prefix length '33' in '10.0.0.0/33' (0..=32)"
        );
        assert_eq!(msg(Prefix::parse_list(" , ")), "empty prefix list ' , '");
        let mut cfg = small(10);
        cfg.exporters.clear();
        assert_eq!(msg(Generator::new(&cfg)), "at least one exporter is needed");
        let mut cfg = small(10);
        cfg.rate = 0.0;
        assert_eq!(
            msg(Generator::new(&cfg)),
            "--rate 0: must be a positive number"
        );
        let mut cfg = small(10_000_000);
        cfg.rate = 0.001;
        assert_eq!(
            msg(Generator::new(&cfg)),
            "10000000 flows at 0.001 flows/s from the start time run past the year 2106 (unix_secs is 32 bits)"
        );
        let e = Error::Output {
            path: "/ro/x.ft".into(),
            source: io::Error::from_raw_os_error(libc::EACCES),
        };
        assert_eq!(e.to_string(), "/ro/x.ft: Permission denied (os error 13)");
    }

    #[test]
    fn split_files_are_named_and_nested_like_the_collectors() {
        let dir = tempfile::tempdir().unwrap();
        let slot = SPLIT.slot(1_767_225_600 + 301);
        let f = SlotFile::create(dir.path(), slot, vec![0x7f00_0002]).unwrap();
        let rel = |p: &Path| p.strip_prefix(dir.path()).unwrap().to_path_buf();
        assert_eq!(
            rel(f.file.path()),
            Path::new("2026/2026-01/2026-01-01/tmp-nf-v05.2026-01-01.000500+0000")
        );
        let dest = f.file.dest().to_path_buf();
        assert_eq!(
            rel(&dest),
            Path::new("2026/2026-01/2026-01-01/nf-v05.2026-01-01.000500+0000")
        );
        assert!(!dest.exists());
        f.commit().unwrap();
        let nf = formats::native::NativeFile::open(std::fs::read(&dest).unwrap()).unwrap();
        assert_eq!(nf.header().cap_start, 1_767_225_900);
    }

    #[test]
    fn zipf_stays_in_range() {
        let mut r = Rng::new(3);
        for n in [1u32, 2, 3, 5, 256, 1000] {
            for _ in 0..2000 {
                assert!(r.zipf(n) < n);
            }
        }
        for _ in 0..1000 {
            let u = r.unit();
            assert!(u > 0.0 && u <= 1.0);
        }
    }
}
