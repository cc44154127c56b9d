//! ulogd2 conntrack logging (NFCT input, spec §2): the LOGEMU text of
//! PRINTFLOW (`[NEW] ORIG: SRC=… , REPLY: SRC=…`) and the JSON output.
//!
//! Both parsers return a [`ConnEvent`] without the time when the time comes
//! from the syslog header (text) — the caller sets it — and with flow
//! times from `flow.start.*`/`flow.end.*` (JSON). PRINTFLOW prints ICMP
//! `icmp.code` under `TYPE=` and `icmp.type` under `CODE=`; the labels are
//! swapped back here.

use serde_json::{Map, Value};

use crate::model::{parse_uint, protocol_number, Addr, ConnEvent, Counters, EventKind, Tuple};

/// Why a ulogd line was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reject {
    /// Not `[EVENT] ORIG: … , REPLY: …` (text) or not a JSON object.
    Shape,
    /// A side holds a token that is not `KEY=value` (a cut/glued line).
    Token,
    /// Missing or bad address, or mixed families within a side.
    Address,
    /// Missing or unknown protocol.
    Protocol,
    /// TCP/UDP without integer ports.
    Ports,
    /// ICMP without integer type/code.
    IcmpType,
    /// Missing or bad packet/byte counters.
    Counters,
    /// `ct.event` missing or not 1, 2 or 4.
    Event,
}

impl Reject {
    /// Short reason for reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Reject::Shape => "not an ORIG/REPLY record",
            Reject::Token => "stray token in a side (cut or glued line?)",
            Reject::Address => "bad or missing SRC/DST",
            Reject::Protocol => "bad or missing PROTO",
            Reject::Ports => "bad or missing ports",
            Reject::IcmpType => "bad or missing ICMP type/code",
            Reject::Counters => "bad or missing PKTS/BYTES",
            Reject::Event => "ct.event missing or not 1/2/4",
        }
    }
}

fn text_side(s: &[u8]) -> Result<(u8, Tuple, Counters), Reject> {
    let (mut src, mut dst, mut proto, mut spt, mut dpt, mut ty, mut code, mut pk, mut by) =
        (None, None, None, None, None, None, None, None, None);
    for tok in s.split(|&c| c == b' ').filter(|t| !t.is_empty()) {
        let eq = tok.iter().position(|&c| c == b'=').ok_or(Reject::Token)?;
        let (k, v) = (&tok[..eq], &tok[eq + 1..]);
        let slot = match k {
            b"SRC" => &mut src,
            b"DST" => &mut dst,
            b"PROTO" => &mut proto,
            b"SPT" => &mut spt,
            b"DPT" => &mut dpt,
            b"TYPE" => &mut ty,
            b"CODE" => &mut code,
            b"PKTS" => &mut pk,
            b"BYTES" => &mut by,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(v);
        }
    }
    let src = src.and_then(Addr::parse).ok_or(Reject::Address)?;
    let dst = dst.and_then(Addr::parse).ok_or(Reject::Address)?;
    if src.is_v4() != dst.is_v4() {
        return Err(Reject::Address);
    }
    let protocol = proto.and_then(protocol_number).ok_or(Reject::Protocol)?;
    let (mut sp, mut dp) = (0, 0);
    match protocol {
        6 | 17 => {
            sp = spt
                .and_then(|v| parse_uint(v, 65_535))
                .ok_or(Reject::Ports)? as u16;
            dp = dpt
                .and_then(|v| parse_uint(v, 65_535))
                .ok_or(Reject::Ports)? as u16;
        }
        1 => {
            // PRINTFLOW: TYPE= carries icmp.code, CODE= carries icmp.type
            let c = ty
                .and_then(|v| parse_uint(v, 255))
                .ok_or(Reject::IcmpType)?;
            let t = code
                .and_then(|v| parse_uint(v, 255))
                .ok_or(Reject::IcmpType)?;
            dp = (t * 256 + c) as u16;
        }
        _ => {}
    }
    let packets = pk
        .and_then(|v| parse_uint(v, u64::MAX))
        .ok_or(Reject::Counters)?;
    let bytes = by
        .and_then(|v| parse_uint(v, u64::MAX))
        .ok_or(Reject::Counters)?;
    let t = Tuple {
        src: Some(src),
        dst: Some(dst),
        src_port: sp,
        dst_port: dp,
        icmp_id: None,
    };
    Ok((protocol, t, Counters { packets, bytes }))
}

fn strip_trailing_spaces(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' '] = s {
        s = rest;
    }
    s
}

/// True when `msg` looks like PRINTFLOW text (for auto-detection).
pub fn looks_like_text(msg: &[u8]) -> bool {
    let m = skip_event(msg).1;
    m.starts_with(b"ORIG: ") && m.windows(9).any(|w| w == b", REPLY: ")
}

