//! Parsing the times users type: absolute (`2026-11-22 03:00`,
//! `2026-11-22T03:00:00Z`, RFC 3339, unix seconds, `@SECS`) in local time
//! unless a zone is given, and relative to now (`-1h`, `-30m`, `-2d`,
//! `now`).

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone};

/// Parses `s` into unix seconds; `now` anchors relative forms.
pub fn parse_time(s: &str, now: i64) -> Result<i64, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rel) = t.strip_prefix('-').or_else(|| t.strip_prefix('+')) {
        if let Some(secs) = parse_duration(rel) {
            return Ok(if t.starts_with('-') {
                now - secs
            } else {
                now + secs
            });
        }
    }
    if let Some(n) = t.strip_prefix('@') {
        return n
            .parse::<i64>()
            .map_err(|_| format!("\"{t}\" is not @UNIX_SECONDS"));
    }
    if t.len() >= 9 && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().map_err(|e| e.to_string());
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Ok(dt.timestamp());
        }
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    .or_else(|| {
        ["%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    });
    match naive {
        Some(n) => Local
            .from_local_datetime(&n)
            .earliest()
            .map(|d| d.timestamp())
            .ok_or_else(|| format!("\"{t}\" does not exist in the local time zone")),
        None => Err(format!(
            "cannot parse time \"{t}\"; expected e.g. \"2026-11-22 03:00\", RFC 3339, unix seconds, or a relative time like -1h"
        )),
    }
}

/// Parses `90s`, `30m`, `1h`, `2d`, `1w`, or a combination like `1h30m`.
pub fn parse_duration(s: &str) -> Option<i64> {
    let mut total = 0i64;
    let mut num = String::new();
    let mut any = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 7 * 86400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        any = true;
    }
    if !num.is_empty() {
        return None;
    }
    any.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_forms() {
        let now = 1_795_313_960;
        assert_eq!(parse_time("-1h", now), Ok(now - 3600));
        assert_eq!(parse_time("-1h30m", now), Ok(now - 5400));
        assert_eq!(parse_time("now", now), Ok(now));
        assert_eq!(parse_time("@1000", now), Ok(1000));
        assert_eq!(parse_time("2026-11-22T03:00:00Z", now), Ok(1_795_316_400));
        assert_eq!(
            parse_time("2026-11-22 03:00:00+0000", now),
            Ok(1_795_316_400)
        );
        assert!(parse_time("yesterday-ish", now).is_err());
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("5"), None);
    }
}
