//! flow-alert end to end: 5-minute native files written the way the
//! collector writes them (a `tmp-` file while open, renamed when
//! finished), the built binary run against them with a fixed `--now`, and
//! the flows it reports checked one by one: consecutive runs never report
//! a flow twice and never miss one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use formats::archive::{nest_dir, FileKind, FileName, TmpFile};
use formats::native::{NativeFile, NativeHeader, NativeWriter, WriterOptions};
use formats::time::Zone;
use formats::Record;

/// 2026-11-22 00:00:00 UTC.
const T0: i64 = 1_795_305_600;
const SLOT: i64 = 300;

const FILTER_CFG: &str = "\
filter-primitive TCP
  type ip-protocol
  permit tcp

filter-primitive hostingnet
  type ip-address-prefix
  permit 192.0.2.0/24

filter-primitive redflag_ports
  type ip-port
  permit 23
  permit 1433

filter-primitive smtpports
  type ip-port
  permit 25

filter-primitive local_not_mailservers
  type ip-address-mask
  deny 192.0.2.10 255.255.255.255
  deny 192.0.2.11 255.255.255.255
  permit 192.0.2.0 255.255.255.0

filter-definition redflags
  match ip-protocol TCP
  match ip-destination-port redflag_ports
  match ip-destination-address hostingnet

filter-definition inboundmail_false
  match ip-protocol TCP
  match ip-destination-port smtpports
  match ip-destination-address local_not_mailservers
";

