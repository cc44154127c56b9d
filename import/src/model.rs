//! The neutral event model every parser produces, connection pairing, and
//! the mapping of packets and connections onto v5 [`Record`]s.
//!
//! Parsers turn lines into [`Packet`]s (one kernel LOG line = one packet)
//! or [`ConnEvent`]s (conntrack NEW/UPDATE/DESTROY from ulogd or
//! `conntrack -E`). A [`Tracker`] pairs connection events into
//! [`Connection`]s (FIFO per key, spec §6.7). [`v5_times`] stores absolute
//! start/end times in the raw v5 fields (spec §6.3). Nothing here does I/O.

use std::collections::{HashMap, VecDeque};

use formats::Record;

/// An address of either family, numeric (IPv4 in host order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Addr {
    /// IPv4, host order.
    V4(u32),
    /// IPv6, host order.
    V6(u128),
}

impl Addr {
    /// Strict parse: dotted quad (1-3 digits per part, each <= 255) or an
    /// IPv6 address in any textual form (compressed or the kernel's full
    /// form with leading zeros). `None` for anything else.
    pub fn parse(s: &[u8]) -> Option<Addr> {
        // a dotted quad has no ':', so trying it first changes nothing
        if let Some(a) = parse_ipv4(s) {
            return Some(Addr::V4(a));
        }
        if s.contains(&b':') {
            let t = std::str::from_utf8(s).ok()?;
            return t
                .parse::<std::net::Ipv6Addr>()
                .ok()
                .map(|a| Addr::V6(u128::from(a)));
        }
        None
    }

    /// True for IPv4.
    pub fn is_v4(&self) -> bool {
        matches!(self, Addr::V4(_))
    }

    /// The IPv4 value, if IPv4.
    pub fn v4(&self) -> Option<u32> {
        match self {
            Addr::V4(a) => Some(*a),
            Addr::V6(_) => None,
        }
    }
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Addr::V4(a) => std::net::Ipv4Addr::from(*a).fmt(f),
            Addr::V6(a) => std::net::Ipv6Addr::from(*a).fmt(f),
        }
    }
}

/// Parses a dotted quad strictly (no leading `+`, 1-3 digits per part).
pub fn parse_ipv4(s: &[u8]) -> Option<u32> {
    if !(7..=15).contains(&s.len()) {
        return None;
    }
    let digit = |i: usize| s.get(i).map(|c| c.wrapping_sub(b'0')).filter(|&d| d <= 9);
    let mut out = 0u32;
    let mut i = 0;
    for part in 0..4 {
        if part > 0 {
            if s.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        // one to three digits; a fourth one fails at the '.' or end check
        let mut v = digit(i)? as u32;
        i += 1;
        if let Some(d) = digit(i) {
            v = v * 10 + d as u32;
            i += 1;
            if let Some(d) = digit(i) {
                v = v * 10 + d as u32;
                i += 1;
            }
        }
        if v > 255 {
            return None;
        }
        out = out << 8 | v;
    }
    (i == s.len()).then_some(out)
}

/// Parses an unsigned decimal integer (digits only, no sign) up to `max`.
#[inline]
pub fn parse_uint(s: &[u8], max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    if s.len() <= 19 {
        // at most 19 digits: no overflow
        for &c in s {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + d as u64;
        }
    } else {
        for &c in s {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v.checked_mul(10)?.checked_add(d as u64)?;
        }
    }
    (v <= max).then_some(v)
}

/// Parses hex with an optional `0x`/`0X` prefix (LOGEMU prints `TOS=00`).
#[inline]
pub fn parse_hex(s: &[u8], max: u64) -> Option<u64> {
    let s = s
        .strip_prefix(b"0x")
        .or_else(|| s.strip_prefix(b"0X"))
        .unwrap_or(s);
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = v << 4 | d as u64;
    }
    (v <= max).then_some(v)
}

/// Protocol number from a name as the kernel, ulogd or conntrack print it
/// (case-insensitive), or from a decimal number 0..=255.
pub fn protocol_number(s: &[u8]) -> Option<u8> {
    // the kernel's spellings first (same answers as the table below)
    match s {
        b"TCP" => return Some(6),
        b"UDP" => return Some(17),
        b"ICMP" => return Some(1),
        _ => {}
    }
    const NAMES: [(&[u8], u8); 11] = [
        (b"TCP", 6),
        (b"UDP", 17),
        (b"ICMP", 1),
        (b"ICMPV6", 58),
        (b"UDPLITE", 136),
        (b"ESP", 50),
        (b"AH", 51),
        (b"SCTP", 132),
        (b"DCCP", 33),
        (b"GRE", 47),
        (b"IGMP", 2),
    ];
    for (n, v) in NAMES {
        if s.eq_ignore_ascii_case(n) {
            return Some(v);
        }
    }
    parse_uint(s, 255).map(|v| v as u8)
}

