//! The fast path (files named on the command line, decoded and aggregated
//! in parallel) gives byte-identical reports to the classic pipe
//! `flow-cat DIR | flow-stat`, for every report format, with 1 and 2
//! worker threads, on a multi-file native data set with many blocks.

use std::path::Path;
use std::process::{Command, Stdio};

fn bin(name: &str) -> String {
    match name {
        "flow-cat" => env!("CARGO_BIN_EXE_flow-cat").to_string(),
        "flow-stat" => env!("CARGO_BIN_EXE_flow-stat").to_string(),
        "flow-print" => env!("CARGO_BIN_EXE_flow-print").to_string(),
        _ => unreachable!(),
    }
}

/// The report minus the `# Args:` line, which echoes the command line.
fn body(out: &[u8]) -> String {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.starts_with("# Args:"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn pipe_stat(dir: &Path, args: &[&str]) -> String {
    let mut cat = Command::new(bin("flow-cat"))
        .arg(dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Command::new(bin("flow-stat"))
        .args(args)
        .stdin(cat.stdout.take().unwrap())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(cat.wait().unwrap().success());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    body(&out.stdout)
}

fn fast_stat(dir: &Path, args: &[&str], threads: usize) -> String {
    let out = Command::new(bin("flow-stat"))
        .args(args)
        .arg("--threads")
        .arg(threads.to_string())
        .arg(dir)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    body(&out.stdout)
}

fn dataset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // 60k flows at 40 flows/s: 25 minutes of 5-minute native files,
    // each with several 8192-record blocks.
    let cfg = testbed::gen::Config {
        gen: testbed::gen::GenConfig {
            count: 60_000,
            rate: 40.0,
            ..Default::default()
        },
        output: testbed::gen::Output::Split {
            dir: dir.path().to_path_buf(),
        },
    };
    testbed::gen::run(&cfg).expect("generate flows");
    dir
}

#[test]
fn every_stat_format_is_identical_on_the_fast_path_with_one_and_two_workers() {
    let data = dataset();
    for format in 0..=29 {
        let f = format.to_string();
        for sort in [&["-S", "2"][..], &["-s", "1"][..], &[][..]] {
            let mut args = vec!["-f", f.as_str()];
            args.extend_from_slice(sort);
            let want = pipe_stat(data.path(), &args);
            for threads in [1, 2] {
                let got = fast_stat(data.path(), &args, threads);
                assert!(
                    got == want,
                    "flow-stat {args:?} with {threads} thread(s) differs from the pipe"
                );
            }
        }
    }
}

#[test]
fn fast_path_filters_and_windows_match_the_pipe() {
    let data = dataset();
    // -e selects the same records as flow-nfilter -e in the pipe
    let fast = Command::new(bin("flow-stat"))
        .args([
            "-f",
            "10",
            "-S",
            "2",
            "-e",
            "6 eq $protocol && 25 eq $dstport",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    let mut cat = Command::new(bin("flow-cat"))
        .arg(data.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut filtered = Command::new(env!("CARGO_BIN_EXE_flow-nfilter"))
        .args(["-e", "6 eq $protocol && 25 eq $dstport"])
        .stdin(cat.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let piped = Command::new(bin("flow-stat"))
        .args(["-f", "10", "-S", "2"])
        .stdin(filtered.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(cat.wait().unwrap().success());
    assert!(filtered.wait().unwrap().success());
    assert_eq!(body(&fast.stdout), body(&piped.stdout));
    assert!(body(&fast.stdout).lines().count() > 10);

    // a window selects by flow start: the two halves add up to the whole
    let count = |extra: &[&str]| -> u64 {
        let out = Command::new(bin("flow-stat"))
            .args(["-f", "0"])
            .args(extra)
            .arg(data.path())
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("Total Flows                     : "))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0)
    };
    let all = count(&[]);
    let early = count(&["--until", "2026-01-01T00:10:00Z"]);
    let late = count(&["--since", "2026-01-01T00:10:00Z"]);
    assert!(early > 0 && late > 0, "{early} {late}");
    assert_eq!(early + late, all);
}

fn run_sh(cmd: &str) -> Vec<u8> {
    let dir = crate::util::golden("inputs");
    let bins = std::path::Path::new(env!("CARGO_BIN_EXE_flow-cat"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bins.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-c", cmd])
        .current_dir(dir)
        .env("PATH", path)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn flow_cat_windows_and_expressions_match_flow_nfilter() {
    let a = run_sh("flow-cat -e '17 eq $protocol' main | flow-print -f 5");
    let b = run_sh("flow-cat main | flow-nfilter -e '17 eq $protocol' | flow-print -f 5");
    assert_eq!(a, b);
    assert!(a.len() > 1000);
    let lines = |c: &str| {
        run_sh(c)
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
            - 1
    };
    let all = lines("flow-cat main | flow-print -f 3");
    let since = lines("flow-cat --since 2005-07-06T16:50:00Z main | flow-print -f 3");
    let until = lines("flow-cat --until 2005-07-06T16:50:00Z main | flow-print -f 3");
    assert_eq!(all, 5106);
    assert!(since > 0 && until > 0);
    assert_eq!(since + until, all);
    // relative times start with '-' and must not be taken for options
    assert_eq!(lines("flow-cat --since -9000d main | flow-print -f 3"), all);
    assert_eq!(lines("flow-print -f 3 --until -9000d main"), 0);
    assert_eq!(
        lines("flow-cat main | flow-nfilter --since -1h | flow-print -f 3"),
        0
    );
    let nf = lines("flow-cat main | flow-nfilter --since 2005-07-06T16:50:00Z -e '6 eq $protocol' | flow-print -f 3");
    let fast = lines("flow-print -f 3 --since 2005-07-06T16:50:00Z -e '6 eq $protocol' main");
    assert_eq!(nf, fast);
}

#[test]
fn hash_reports_past_their_memory_limit_spill_and_print_the_same_bytes() {
    let data = dataset();
    let spill_dir = tempfile::tempdir().unwrap();
    let tmp = format!("--temp-dir={}", spill_dir.path().display());
    for format in [1, 2, 3, 8, 9, 10, 11, 16, 21, 23, 24, 25, 26, 27] {
        let f = format.to_string();
        for sort in [&["-S", "3"][..], &["-s", "2"][..], &[][..]] {
            let mut args = vec!["-f", f.as_str()];
            args.extend_from_slice(sort);
            let want = pipe_stat(data.path(), &args);
            // 64 KiB holds about a thousand keys: every big table spills.
            args.extend_from_slice(&["--memory", "64K", tmp.as_str()]);
            assert!(
                pipe_stat(data.path(), &args) == want,
                "pipe flow-stat {args:?} differs when it spills"
            );
            for threads in [1, 2] {
                assert!(
                    fast_stat(data.path(), &args, threads) == want,
                    "flow-stat {args:?} with {threads} thread(s) differs when it spills"
                );
            }
        }
    }
    // Nothing is left behind: the spill files never had names.
    assert_eq!(std::fs::read_dir(spill_dir.path()).unwrap().count(), 0);
}

#[test]
fn a_spill_directory_that_is_missing_gives_a_warning_and_the_right_report() {
    let data = dataset();
    let want = fast_stat(data.path(), &["-f", "10", "-S", "2"], 2);
    let out = Command::new(bin("flow-stat"))
        .args(["-f", "10", "-S", "2", "--memory", "64K"])
        .args(["--temp-dir", "/nonexistent/spill"])
        .arg(data.path())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(body(&out.stdout) == want);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot spill") && err.contains("/nonexistent/spill"),
        "{err}"
    );
    assert_eq!(err.matches("cannot spill").count(), 1, "{err}");
}

#[test]
fn a_bad_memory_size_is_refused() {
    let out = Command::new(bin("flow-stat"))
        .args(["-f", "10", "--memory", "lots"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("memory"), "{err}");
}

#[test]
fn time_arguments_take_the_getdate_forms_and_refuse_overflows() {
    let lines = |c: &str| {
        run_sh(c)
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
            - 1
    };
    // One instant, many spellings (TZ=UTC in run_sh).
    let rfc = lines("flow-print -f 3 --since 2005-07-06T16:50:00Z main");
    assert!(rfc > 0 && rfc < 5106, "{rfc}");
    for form in [
        "July 6, 2005 16:50:00",
        "Wed Jul  6 11:50:00 2005 -0500",
        "07/06/05 16:50",
        "6-Jul-2005 4:50pm",
        "2005-07-06 10:50:00 MDT",
        "@1120668600",
    ] {
        let n = lines(&format!("flow-print -f 3 --since '{form}' main"));
        assert_eq!(n, rfc, "--since {form:?}");
    }
    // flow-cat -t takes the same forms (the spelling). The two
    // files start at 2026-11-22 02:19:24 and 02:19:27 UTC.
    assert_eq!(
        lines("flow-cat -t 'November 22, 2026 02:19:29' main | flow-print -f 3"),
        5106
    );
    let first = lines("flow-cat -t 'Sat, 21 Nov 2026 20:19:25 -0600' main | flow-print -f 3");
    assert!(first > 0 && first < 5106, "{first}");
    assert_eq!(
        lines("flow-cat -t '2026-11-22 02:19:25 UTC' main | flow-print -f 3"),
        first
    );
    // Out-of-range windows fail with a message instead of wrapping.
    let dir = crate::util::golden("inputs");
    for args in [
        ["flow-print", "--since", "@9223372036854776"],
        ["flow-print", "--until", "@9223372036854776"],
        ["flow-print", "--since", "@-9223372036854776"],
        ["flow-cat", "-t", "@9223372036854776"],
    ] {
        let out = Command::new(bin(args[0]))
            .args(&args[1..])
            .arg("main")
            .current_dir(&dir)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(out.stdout.is_empty(), "{args:?} printed flows");
        assert!(err.contains("is out of range"), "{args:?}: {err}");
    }
}
