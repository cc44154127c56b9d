//! The C number and address readers flow-tools uses, reproduced exactly:
//! `strtoul(s, 0, 0)`, `atoi`, `strtod`, and `scan_ip` / `scan_ip_prefix`
//! (spec §9.4). They never fail: like C, they read the longest valid
//! prefix, and report whether the whole word was used so callers can warn.

/// Result of reading a number from the start of a word.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Scanned<T> {
    /// The value (0 when no digits were found).
    pub value: T,
    /// `true` when the whole word was consumed and had digits.
    pub complete: bool,
}

/// C `strtoul(s, NULL, 0)` on a 64-bit platform: leading blanks, optional
/// sign, `0x` hex, leading-`0` octal, else decimal; overflow saturates;
/// a minus sign negates modulo 2^64.
pub(crate) fn strtoul(s: &str) -> Scanned<u64> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && (bytes[i] as char).is_ascii_whitespace() {
        i += 1;
    }
    let mut negative = false;
    if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
        negative = bytes[i] == b'-';
        i += 1;
    }
    let (radix, start) = if bytes.get(i) == Some(&b'0')
        && matches!(bytes.get(i + 1), Some(b'x') | Some(b'X'))
        && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        (16u64, i + 2)
    } else if bytes.get(i) == Some(&b'0') {
        (8u64, i)
    } else {
        (10u64, i)
    };
    let mut j = start;
    let mut value: u64 = 0;
    let mut overflow = false;
    while let Some(d) = bytes
        .get(j)
        .and_then(|&b| (b as char).to_digit(radix as u32))
    {
        match value
            .checked_mul(radix)
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        j += 1;
    }
    let digits = j > start;
    let value = if overflow {
        u64::MAX
    } else if negative {
        value.wrapping_neg()
    } else {
        value
    };
    Scanned {
        value: if digits { value } else { 0 },
        complete: digits && j == bytes.len(),
    }
}

/// C `atoi`: blanks, sign, decimal digits (saturating instead of
/// undefined on overflow).
pub(crate) fn atoi(s: &str) -> Scanned<i64> {
    let t = s.trim_start();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    let mut value: i64 = 0;
    for b in digits.bytes().take(n) {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    let value = if negative { -value } else { value };
    Scanned {
        value,
        complete: n > 0 && n == digits.len(),
    }
}

/// C `strtod` on the decimal forms (sign, digits, fraction, exponent,
/// `inf`, `nan`).
pub(crate) fn strtod(s: &str) -> Scanned<f64> {
    let t = s.trim_start();
    let b = t.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+') | Some(b'-')) {
        i = 1;
    }
    let lower = t[i..].to_ascii_lowercase();
    for word in ["infinity", "inf", "nan"] {
        if lower.starts_with(word) {
            let end = i + word.len();
            let value: f64 = if word == "nan" {
                f64::NAN
            } else if b.first() == Some(&b'-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
            return Scanned {
                value,
                complete: end == t.len(),
            };
        }
    }
    let int_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        frac_digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if int_digits + frac_digits > 0 {
            i += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return Scanned {
            value: 0.0,
            complete: false,
        };
    }
    if matches!(b.get(i), Some(b'e') | Some(b'E')) {
        let mut k = i + 1;
        if matches!(b.get(k), Some(b'+') | Some(b'-')) {
            k += 1;
        }
        let exp_digits = b[k.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if exp_digits > 0 {
            i = k + exp_digits;
        }
    }
    let value = t[..i].parse::<f64>().unwrap_or(0.0);
    Scanned {
        value,
        complete: i == t.len(),
    }
}

/// flow-tools `scan_ip` without its host-name lookup: dotted decimal, no
/// validation, missing trailing octets are zero, each octet is taken mod
/// 256, extra octets shift the first ones out. A word with a letter would
/// be a host name; we never resolve names, so that is an error.
pub(crate) fn scan_ip(s: &str) -> Result<u32, String> {
    if s.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "\"{s}\" looks like a host name; host names are not resolved, expected a dotted \
             address such as 192.0.2.1"
        ));
    }
    let bytes = s.as_bytes();
    let mut addr: u32 = 0;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let mut n: u32 = 0;
        while i < bytes.len() && bytes[i] != b'.' && bytes[i] != b' ' && bytes[i] != b'\t' {
            n = n
                .wrapping_mul(10)
                .wrapping_add(u32::from(bytes[i]).wrapping_sub(u32::from(b'0')));
            i += 1;
        }
        addr = (addr << 8) | (n & 0xff);
        shift += 1;
        if i >= bytes.len() || bytes[i] == b' ' || bytes[i] == b'\t' {
            break;
        }
        i += 1; // the dot
    }
    while shift < 4 {
        addr <<= 8;
        shift += 1;
    }
    Ok(addr)
}

/// `true` when a word is a plain dotted address (digits and up to three
/// dots, each octet present and at most 255), i.e. scan_ip reads it the
/// way a person would.
pub(crate) fn is_clean_address(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() <= 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|v| v <= 255)
        })
}

/// The netmask of a prefix length 0..=32.
pub(crate) fn len_to_mask(len: u8) -> u32 {
    match len {
        0 => 0,
        l if l >= 32 => u32::MAX,
        l => u32::MAX << (32 - u32::from(l)),
    }
}

