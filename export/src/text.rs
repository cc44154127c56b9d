//! CSV and JSON-lines rows, formatted by hand into a byte buffer (no
//! allocation per row): integers with a small digit loop, addresses from a
//! table of octet strings, times through [`Rfc3339`]. Column order and
//! names are those of [`crate::columns::COLUMNS`]; a test proves it.
//!
//! Every value is a number, a dotted quad or a time stamp, so neither
//! format ever needs quoting or escaping.

use formats::Record;

use crate::time::Rfc3339;

/// Two-digit decimal pairs "00".."99".
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// The decimal text of every octet value, 3 bytes each plus a length.
const OCTETS: [([u8; 3], u8); 256] = {
    let mut t = [([0u8; 3], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let v = i as u8;
        t[i] = if v >= 100 {
            ([b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10], 3)
        } else if v >= 10 {
            ([b'0' + v / 10, b'0' + v % 10, 0], 2)
        } else {
            ([b'0' + v, 0, 0], 1)
        };
        i += 1;
    }
    t
};

/// The longest row either format writes is well under this.
const ROW_MAX: usize = 512;

/// A row under construction, copied to the output buffer in one piece.
/// The writers below take the position and return the new one, so it
/// stays in a register.
type Row = [u8; ROW_MAX];

#[inline(always)]
fn put_byte(b: &mut Row, n: usize, c: u8) -> usize {
    b[n] = c;
    n + 1
}

#[inline(always)]
fn put_lit(b: &mut Row, n: usize, s: &[u8]) -> usize {
    b[n..n + s.len()].copy_from_slice(s);
    n + s.len()
}

/// Decimal digits of `v`, written from the last digit back.
#[inline(always)]
fn put_u32(b: &mut Row, n: usize, v: u32) -> usize {
    let len = if v < 10 {
        1
    } else if v < 100 {
        2
    } else if v < 1000 {
        3
    } else if v < 10_000 {
        4
    } else if v < 100_000 {
        5
    } else if v < 1_000_000 {
        6
    } else if v < 10_000_000 {
        7
    } else if v < 100_000_000 {
        8
    } else if v < 1_000_000_000 {
        9
    } else {
        10
    };
    let d = &mut b[n..n + len];
    let mut i = len;
    let mut v = v;
    while v >= 100 {
        let p = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        d[i..i + 2].copy_from_slice(&PAIRS[p..p + 2]);
    }
    if v >= 10 {
        let p = v as usize * 2;
        d[..2].copy_from_slice(&PAIRS[p..p + 2]);
    } else {
        d[0] = b'0' + v as u8;
    }
    n + len
}

/// Decimal digits of an 8-bit value, from the octet table.
#[inline(always)]
fn put_u8(b: &mut Row, n: usize, v: u8) -> usize {
    let (digits, len) = OCTETS[v as usize];
    b[n..n + 3].copy_from_slice(&digits);
    n + len as usize
}

/// A dotted quad.
#[inline(always)]
fn put_addr(b: &mut Row, mut n: usize, a: u32) -> usize {
    for (k, octet) in a.to_be_bytes().iter().enumerate() {
        if k > 0 {
            n = put_byte(b, n, b'.');
        }
        n = put_u8(b, n, *octet);
    }
    n
}

#[inline(always)]
fn put_time(b: &mut Row, n: usize, t: &mut Rfc3339, ms: i64) -> usize {
    let s: &mut [u8; 24] = (&mut b[n..n + 24]).try_into().expect("24 bytes");
    t.write(s, ms);
    n + 24
}

/// Appends the decimal digits of `v`.
pub fn push_u32(out: &mut Vec<u8>, v: u32) {
    let mut b = [0u8; ROW_MAX];
    let n = put_u32(&mut b, 0, v);
    out.extend_from_slice(&b[..n]);
}

/// Appends `a` (host-order numeric value) as a dotted quad.
pub fn push_addr(out: &mut Vec<u8>, a: u32) {
    let mut b = [0u8; ROW_MAX];
    let n = put_addr(&mut b, 0, a);
    out.extend_from_slice(&b[..n]);
}

/// Per-encoder state: RFC 3339 formatters for the start and end columns
/// (each with its own cache) and the row buffer.
#[derive(Clone)]
pub struct Clocks {
    start: Rfc3339,
    end: Rfc3339,
    row: Box<Row>,
}

impl Default for Clocks {
    fn default() -> Self {
        Clocks {
            start: Rfc3339::new(),
            end: Rfc3339::new(),
            row: Box::new([0; ROW_MAX]),
        }
    }
}

/// Appends one CSV row (with its newline).
#[inline]
pub fn csv_row(out: &mut Vec<u8>, r: &Record, t: &mut Clocks) {
    let b = &mut *t.row;
    let mut n = 0;
    macro_rules! num {
        ($v:expr) => {
            n = put_u32(b, n, $v as u32);
            n = put_byte(b, n, b',');
        };
    }
    macro_rules! byte {
        ($v:expr) => {
            n = put_u8(b, n, $v);
            n = put_byte(b, n, b',');
        };
    }
    macro_rules! addr {
        ($v:expr) => {
            n = put_addr(b, n, $v);
            n = put_byte(b, n, b',');
        };
    }
    num!(r.unix_secs);
    num!(r.unix_nsecs);
    num!(r.sys_uptime_ms);
    addr!(r.exporter);
    addr!(r.src_addr);
    addr!(r.dst_addr);
    addr!(r.next_hop);
    num!(r.input_if);
    num!(r.output_if);
    num!(r.packets);
    num!(r.octets);
    num!(r.first_uptime_ms);
    num!(r.last_uptime_ms);
    num!(r.src_port);
    num!(r.dst_port);
    byte!(r.protocol);
    byte!(r.tos);
    byte!(r.tcp_flags);
    byte!(r.engine_type);
    byte!(r.engine_id);
    byte!(r.src_mask);
    byte!(r.dst_mask);
    num!(r.src_as);
    num!(r.dst_as);
    n = put_time(b, n, &mut t.start, r.start_ms());
    n = put_byte(b, n, b',');
    n = put_time(b, n, &mut t.end, r.end_ms());
    n = put_byte(b, n, b'\n');
    out.extend_from_slice(&b[..n]);
}

/// Appends one JSON object (with its newline): the CSV columns as keys,
/// numbers as numbers, addresses and times as strings.
#[inline]
pub fn json_row(out: &mut Vec<u8>, r: &Record, t: &mut Clocks) {
    let b = &mut *t.row;
    let mut n = 0;
    macro_rules! num {
        ($key:literal, $v:expr) => {
            n = put_lit(b, n, concat!("\"", $key, "\":").as_bytes());
            n = put_u32(b, n, $v as u32);
            n = put_byte(b, n, b',');
        };
    }
    macro_rules! byte {
        ($key:literal, $v:expr) => {
            n = put_lit(b, n, concat!("\"", $key, "\":").as_bytes());
            n = put_u8(b, n, $v);
            n = put_byte(b, n, b',');
        };
    }
    macro_rules! addr {
        ($key:literal, $v:expr) => {
            n = put_lit(b, n, concat!("\"", $key, "\":\"").as_bytes());
            n = put_addr(b, n, $v);
            n = put_lit(b, n, b"\",");
        };
    }
    n = put_byte(b, n, b'{');
    num!("unix_secs", r.unix_secs);
    num!("unix_nsecs", r.unix_nsecs);
    num!("sysuptime", r.sys_uptime_ms);
    addr!("exaddr", r.exporter);
    addr!("srcaddr", r.src_addr);
    addr!("dstaddr", r.dst_addr);
    addr!("nexthop", r.next_hop);
    num!("input", r.input_if);
    num!("output", r.output_if);
    num!("dpkts", r.packets);
    num!("doctets", r.octets);
    num!("first", r.first_uptime_ms);
    num!("last", r.last_uptime_ms);
    num!("srcport", r.src_port);
    num!("dstport", r.dst_port);
    byte!("prot", r.protocol);
    byte!("tos", r.tos);
    byte!("tcp_flags", r.tcp_flags);
    byte!("engine_type", r.engine_type);
    byte!("engine_id", r.engine_id);
    byte!("src_mask", r.src_mask);
    byte!("dst_mask", r.dst_mask);
    num!("src_as", r.src_as);
    num!("dst_as", r.dst_as);
    n = put_lit(b, n, b"\"start\":\"");
    n = put_time(b, n, &mut t.start, r.start_ms());
    n = put_lit(b, n, b"\",\"end\":\"");
    n = put_time(b, n, &mut t.end, r.end_ms());
    n = put_lit(b, n, b"\"}\n");
    out.extend_from_slice(&b[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::{csv_header, Field, Kind, COLUMNS};

    fn sample() -> Record {
        Record {
            unix_secs: 1_767_225_600,
            unix_nsecs: 123_456_789,
            sys_uptime_ms: 4_000_000_000,
            exporter: u32::from(std::net::Ipv4Addr::new(127, 0, 0, 2)),
            src_addr: u32::from(std::net::Ipv4Addr::new(10, 0, 100, 255)),
            dst_addr: u32::MAX,
            next_hop: 0,
            input_if: 65535,
            output_if: 7,
            packets: u32::MAX,
            octets: 1500,
            first_uptime_ms: 3_999_990_000,
            last_uptime_ms: 3_999_999_999,
            src_port: 443,
            dst_port: 0,
            protocol: 6,
            tos: 255,
            tcp_flags: 0x1b,
            engine_type: 1,
            engine_id: 2,
            src_mask: 24,
            dst_mask: 32,
            src_as: 64512,
            dst_as: 1,
        }
    }

    fn expected_text(r: &Record, c: &crate::columns::Column) -> String {
        match c.kind {
            Kind::Addr => std::net::Ipv4Addr::from(c.field.u32(r)).to_string(),
            Kind::TimeMs => {
                chrono::DateTime::<chrono::Utc>::from_timestamp_millis(c.field.time_ms(r))
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            }
            _ => c.field.u32(r).to_string(),
        }
    }

    #[test]
    fn csv_row_follows_the_column_table() {
        let r = sample();
        let mut out = Vec::new();
        csv_row(&mut out, &r, &mut Clocks::default());
        let line = String::from_utf8(out).unwrap();
        let line = line.strip_suffix('\n').unwrap();
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), COLUMNS.len());
        for (c, cell) in COLUMNS.iter().zip(cells) {
            assert_eq!(cell, expected_text(&r, c), "column {}", c.name);
        }
        assert!(csv_header().starts_with("unix_secs,unix_nsecs,sysuptime,exaddr,srcaddr"));
    }

    #[test]
    fn json_row_follows_the_column_table() {
        let r = sample();
        let mut out = Vec::new();
        json_row(&mut out, &r, &mut Clocks::default());
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), COLUMNS.len());
        let keys: Vec<&String> = obj.keys().collect();
        let mut names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        names.sort();
        let mut keys: Vec<&str> = keys.iter().map(|s| s.as_str()).collect();
        keys.sort();
        assert_eq!(keys, names);
        for c in &COLUMNS {
            let want = expected_text(&r, c);
            match c.kind {
                Kind::Addr | Kind::TimeMs => assert_eq!(obj[c.name], want.as_str()),
                _ => assert_eq!(obj[c.name].as_u64().unwrap().to_string(), want),
            }
        }
        assert_eq!(Field::Start.time_ms(&r), r.start_ms());
    }

    #[test]
    fn numbers_are_right_at_every_power_of_ten_and_two() {
        let mut edges = vec![0u32, u32::MAX];
        let mut p = 1u64;
        while p <= u64::from(u32::MAX) {
            edges.extend([p - 1, p, p + 1].map(|v| v.min(u64::from(u32::MAX)) as u32));
            p *= 10;
        }
        edges.extend((0..32).flat_map(|i| [(1u32 << i) - 1, 1u32 << i, (1u32 << i) + 1]));
        for v in edges {
            let mut out = Vec::new();
            push_u32(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
        for v in 0..=255u8 {
            let mut b = [0u8; ROW_MAX];
            let n = put_u8(&mut b, 0, v);
            assert_eq!(&b[..n], v.to_string().as_bytes());
        }
    }

    #[test]
    fn every_address_and_number_edge_formats_like_std() {
        for a in [
            0u32,
            1,
            9,
            10,
            99,
            100,
            101,
            255,
            256,
            999,
            1000,
            12345,
            100_000,
            0x0a00_0001,
            0xc0a8_01ff,
            999_999_999,
            1_000_000_000,
            u32::MAX,
        ] {
            let mut out = Vec::new();
            push_addr(&mut out, a);
            assert_eq!(out, std::net::Ipv4Addr::from(a).to_string().as_bytes());
            let mut out = Vec::new();
            push_u32(&mut out, a);
            assert_eq!(out, a.to_string().as_bytes());
        }
    }
}
