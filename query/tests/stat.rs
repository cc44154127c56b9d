//! flow-stat against the flow-tools goldens.
//!
//! * Every `flow-stat ... < small.ft` case of `cases.tsv` runs the built
//!   binary and compares stdout and the exit status.
//! * The `flow-cat main | flow-stat ...` cases are reproduced through the
//!   library: the two main files' records, in order, go into a report.
//! * Reports built from scrambled partial batches and merged must print the
//!   same bytes as one sequential pass (the parallel path's contract).

use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use formats::ft::{FtHeader, FtReader};
use formats::Record;
use query::stat::{self, Sort, StatConfig};

use crate::util::{golden, sym_dir};

/// Splits a command line into words (plain words and '...' quotes only,
/// which is all cases.tsv uses for flow-stat).
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in cmd.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

struct Case {
    id: String,
    tz: String,
    cmd: String,
}

fn cases() -> Vec<Case> {
    let text = fs::read_to_string(golden("cases.tsv")).expect("cases.tsv");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            Some(Case {
                id: f.next()?.to_string(),
                tz: f.next()?.to_string(),
                cmd: f.next()?.to_string(),
            })
        })
        .filter(|c| c.id.starts_with("stat_") || c.id.starts_with("usage_stat"))
        .collect()
}

fn expected(id: &str) -> (Vec<u8>, i32) {
    let e = golden("expected");
    let out = fs::read(e.join(format!("{id}.out"))).expect("expected out");
    let rc = fs::read_to_string(e.join(format!("{id}.rc")))
        .expect("expected rc")
        .trim()
        .parse()
        .expect("rc");
    (out, rc)
}

fn diff(id: &str, want: &[u8], got: &[u8]) -> String {
    let w = String::from_utf8_lossy(want);
    let g = String::from_utf8_lossy(got);
    for (i, (a, b)) in w.lines().zip(g.lines()).enumerate() {
        if a != b {
            return format!("{id}: line {}:\n  want {a:?}\n  got  {b:?}", i + 1);
        }
    }
    format!(
        "{id}: lengths differ ({} vs {} lines)",
        w.lines().count(),
        g.lines().count()
    )
}

#[test]
fn small_cases_match_the_goldens() {
    let bin = env!("CARGO_BIN_EXE_flow-stat");
    let inputs = golden("inputs");
    let mut ran = 0;
    let mut failures = Vec::new();
    // Documented differences (e.g. file arguments) are not compared.
    let known = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/known-differences.txt"),
    )
    .unwrap_or_default();
    let known: Vec<&str> = known.lines().filter_map(|l| l.split('\t').next()).collect();
    for c in cases() {
        // Only "flow-stat ARGS [< file]" without pipes.
        if c.cmd.contains('|') || !c.cmd.starts_with("flow-stat") || known.contains(&c.id.as_str())
        {
            continue;
        }
        let (cmdline, stdin) = match c.cmd.split_once(" < ") {
            Some((a, f)) => (a, Some(f.trim())),
            None => (c.cmd.as_str(), None),
        };
        let argv = words(cmdline);
        let mut cmd = Command::new(bin);
        cmd.args(&argv[1..])
            .current_dir(&inputs)
            .env("TZ", &c.tz)
            .env("LC_ALL", "C")
            .env("FLOWTOOLS_SYMDIR", sym_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // argv[0] must read "flow-stat" for the `# Args:` echo.
        use std::os::unix::process::CommandExt;
        cmd.arg0("flow-stat");
        match stdin {
            Some(f) => cmd.stdin(fs::File::open(inputs.join(f)).expect("input")),
            None => cmd.stdin(Stdio::null()),
        };
        let out = cmd.output().expect("run flow-stat");
        let (want, rc) = expected(&c.id);
        ran += 1;
        if out.stdout != want {
            failures.push(diff(&c.id, &want, &out.stdout));
        } else if out.status.code() != Some(rc) {
            failures.push(format!("{}: exit {:?}, want {rc}", c.id, out.status.code()));
        }
    }
    assert!(ran >= 30, "only {ran} cases ran");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The main capture: both files' records in order (what `flow-cat main`
/// streams).
fn main_records() -> Vec<Record> {
    let dir = golden("inputs/main/2026/2026-11/2026-11-21");
    let mut all = Vec::new();
    for name in [
        "ft-v05.2026-11-21.211924-0500",
        "ft-v05.2026-11-21.211927-0500",
    ] {
        let f = fs::File::open(dir.join(name)).expect("main file");
        let mut r = FtReader::new(std::io::BufReader::new(f)).expect("header");
        all.extend(r.read_all().expect("records"));
    }
    all
}

/// The library equivalent of the binary's option handling for the options
/// the goldens use.
fn config(argv: &[String]) -> StatConfig {
    let mut cfg = StatConfig::new(0);
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_str();
        let mut val = || {
            i += 1;
            argv.get(i).cloned().unwrap_or_default()
        };
        match a {
            "-f" => cfg.format = stat::atoi(&val()) as u32,
            "-S" => {
                cfg.sort = Some(Sort {
                    descending: true,
                    field: stat::atoi(&val()),
                })
            }
            "-s" => {
                cfg.sort = Some(Sort {
                    descending: false,
                    field: stat::atoi(&val()),
                })
            }
            "-T" => cfg.title = Some(val().into()),
            "-P" => cfg.percent = true,
            "-w" => cfg.wide = true,
            "-n" => cfg.names = true,
            "-p" => cfg.header_block = true,
            other => panic!("unhandled option {other}"),
        }
        i += 1;
    }
    cfg.args = argv.iter().map(OsString::from).collect();
    cfg.sym_dir = Some(sym_dir());
    cfg
}

