//! flow-export end to end: round trips through every format on the golden
//! inputs, the parallel and partitioned paths, the errors, and the Spark
//! proof.

mod util;

use std::path::Path;

use formats::Record;
use util::*;

#[test]
fn csv_json_and_parquet_round_trip_the_golden_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    for input in [
        "small.ft",
        "small-big.ft",
        "small-z9.ft",
        "main",
        "bad-capture.ft",
    ] {
        let path = golden_input(input);
        let want = records(&[&path]);
        assert!(!want.is_empty(), "{input}");
        let p = path.to_str().unwrap();

        let csv = run_ok(tmp.path(), &["-f", "csv", p]);
        assert_eq!(parse_csv(&csv), want, "CSV of {input}");

        let json = run_ok(tmp.path(), &["-f", "json", p]);
        assert_eq!(parse_json(&json), want, "JSON of {input}");

        for extra in [
            &[][..],
            &["--addr-strings"][..],
            &["--row-group-rows", "100"][..],
        ] {
            let mut args = vec!["-f", "parquet", "-o", "out.parquet", p];
            args.extend_from_slice(extra);
            run_ok(tmp.path(), &args);
            assert_eq!(
                read_parquet(&tmp.path().join("out.parquet")),
                want,
                "Parquet {extra:?} of {input}"
            );
        }
        assert_eq!(
            tree(tmp.path()),
            ["out.parquet"],
            "no temporary file is left"
        );
    }
}

#[test]
fn the_stdin_stream_exports_like_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = run_ok(
        tmp.path(),
        &["-f", "csv", golden_input("small.ft").to_str().unwrap()],
    );
    let piped = run(tmp.path(), &["-f", "csv"], Some(&golden_input("small.ft")));
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(piped.stdout, file);
    let piped = run(
        tmp.path(),
        &["-f", "csv", "-o", "-", "-e", "6 eq $protocol"],
        Some(&golden_input("small.ft")),
    );
    let tcp: Vec<Record> = records(&[&golden_input("small.ft")])
        .into_iter()
        .filter(|r| r.protocol == 6)
        .collect();
    assert_eq!(parse_csv(&piped.stdout), tcp);
}

#[test]
fn output_is_the_same_for_any_thread_count_on_many_native_files() {
    let tmp = tempfile::tempdir().unwrap();
    let flows = tmp.path().join("flows");
    generate(&flows, 60_000, 40.0, 7);
    let want = records(&[&flows]);
    assert_eq!(want.len(), 60_000);
    let f = flows.to_str().unwrap();
    let one = run_ok(tmp.path(), &["-f", "csv", "--threads", "1", f]);
    let two = run_ok(tmp.path(), &["-f", "csv", "--threads", "2", f]);
    let four = run_ok(tmp.path(), &["-f", "csv", "--threads", "4", f]);
    assert!(one == two && two == four);
    assert_eq!(parse_csv(&one), want);
    for t in ["1", "3"] {
        run_ok(
            tmp.path(),
            &[
                "-f",
                "parquet",
                "--threads",
                t,
                "--row-group-rows",
                "5000",
                "-o",
                "x.parquet",
                f,
            ],
        );
        assert_eq!(
            read_parquet(&tmp.path().join("x.parquet")),
            want,
            "threads {t}"
        );
    }
}

#[test]
fn time_window_and_filter_select_the_same_flows_as_the_query_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let flows = tmp.path().join("flows");
    generate(&flows, 20_000, 10.0, 3);
    let all = records(&[&flows]);
    let since = all[all.len() / 3].start_ms();
    let until = since + 600_000;
    let iso = |ms: i64| {
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
            .unwrap()
            .to_rfc3339()
    };
    let (s, u) = (iso(since), iso(until));
    let f = flows.to_str().unwrap();
    let got = run_ok(
        tmp.path(),
        &[
            "-f",
            "csv",
            "--since",
            &s,
            "--until",
            &u,
            "-e",
            "17 eq $protocol",
            f,
        ],
    );
    let want: Vec<Record> = all
        .into_iter()
        .filter(|r| r.start_ms() >= since && r.start_ms() < until && r.protocol == 17)
        .collect();
    assert!(!want.is_empty());
    assert_eq!(parse_csv(&got), want);
}