/// Report name of a protocol: `tcp`, `udp`, `icmp`, `icmpv6` or `other`.
pub fn protocol_name(p: u8) -> &'static str {
    match p {
        6 => "tcp",
        17 => "udp",
        1 => "icmp",
        58 => "icmpv6",
        _ => "other",
    }
}

/// True for protocols whose tuples carry ports.
pub fn has_ports(p: u8) -> bool {
    matches!(p, 6 | 17 | 136 | 132 | 33)
}

/// One logged packet (one kernel LOG line), borrowed from the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The log prefix (everything before `IN=`).
    pub prefix: &'a [u8],
    /// Input interface name (empty: none).
    pub in_if: &'a [u8],
    /// Output interface name (empty: none).
    pub out_if: &'a [u8],
    /// Source address.
    pub src: Addr,
    /// Destination address.
    pub dst: Addr,
    /// IP protocol number.
    pub protocol: u8,
    /// Source port (0 for ICMP, fragments, portless protocols).
    pub src_port: u16,
    /// Destination port, or ICMP type*256+code.
    pub dst_port: u16,
    /// IP total length (`LEN=`, the first one).
    pub length: u32,
    /// `PREC | TOS` (IPv4) or traffic class (IPv6).
    pub tos: u8,
    /// OR of the TCP flag words.
    pub tcp_flags: u8,
    /// Non-first fragment or `MF` set.
    pub fragment: bool,
    /// An ICMP error with a quoted inner header in brackets.
    pub quoted_header: bool,
    /// `UID=` present.
    pub has_uid: bool,
    /// `MARK=` present.
    pub has_mark: bool,
}

/// One direction of a conntrack entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tuple {
    /// Source address (`None` only in a default value).
    pub src: Option<Addr>,
    /// Destination address.
    pub dst: Option<Addr>,
    /// Source port (0 for portless protocols and ICMP).
    pub src_port: u16,
    /// Destination port, or ICMP type*256+code.
    pub dst_port: u16,
    /// ICMP echo id, when printed (conntrack).
    pub icmp_id: Option<u16>,
}

/// Counters of one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets.
    pub packets: u64,
    /// Layer-3 bytes.
    pub bytes: u64,
}

/// Kind of a connection-tracking event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A new connection.
    New,
    /// A state change.
    Update,
    /// The connection ended; counters are final.
    Destroy,
}

/// One connection-tracking event, from any source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnEvent {
    /// Event kind.
    pub kind: EventKind,
    /// IP protocol number.
    pub protocol: u8,
    /// Original direction.
    pub orig: Tuple,
    /// Reply direction.
    pub reply: Tuple,
    /// Original-direction counters.
    pub orig_counters: Counters,
    /// Reply-direction counters.
    pub reply_counters: Counters,
    /// conntrack id, when the source prints it.
    pub ct_id: Option<u64>,
    /// Event time, µs since the epoch (UTC), when known.
    pub time_us: Option<i64>,
    /// Connection start carried by the event itself (JSON `flow.start`,
    /// `[start=]`, DESTROY time − `delta-time`).
    pub start_us: Option<i64>,
    /// Connection mark.
    pub mark: u32,
    /// TCP flags synthesised from state words and flags (spec §6.7).
    pub tcp_flags: u8,
    /// Caused by a netlink client (`[USERSPACE]`).
    pub userspace: bool,
    /// Caller-defined source (exporter) index; events of different
    /// sources never pair.
    pub source: u32,
}

impl ConnEvent {
    /// True when both tuples are IPv4.
    pub fn is_v4(&self) -> bool {
        self.orig.src.is_some_and(|a| a.is_v4())
    }
}

/// A paired connection, ready to become records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connection {
    /// Order of first appearance (for stable output).
    pub seq: u64,
    /// The latest event's view (counters from DESTROY when seen).
    pub event: ConnEvent,
    /// Start time, µs.
    pub first_us: i64,
    /// End time (DESTROY, else the last event seen), µs.
    pub last_us: i64,
    /// A NEW event was seen.
    pub new_seen: bool,
    /// A DESTROY event was seen.
    pub destroyed: bool,
    /// OR of the synthesised flags of every event.
    pub tcp_flags: u8,
    /// A start time was known (NEW, or a start carried by an event).
    pub start_known: bool,
}

/// Key of a connection for pairing: conntrack id plus the orig tuple when
/// the id is printed, otherwise protocol + orig tuple + reply tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ConnKey {
    source: u32,
    id: Option<u64>,
    protocol: u8,
    orig: Tuple,
    reply: Option<Tuple>,
}