fn render(cfg: &StatConfig, report: &stat::Report) -> Vec<u8> {
    let mut out = Vec::new();
    let mut err = Vec::new();
    stat::write_report(cfg, &FtHeader::default(), report, &mut out, &mut err).expect("write");
    out
}

/// `sed -n 1,Np` / `tail -n N` as used by the main cases.
fn post_process(out: Vec<u8>, filter: Option<&str>) -> Vec<u8> {
    let Some(f) = filter else { return out };
    let lines: Vec<&[u8]> = out.split_inclusive(|&b| b == b'\n').collect();
    let w = words(f.trim());
    let pick: Vec<&[u8]> = match w[0].as_str() {
        "sed" => {
            let n: usize = w[2]
                .trim_start_matches("1,")
                .trim_end_matches('p')
                .parse()
                .expect("sed");
            lines.into_iter().take(n).collect()
        }
        "tail" => {
            let n: usize = w[2].parse().expect("tail");
            let skip = lines.len().saturating_sub(n);
            lines.into_iter().skip(skip).collect()
        }
        other => panic!("unhandled filter {other}"),
    };
    pick.concat()
}

#[test]
fn main_cases_match_the_goldens_through_the_library() {
    let recs = main_records();
    assert_eq!(recs.len(), 5106);
    let mut ran = 0;
    let mut failures = Vec::new();
    for c in cases() {
        let Some(rest) = c.cmd.strip_prefix("flow-cat main | ") else {
            continue;
        };
        let mut parts = rest.splitn(2, " | ");
        let stat_cmd = parts.next().unwrap_or_default();
        let filter = parts.next();
        let argv = words(stat_cmd);
        let cfg = config(&argv);
        if cfg.header_block {
            continue; // needs flow-cat's stream header
        }
        let mut report = stat::new_report(&cfg).expect("report");
        for (n, chunk) in recs.chunks(4096).enumerate() {
            report.add_batch((n * 4096) as u64, chunk);
        }
        let got = post_process(render(&cfg, &report), filter);
        let (want, _) = expected(&c.id);
        ran += 1;
        if got != want {
            failures.push(diff(&c.id, &want, &got));
        }
    }
    assert!(ran >= 10, "only {ran} cases ran");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn merged_partial_reports_print_the_same_bytes_as_one_pass() {
    let recs = main_records();
    let sorts: [Option<Sort>; 5] = [
        None,
        Some(Sort {
            descending: true,
            field: 0,
        }),
        Some(Sort {
            descending: true,
            field: 1,
        }),
        Some(Sort {
            descending: false,
            field: 2,
        }),
        Some(Sort {
            descending: true,
            field: 4,
        }),
    ];
    for format in 0..stat::FORMATS {
        for sort in sorts {
            let mut cfg = StatConfig::new(format);
            cfg.sort = sort;
            cfg.wide = true;
            let mut seq = stat::new_report(&cfg).expect("report");
            seq.add_batch(0, &recs);
            // Odd-sized parts, merged newest first (13/14 need input order).
            let mut parts: Vec<stat::Report> = recs
                .chunks(777)
                .enumerate()
                .map(|(n, c)| {
                    let mut r = stat::new_report(&cfg).expect("report");
                    r.add_batch((n * 777) as u64, c);
                    r
                })
                .collect();
            let merged = if format == 13 || format == 14 {
                let mut it = parts.into_iter();
                let mut m = it.next().expect("parts");
                for p in it {
                    m.merge(p);
                }
                m
            } else {
                let mut m = parts.pop().expect("parts");
                while let Some(p) = parts.pop() {
                    m.merge(p);
                }
                m
            };
            assert_eq!(
                render(&cfg, &seq),
                render(&cfg, &merged),
                "format {format} sort {sort:?}"
            );
        }
    }
}

#[test]
fn format_errors_and_usage() {
    let bin = env!("CARGO_BIN_EXE_flow-stat");
    let run = |args: &[&str], stdin: &Path| {
        Command::new(bin)
            .args(args)
            .stdin(fs::File::open(stdin).expect("stdin"))
            .output()
            .expect("run")
    };
    let small = golden("inputs/small.ft");
    let o = run(&["-f", "-1"], &small);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    // unknown option: usage, exit 0, nothing on stdout
    let o = run(&["-x"], &small);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Usage: flow-stat"));
    assert!(o.stdout.is_empty());
    // the last of -s/-S wins; getopt-style glued values
    let o = run(&["-f12", "-S", "2", "-s1"], &small);
    assert!(String::from_utf8_lossy(&o.stdout).contains("# Sorting:   Ascending Field 1\n"));
    // a tag format: header, a warning, exit 0
    let o = run(&["-f", "30"], &small);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing required field"));
}
