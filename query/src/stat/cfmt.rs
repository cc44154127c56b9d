//! The few C `printf` conversions and flow-tools `fmt_*` helpers that
//! flow-stat's reports are made of, reproduced byte for byte.
//!
//! * [`fixed`]: `%W.Pf` / `%-W.Pf` of a `double`. Rust's `{:.P}` rounds the
//!   exact binary value half-to-even, exactly like glibc (`0.0625` ->
//!   `0.062`, `0.1875` -> `0.188`); the unit tests pin that. Infinities print
//!   as `inf`/`-inf` like glibc. A NaN can only come from `0/0` here, which
//!   on x86-64 is the "default NaN" with the sign bit set, printed by glibc
//!   as `-nan`; we print `-nan` for every NaN (documented choice).
//! * [`ipv4_left15`]: dotted quad (`fmt_ipv4`) as `%-15.15s`.
//! * [`ipv4_prefix`]: `fmt_ipv4prefix`: trailing zero octets dropped
//!   (at least one octet kept), then `/len`; a length above 32 prints as 0.

use std::fmt::Write as _;

/// Appends `v` as C `%<width>.<prec>f` (right-justified) or, with `left`,
/// `%-<width>.<prec>f`, to `s`.
pub fn fixed(s: &mut String, v: f64, width: usize, prec: usize, left: bool) {
    let start = s.len();
    if v.is_nan() {
        s.push_str("-nan");
    } else if v.is_infinite() {
        s.push_str(if v < 0.0 { "-inf" } else { "inf" });
    } else {
        let _ = write!(s, "{v:.prec$}");
    }
    let len = s.len() - start;
    if len < width {
        let pad = width - len;
        if left {
            spaces(s, pad);
        } else {
            s.insert_str(start, &" ".repeat(pad));
        }
    }
}

/// Appends `n` spaces.
#[inline]
pub fn spaces(s: &mut String, mut n: usize) {
    const SP: &str = "                                                                ";
    while n > SP.len() {
        s.push_str(SP);
        n -= SP.len();
    }
    s.push_str(&SP[..n]);
}