fn skip_event(msg: &[u8]) -> (Option<EventKind>, &[u8]) {
    for (tag, k) in [
        (&b"[NEW] "[..], EventKind::New),
        (b"[UPDATE] ", EventKind::Update),
        (b"[DESTROY] ", EventKind::Destroy),
    ] {
        if let Some(r) = msg.strip_prefix(tag) {
            return (Some(k), r);
        }
    }
    (None, msg)
}

/// Parses PRINTFLOW text (after the LOGEMU/syslog header and any tag).
/// The event time is left `None`. A missing event tag means the event key
/// was invalid; the record is treated as a DESTROY (hash mode output).
pub fn parse_text(msg: &[u8]) -> Result<ConnEvent, Reject> {
    let (kind, m) = skip_event(msg);
    let m = m.strip_prefix(b"ORIG: ").ok_or(Reject::Shape)?;
    let sep = m
        .windows(9)
        .position(|w| w == b", REPLY: ")
        .ok_or(Reject::Shape)?;
    let (po, orig, oc) = text_side(&m[..sep])?;
    let (_, reply, rc) = text_side(strip_trailing_spaces(&m[sep + 9..]))?;
    let mut flags = 0;
    if po == 6 {
        flags = 0x02 | if rc.packets > 0 { 0x10 } else { 0 };
    }
    Ok(ConnEvent {
        kind: kind.unwrap_or(EventKind::Destroy),
        protocol: po,
        orig,
        reply,
        orig_counters: oc,
        reply_counters: rc,
        ct_id: None,
        time_us: None,
        start_us: None,
        mark: 0,
        tcp_flags: flags,
        userspace: false,
        source: 0,
    })
}

fn int(d: &Map<String, Value>, k: &str) -> Option<u64> {
    d.get(k).and_then(Value::as_u64)
}

fn json_side(d: &Map<String, Value>, dir: &str) -> Result<(u8, Tuple, Counters), Reject> {
    let (s, t) = if dir == "orig" {
        ("src_ip", "dest_ip")
    } else {
        ("reply.ip.saddr.str", "reply.ip.daddr.str")
    };
    let addr = |k: &str| {
        d.get(k)
            .and_then(Value::as_str)
            .and_then(|v| Addr::parse(v.as_bytes()))
    };
    let src = addr(s).ok_or(Reject::Address)?;
    let dst = addr(t).ok_or(Reject::Address)?;
    if src.is_v4() != dst.is_v4() {
        return Err(Reject::Address);
    }
    let protocol = int(d, &format!("{dir}.ip.protocol"))
        .filter(|&p| p <= 255)
        .ok_or(Reject::Protocol)? as u8;
    let (mut sp, mut dp) = (0u16, 0u16);
    match protocol {
        6 | 17 => {
            let port = |k: &str| int(d, &format!("{dir}.l4.{k}")).filter(|&p| p <= 65_535);
            sp = port("sport").ok_or(Reject::Ports)? as u16;
            dp = port("dport").ok_or(Reject::Ports)? as u16;
        }
        1 | 58 => {
            let fam = if protocol == 1 { "icmp" } else { "icmpv6" };
            let t = int(d, &format!("{fam}.type")).unwrap_or(0).min(255);
            let c = int(d, &format!("{fam}.code")).unwrap_or(0).min(255);
            dp = (t * 256 + c) as u16;
        }
        _ => {}
    }
    let packets = int(d, &format!("{dir}.raw.pktcount")).ok_or(Reject::Counters)?;
    let bytes = int(d, &format!("{dir}.raw.pktlen")).ok_or(Reject::Counters)?;
    let t = Tuple {
        src: Some(src),
        dst: Some(dst),
        src_port: sp,
        dst_port: dp,
        icmp_id: None,
    };
    Ok((protocol, t, Counters { packets, bytes }))
}

fn epoch_us(d: &Map<String, Value>, which: &str) -> Option<i64> {
    let s = int(d, &format!("flow.{which}.sec"))?;
    let us = int(d, &format!("flow.{which}.usec"))
        .unwrap_or(0)
        .min(999_999);
    (s < (1 << 40)).then(|| s as i64 * 1_000_000 + us as i64)
}