#[test]
fn hourly_partitions_hold_each_flow_once_under_its_start_hour() {
    let tmp = tempfile::tempdir().unwrap();
    let flows = tmp.path().join("flows");
    // 30,000 flows at 5/s: about 100 minutes, so three hours are touched.
    generate(&flows, 30_000, 5.0, 11);
    let want = records(&[&flows]);
    let f = flows.to_str().unwrap();
    for (format, ext) in [("parquet", "parquet"), ("csv", "csv")] {
        let table = tmp.path().join(format!("table-{format}"));
        run_ok(
            tmp.path(),
            &[
                "-f",
                format,
                "--partition",
                "hour",
                "--part-prefix",
                "part-test",
                "--row-group-rows",
                "4000",
                "-o",
                table.to_str().unwrap(),
                f,
            ],
        );
        let files = tree(&table);
        assert!(files.len() >= 2, "{files:?}");
        let mut got = Vec::new();
        for rel in &files {
            // date=YYYY-MM-DD/hour=HH/part-test-00000.ext, nothing hidden
            let parts: Vec<&str> = rel.split('/').collect();
            assert_eq!(parts.len(), 3, "{rel}");
            assert_eq!(parts[2], format!("part-test-00000.{ext}"));
            let day = parts[0].strip_prefix("date=").expect("date=");
            let hour: u32 = parts[1]
                .strip_prefix("hour=")
                .expect("hour=")
                .parse()
                .unwrap();
            let rows = if format == "parquet" {
                read_parquet(&table.join(rel))
            } else {
                parse_csv(&std::fs::read(table.join(rel)).unwrap())
            };
            for r in &rows {
                let t =
                    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(r.start_ms()).unwrap();
                assert_eq!(t.format("%Y-%m-%d").to_string(), day);
                assert_eq!(t.format("%H").to_string().parse::<u32>().unwrap(), hour);
            }
            got.extend(rows);
        }
        // Each partition keeps input order; together they hold every flow once.
        let key = |r: &Record| {
            (
                r.start_ms(),
                r.unix_secs,
                r.unix_nsecs,
                r.src_addr,
                r.dst_addr,
                r.src_port,
                r.dst_port,
                r.first_uptime_ms,
            )
        };
        let mut a = got.clone();
        let mut b = want.clone();
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a, b, "{format}");
        // A second run adds files beside the first (periodic export).
        run_ok(
            tmp.path(),
            &[
                "-f",
                format,
                "--partition",
                "day",
                "-o",
                table.to_str().unwrap(),
                f,
            ],
        );
        assert!(tree(&table).len() > files.len());
    }
}

fn assert_failed_cleanly(dir: &Path, out: &std::process::Output, words: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {err}");
    assert!(err.starts_with("flow-export: "), "{err}");
    assert!(err.contains(words), "{err:?} should say {words:?}");
    assert!(!err.contains("panicked"), "{err}");
    let left: Vec<String> = tree(dir)
        .into_iter()
        .filter(|p| !p.starts_with("flows/"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn errors_are_clear_and_leave_nothing_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let small = golden_input("small.ft");
    let s = small.to_str().unwrap();
    let d = tmp.path();

    let out = run(d, &["-f", "parquet", s], None);
    assert_failed_cleanly(d, &out, "Parquet output needs -o FILE");
    let out = run(d, &["-f", "csv", "--partition", "hour", s], None);
    assert_failed_cleanly(d, &out, "--partition needs -o DIR");
    let out = run(d, &["-f", "csv", "-o", "no/such/dir/x.csv", s], None);
    assert_failed_cleanly(
        d,
        &out,
        "no/such/dir/x.csv: cannot create: No such file or directory",
    );
    let out = run(d, &["-f", "csv", "-o", ".", s], None);
    assert_failed_cleanly(d, &out, "is a directory");
    let out = run(d, &["-f", "csv", "-o", "x.csv", "no-such-file"], None);
    assert_failed_cleanly(d, &out, "no readable flow file");
    let out = run(d, &["-f", "csv", "-o", "x.csv", "-e", "6 eq", s], None);
    assert!(!out.status.success());
    assert!(!d.join("x.csv").exists());
    let out = run(
        d,
        &[
            "-f",
            "parquet",
            "--part-prefix",
            "../x",
            "--partition",
            "day",
            "-o",
            "t",
            s,
        ],
        None,
    );
    assert_failed_cleanly(d, &out, "--part-prefix");

    // An unknown format: clap names the choices, nothing is written.
    let out = run(d, &["-f", "xml", "-o", "x.xml", s], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("csv") && err.contains("parquet"),
        "{err}"
    );
    assert!(tree(d).is_empty());

    // An unwritable directory (root ignores permissions: skip that case).
    let ro = d.join("ro");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), b"x").is_err() {
        let out = run(d, &["-f", "parquet", "-o", "ro/x.parquet", s], None);
        assert_failed_cleanly(d, &out, "Permission denied");
    } else {
        let _ = std::fs::remove_file(ro.join("probe"));
        skipped("the unwritable-directory case: running as root, which ignores permissions (the full-disk case covers a failing write)");
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir(&ro).unwrap();
}

/// A disk that fills mid-export: the file size limit (RLIMIT_FSIZE, with
/// SIGXFSZ ignored) makes a write fail with EFBIG partway, as ENOSPC would.
#[test]
fn a_full_disk_mid_export_removes_the_partial_file() {
    let tmp = tempfile::tempdir().unwrap();
    let flows = tmp.path().join("flows");
    generate(&flows, 50_000, 50.0, 5);
    let d = tmp.path();
    for (format, target, extra) in [
        ("csv", "big.csv", &[][..]),
        ("parquet", "big.parquet", &["--row-group-rows", "5000"][..]),
        (
            "parquet",
            "table",
            &["--partition", "hour", "--row-group-rows", "5000"][..],
        ),
    ] {
        let mut cmd = format!(
            "ulimit -f 512; trap '' XFSZ; exec '{}' -f {format} -o {target} flows",
            exe()
        );
        for e in extra {
            cmd.push(' ');
            cmd.push_str(e);
        }
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&cmd)
            .current_dir(d)
            .output()
            .unwrap();
        assert_failed_cleanly(d, &out, "cannot write: File too large");
    }
}