/// Appends the decimal digits of `n` (C `%llu`), without `core::fmt`:
/// reports print millions of numbers.
#[inline]
pub fn uint(s: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    s.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

/// `fixed` into a new string.
pub fn fixed_string(v: f64, width: usize, prec: usize, left: bool) -> String {
    let mut s = String::new();
    fixed(&mut s, v, width, prec, left);
    s
}

/// Writes the dotted quad of `addr` into `buf`; returns its length (7..=15).
#[inline]
pub fn ipv4_bytes(buf: &mut [u8; 15], addr: u32) -> usize {
    let mut n = 0;
    for (i, o) in addr.to_be_bytes().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + o / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    n
}

/// Appends the dotted quad of `addr` as C `%-15.15s` (left-justified in 15
/// columns), without a temporary string.
#[inline]
pub fn ipv4_left15(s: &mut String, addr: u32) {
    let mut buf = [0u8; 15];
    let n = ipv4_bytes(&mut buf, addr);
    buf[n..].fill(b' ');
    s.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// Appends flow-tools' prefix text of `addr`/`len` to `s`: trailing zero
/// octets are dropped (the first octet is always printed), the address is
/// printed as given (not masked here), and a length above 32 prints as 0.
/// `0.0.0.0/32` gives `0/32`, `10.1.0.0/16` gives `10.1/16`.
pub fn ipv4_prefix(s: &mut String, addr: u32, len: u8) {
    let b = addr.to_be_bytes();
    // Number of octets to print: up to and including the last non-zero
    // one, at least one.
    let keep = b.iter().rposition(|&o| o != 0).map_or(1, |i| i + 1);
    for (i, o) in b[..keep].iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        let _ = write!(s, "{o}");
    }
    let len = if len > 32 { 0 } else { len };
    let _ = write!(s, "/{len}");
}

/// Appends `text` as C `%-W.Ws`: truncated to `w` bytes, then padded with
/// spaces to `w`.
pub fn left(s: &mut String, text: &str, w: usize) {
    let t = truncate(text, w);
    s.push_str(t);
    spaces(s, w - t.len());
}

/// `text` cut to at most `w` bytes (on a character boundary).
pub fn truncate(text: &str, w: usize) -> &str {
    if text.len() <= w {
        return text;
    }
    let mut end = w;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Appends `n` left-justified in `w` columns (`fmt_uint*` with
/// `FMT_PAD_RIGHT`); longer numbers are not cut.
pub fn num_pad(s: &mut String, n: u64, w: usize) {
    let start = s.len();
    uint(s, n);
    let len = s.len() - start;
    if len < w {
        spaces(s, w - len);
    }
}

/// C `(double)part / (double)total * 100`.
#[inline]
pub fn percent(part: u64, total: u64) -> f64 {
    (part as f64 / total as f64) * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_rounds_ties_to_even_on_the_exact_binary_value_like_glibc() {
        // Exact binary ties: glibc rounds half to even.
        assert_eq!(fixed_string(0.0625, 0, 3, false), "0.062");
        assert_eq!(fixed_string(0.1875, 0, 3, false), "0.188");
        assert_eq!(fixed_string(0.03125, 0, 4, false), "0.0312");
        assert_eq!(fixed_string(0.09375, 0, 4, false), "0.0938");
        assert_eq!(fixed_string(2.5, 0, 0, false), "2");
        assert_eq!(fixed_string(1.5, 0, 0, false), "2");
        // Not a tie in binary: 0.0005 is slightly above, 1.0005 below.
        assert_eq!(fixed_string(0.0005, 0, 3, false), "0.001");
        assert_eq!(fixed_string(1.0005, 0, 3, false), "1.000");
    }

    #[test]
    fn fixed_pads_and_prints_special_values_like_glibc() {
        assert_eq!(fixed_string(0.5, 6, 3, true), "0.500 ");
        assert_eq!(fixed_string(99.387, 6, 3, true), "99.387");
        assert_eq!(fixed_string(f64::INFINITY, 4, 4, false), " inf");
        assert_eq!(fixed_string(f64::NAN, 6, 3, true), "-nan  ");
        assert_eq!(fixed_string(1.0, 4, 4, false), "1.0000");
        // float promoted to double, as printf sees it
        assert_eq!(
            fixed_string((3850760081f32 / 5105f32) as f64, 4, 4, false),
            "754311.5000"
        );
    }

    #[test]
    fn prefixes_drop_trailing_zero_octets() {
        let p = |a: u32, l: u8| {
            let mut s = String::new();
            ipv4_prefix(&mut s, a, l);
            s
        };
        assert_eq!(p(0, 32), "0/32");
        assert_eq!(p(0x0A01_0000, 16), "10.1/16");
        assert_eq!(p(0x0A00_0001, 24), "10.0.0.1/24");
        assert_eq!(p(0xC000_0200, 24), "192.0.2/24");
        assert_eq!(p(0xC000_0200, 33), "192.0.2/0");
    }

    #[test]
    fn integers_and_addresses_print_like_printf() {
        for n in [0u64, 7, 10, 99, 100, 65535, 4294967295, u64::MAX] {
            let mut s = String::new();
            uint(&mut s, n);
            assert_eq!(s, n.to_string());
            s.clear();
            num_pad(&mut s, n, 20);
            assert_eq!(s, format!("{n:<20}"));
        }
        for a in [0u32, 0x0A00_0001, 0xC0A8_6401, 0xFFFF_FFFF, 0x6409_0A00] {
            let b = a.to_be_bytes();
            let want = format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
            let mut s = String::new();
            ipv4_left15(&mut s, a);
            assert_eq!(s, format!("{want:<15}"));
        }
        let mut s = String::new();
        spaces(&mut s, 150);
        assert_eq!(s, " ".repeat(150));
    }

    #[test]
    fn left_truncates_and_pads() {
        let mut s = String::new();
        left(&mut s, "engine_type ", 10);
        assert_eq!(s, "engine_typ");
        s.clear();
        left(&mut s, "udp", 5);
        assert_eq!(s, "udp  ");
    }
}