/// Pairs NEW/UPDATE/DESTROY events into connections, FIFO per key.
#[derive(Debug, Default)]
pub struct Tracker {
    open: HashMap<ConnKey, VecDeque<Connection>>,
    seq: u64,
    open_count: usize,
}

/// What a [`Tracker::push`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Opened or updated a connection; nothing to write yet.
    Pending,
    /// A DESTROY closed a connection: write it.
    Closed(Box<Connection>),
}

impl Tracker {
    /// Feeds one event. `fallback_us` is used when the event has no time.
    pub fn push(&mut self, ev: &ConnEvent, fallback_us: i64) -> Pushed {
        let key = ConnKey {
            source: ev.source,
            id: ev.ct_id,
            protocol: ev.protocol,
            orig: ev.orig,
            reply: if ev.ct_id.is_some() {
                None
            } else {
                Some(ev.reply)
            },
        };
        let t = ev.time_us.unwrap_or(fallback_us);
        let q = self.open.entry(key).or_default();
        match ev.kind {
            EventKind::New | EventKind::Update => {
                let new = ev.kind == EventKind::New;
                if new || q.is_empty() {
                    let start = if new {
                        Some(ev.start_us.unwrap_or(t))
                    } else {
                        ev.start_us
                    };
                    q.push_back(Connection {
                        seq: self.seq,
                        event: *ev,
                        first_us: start.unwrap_or(t),
                        last_us: t,
                        new_seen: new,
                        destroyed: false,
                        tcp_flags: ev.tcp_flags,
                        start_known: start.is_some(),
                    });
                    self.seq += 1;
                    self.open_count += 1;
                } else if let Some(c) = q.back_mut() {
                    c.last_us = c.last_us.max(t);
                    c.tcp_flags |= ev.tcp_flags;
                    c.event.mark |= ev.mark;
                }
                Pushed::Pending
            }
            EventKind::Destroy => {
                let mut c = match q.pop_front() {
                    Some(c) => {
                        self.open_count -= 1;
                        c
                    }
                    None => {
                        let start = ev.start_us;
                        let c = Connection {
                            seq: self.seq,
                            event: *ev,
                            first_us: start.unwrap_or(t),
                            last_us: t,
                            new_seen: false,
                            destroyed: false,
                            tcp_flags: 0,
                            start_known: start.is_some(),
                        };
                        self.seq += 1;
                        c
                    }
                };
                if q.is_empty() {
                    self.open.remove(&key);
                }
                if !c.start_known {
                    if let Some(s) = ev.start_us {
                        c.first_us = s;
                        c.start_known = true;
                    }
                }
                let mark = c.event.mark;
                c.event = *ev;
                if c.event.mark == 0 {
                    c.event.mark = mark;
                }
                c.destroyed = true;
                c.last_us = t.max(c.first_us);
                c.tcp_flags |= ev.tcp_flags;
                Pushed::Closed(Box::new(c))
            }
        }
    }

    /// Connections still open.
    pub fn open_count(&self) -> usize {
        self.open_count
    }

    /// Removes and returns every open connection, in order of appearance.
    pub fn drain(&mut self) -> Vec<Connection> {
        let mut out: Vec<Connection> = self.open.drain().flat_map(|(_, q)| q).collect();
        out.sort_by_key(|c| c.seq);
        self.open_count = 0;
        out
    }
}

/// The fixed sysUpTime written into every imported record (spec §6.3).
pub const SYS_UPTIME_MS: u32 = 0xF000_0000;

/// Stores start and end (ms since the epoch) in the raw v5 time fields:
/// export time = end, sysUpTime = [`SYS_UPTIME_MS`] = Last, First =
/// Last − duration. Returns true when the duration had to be clamped.
pub fn v5_times(r: &mut Record, start_ms: i64, end_ms: i64) -> bool {
    let end_ms = end_ms.max(0);
    let secs = (end_ms / 1000).clamp(0, u32::MAX as i64);
    r.unix_secs = secs as u32;
    r.unix_nsecs = ((end_ms % 1000) * 1_000_000) as u32;
    r.sys_uptime_ms = SYS_UPTIME_MS;
    r.last_uptime_ms = SYS_UPTIME_MS;
    let dur = end_ms.saturating_sub(start_ms);
    // Record::start_ms reads (sysUpTime - First) as a signed 32-bit value.
    let max = i32::MAX as i64;
    let clamped = !(0..=max).contains(&dur);
    let dur = dur.clamp(0, max);
    r.first_uptime_ms = SYS_UPTIME_MS - dur as u32;
    clamped
}