/// Parses one ulogd JSON line. Event time = `flow.end` if present, else
/// `flow.start`, else the `timestamp` write time; start = `flow.start`.
pub fn parse_json(line: &[u8]) -> Result<ConnEvent, Reject> {
    let v: Value = serde_json::from_slice(line).map_err(|_| Reject::Shape)?;
    let d = v.as_object().ok_or(Reject::Shape)?;
    let kind = match int(d, "ct.event") {
        Some(1) => EventKind::New,
        Some(2) => EventKind::Update,
        Some(4) => EventKind::Destroy,
        _ => return Err(Reject::Event),
    };
    let (po, orig, oc) = json_side(d, "orig")?;
    let (_, reply, rc) = json_side(d, "reply")?;
    let start = epoch_us(d, "start");
    let end = epoch_us(d, "end");
    let written = d
        .get("timestamp")
        .or_else(|| d.get("@timestamp"))
        .and_then(Value::as_str)
        .and_then(crate::syslog::parse_time);
    let mut flags = 0;
    if po == 6 {
        flags = 0x02 | if rc.packets > 0 { 0x10 } else { 0 };
    }
    Ok(ConnEvent {
        kind,
        protocol: po,
        orig,
        reply,
        orig_counters: oc,
        reply_counters: rc,
        ct_id: int(d, "ct.id"),
        time_us: end.or(start).or(written),
        start_us: start,
        mark: int(d, "ct.mark").unwrap_or(0) as u32,
        tcp_flags: flags,
        userspace: false,
        source: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_new_with_snat() {
        let e = parse_text(b"[NEW] ORIG: SRC=192.168.50.20 DST=198.51.100.21 PROTO=TCP SPT=39464 DPT=443 PKTS=0 BYTES=0 , REPLY: SRC=198.51.100.21 DST=203.0.113.10 PROTO=TCP SPT=443 DPT=39464 PKTS=0 BYTES=0 ").unwrap();
        assert_eq!(e.kind, EventKind::New);
        assert_eq!(
            (e.protocol, e.orig.dst_port, e.reply.dst_port),
            (6, 443, 39464)
        );
        assert_eq!(e.reply.dst, Addr::parse(b"203.0.113.10"));
    }

    #[test]
    fn text_icmp_labels_are_swapped() {
        let e = parse_text(b"[DESTROY] ORIG: SRC=1.1.1.1 DST=2.2.2.2 PROTO=ICMP TYPE=0 CODE=8 PKTS=4 BYTES=336 , REPLY: SRC=2.2.2.2 DST=1.1.1.1 PROTO=ICMP TYPE=0 CODE=8 PKTS=4 BYTES=336 ").unwrap();
        assert_eq!(e.orig.dst_port, 0x0800);
        assert_eq!(
            e.orig_counters,
            Counters {
                packets: 4,
                bytes: 336
            }
        );
    }

    #[test]
    fn text_rejects_cut_and_glued() {
        assert_eq!(
            parse_text(b"[DESTROY] ORIG: SRC=1.1.1.1 DST=2.2.2.2 PROTO=TCP SPT=1 DPT=4Feb 22 11:59:29 nat01 [DESTROY] ORIG: SRC=1.1.1.1 DST=2.2.2.2 PROTO=ICMP TYPE=0 CODE=8 PKTS=4 BYTES=336 , REPLY: SRC=2.2.2.2 DST=1.1.1.1 PROTO=ICMP TYPE=0 CODE=8 PKTS=4 BYTES=336 "),
            Err(Reject::Token)
        );
        assert_eq!(
            parse_text(b"[DESTROY] ORIG: SRC=1.1.1.1 DST=2.2.2.2 PROTO=TCP SPT=1 DPT=4 PKTS=30 BYTES=3150 , REPLY: "),
            Err(Reject::Address)
        );
    }

    #[test]
    fn json_destroy() {
        let e = parse_json(br#"{"timestamp": "2024-02-22T12:58:40+0100", "orig.ip.protocol": 17, "orig.l4.sport": 123, "orig.l4.dport": 123, "orig.raw.pktlen": 76, "orig.raw.pktcount": 1, "reply.ip.protocol": 17, "reply.l4.sport": 123, "reply.l4.dport": 55866, "reply.raw.pktlen": 76, "reply.raw.pktcount": 1, "ct.mark": 0, "ct.id": 1350966682, "ct.event": 4, "flow.start.sec": 1708603090, "flow.start.usec": 842910, "flow.end.sec": 1708603120, "flow.end.usec": 842910, "src_ip": "192.168.60.30", "dest_ip": "192.0.2.123", "reply.ip.saddr.str": "192.0.2.123", "reply.ip.daddr.str": "203.0.113.40"}"#).unwrap();
        assert_eq!(e.kind, EventKind::Destroy);
        assert_eq!(e.time_us, Some(1_708_603_120_842_910));
        assert_eq!(e.start_us, Some(1_708_603_090_842_910));
        assert_eq!(e.ct_id, Some(1_350_966_682));
        assert_eq!(parse_json(b"{\"ct.event\": 3}"), Err(Reject::Event));
        assert_eq!(parse_json(b"{\"timestamp\": \"2024"), Err(Reject::Shape));
    }
}
