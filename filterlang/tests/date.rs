//! The date parser against spec §11.1: every form of the getdate table,
//! read in the zone the table was taken in (TZ=America/Chicago) at a fixed
//! "now", with flow-tools' reading as the expected value or, where that
//! reading is a quirk, the documented sane one.
//!
//! `TZ` is process-global, so the table runs in a child process: the test
//! re-executes this test binary with `TZ=America/Chicago` and a marker
//! variable, and the child alone runs the table with [`Zone::Local`].

use std::process::Command;

use filterlang::date::{parse_date, Zone, MAX_SECS};
use filterlang::{FilterConfig, FilterError, ParseOptions, Symbols};
use formats::time::LocalTime;

/// Set in the child that runs the table.
const CHILD: &str = "FILTERLANG_DATE_TABLE_CHILD";

/// Saturday 2026-11-21 20:19:20 CST (2026-11-22 02:19:20 UTC).
const NOW: i64 = 1_795_313_960;
/// 2026-11-21 00:00 CST.
const MIDNIGHT: i64 = 1_795_240_800;
/// 2026-11-21 20:35:29 CST (2026-11-22 02:35:29 UTC).
const T_2035_29: i64 = 1_795_314_929;
/// 2026-11-21 20:35 CST.
const T_2035: i64 = 1_795_314_900;

/// One row: the form, what we read, and what flow-tools reads when that
/// differs (a quirk the README lists under "Differences from flow-tools").
struct Row {
    form: &'static str,
    expected: i64,
    flow_tools: Option<i64>,
}

const fn same(form: &'static str, expected: i64) -> Row {
    Row {
        form,
        expected,
        flow_tools: None,
    }
}

const fn sane(form: &'static str, expected: i64, flow_tools: i64) -> Row {
    Row {
        form,
        expected,
        flow_tools: Some(flow_tools),
    }
}

/// Spec §11.1, row by row, plus the neighbours the issues named.
fn table() -> Vec<Row> {
    vec![
        same("November 21, 2026 20:35:29", T_2035_29),
        same("Nov 21, 2026 20:35", T_2035),
        same("21 Nov 2026 20:35", T_2035),
        same("21-Nov-2026 20:35", T_2035),
        same("8:35pm Nov 21 2026", T_2035),
        same("21 November 2026", MIDNIGHT),
        same("11/21/2026", MIDNIGHT),
        same("2026-11-21", MIDNIGHT),
        same("20261121", MIDNIGHT),
        same("20:35:29 Nov 21, 2026", T_2035_29),
        same("Sat Nov 21 20:35:29 2026", T_2035_29),
        same("Sat, 21 Nov 2026 20:35:29 -0600", T_2035_29),
        same("2026-11-21 20:35:29 CST", T_2035_29),
        same("2026-11-21 20:35:29 -0600", T_2035_29),
        same("2026-11-21 20:35:29 UTC", 1_795_293_329),
        // Two-digit years: 00-68 are 20xx, 69-99 are 19xx.
        same("11/21/26 20:35:29", T_2035_29),
        same("11/21/68", 3_120_703_200),
        same("11/21/69", -3_520_800),
        same("now", NOW),
        same("today", NOW),
        same("yesterday", NOW - 86_400),
        same("2 hours ago", NOW - 7200),
        // The next 20:35 is later today; the next 20:00 is tomorrow's.
        same("20:35", T_2035),
        same("20:00", MIDNIGHT + 86_400 + 20 * 3600),
        same("last monday", MIDNIGHT - 5 * 86_400),
        same("last sunday", MIDNIGHT - 6 * 86_400),
        same("sunday 10:00", MIDNIGHT + 86_400 + 10 * 3600),
        // getdate's `next` is 2: 2027-01-21.
        sane("next month", NOW + 30 * 86_400, 1_800_584_360),
        // getdate reads the T as the military zone T (+7 h).
        sane("2026-11-21T20:35:29", T_2035_29, 1_795_268_129),
        // getdate reads 2026 as the time 20:26 (today).
        sane("Nov 21 2026", MIDNIGHT, MIDNIGHT + 20 * 3600 + 26 * 60),
        same("@1795293329", 1_795_293_329),
        // Extensions flow-tools rejects.
        sane("-1h", NOW - 3600, 0),
        sane("1795293329", 1_795_293_329, 0),
        sane("2026-11-21T20:35:29Z", 1_795_293_329, 0),
        sane("2026-11-21T20:35:29-06:00", T_2035_29, 0),
        // The zone words §11.1 names.
        same("2026-11-21 20:35:29 CDT", T_2035_29 - 3600),
        same("2026-11-21 20:35:29 EST", T_2035_29 - 3600),
        same("2026-11-21 20:35:29 EDT", T_2035_29 - 7200),
        same("2026-11-21 20:35:29 MST", T_2035_29 + 3600),
        same("2026-11-21 20:35:29 MDT", T_2035_29),
        same("2026-11-21 20:35:29 PST", T_2035_29 + 7200),
        same("2026-11-21 20:35:29 PDT", T_2035_29 + 3600),
        same("2026-11-21 20:35:29 GMT", 1_795_293_329),
        same("2026-11-21 20:35:29 HST", 1_795_329_329),
        same("2026-11-21 20:35:29 ADT", 1_795_304_129),
        same("2026-11-21 20:35:29 NZST", 1_795_250_129),
        same("2026-11-21 20:35:29 Z", 1_795_293_329),
        same("2026-11-21 20:35:29 T", 1_795_268_129),
        // Spring forward: 02:30 does not exist; getdate reads it with the
        // offset after the gap (07:30Z). Fall back: the first 01:30 (CDT).
        same("2019-03-10 02:30:00", 1_552_203_000),
        same("2019-11-03 01:30:00", 1_572_762_600),
        // Summer dates take the summer offset.
        same("2026-06-01", 1_780_290_000),
    ]
}

