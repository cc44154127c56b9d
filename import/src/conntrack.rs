//! `conntrack -E` event text (spec §3): `[sec.usec]\t[EVENT] proto num
//! [timeout] [STATE] orig-tuple [counters] [[UNREPLIED]] reply-tuple
//! [counters] [flags] [key=value…]`, plus the diagnostic lines conntrack
//! writes on stderr (ENOBUFS warning, "N flow events have been shown").
//!
//! Tuples: `src=` opens a tuple; `dst sport dport type code` (and the ICMP
//! `id`) fill the open tuple once; a further `id=` is the conntrack id.

use crate::model::{
    flags_for_state, has_ports, parse_uint, Addr, ConnEvent, Counters, EventKind, Tuple,
};

/// Why a conntrack line was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reject {
    /// No `[NEW]`/`[UPDATE]`/`[DESTROY]` tag.
    Event,
    /// Protocol name/number missing or bad.
    Protocol,
    /// Not exactly two tuples.
    Tuples,
    /// A tuple with a bad or missing address.
    Address,
    /// Missing or bad ports (TCP/UDP/…) or ICMP type/code/id.
    Ports,
}

impl Reject {
    /// Short reason for reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Reject::Event => "no [NEW]/[UPDATE]/[DESTROY] tag",
            Reject::Protocol => "bad or missing protocol",
            Reject::Tuples => "not exactly two tuples (cut line?)",
            Reject::Address => "bad or missing src/dst",
            Reject::Ports => "bad or missing ports or ICMP type/code/id",
        }
    }
}

/// A parsed event line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtEvent {
    /// The event; `time_us` from the `[sec.usec]` prefix (UTC), `start_us`
    /// = time − `delta-time` on DESTROY.
    pub event: ConnEvent,
    /// `[start=…]` (local wall time, naive µs), when printed.
    pub start_naive: Option<i64>,
}

/// One line of `conntrack -E` output.
#[allow(clippy::large_enum_variant)] // short-lived, never stored in bulk
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// An event.
    Event(CtEvent),
    /// The ENOBUFS warning (events were lost).
    Enobufs,
    /// `N flow events have been shown.` (with N).
    Trailer(u64),
}

/// Splits on spaces/tabs, keeping `[start=Thu Feb 22 …]` as one token.
fn tokens(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
            i += 1;
        }
        if i >= s.len() {
            return None;
        }
        let start = i;
        if s[i] == b'[' {
            while i < s.len() && s[i] != b']' {
                i += 1;
            }
            i = (i + 1).min(s.len());
        } else {
            while i < s.len() && s[i] != b' ' && s[i] != b'\t' {
                i += 1;
            }
        }
        Some(&s[start..i])
    })
}

#[derive(Default, Clone, Copy)]
struct Raw<'a> {
    src: Option<&'a [u8]>,
    dst: Option<&'a [u8]>,
    sport: Option<&'a [u8]>,
    dport: Option<&'a [u8]>,
    ty: Option<&'a [u8]>,
    code: Option<&'a [u8]>,
    id: Option<&'a [u8]>,
    packets: Option<&'a [u8]>,
    bytes: Option<&'a [u8]>,
}

/// Parses a ctime-style `Thu Feb 22 11:59:43 2024` to naive µs.
fn ctime(s: &[u8]) -> Option<i64> {
    let text = [b"[", s, b"] x"].concat();
    let h = crate::syslog::parse_header(&text)?;
    match h.stamp {
        crate::syslog::Stamp::Naive(t) => Some(t),
        _ => None,
    }
}

const ENOBUFS: [&[u8]; 3] = [
    b"WARNING: We have hit ENOBUFS! We are losing events.",
    b"This message means that the current netlink socket buffer size is too small.",
    b"Please, check --buffer-size in conntrack(8) manpage.",
];