/// flow-tools `scan_ip_prefix`: `ADDR/LEN`, or `ADDR` with a classful
/// length (A 8, B 16, C 24, D 28 when the host bits are zero, else 32);
/// lengths above 32 become 32. Returns (address, length).
pub(crate) fn scan_ip_prefix(s: &str) -> Result<(u32, u8), String> {
    match s.split_once('/') {
        None => {
            let addr = scan_ip(s)?;
            let len = if addr & 0x8000_0000 == 0 && addr & 0x00ff_ffff == 0 {
                8
            } else if addr & 0xc000_0000 == 0x8000_0000 && addr & 0x0000_ffff == 0 {
                16
            } else if addr & 0xe000_0000 == 0xc000_0000 && addr & 0x0000_00ff == 0 {
                24
            } else if addr & 0xf000_0000 == 0xe000_0000 && addr & 0x0fff_ffff == 0 {
                28
            } else {
                32
            };
            Ok((addr, len))
        }
        Some((a, l)) => {
            let addr = scan_ip(a)?;
            let len = atoi(l).value;
            if len < 0 {
                return Err(format!(
                    "negative prefix length in \"{s}\"; expected ADDRESS/LENGTH with LENGTH 0-32"
                ));
            }
            Ok((addr, len.min(32) as u8))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoul_bases_and_prefixes() {
        assert_eq!(strtoul("25").value, 25);
        assert_eq!(strtoul("0x29").value, 0x29);
        assert_eq!(strtoul("0X3F").value, 0x3f);
        assert_eq!(strtoul("010").value, 8);
        assert_eq!(strtoul("08").value, 0);
        assert!(!strtoul("08").complete);
        assert_eq!(strtoul("0x").value, 0);
        assert_eq!(strtoul("").value, 0);
        assert!(!strtoul("").complete);
        assert_eq!(strtoul("25abc").value, 25);
        assert!(!strtoul("25abc").complete);
        assert_eq!(strtoul("99999999999999999999999").value, u64::MAX);
        assert_eq!(strtoul("-1").value, u64::MAX);
        assert_eq!(strtoul("0").value, 0);
        assert!(strtoul("0").complete);
    }

    #[test]
    fn atoi_and_strtod() {
        assert_eq!(atoi("16").value, 16);
        assert_eq!(atoi("-5x").value, -5);
        assert_eq!(atoi("x").value, 0);
        assert_eq!(strtod("1000000.0").value, 1_000_000.0);
        assert_eq!(strtod("0.5").value, 0.5);
        assert_eq!(strtod(".5").value, 0.5);
        assert_eq!(strtod("1e3").value, 1000.0);
        assert_eq!(strtod("2.5kb").value, 2.5);
        assert!(!strtod("2.5kb").complete);
        assert_eq!(strtod("abc").value, 0.0);
        assert!(strtod("inf").value.is_infinite());
    }

    #[test]
    fn scan_ip_like_flow_tools() {
        assert_eq!(scan_ip("192.0.2.10").unwrap(), 0xc000_020a);
        assert_eq!(scan_ip("10").unwrap(), 0x0a00_0000);
        assert_eq!(scan_ip("10.1").unwrap(), 0x0a01_0000);
        assert_eq!(scan_ip("256.1.1.1").unwrap(), 0x0001_0101);
        assert_eq!(scan_ip("1.2.3.4.5").unwrap(), 0x0203_0405);
        assert_eq!(scan_ip("").unwrap(), 0);
        assert!(scan_ip("mail.example.com")
            .unwrap_err()
            .contains("host name"));
    }

    #[test]
    fn prefixes_with_and_without_length() {
        assert_eq!(scan_ip_prefix("10").unwrap(), (0x0a00_0000, 8));
        assert_eq!(scan_ip_prefix("172.16").unwrap(), (0xac10_0000, 16));
        assert_eq!(scan_ip_prefix("192.0.2.0").unwrap(), (0xc000_0200, 24));
        assert_eq!(scan_ip_prefix("192.0.2.11").unwrap(), (0xc000_020b, 32));
        assert_eq!(scan_ip_prefix("224.0.0.0").unwrap(), (0xe000_0000, 28));
        assert_eq!(scan_ip_prefix("240.0.0.0").unwrap(), (0xf000_0000, 32));
        assert_eq!(scan_ip_prefix("0").unwrap(), (0, 8));
        assert_eq!(scan_ip_prefix("10.0.0.0/40").unwrap(), (0x0a00_0000, 32));
        assert_eq!(scan_ip_prefix("10.0.0.0/x").unwrap(), (0x0a00_0000, 0));
        assert!(scan_ip_prefix("10.0.0.0/-1").is_err());
    }

    #[test]
    fn masks() {
        assert_eq!(len_to_mask(0), 0);
        assert_eq!(len_to_mask(8), 0xff00_0000);
        assert_eq!(len_to_mask(32), u32::MAX);
        assert!(is_clean_address("10.0.0.1"));
        assert!(is_clean_address("10"));
        assert!(!is_clean_address("10.0.0.256"));
        assert!(!is_clean_address("1.2.3.4.5"));
    }
}
