//! flow-print against the flow-tools goldens: the built binary runs on the
//! corpus inputs with the case's TZ, and its stdout must equal the recorded
//! output byte for byte (exit status too).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{golden, sym_dir};

/// The golden corpus directory (`testdata/golden/flowtools`).
fn corpus() -> PathBuf {
    golden("")
}

/// Runs `flow-print args < input` (input relative to the corpus inputs/)
/// in `tz`; returns stdout and the exit status.
fn run(dir: &Path, tz: &str, args: &[&str], input: &str) -> (Vec<u8>, i32) {
    let stdin = std::fs::File::open(golden(&format!("inputs/{input}"))).expect("input file");
    let out = Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(args)
        .current_dir(dir.join("inputs"))
        .env("TZ", tz)
        .env("LC_ALL", "C")
        .env("FLOWTOOLS_SYMDIR", sym_dir())
        .stdin(Stdio::from(stdin))
        .output()
        .expect("run flow-print");
    (out.stdout, out.status.code().unwrap_or(-1))
}

/// Compares with expected/<id>.out and .rc, showing the first differing
/// line on failure.
fn check(id: &str, tz: &str, args: &[&str], input: &str) {
    let dir = corpus();
    let (got, rc) = run(&dir, tz, args, input);
    let want = std::fs::read(golden(&format!("expected/{id}.out"))).expect("expected .out");
    let want_rc: i32 = std::fs::read_to_string(golden(&format!("expected/{id}.rc")))
        .expect("expected .rc")
        .trim()
        .parse()
        .expect("rc number");
    if got != want {
        let g = String::from_utf8_lossy(&got);
        let w = String::from_utf8_lossy(&want);
        for (n, (gl, wl)) in g.split('\n').zip(w.split('\n')).enumerate() {
            assert_eq!(gl, wl, "{id}: line {} differs", n + 1);
        }
        panic!(
            "{id}: output lengths differ: got {} bytes, want {}",
            got.len(),
            want.len()
        );
    }
    assert_eq!(rc, want_rc, "{id}: exit status");
}

#[test]
fn default_format_is_3() {
    check("print_default", "UTC", &[], "small.ft");
}

#[test]
fn formats_0_to_6() {
    for f in 0..=6 {
        let id = format!("print_f{f}");
        let arg = format!("-f{f}");
        check(&id, "UTC", &[&arg], "small.ft");
    }
}

#[test]
fn wide_and_names() {
    check("print_f3_w", "UTC", &["-f", "3", "-w"], "small.ft");
    check("print_f3_n", "UTC", &["-f", "3", "-n"], "small.ft");
    check("print_f3_nw", "UTC", &["-f", "3", "-nw"], "small.ft");
    check("print_f4_w", "UTC", &["-f", "4", "-w"], "small.ft");
}

#[test]
fn local_time_zones() {
    check(
        "print_f5_newyork",
        "America/New_York",
        &["-f", "5"],
        "small.ft",
    );
    check("print_f1_kolkata", "Asia/Kolkata", &["-f", "1"], "small.ft");
    check(
        "print_p_newyork",
        "America/New_York",
        &["-p", "-f", "6"],
        "small.ft",
    );
}

#[test]
fn header_block() {
    check("print_p_f5", "UTC", &["-p", "-f", "5"], "small.ft");
    check(
        "print_p_comment_char",
        "UTC",
        &["-p", "-c", "%", "-f", "6"],
        "small.ft",
    );
    check("print_big_endian_f5", "UTC", &["-pf5"], "small-big.ft");
    check("print_z9_f5", "UTC", &["-p", "-f", "5"], "small-z9.ft");
    check("print_cat_f5", "UTC", &["-p", "-f", "5"], "small-cat.ft");
    check(
        "print_bad_capture",
        "UTC",
        &["-p", "-f", "0"],
        "bad-capture.ft",
    );
}

#[test]
fn errors_and_exit_codes() {
    for f in ["7", "8", "9", "10", "24"] {
        check(&format!("print_err_f{f}"), "UTC", &["-f", f], "small.ft");
    }
    check("print_err_f25", "UTC", &["-f", "25"], "small.ft");
    check("usage_print", "UTC", &["-h"], "small.ft");
    check("usage_print_badopt", "UTC", &["-x"], "small.ft");
    check("print_err_badmagic", "UTC", &[], "bad/badmagic.ft");
    check("print_err_empty", "UTC", &[], "bad/empty.ft");
}

/// flow-tools rejects file arguments ("Extra arguments", golden
/// print_err_extra_arg); we read them (a documented difference), with the
/// same output as the stream on stdin.
#[test]
fn file_arguments_print_like_stdin() {
    let dir = corpus();
    let inputs = dir.join("inputs");
    let (piped, rc) = run(&dir, "UTC", &["-f", "5"], "small.ft");
    assert_eq!(rc, 0);
    let out = Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(["-f", "5"])
        .arg(inputs.join("small.ft"))
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .output()
        .expect("run flow-print");
    assert!(out.status.success());
    assert_eq!(out.stdout, piped);
}

#[test]
fn truncated_inputs_print_complete_records() {
    check(
        "print_trunc_uncompressed",
        "UTC",
        &[],
        "bad/trunc-uncompressed.ft",
    );
    check(
        "print_trunc_compressed",
        "UTC",
        &[],
        "bad/trunc-compressed.ft",
    );
}

#[test]
fn missing_field_after_header_exits_255() {
    let dir = corpus();
    let (out, rc) = run(&dir, "UTC", &["-p", "-f", "7"], "small.ft");
    assert_eq!(rc, 255);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("#\n# mode:                 normal\n"));
    assert!(text.ends_with("# capture flows:        296\n#\n"));
}

/// flow-header on stdin prints exactly flow-print -p's header block, and
/// with file arguments one named block per file (exit 1 if one failed).
#[test]
fn flow_header_matches_the_p_block() {
    let dir = corpus();
    let inputs = dir.join("inputs");
    let want = std::fs::read_to_string(golden("expected/print_p_f5.out")).unwrap();
    let block: String = want.split_inclusive('\n').take(16).collect();
    let stdin = std::fs::File::open(inputs.join("small.ft")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_flow-header"))
        .env("TZ", "UTC")
        .stdin(Stdio::from(stdin))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), block);
    assert_eq!(out.status.code(), Some(0));

    let out = Command::new(env!("CARGO_BIN_EXE_flow-header"))
        .args(["small.ft", "bad/empty.ft"])
        .current_dir(&inputs)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("#\n# file:                 small.ft\n# mode:"));
    assert!(text.ends_with("# capture flows:        296\n#\n"));
    assert!(!out.stderr.is_empty());
    assert_eq!(out.status.code(), Some(1));
}