/// Parses one line. Never panics.
pub fn parse(line: &[u8]) -> Result<Line, Reject> {
    let trimmed = strip_end(line);
    if ENOBUFS.contains(&trimmed) {
        return Ok(Line::Enobufs);
    }
    if let Some(n) = trailer(trimmed) {
        return Ok(Line::Trailer(n));
    }
    let mut s = line;
    let mut time_us = None;
    if s.first() == Some(&b'[') {
        if let Some(close) = s.iter().take(32).position(|&c| c == b']') {
            let inner = strip_end(&s[1..close]);
            if let Some(dot) = inner.iter().position(|&c| c == b'.') {
                let sec = parse_uint(&inner[..dot], 1 << 40);
                let usec = strip_end(&inner[dot + 1..]);
                let usec = if usec.is_empty() {
                    Some(0)
                } else {
                    parse_uint(usec, 999_999)
                };
                if let (Some(sec), Some(usec)) = (sec, usec) {
                    // usec printed with %06u, or space-padded on the right
                    // by conntrack < 1.4.2: scale short values
                    let digits = strip_end(&inner[dot + 1..]).len() as u32;
                    let usec = usec * 10u64.pow(6u32.saturating_sub(digits));
                    time_us = Some(sec as i64 * 1_000_000 + usec as i64);
                    s = &s[close + 1..];
                }
            }
        }
    }
    let s = &s[s.iter().take_while(|&&c| c == b' ' || c == b'\t').count()..];
    let (kind, s) = if let Some(r) = s.strip_prefix(b"[NEW] ") {
        (EventKind::New, r)
    } else if let Some(r) = s.strip_prefix(b"[UPDATE] ") {
        (EventKind::Update, r)
    } else if let Some(r) = s.strip_prefix(b"[DESTROY] ") {
        (EventKind::Destroy, r)
    } else {
        return Err(Reject::Event);
    };
    let mut toks = tokens(s).peekable();
    let mut first = toks.next().ok_or(Reject::Protocol)?;
    if matches!(first, b"ipv4" | b"ipv6" | b"unknown") {
        toks.next();
        first = toks.next().ok_or(Reject::Protocol)?;
    }
    let _ = first; // l4 name; the number decides
    let protocol = toks
        .next()
        .and_then(|n| parse_uint(n, 255))
        .ok_or(Reject::Protocol)? as u8;
    let icmp = matches!(protocol, 1 | 58);
    let mut tuples: [Raw<'_>; 2] = [Raw::default(); 2];
    let mut ntuples = 0usize;
    let mut ct_id = None;
    let mut mark = 0u32;
    let mut delta = None;
    let mut start_naive = None;
    let mut flags = if protocol == 6 { 0x02u8 } else { 0 };
    let mut userspace = false;
    for t in toks {
        if let Some(eq) = t.iter().position(|&c| c == b'=').filter(|_| t[0] != b'[') {
            let (k, v) = (&t[..eq], &t[eq + 1..]);
            if k == b"src" {
                ntuples += 1;
                if ntuples > 2 {
                    return Err(Reject::Tuples);
                }
                tuples[ntuples - 1].src = Some(v);
                continue;
            }
            let cur = ntuples.checked_sub(1).map(|i| &mut tuples[i]);
            let slot = match (k, cur) {
                (b"dst", Some(c)) => Some(&mut c.dst),
                (b"sport", Some(c)) => Some(&mut c.sport),
                (b"dport", Some(c)) => Some(&mut c.dport),
                (b"type", Some(c)) => Some(&mut c.ty),
                (b"code", Some(c)) => Some(&mut c.code),
                (b"id", Some(c)) if icmp && c.id.is_none() => Some(&mut c.id),
                (b"packets", Some(c)) => Some(&mut c.packets),
                (b"bytes", Some(c)) => Some(&mut c.bytes),
                _ => None,
            };
            match slot {
                Some(sl) if sl.is_none() || matches!(k, b"packets" | b"bytes") => *sl = Some(v),
                Some(_) => {}
                None => match k {
                    b"id" => ct_id = ct_id.or(parse_uint(v, u64::MAX)),
                    b"mark" => mark = parse_uint(v, u32::MAX as u64).unwrap_or(0) as u32,
                    b"delta-time" => delta = parse_uint(v, 1 << 40),
                    b"portid" => userspace = true,
                    _ => {}
                },
            }
        } else if t.first() == Some(&b'[') {
            match t {
                b"[ASSURED]" => flags |= if protocol == 6 { 0x10 } else { 0 },
                b"[USERSPACE]" => userspace = true,
                _ => {
                    if let Some(v) = t
                        .strip_prefix(b"[start=")
                        .and_then(|v| v.strip_suffix(b"]"))
                    {
                        start_naive = ctime(v);
                    }
                }
            }
        } else if protocol == 6
            && t.iter()
                .all(|c| c.is_ascii_uppercase() || *c == b'_' || c.is_ascii_digit())
            && !t[0].is_ascii_digit()
        {
            flags |= flags_for_state(t);
        }
    }
    if ntuples != 2 {
        return Err(Reject::Tuples);
    }
    let mut out = [Tuple::default(); 2];
    let mut counters = [Counters::default(); 2];
    for (i, r) in tuples.iter().enumerate() {
        let src = r.src.and_then(Addr::parse).ok_or(Reject::Address)?;
        let dst = r.dst.and_then(Addr::parse).ok_or(Reject::Address)?;
        if src.is_v4() != dst.is_v4() {
            return Err(Reject::Address);
        }
        let (mut sp, mut dp, mut id) = (0u16, 0u16, None);
        if has_ports(protocol) {
            sp = r
                .sport
                .and_then(|v| parse_uint(v, 65_535))
                .ok_or(Reject::Ports)? as u16;
            dp = r
                .dport
                .and_then(|v| parse_uint(v, 65_535))
                .ok_or(Reject::Ports)? as u16;
        } else if icmp {
            let t = r.ty.and_then(|v| parse_uint(v, 255)).ok_or(Reject::Ports)?;
            let c = r
                .code
                .and_then(|v| parse_uint(v, 255))
                .ok_or(Reject::Ports)?;
            id = Some(
                r.id.and_then(|v| parse_uint(v, 65_535))
                    .ok_or(Reject::Ports)? as u16,
            );
            dp = (t * 256 + c) as u16;
        }
        out[i] = Tuple {
            src: Some(src),
            dst: Some(dst),
            src_port: sp,
            dst_port: dp,
            icmp_id: id,
        };
        counters[i] = Counters {
            packets: r.packets.and_then(|v| parse_uint(v, u64::MAX)).unwrap_or(0),
            bytes: r.bytes.and_then(|v| parse_uint(v, u64::MAX)).unwrap_or(0),
        };
    }
    if protocol == 6 && counters[1].packets > 0 {
        flags |= 0x10;
    }
    let start_us = match (kind, time_us, delta) {
        (EventKind::Destroy, Some(t), Some(d)) => Some(t - d as i64 * 1_000_000),
        _ => None,
    };
    Ok(Line::Event(CtEvent {
        event: ConnEvent {
            kind,
            protocol,
            orig: out[0],
            reply: out[1],
            orig_counters: counters[0],
            reply_counters: counters[1],
            ct_id,
            time_us,
            start_us,
            mark,
            tcp_flags: flags,
            userspace: userspace && kind == EventKind::Destroy,
            source: 0,
        },
        start_naive,
    }))
}

fn strip_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\r' | b'\t'] = s {
        s = rest;
    }
    s
}