/// A flow with identity `id` (its source port) exported in `slot`.
/// `kind`: 'r' a telnet flow to the hosting net (redflags), 'm' SMTP to a
/// hosting-net host that is not a mail server (inboundmail_false), 'o' SMTP
/// to a real mail server, anything else web traffic (matches nothing).
fn flow(id: u16, slot: i64, kind: char) -> Record {
    let export = slot + 60 + i64::from(id % 200);
    let (dst, port) = match kind {
        'r' => (0xC000_0232, 23), // 192.0.2.50:23
        'm' => (0xC000_0233, 25), // 192.0.2.51:25
        'o' => (0xC000_020A, 25), // 192.0.2.10:25
        _ => (0xC000_0232, 80),   // 192.0.2.50:80
    };
    Record {
        unix_secs: export as u32,
        sys_uptime_ms: 1_000_000,
        first_uptime_ms: 1_000_000 - 5_000,
        last_uptime_ms: 1_000_000 - 1_000,
        exporter: 0x7F00_0002,
        src_addr: 0xC633_6400 | u32::from(id % 7), // 198.51.100.x
        dst_addr: dst,
        src_port: id,
        dst_port: port,
        protocol: 6,
        tcp_flags: 0x1b,
        packets: 3,
        octets: 180,
        ..Record::default()
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
    /// The ids of the flows a definition reported (all of them: the runs
    /// use a sample limit above the flow count).
    fn ids(&self, def: &str) -> Vec<u16> {
        if self.stdout.is_empty() {
            return Vec::new();
        }
        let v = self.json();
        let defs = v["definitions"].as_array().expect("definitions");
        let d = defs
            .iter()
            .find(|d| d["name"] == def)
            .unwrap_or_else(|| panic!("no definition {def} in {v}"));
        let ids: Vec<u16> = d["samples"]
            .as_array()
            .expect("samples")
            .iter()
            .map(|s| s["src_port"].as_u64().expect("src_port") as u16)
            .collect();
        assert_eq!(
            d["flows"].as_u64(),
            Some(ids.len() as u64),
            "all flows sampled"
        );
        ids
    }
}

struct Lab {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    flows: PathBuf,
    cfg: PathBuf,
    state: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().to_path_buf();
        let flows = root.join("flows");
        std::fs::create_dir_all(&flows).expect("mkdir");
        let cfg = root.join("filter.cfg");
        std::fs::write(&cfg, FILTER_CFG).expect("write cfg");
        Lab {
            state: root.join("alert.state"),
            _tmp: tmp,
            root,
            flows,
            cfg,
        }
    }

    /// The collector's name for the file of `slot` (5-minute slots, UTC
    /// names, three nesting levels).
    fn name(slot: i64) -> FileName {
        FileName::new(FileKind::Native, 5, slot, Zone::UTC)
    }

    fn slot_dir(&self, slot: i64) -> PathBuf {
        self.flows.join(nest_dir(3, slot, Zone::UTC))
    }

    fn final_path(&self, slot: i64) -> PathBuf {
        self.slot_dir(slot).join(Self::name(slot).to_string())
    }

    /// Writes `recs` as the collector's file for `slot`: finished (final
    /// name, trailer) or still open (`tmp-` name, blocks only). An open
    /// file written earlier for the slot is replaced.
    fn write_slot(&self, slot: i64, recs: &[Record], finished: bool) -> PathBuf {
        let dir = self.slot_dir(slot);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let tmp = dir.join(Self::name(slot).as_tmp().to_string());
        match std::fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("{}: {e}", tmp.display()),
        }
        let file = TmpFile::for_name(&dir, Self::name(slot)).expect("create");
        let header = NativeHeader {
            export_version: 5,
            exporters: vec![0x7F00_0002],
            cap_start: slot as u32,
            hostname: "test".into(),
            ..NativeHeader::default()
        };
        let opts = WriterOptions {
            block_records: 4,
            ..WriterOptions::default()
        };
        let mut w =
            NativeWriter::new(file.writer().expect("writer fd"), &header, opts).expect("writer");
        w.write_all(recs).expect("write");
        if !finished {
            w.flush_block().expect("flush");
            // Dropped without commit: left under its tmp- name.
            return tmp;
        }
        w.header_mut().cap_end = (slot + SLOT - 1) as u32;
        w.header_mut().flows = recs.len() as u64;
        w.finish().expect("finish");
        file.commit().expect("commit")
    }

    fn run_with(&self, now: i64, extra: &[&str], envs: &[(&str, &Path)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_flow-alert"));
        cmd.arg("-d")
            .arg(&self.flows)
            .arg("-f")
            .arg(&self.cfg)
            .args(["-F", "redflags,inboundmail_false"])
            .arg("--now")
            .arg(format!("@{now}"))
            .args(["--format", "json", "--samples", "100000", "--top", "3"])
            .args(extra)
            .env("TZ", "UTC")
            .env_remove("XDG_STATE_HOME")
            .env("HOME", self.root.join("home"));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run flow-alert");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A run with the lab's state file.
    fn run(&self, now: i64, extra: &[&str]) -> Run {
        let state = self.state.to_string_lossy().into_owned();
        let mut args = vec!["--state", state.as_str()];
        args.extend_from_slice(extra);
        self.run_with(now, &args, &[])
    }

    /// A sendmail stand-in: records its arguments and stdin under the lab
    /// root and exits with `status`.
    fn sendmail(&self, name: &str, status: i32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.root.join(name);
        let log = self.root.join(format!("{name}.log"));
        let script = format!(
            "#!/bin/sh\necho \"ARGS: $*\" >> '{log}'\ncat >> '{log}'\nexit {status}\n",
            log = log.display()
        );
        std::fs::write(&path, script).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }
}

/// Flows `ids` of kind `kind` in `slot`.
fn flows(ids: std::ops::Range<u16>, slot: i64, kind: char) -> Vec<Record> {
    ids.map(|i| flow(i, slot, kind)).collect()
}

fn sorted(v: Vec<u16>) -> Vec<u16> {
    let mut v = v;
    v.sort_unstable();
    v
}

#[test]
fn consecutive_runs_report_every_flow_exactly_once() {
    let lab = Lab::new();
    let s = |k: i64| T0 + k * SLOT;
    // Slots 0..3 finished, slot 4 being written while the first run starts.
    let mut all_bad = BTreeSet::new();
    for k in 0..4 {
        let base = (k as u16) * 100;
        let mut recs = flows(base..base + 10, s(k), 'r');
        recs.extend(flows(base + 10..base + 30, s(k), 'w'));
        recs.extend(flows(base + 30..base + 33, s(k), 'm'));
        lab.write_slot(s(k), &recs, true);
        all_bad.extend(base..base + 10);
    }
    let open4 = flows(400..410, s(4), 'r');
    lab.write_slot(s(4), &open4[..5], false);

    let r1 = lab.run(s(4) + 120, &[]);
    assert_eq!(r1.code, 1, "{}", r1.stderr);
    let first = r1.ids("redflags");
    assert_eq!(
        sorted(first.clone()),
        (0..4u16)
            .flat_map(|k| k * 100..k * 100 + 10)
            .collect::<Vec<_>>()
    );
    assert_eq!(r1.ids("inboundmail_false").len(), 12);
    let v = r1.json();
    assert_eq!(v["files"], 4);
    assert_eq!(v["suspicious_flows"], 52);
    assert!(
        v["problems"].as_array().expect("problems").is_empty(),
        "{v}"
    );
    assert!(
        v["subject"]
            .as_str()
            .expect("subject")
            .starts_with("52 suspicious flows from 7 sources, 2026-11-22 00:00 - 00:20 +0000"),
        "{v}"
    );

    // The collector finishes slot 4 and opens slot 5.
    lab.write_slot(s(4), &open4, true);
    lab.write_slot(s(5), &flows(500..505, s(5), 'r'), false);
    all_bad.extend(400..410);
    let r2 = lab.run(s(5) + 30, &[]);
    assert_eq!(r2.code, 1, "{}", r2.stderr);
    let second = r2.ids("redflags");
    assert_eq!(sorted(second.clone()), (400..410).collect::<Vec<_>>());
    assert!(r2.ids("inboundmail_false").is_empty());

    // Nothing new: silent.
    let r3 = lab.run(s(5) + 60, &[]);
    assert_eq!(
        (r3.code, r3.stdout.as_str(), r3.stderr.as_str()),
        (0, "", "")
    );

    // Slot 5 finishes with matches; slot 6 finishes with none.
    lab.write_slot(s(5), &flows(500..505, s(5), 'r'), true);
    lab.write_slot(s(6), &flows(600..650, s(6), 'w'), true);
    all_bad.extend(500..505);
    let r4 = lab.run(s(7) + 10, &[]);
    assert_eq!(r4.code, 1, "{}", r4.stderr);
    let fourth = r4.ids("redflags");

    let mut seen = BTreeSet::new();
    for id in first.iter().chain(&second).chain(&fourth) {
        assert!(seen.insert(*id), "flow {id} reported twice");
    }
    assert_eq!(seen, all_bad, "every matching flow reported");
}

#[test]
fn silent_when_nothing_matches() {
    let lab = Lab::new();
    for k in 0..3 {
        let s = T0 + k * SLOT;
        let mut recs = flows(0..40, s, 'w');
        recs.extend(flows(40..45, s, 'o')); // mail to a real mail server
        lab.write_slot(s, &recs, true);
    }
    let r = lab.run(T0 + 3 * SLOT + 5, &[]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
    // The state was still recorded: a later match is reported alone.
    let state = std::fs::read_to_string(&lab.state).expect("state written");
    assert_eq!(state.lines().filter(|l| l.starts_with("file ")).count(), 3);
    lab.write_slot(T0 + 3 * SLOT, &flows(100..102, T0 + 3 * SLOT, 'r'), true);
    let r = lab.run(T0 + 4 * SLOT + 5, &["--format", "text"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("2 suspicious flows from 2 sources, 2026-11-22 00:15 - 00:20 +0000\n\n"),
        "{}",
        r.stdout
    );
    // --always writes a report but keeps exit status 0.
    let r = lab.run(T0 + 4 * SLOT + 50, &["--always", "--format", "text"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r
        .stdout
        .starts_with("0 suspicious flows from 0 sources, no new flow files\n"));
}

#[test]
fn text_report_sections() {
    let lab = Lab::new();
    let mut recs = flows(0..6, T0, 'r');
    recs.extend(flows(6..9, T0, 'm'));
    lab.write_slot(T0, &recs, true);
    let r = lab.run(T0 + SLOT + 5, &["--format", "text", "--samples", "2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let t = &r.stdout;
    for want in [
        "9 suspicious flows from 7 sources, 2026-11-22 00:00 - 00:05 +0000\n",
        "redflags (6 flows), inboundmail_false (3 flows)",
        "redflags: 6 flows, 1080 octets, 18 packets, 6 sources, 1 destination\n",
        "Top sources (3 of 6)\n  Source        Flows  Octets  Packets  Dsts  DstPorts  First seen           Last seen\n",
        "Top destinations (1 of 1)\n",
        "  192.0.2.50       6    1080       18     6         1",
        "Sample flows (first 2 of 6, flow-print -f 5)\nStart             End               Sif",
        "\n1122.00:00:55.000 1122.00:00:59.000 0     198.51.100.0    0     0     192.0.2.50      23    6   3  3          180\n",
        "inboundmail_false: 3 flows",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    assert!(!t.contains("Problems"), "{t}");
}

#[test]
fn failed_delivery_keeps_the_window_for_the_next_run() {
    let lab = Lab::new();
    lab.write_slot(T0, &flows(0..3, T0, 'r'), true);
    let fail = lab.sendmail("sendmail-fails", 75);
    let fail_s = fail.to_string_lossy().into_owned();
    let r = lab.run(
        T0 + SLOT + 5,
        &[
            "--mail-to",
            "noc@example.net",
            "--sendmail",
            &fail_s,
            "--format",
            "text",
        ],
    );
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("mail delivery failed"), "{}", r.stderr);
    assert!(r.stderr.contains("exit status 75"), "{}", r.stderr);
    assert!(
        !lab.state.exists(),
        "state advanced after a failed delivery"
    );

    // More flows arrive; the next delivery carries both windows.
    lab.write_slot(T0 + SLOT, &flows(3..5, T0 + SLOT, 'r'), true);
    let ok = lab.sendmail("sendmail-ok", 0);
    let ok_s = ok.to_string_lossy().into_owned();
    let r = lab.run(
        T0 + 2 * SLOT + 5,
        &[
            "--mail-to",
            "noc@example.net,sec@example.net",
            "--mail-from",
            "flows@example.net",
            "--sendmail",
            &ok_s,
            "--format",
            "text",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout, "", "a mailed report is not printed");
    let log = std::fs::read_to_string(lab.root.join("sendmail-ok.log")).expect("sendmail ran");
    assert!(log.starts_with("ARGS: -t -oi\nTo: noc@example.net, sec@example.net\nFrom: flows@example.net\nSubject: [flow-alert] 5 suspicious flows from 5 sources, 2026-11-22 00:00 - 00:10 +0000\n"), "{log}");
    assert!(
        log.contains("\nContent-Type: text/plain; charset=utf-8\n"),
        "{log}"
    );
    assert!(log.contains("\n\n  Flow directory"), "{log}");
    assert!(log.contains("redflags: 5 flows"), "{log}");

    // Delivered: the window is closed.
    let r = lab.run(
        T0 + 2 * SLOT + 50,
        &["--mail-to", "noc@example.net", "--sendmail", &fail_s],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
}

#[test]
fn a_file_finishing_late_is_reported_once() {
    let lab = Lab::new();
    let s = |k: i64| T0 + k * SLOT;
    lab.write_slot(s(0), &flows(0..2, s(0), 'r'), true);
    // Slot 1 stays open (collector lagging) while slot 2 is finished.
    lab.write_slot(s(1), &flows(100..102, s(1), 'r'), false);
    lab.write_slot(s(2), &flows(200..202, s(2), 'r'), true);
    let r1 = lab.run(s(3) + 5, &[]);
    assert_eq!(r1.code, 1, "{}", r1.stderr);
    assert_eq!(sorted(r1.ids("redflags")), vec![0, 1, 200, 201]);
    let notes = r1.json()["notes"].to_string();
    assert!(notes.contains("still open"), "{notes}");
    // Slot 1 is finished after the state moved past it.
    lab.write_slot(s(1), &flows(100..102, s(1), 'r'), true);
    let r2 = lab.run(s(3) + 60, &[]);
    assert_eq!(r2.code, 1, "{}", r2.stderr);
    assert_eq!(sorted(r2.ids("redflags")), vec![100, 101]);
    let r3 = lab.run(s(3) + 90, &[]);
    assert_eq!((r3.code, r3.stdout.as_str()), (0, ""));
}

#[test]
fn corrupt_files_are_reported_once_and_not_skipped_silently() {
    let lab = Lab::new();
    let s = |k: i64| T0 + k * SLOT;
    lab.write_slot(s(0), &flows(0..8, s(0), 'r'), true);
    // Slot 1: a block whose payload was damaged on disk.
    let damaged = lab.write_slot(s(1), &flows(100..108, s(1), 'r'), true);
    let mut bytes = std::fs::read(&damaged).expect("read");
    let nf = NativeFile::open(bytes.clone()).expect("valid before damage");
    let b = nf.blocks()[0];
    let at = (b.offset + 48 + u64::from(b.stored_len) / 2) as usize;
    bytes[at] ^= 0x55;
    std::fs::write(&damaged, &bytes).expect("write");
    // Slot 2: not a flow file at all.
    let garbage = lab.final_path(s(2));
    std::fs::write(&garbage, b"this is not a flow file").expect("write");

    let r = lab.run(s(3) + 5, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let ids = sorted(r.ids("redflags"));
    assert_eq!(ids, (0..8).chain(104..108).collect::<Vec<_>>());
    let v = r.json();
    let problems = v["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 2, "{v}");
    assert!(problems.iter().all(|p| p["kind"] == "corrupt"), "{v}");
    let subjects: Vec<&str> = problems
        .iter()
        .filter_map(|p| p["subject"].as_str())
        .collect();
    assert!(
        subjects
            .iter()
            .any(|s| s.ends_with("nf-v05.2026-11-22.000500+0000")),
        "{v}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.ends_with("nf-v05.2026-11-22.001000+0000")),
        "{v}"
    );
    assert!(
        v["subject"]
            .as_str()
            .expect("subject")
            .ends_with("(2 problems)"),
        "{v}"
    );

    // Reported once: the next run is silent.
    let r = lab.run(s(3) + 60, &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
}

#[test]
fn missing_slots_are_reported() {
    let lab = Lab::new();
    let s = |k: i64| T0 + k * SLOT;
    lab.write_slot(s(0), &flows(0..3, s(0), 'w'), true);
    let r = lab.run(s(1) + 5, &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    // Slots 1 and 2 never got a file; 3 did, without matches.
    lab.write_slot(s(3), &flows(0..3, s(3), 'w'), true);
    let r = lab.run(s(4) + 5, &["--format", "text"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(
            "0 suspicious flows from 0 sources, 2026-11-22 00:15 - 00:20 +0000 (1 problem)\n"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "\nProblems\n  missing  2026-11-22 00:05 - 00:15 +0000\n           no flow file for 2 five-minute slots"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn since_until_reports_flows_by_start_time_and_leaves_the_state_alone() {
    let lab = Lab::new();
    let s = |k: i64| T0 + k * SLOT;
    for k in 0..4 {
        let base = (k as u16) * 100;
        lab.write_slot(s(k), &flows(base..base + 4, s(k), 'r'), true);
    }
    let since = format!("@{}", s(1));
    let until = format!("@{}", s(3));
    let r = lab.run(s(5), &["--since", &since, "--until", &until]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        sorted(r.ids("redflags")),
        vec![100, 101, 102, 103, 200, 201, 202, 203]
    );
    assert_eq!(r.json()["mode"], "range");
    assert!(!lab.state.exists());
    // The regular run still sees everything.
    let r = lab.run(s(5), &[]);
    assert_eq!(r.ids("redflags").len(), 16);
}

#[test]
fn first_run_covers_the_configured_look_back() {
    let lab = Lab::new();
    let s = |k: i64| T0 + k * SLOT;
    for k in 0..24 {
        lab.write_slot(
            s(k),
            &flows(k as u16 * 10..k as u16 * 10 + 1, s(k), 'r'),
            true,
        );
    }
    // now = 02:00: the default hour covers slots 12..23.
    let r = lab.run(s(24), &[]);
    assert_eq!(
        sorted(r.ids("redflags")),
        (12..24).map(|k| k * 10).collect::<Vec<_>>()
    );
    let lab2 = Lab::new();
    for k in 0..24 {
        lab2.write_slot(
            s(k),
            &flows(k as u16 * 10..k as u16 * 10 + 1, s(k), 'r'),
            true,
        );
    }
    let r = lab2.run(s(24), &["--first-window", "30m"]);
    assert_eq!(r.ids("redflags").len(), 6);
}

#[test]
fn default_state_lives_under_xdg_state_home() {
    let lab = Lab::new();
    lab.write_slot(T0, &flows(0..2, T0, 'r'), true);
    let xdg = lab.root.join("xdg");
    let r = lab.run_with(T0 + SLOT, &[], &[("XDG_STATE_HOME", &xdg)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let dir = xdg.join("flow-alert");
    let states: Vec<_> = std::fs::read_dir(&dir)
        .expect("state dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".state"))
        .collect();
    assert_eq!(states.len(), 1, "{states:?}");
    assert!(states[0].starts_with("flows-"), "{states:?}");
    let r = lab.run_with(T0 + SLOT + 5, &[], &[("XDG_STATE_HOME", &xdg)]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
}

#[test]
fn errors_exit_2_with_a_clear_message() {
    let lab = Lab::new();
    lab.write_slot(T0, &flows(0..2, T0, 'r'), true);
    // Unreadable flow directory.
    let missing = lab.root.join("no-such-dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flow-alert"));
    let out = cmd
        .arg("-d")
        .arg(&missing)
        .arg("-f")
        .arg(&lab.cfg)
        .args(["-F", "redflags", "--state"])
        .arg(&lab.state)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("flow-alert: ") && err.contains("cannot read the flow directory"),
        "{err}"
    );

    // Unknown definition.
    let r = lab.run_with(T0 + SLOT, &["--state", "/dev/null/x", "-F", "nosuch"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nosuch"), "{}", r.stderr);

    // A broken filter.cfg names file and line.
    std::fs::write(&lab.cfg, "filter-primitive x\n  type nonsense\n").expect("write");
    let r = lab.run(T0 + SLOT, &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("filter.cfg:2:"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    std::fs::write(&lab.cfg, FILTER_CFG).expect("write");

    // A corrupt state file is not silently replaced.
    std::fs::write(&lab.state, "garbage\n").expect("write");
    let r = lab.run(T0 + SLOT, &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("alert.state line 1"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&lab.state).expect("read"),
        "garbage\n"
    );

    // Usage errors (clap) exit 2 too.
    let out = Command::new(env!("CARGO_BIN_EXE_flow-alert"))
        .arg("--bogus")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn report_does_not_depend_on_the_number_of_threads() {
    let lab = Lab::new();
    for k in 0..6 {
        let s = T0 + k * SLOT;
        let base = k as u16 * 1000;
        let mut recs = Vec::new();
        for i in 0..60u16 {
            let kind = ['r', 'm', 'w', 'o'][usize::from(i % 4)];
            recs.push(flow(base + i, s, kind));
        }
        lab.write_slot(s, &recs, true);
    }
    let since = format!("@{}", T0 - SLOT);
    let text = |threads: &str| {
        let r = lab.run_with(
            T0 + 7 * SLOT,
            &[
                "--since",
                &since,
                "--format",
                "text",
                "--samples",
                "7",
                "--threads",
                threads,
            ],
            &[],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        r.stdout
    };
    let one = text("1");
    assert_eq!(one, text("3"));
    assert_eq!(one, text("0"));
}