/// Runs the table; only in the child, where TZ=America/Chicago.
fn run_table() {
    // A missing zone database makes chrono fall back to UTC silently:
    // check the zone took effect before trusting any row.
    let winter = Zone::Local.offset_at(NOW);
    let summer = Zone::Local.offset_at(1_780_290_000);
    assert!(
        winter == -6 * 3600 && summer == -5 * 3600,
        "TZ=America/Chicago did not take effect (offsets {winter} and {summer}); install the \
         tz database so /usr/share/zoneinfo/America/Chicago exists (Debian: apt-get install \
         tzdata)"
    );
    // The zone's own readings of the two DST edges the rows rely on.
    assert_eq!(
        Zone::Local.from_naive(1_552_185_000), // 2019-03-10 02:30
        LocalTime::Gap(1_552_203_000, 1_552_206_600)
    );
    assert_eq!(
        Zone::Local.from_naive(1_572_744_600), // 2019-11-03 01:30
        LocalTime::Ambiguous(1_572_762_600, 1_572_766_200)
    );
    let mut failures = Vec::new();
    for row in table() {
        match parse_date(row.form, NOW, Zone::Local) {
            Ok(t) if t == row.expected => {}
            Ok(t) => failures.push(format!(
                "{:?}: got {t}, expected {}{}",
                row.form,
                row.expected,
                row.flow_tools
                    .map(|f| format!(" (flow-tools: {f})"))
                    .unwrap_or_default()
            )),
            Err(e) => failures.push(format!("{:?}: {e}", row.form)),
        }
    }
    // The time-date primitive reads through the same parser.
    let options = ParseOptions {
        now: Some(NOW),
        zone: Zone::Local,
    };
    for row in table() {
        let cfg = format!(
            "filter-primitive p\n type time-date\n permit eq {}\nfilter-definition d\n match \
             start-time p\n",
            row.form
        );
        let r = formats::Record {
            unix_secs: row.expected as u32,
            sys_uptime_ms: 0,
            first_uptime_ms: 0,
            ..formats::Record::default()
        };
        // `@NAME` is a variable in filter.cfg (ftvar runs first, as in
        // flow-tools), so `@SECONDS` never reaches a time-date entry.
        if !(0..=i64::from(u32::MAX)).contains(&row.expected) || row.form.contains('@') {
            continue;
        }
        match FilterConfig::parse_with(&cfg, "t.cfg", &[], &Symbols::builtin(), &options) {
            Ok((c, _)) => {
                if !c.definition("d").map(|f| f.matches(&r)).unwrap_or(false) {
                    failures.push(format!(
                        "time-date {:?} does not match its instant",
                        row.form
                    ));
                }
            }
            Err(e) => failures.push(format!("time-date {:?}: {e}", row.form)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("getdate table: all rows match under TZ=America/Chicago");
}

#[test]
fn getdate_table_under_america_chicago() {
    if std::env::var_os(CHILD).is_some() {
        return run_table();
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(exe)
        .args([
            "--exact",
            "date::getdate_table_under_america_chicago",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("TZ", "America/Chicago")
        .output()
        .expect("re-running the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the table failed under TZ=America/Chicago:\n{stdout}\n{stderr}"
    );
    // The child must really have run it, not filtered it away.
    assert!(
        stdout.contains("all rows match") && stdout.contains("1 passed"),
        "the child did not run the table:\n{stdout}\n{stderr}"
    );
}

#[test]
fn every_row_is_a_distinct_well_formed_case() {
    let rows = table();
    let mut forms: Vec<&str> = rows.iter().map(|r| r.form).collect();
    forms.sort_unstable();
    forms.dedup();
    assert_eq!(forms.len(), rows.len(), "a form appears twice");
    // The quirks we read differently are exactly the documented ones.
    let quirks: Vec<&str> = rows
        .iter()
        .filter(|r| r.flow_tools.is_some_and(|f| f != 0))
        .map(|r| r.form)
        .collect();
    assert_eq!(quirks, ["next month", "2026-11-21T20:35:29", "Nov 21 2026"]);
}

#[test]
fn fixed_zones_give_the_same_readings_as_plain_offsets() {
    // Outside the child: a fixed -06:00 zone matches the Chicago rows
    // whose dates are in winter (no DST involved).
    let cst = Zone::Fixed(-6 * 3600);
    for row in table() {
        if row.form.starts_with("2019") || row.form == "2026-06-01" {
            continue;
        }
        assert_eq!(
            parse_date(row.form, NOW, cst),
            Ok(row.expected),
            "{}",
            row.form
        );
    }
}

#[test]
fn window_overflows_are_errors() {
    // The values: as seconds they overflow once turned into ms.
    for text in ["@9223372036854776", "@-9223372036854776"] {
        assert!(
            matches!(
                parse_date(text, NOW, Zone::UTC),
                Err(FilterError::DateOutOfRange { .. })
            ),
            "{text}"
        );
    }
    let t = parse_date("@253402300799", NOW, Zone::UTC).unwrap();
    assert_eq!(t, MAX_SECS);
    assert!(t.checked_mul(1_000_000).is_some());
}

#[test]
fn time_date_entries_report_bad_dates_at_the_date() {
    let cfg = "filter-primitive p\n type time-date\n permit gt 2026-11-21 blah\n";
    let e = FilterConfig::parse_with(
        cfg,
        "t.cfg",
        &[],
        &Symbols::builtin(),
        &ParseOptions {
            now: Some(NOW),
            zone: Zone::UTC,
        },
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(
            "t.cfg:3:12: cannot read the date \"2026-11-21 blah\" at its character 12: unknown \
             word \"blah\""
        ),
        "{text}"
    );
    let cfg = "filter-primitive p\n type time-date\n permit gt 2026-11-21 + 9000 years\n";
    let e = FilterConfig::parse_with(
        cfg,
        "t.cfg",
        &[],
        &Symbols::builtin(),
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
}

#[test]
fn mutated_dates_never_panic_and_stay_in_range() {
    // A deterministic stand-in for the date_parse fuzz target: every table
    // form, mutated, at ordinary and extreme "now"s.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const PIECES: [&str; 14] = [
        "0",
        "9",
        ":",
        "-",
        "/",
        "+",
        "@",
        ",",
        ".",
        " ",
        "T",
        "pm",
        "ago",
        "99999999999999999999",
    ];
    let mut checked = 0;
    for row in table() {
        for _ in 0..150 {
            let mut text: Vec<char> = row.form.chars().collect();
            for _ in 0..1 + next() % 3 {
                let at = (next() as usize) % (text.len() + 1);
                match next() % 3 {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 => {
                        let piece = PIECES[(next() as usize) % PIECES.len()];
                        for (k, c) in piece.chars().enumerate() {
                            text.insert(at + k, c);
                        }
                    }
                    _ if at < text.len() => {
                        let c = text[at];
                        text.insert(at, c);
                    }
                    _ => {}
                }
            }
            let text: String = text.into_iter().collect();
            for now in [NOW, 0, i64::MIN, i64::MAX, MAX_SECS] {
                for zone in [Zone::UTC, Zone::Fixed(-6 * 3600), Zone::Fixed(14 * 3600)] {
                    if let Ok(t) = parse_date(&text, now, zone) {
                        assert!(
                            (filterlang::date::MIN_SECS..=MAX_SECS).contains(&t),
                            "{text:?} at {now}: {t}"
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
}