/// Synthesised TCP flags from a conntrack TCP state word (spec §6.7).
pub fn flags_for_state(state: &[u8]) -> u8 {
    match state {
        b"ESTABLISHED" | b"SYN_RECV" => 0x12,
        b"FIN_WAIT" | b"CLOSE_WAIT" | b"LAST_ACK" | b"TIME_WAIT" => 0x13,
        b"CLOSE" => 0x16,
        _ => 0x02,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The previous dotted-quad parser, the reference for the fast one.
    fn parse_ipv4_reference(s: &[u8]) -> Option<u32> {
        let (mut out, mut part, mut digits, mut dots) = (0u32, 0u32, 0, 0);
        for &c in s {
            match c {
                b'0'..=b'9' => {
                    digits += 1;
                    if digits > 3 {
                        return None;
                    }
                    part = part * 10 + (c - b'0') as u32;
                }
                b'.' => {
                    if digits == 0 || part > 255 || dots == 3 {
                        return None;
                    }
                    out = out << 8 | part;
                    part = 0;
                    digits = 0;
                    dots += 1;
                }
                _ => return None,
            }
        }
        if dots != 3 || digits == 0 || part > 255 {
            return None;
        }
        Some(out << 8 | part)
    }

    #[test]
    fn ipv4_and_uint_parsers_match_their_references() {
        let alphabet = b"0123456789..x";
        let mut rng = crate::TestRng(88_172_645_463_325_252);
        for _ in 0..200_000 {
            let x = rng.next();
            let len = (x % 17) as usize;
            let s: Vec<u8> = (0..len)
                .map(|i| alphabet[((x >> (i * 3 + 5)) % alphabet.len() as u64) as usize])
                .collect();
            assert_eq!(parse_ipv4(&s), parse_ipv4_reference(&s), "{s:?}");
        }
        for s in [
            "1.2.3.4",
            "255.255.255.255",
            "010.1.1.1",
            "256.1.1.1",
            "1.2.3",
            "0001.2.3.4",
        ] {
            assert_eq!(
                parse_ipv4(s.as_bytes()),
                parse_ipv4_reference(s.as_bytes()),
                "{s}"
            );
        }
        assert_eq!(
            parse_uint(b"18446744073709551615", u64::MAX),
            Some(u64::MAX)
        );
        assert_eq!(parse_uint(b"18446744073709551616", u64::MAX), None);
        assert_eq!(
            parse_uint(b"9999999999999999999", u64::MAX),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_uint(b"", 9), None);
        assert_eq!(parse_uint(b"10", 9), None);
    }

    #[test]
    fn ipv4_parse_is_strict() {
        assert_eq!(parse_ipv4(b"192.168.1.2"), Some(0xC0A8_0102));
        for bad in [
            &b"192.168.10.300"[..],
            b"1.2.3",
            b"1.2.3.4.5",
            b"1..2.3",
            b"01234.1.1.1",
            b"",
        ] {
            assert_eq!(parse_ipv4(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn kernel_ipv6_full_form_parses() {
        let a = Addr::parse(b"2001:0db8:0010:0000:0000:0000:0000:0023").unwrap();
        assert_eq!(a, Addr::parse(b"2001:db8:10::23").unwrap());
    }

    #[test]
    fn v5_times_round_trip() {
        let mut r = Record::default();
        assert!(!v5_times(&mut r, 1_700_000_000_123, 1_700_000_030_456));
        assert_eq!(r.start_ms(), 1_700_000_000_123);
        assert_eq!(r.end_ms(), 1_700_000_030_456);
    }

    fn ev(kind: EventKind, t: i64, sport: u16) -> ConnEvent {
        ConnEvent {
            kind,
            protocol: 17,
            orig: Tuple {
                src: Some(Addr::V4(1)),
                dst: Some(Addr::V4(2)),
                src_port: sport,
                dst_port: 53,
                icmp_id: None,
            },
            reply: Tuple::default(),
            orig_counters: Counters::default(),
            reply_counters: Counters::default(),
            ct_id: None,
            time_us: Some(t),
            start_us: None,
            mark: 0,
            tcp_flags: 0,
            userspace: false,
            source: 0,
        }
    }

    #[test]
    fn reused_tuple_pairs_fifo() {
        let mut t = Tracker::default();
        assert_eq!(t.push(&ev(EventKind::New, 10, 5), 0), Pushed::Pending);
        assert_eq!(t.push(&ev(EventKind::New, 20, 5), 0), Pushed::Pending);
        let Pushed::Closed(c) = t.push(&ev(EventKind::Destroy, 30, 5), 0) else {
            panic!()
        };
        assert_eq!((c.first_us, c.last_us, c.new_seen), (10, 30, true));
        assert_eq!(t.open_count(), 1);
        let Pushed::Closed(c) = t.push(&ev(EventKind::Destroy, 40, 9), 0) else {
            panic!()
        };
        assert!(!c.new_seen);
        assert_eq!(t.drain().len(), 1);
    }
}