/// Parses the body rows of a flow-stat report (comment lines skipped).
fn stat_rows(report: &str) -> Vec<Vec<String>> {
    report
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// Our flow-stat report on `inputs` (the library, sequentially).
fn flow_stat(inputs: &Path, format: u32, field: i32) -> Vec<Vec<String>> {
    use query::stat::{Sort, StatConfig};
    let mut cfg = StatConfig::new(format);
    cfg.sort = Some(Sort {
        descending: true,
        field,
    });
    let opts = flowio::select::ScanOptions {
        inputs: vec![inputs.to_string_lossy().into_owned()],
        ..Default::default()
    };
    let mut src = flowio::select::ChainSource::new(flowio::select::prepare(&opts).unwrap());
    let mut out = Vec::new();
    query::stat::run_stream(&cfg, &mut src, &mut out, &mut std::io::sink()).unwrap();
    stat_rows(&String::from_utf8(out).unwrap())
}

/// Spark's top rows equal ours: the same counter sequence, the same rows
/// above the last counter value, and rows at that value drawn from ours
/// (ties past the cut may differ between engines; f5 ties are ordered).
fn assert_top_rows_match(
    name: &str,
    ours: &[Vec<String>],
    spark: &[Vec<String>],
    count_col: usize,
) {
    assert!(!spark.is_empty(), "{name}: Spark returned no rows");
    let n = spark.len();
    let val = |r: &Vec<String>| r[count_col].parse::<u64>().unwrap();
    let ours_top: Vec<u64> = ours[..n].iter().map(val).collect();
    let spark_top: Vec<u64> = spark.iter().map(val).collect();
    assert_eq!(spark_top, ours_top, "{name}: flow counts of the top {n}");
    let last = spark_top[n - 1];
    let mut above_ours: Vec<&Vec<String>> = ours.iter().filter(|r| val(r) > last).collect();
    let mut above_spark: Vec<&Vec<String>> = spark.iter().filter(|r| val(r) > last).collect();
    above_ours.sort();
    above_spark.sort();
    assert_eq!(above_spark, above_ours, "{name}: rows above {last} flows");
    for r in spark.iter().filter(|r| val(r) == last) {
        assert!(
            ours.contains(r),
            "{name}: Spark row {r:?} is not in our report"
        );
    }
}

/// The Spark proof (bench/spark/topn.py): a Parquet export of a multi-file
/// data set, read by Spark, gives flow-stat's top talkers and ports.
#[test]
fn spark_reads_the_parquet_export_and_agrees_with_flow_stat() {
    let have_java = std::process::Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    let have_pyspark = std::process::Command::new("python3")
        .args(["-c", "import pyspark"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_java || !have_pyspark {
        skipped(&format!(
            "the Spark proof: {} (install Java 17 and `pip install pyspark==3.5.*`)",
            if have_java {
                "python3 cannot import pyspark"
            } else {
                "no java on PATH"
            }
        ));
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let flows = tmp.path().join("flows");
    // ~3 hours of 5-minute files from 4 exporters.
    generate(&flows, 200_000, 20.0, 42);
    let table = tmp.path().join("table");
    let f = flows.to_str().unwrap();
    run_ok(
        tmp.path(),
        &[
            "-f",
            "parquet",
            "--partition",
            "hour",
            "--row-group-rows",
            "50000",
            "-o",
            table.to_str().unwrap(),
            f,
        ],
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/spark/topn.py");
    let t0 = std::time::Instant::now();
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(&table)
        .arg("20")
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .output()
        .unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "topn.py failed:\n{}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .expect("topn.py prints a JSON line");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    println!(
        "Spark proof: {:.1} s for topn.py (Spark's own count: {} s)",
        secs, v["seconds"]
    );
    assert_eq!(v["flows"], 200_000);
    let rows = |k: &str| -> Vec<Vec<String>> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|c| match c {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect()
    };
    let ours10 = flow_stat(&flows, 10, 2);
    let ours5 = flow_stat(&flows, 5, 1);
    assert_top_rows_match("flow-stat -f 10 -S 2", &ours10, &rows("f10_S2"), 2);
    assert_top_rows_match("flow-stat -f 5 -S 1", &ours5, &rows("f5_S1"), 1);
    // f5 ties are ordered (descending port), so the rows are equal outright.
    assert_eq!(rows("f5_S1"), ours5[..20].to_vec());
}