/// `… conntrack v1.4.7 (conntrack-tools): 68 flow events have been shown.`
fn trailer(s: &[u8]) -> Option<u64> {
    let at = s.windows(11).position(|w| w == b"conntrack v")?;
    let r = &s[at..];
    let c = r.windows(3).position(|w| w == b"): ")?;
    let r = &r[c + 3..];
    let sp = r.iter().position(|&c| c == b' ')?;
    let n = parse_uint(&r[..sp], u64::MAX)?;
    let tail = &r[sp..];
    (tail.ends_with(b"have been shown.") || tail.ends_with(b"has been shown.")).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> CtEvent {
        match parse(s.as_bytes()) {
            Ok(Line::Event(e)) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn icmp_three_ids() {
        let e = ev("[1708603223.944129]\t    [NEW] icmp     1 30 src=192.168.1.20 dst=198.51.100.1 type=8 code=0 id=45332 [UNREPLIED] src=198.51.100.1 dst=203.0.113.20 type=0 code=0 id=45332 id=2860799181").event;
        assert_eq!(e.ct_id, Some(2_860_799_181));
        assert_eq!((e.orig.dst_port, e.orig.icmp_id), (0x0800, Some(45332)));
        assert_eq!(e.time_us, Some(1_708_603_223_944_129));
    }

    #[test]
    fn tcp_destroy_with_counters_and_delta() {
        let e = ev("[1708603253.944129]\t[DESTROY] tcp      6 TIME_WAIT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=443 packets=4 bytes=336 src=10.0.0.2 dst=1.2.3.4 sport=443 dport=1 packets=5 bytes=900 [ASSURED] mark=7 delta-time=30 id=99 [USERSPACE] portid=1234 progname=conntrack").event;
        assert_eq!(e.kind, EventKind::Destroy);
        assert_eq!((e.ct_id, e.mark, e.tcp_flags), (Some(99), 7, 0x13));
        assert_eq!(
            e.reply_counters,
            Counters {
                packets: 5,
                bytes: 900
            }
        );
        assert_eq!(e.start_us, Some(1_708_603_223_944_129));
        assert!(e.userspace);
    }

    #[test]
    fn diagnostics_and_rejects() {
        assert_eq!(
            parse(b"^Cconntrack v1.4.7 (conntrack-tools): 68 flow events have been shown."),
            Ok(Line::Trailer(68))
        );
        assert_eq!(parse(ENOBUFS[0]), Ok(Line::Enobufs));
        assert_eq!(
            parse(b"[1708603487.970693]\t [UPDATE] udp      17 30 src=192.168.1.30 dst=1.1.1.1 sport=54481 dport=53 src=1.1.1."),
            Err(Reject::Address)
        );
        assert_eq!(parse(b"hello"), Err(Reject::Event));
        let e = ev("[1424350000.1234  ]\t[NEW] udp 17 30 src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 [start=Thu Feb 22 11:59:43 2024]");
        assert_eq!(e.event.time_us, Some(1_424_350_000_123_400));
        assert!(e.start_naive.is_some());
    }
}
