//! flow-capture end to end, on loopback: the golden replays, SIGHUP,
//! SIGTERM with records in flight, recovery after kill -9, the allowlist
//! and expiry. Every test runs the built binary in a temp dir, sends only
//! to 127.0.0.1, and stops by itself within seconds.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use formats::ft::FtReader;
use formats::native::{NativeFile, NativeHeader};
use formats::Record;

use crate::util::{golden_input, skipped, v5_datagram, workspace_bin};

fn free_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

struct Collector {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Collector {
    fn start(dir: &Path, extra: &[&str]) -> Collector {
        Self::start_peer(dir, extra, None)
    }

    fn start_peer(dir: &Path, extra: &[&str], remote: Option<&str>) -> Collector {
        let port = free_port();
        let peer = format!("127.0.0.1/{}/{port}", remote.unwrap_or("0"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_flow-capture"))
            .arg("-D")
            .arg("-w")
            .arg(dir)
            .args(extra)
            .arg(&peer)
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let err = child.stderr.take().unwrap();
        let l2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("[collector] {line}");
                l2.lock().unwrap().push(line);
            }
        });
        let c = Collector { child, port, log };
        c.wait_log("listening on");
        c
    }

    fn wait_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = self.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            assert!(Instant::now() < deadline, "no log line with {needle:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    fn wait(mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                let log = self.log.lock().unwrap().clone();
                return (st, log);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("collector did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(self) -> Vec<String> {
        self.signal(libc::SIGTERM);
        let (st, log) = self.wait();
        assert!(st.success(), "exit status {st:?}");
        log
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Sends the datagrams of a golden hex dump, from their exporter addresses.
fn replay_hex(file: &str, port: u16, batch: Option<&str>) -> usize {
    let text = std::fs::read_to_string(golden_input(&format!("packets/{file}"))).unwrap();
    let mut socks: std::collections::HashMap<String, UdpSocket> = Default::default();
    let mut n = 0;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut it = line.split_whitespace();
        let (b, ip, hex) = (
            it.next().unwrap(),
            it.next().unwrap(),
            it.next().unwrap_or(""),
        );
        if batch.is_some_and(|want| want != b) {
            continue;
        }
        let s = socks
            .entry(ip.to_string())
            .or_insert_with(|| UdpSocket::bind((ip, 0)).unwrap());
        s.send_to(&unhex(hex), ("127.0.0.1", port)).unwrap();
        n += 1;
    }
    n
}

#[derive(Debug)]
enum Header {
    Native(NativeHeader),
    Ft(formats::ft::FtHeader),
}

impl Header {
    fn lost(&self) -> u64 {
        match self {
            Header::Native(h) => h.lost_flows,
            Header::Ft(h) => h.flow_lost.unwrap_or(0) as u64,
        }
    }
    fn corrupt(&self) -> u64 {
        match self {
            Header::Native(h) => h.corrupt_packets,
            Header::Ft(h) => h.pkt_corrupt.unwrap_or(0) as u64,
        }
    }
    fn resets(&self) -> u64 {
        match self {
            Header::Native(h) => h.seq_resets,
            Header::Ft(h) => h.seq_reset.unwrap_or(0) as u64,
        }
    }
    fn flows(&self) -> u64 {
        match self {
            Header::Native(h) => h.flows,
            Header::Ft(h) => h.flow_count.unwrap_or(0) as u64,
        }
    }
    fn cap_start(&self) -> u32 {
        match self {
            Header::Native(h) => h.cap_start,
            Header::Ft(h) => h.cap_start.unwrap_or(0),
        }
    }
    fn complete(&self) -> bool {
        match self {
            Header::Native(h) => h.complete,
            Header::Ft(h) => h.flags() & formats::ft::FLAG_DONE != 0,
        }
    }
}

fn read_flow_file(p: &Path) -> (Header, Vec<Record>) {
    let bytes = std::fs::read(p).unwrap();
    match formats::detect(&bytes) {
        formats::Detected::Native => {
            let nf = NativeFile::open(bytes).unwrap();
            let mut out = Vec::new();
            assert!(nf.decode_all(&mut out).is_empty());
            (Header::Native(nf.header().clone()), out)
        }
        formats::Detected::Ft => {
            let mut rd = FtReader::new(&bytes[..]).unwrap();
            let recs = rd.read_all().unwrap();
            (Header::Ft(rd.header().clone()), recs)
        }
        formats::Detected::Unknown => panic!("{} is not a flow file", p.display()),
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            walk(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    walk(dir, &mut v);
    v.sort();
    v
}

/// Finished flow files in flow-cat's order (capture start, then name).
fn read_dir_like_flow_cat(dir: &Path) -> Vec<(PathBuf, Header, Vec<Record>)> {
    let mut v: Vec<_> = all_files(dir)
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            !n.starts_with("tmp")
        })
        .map(|p| {
            let (h, r) = read_flow_file(&p);
            (p, h, r)
        })
        .collect();
    v.sort_by_key(|(p, h, _)| (h.cap_start(), p.file_name().unwrap().to_owned()));
    v
}

fn golden_records(dir: &Path) -> Vec<Record> {
    read_dir_like_flow_cat(dir)
        .into_iter()
        .flat_map(|(_, _, r)| r)
        .collect()
}

/// `flow-cat DIR | flow-print -f 5`, with the project's tools (built by
/// `cargo test --workspace`; a missing one fails the test).
fn cat_print(dir: &Path) -> String {
    let (cat, print) = (workspace_bin("flow-cat"), workspace_bin("flow-print"));
    let cat_out = Command::new(cat)
        .arg(dir)
        .env("TZ", "UTC")
        .output()
        .expect("run flow-cat");
    assert!(
        cat_out.status.success(),
        "{}",
        String::from_utf8_lossy(&cat_out.stderr)
    );
    let mut p = Command::new(print)
        .args(["-f", "5"])
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run flow-print");
    let mut stdin = p.stdin.take().expect("flow-print stdin");
    let data = cat_out.stdout;
    let w = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&data);
    });
    let out = p.wait_with_output().expect("wait for flow-print");
    w.join().expect("stdin writer");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn golden_main_replay(format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path(), &["--format", format]);
    assert_eq!(replay_hex("main.hex", c.port, Some("first")), 96);
    c.wait_log("New exporter: time=");
    c.signal(libc::SIGHUP);
    c.wait_log("SIGHUP");
    assert_eq!(replay_hex("main.hex", c.port, Some("second")), 96);
    let log = c.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("src_ip=127.0.0.3") && l.contains("lost=30")),
        "{log:?}"
    );
    for ip in 2..=5 {
        assert!(log
            .iter()
            .any(|l| l.starts_with("flow-capture: New exporter: time=")
                && l.contains(&format!("src_ip=127.0.0.{ip} dst_ip=127.0.0.1 d_version=5"))));
    }
    let files = read_dir_like_flow_cat(dir.path());
    assert!(
        files.len() >= 2,
        "SIGHUP made a second file: {:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let prefix = if format == "ft" { "ft-v05." } else { "nf-v05." };
    for (p, h, r) in &files {
        let name = p.file_name().unwrap().to_string_lossy();
        assert!(name.starts_with(prefix), "{name}");
        assert!(h.complete());
        assert_eq!(h.flows(), r.len() as u64);
        assert_eq!(h.corrupt() + h.resets(), 0);
        // -N 3 by default
        assert_eq!(
            p.parent()
                .unwrap()
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .parent()
                .unwrap(),
            dir.path()
        );
    }
    assert_eq!(files.iter().map(|f| f.1.lost()).sum::<u64>(), 30);
    assert_eq!(
        files.last().unwrap().1.lost(),
        30,
        "the gap is in the second batch"
    );
    let got: Vec<Record> = files.into_iter().flat_map(|f| f.2).collect();
    let want = golden_records(&golden_input("main"));
    assert_eq!(want.len(), 5106);
    assert_eq!(got.len(), want.len());
    assert!(got == want, "records differ from the golden capture");
    let (a, b) = (cat_print(dir.path()), cat_print(&golden_input("main")));
    assert_eq!(
        a.lines().count(),
        5106 + 2,
        "title line, empty line, 5106 flows"
    );
    assert!(
        a == b,
        "flow-cat | flow-print -f 5 differs from the golden capture's"
    );
}

#[test]
fn golden_main_replay_native_equals_the_flow_tools_capture() {
    golden_main_replay("native");
}

#[test]
fn golden_main_replay_ft_equals_the_flow_tools_capture() {
    golden_main_replay("ft");
}

#[test]
fn golden_bad_replay_counts_like_flow_tools() {
    for format in ["native", "ft"] {
        let dir = tempfile::tempdir().unwrap();
        let c = Collector::start(dir.path(), &["--format", format, "-z", "0"]);
        assert_eq!(replay_hex("bad.hex", c.port, None), 9);
        let log = c.stop();
        let files = read_dir_like_flow_cat(dir.path());
        assert_eq!(files.len(), 1);
        let (_, h, r) = &files[0];
        // golden print_bad_capture: corrupt packets 4, sequencer resets 1,
        // lost flows 0, capture flows 21.
        assert_eq!(
            (h.corrupt(), h.resets(), h.lost(), h.flows()),
            (4, 1, 0, 21)
        );
        let (_, want) = read_flow_file(&golden_input("bad-capture.ft"));
        assert!(*r == want, "records differ from bad-capture.ft");
        // One clear line per cause, and a reset instead of lost=4294967203.
        for needle in [
            "count of 5 records needs 264",
            "record count 31 is out of range",
            "NetFlow version 9 is not supported",
            "datagram of 3 bytes is too short",
            "sequence reset: src_ip=127.0.0.6 dst_ip=127.0.0.1 d_version=5 engine=0/0 expecting=97 received=5 (went back by 92 flows",
        ] {
            assert!(log.iter().any(|l| l.contains(needle)), "{needle:?} not in {log:?}");
        }
        assert!(!log.iter().any(|l| l.contains("4294967203")));
    }
}

/// Sends `n` datagrams of 30 flows from 127.0.0.2 (exporter sequence
/// numbers without gaps) to the collector on `port`.
fn send_datagrams(port: u16, n: u32) {
    let s = UdpSocket::bind("127.0.0.2:0").unwrap();
    for i in 0..n {
        s.send_to(&v5_datagram(i * 30, 30, i), ("127.0.0.1", port))
            .unwrap();
    }
}

fn count_flows(dir: &Path, include_tmp: bool) -> usize {
    all_files(dir)
        .iter()
        .filter(|p| include_tmp || !p.file_name().unwrap().to_string_lossy().starts_with("tmp"))
        .map(|p| read_flow_file(p).1.len())
        .sum()
}

#[test]
fn sigterm_stores_everything_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path(), &[]);
    let n = 2000u32;
    send_datagrams(c.port, n);
    c.signal(libc::SIGTERM);
    let (st, log) = c.wait();
    assert!(st.success());
    assert_eq!(count_flows(dir.path(), true), (n * 30) as usize, "{log:?}");
    assert!(all_files(dir.path())
        .iter()
        .all(|p| !p.to_string_lossy().contains("tmp-")));
    let files = read_dir_like_flow_cat(dir.path());
    assert_eq!(files.iter().map(|f| f.1.lost()).sum::<u64>(), 0);
}

#[test]
fn a_killed_collectors_flows_are_recovered_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path(), &[]);
    send_datagrams(c.port, 50);
    // Everything received more than ~1 s before the kill is on disk.
    std::thread::sleep(Duration::from_millis(1500));
    c.signal(libc::SIGKILL);
    let _ = c.wait();
    let files = all_files(dir.path());
    assert_eq!(files.len(), 1);
    assert!(files[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("tmp-nf-v05."));
    let (h, r) = read_flow_file(&files[0]);
    assert!(!h.complete());
    assert_eq!(r.len(), 1500);
    // The next start finalizes it under its final name.
    let c = Collector::start(dir.path(), &[]);
    c.wait_log("recovered");
    c.stop();
    let files = read_dir_like_flow_cat(dir.path());
    assert_eq!(files.len(), 1);
    assert!(files[0].1.complete());
    assert_eq!(files[0].2, r);
    assert!(files[0]
        .0
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("nf-v05."));
}

#[test]
fn the_allowlist_keeps_other_sources_out() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start_peer(dir.path(), &["--allow", "127.0.0.8/29"], Some("127.0.0.2"));
    for (ip, seq) in [
        ("127.0.0.2", 0),
        ("127.0.0.3", 0),
        ("127.0.0.9", 0),
        ("127.0.0.16", 0),
    ] {
        let s = UdpSocket::bind((ip, 0)).unwrap();
        s.send_to(&v5_datagram(seq, 2, 0), ("127.0.0.1", c.port))
            .unwrap();
    }
    let log = c.stop();
    let files = read_dir_like_flow_cat(dir.path());
    let recs: Vec<Record> = files.iter().flat_map(|f| f.2.clone()).collect();
    let mut ex: Vec<_> = recs.iter().map(|r| r.exporter_ip().to_string()).collect();
    ex.dedup();
    assert_eq!(ex, ["127.0.0.2", "127.0.0.9"]);
    assert_eq!(files.iter().map(|f| f.1.corrupt()).sum::<u64>(), 2);
    assert!(log
        .iter()
        .any(|l| l.contains("rejected datagram from 127.0.0.3")));
    assert!(log.iter().any(|l| l.contains("2 rejected")), "{log:?}");
}

#[test]
fn expiry_keeps_the_newest_files_and_foreign_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "keep me").unwrap();
    std::fs::write(
        dir.path().join("ft-v05.2001-01-01.000000+0000"),
        "not a flow file",
    )
    .unwrap();
    let c = Collector::start(dir.path(), &["-e", "2", "-N", "0"]);
    let s = UdpSocket::bind("127.0.0.2:0").unwrap();
    for i in 0..4u32 {
        s.send_to(&v5_datagram(i * 30, 30, i), ("127.0.0.1", c.port))
            .unwrap();
        c.signal(libc::SIGHUP);
        let deadline = Instant::now() + Duration::from_secs(10);
        // wait until the file is finished (no tmp- left)
        loop {
            let files = all_files(dir.path());
            let finished = files
                .iter()
                .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("nf-"))
                .count();
            let tmp = files
                .iter()
                .any(|p| p.file_name().unwrap().to_string_lossy().starts_with("tmp-"));
            if !tmp
                && finished == (i as usize + 1).min(2)
                && c.log
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|l| l.contains("SIGHUP"))
                    .count()
                    > i as usize
            {
                break;
            }
            assert!(Instant::now() < deadline, "{files:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let log = c.stop();
    let names: Vec<String> = all_files(dir.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?} {log:?}");
    assert!(names.contains(&"notes.txt".to_string()));
    assert!(names.contains(&"ft-v05.2001-01-01.000000+0000".to_string()));
    assert_eq!(
        log.iter().filter(|l| l.contains("expire: removed")).count(),
        2
    );
    let kept = read_dir_like_flow_cat_filtered(dir.path());
    let salts: Vec<u32> = kept.iter().map(|f| f.2[0].src_addr - 0x0a00_0000).collect();
    assert_eq!(salts, [2, 3], "the newest two are kept");
}

fn read_dir_like_flow_cat_filtered(dir: &Path) -> Vec<(PathBuf, Header, Vec<Record>)> {
    all_files(dir)
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("nf-"))
        .map(|p| {
            let (h, r) = read_flow_file(&p);
            (p, h, r)
        })
        .collect()
}

#[test]
fn bad_arguments_fail_clearly() {
    for (args, msg) in [
        (vec!["-z", "12"], "compression level"),
        (vec!["-N", "4"], "nesting level"),
        (vec!["-n", "2000"], "rotations limited"),
        (vec!["-V", "9"], "only NetFlow version 5"),
        (
            vec!["-b", "middle"],
            "expecting \"big\" or \"little\" at -b",
        ),
        (vec!["--allow", "10.0.0.0/40"], "--allow"),
        (vec!["0/0/70000"], "port"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_flow-capture"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("flow-capture: ") && err.contains(msg),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn softflowd_exports_v5_into_flow_capture() {
    // softflowd (Debian package) turns a pcap into v5 flows and exports
    // them; skipped when it is not installed (an optional peer).
    let Ok(out) = Command::new("softflowd").arg("-h").output() else {
        skipped("softflowd not installed (apt-get install softflowd to run this test)");
        return;
    };
    let _ = out;
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path(), &[]);
    let pcap = golden_input("packets/main.pcap");
    let st = Command::new("softflowd")
        .arg("-r")
        .arg(&pcap)
        .args(["-v", "5", "-n", &format!("127.0.0.1:{}", c.port)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    c.wait_log("New exporter: time=");
    std::thread::sleep(Duration::from_millis(300));
    c.stop();
    let recs: Vec<Record> = read_dir_like_flow_cat(dir.path())
        .into_iter()
        .flat_map(|f| f.2)
        .collect();
    // main.pcap holds UDP datagrams from the four golden exporters to the
    // capture ports: one flow per exporter socket.
    assert_eq!(recs.len(), 4);
    let mut srcs: Vec<String> = recs.iter().map(|r| r.src_ip().to_string()).collect();
    srcs.sort();
    assert_eq!(srcs, ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]);
    assert!(recs.iter().all(|r| r.protocol == 17 && r.packets == 48));
}

#[test]
fn the_filter_is_applied_before_storing() {
    let cfg = golden_input("cfg/filter.cfg");
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path(), &["-f", cfg.to_str().unwrap(), "-F", "allmail"]);
    replay_hex("main.hex", c.port, None);
    c.stop();
    let got: Vec<Record> = read_dir_like_flow_cat(dir.path())
        .into_iter()
        .flat_map(|f| f.2)
        .collect();
    let text = std::fs::read_to_string(&cfg).unwrap();
    let symbols = filterlang::Symbols::load(None).unwrap();
    let (fc, _) = filterlang::FilterConfig::parse(&text, "filter.cfg", &[], &symbols).unwrap();
    let f = fc.definition("allmail").unwrap();
    let want: Vec<Record> = golden_records(&golden_input("main"))
        .into_iter()
        .filter(|r| f.matches(r))
        .collect();
    assert!(!want.is_empty() && want.len() < 5106);
    assert!(
        got == want,
        "stored {} flows, expected {}",
        got.len(),
        want.len()
    );
}

#[test]
fn post_rotate_program_gets_each_finished_file_and_the_pidfile_lives_with_the_process() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("flows");
    std::fs::create_dir(&work).unwrap();
    let marker = dir.path().join("rotated.txt");
    let script = dir.path().join("post-rotate.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" >> '{}'\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pidbase = dir.path().join("flow-capture.pid");
    let c = Collector::start(
        &work,
        &[
            "-p",
            pidbase.to_str().unwrap(),
            "-R",
            script.to_str().unwrap(),
        ],
    );
    // flow-tools names the pidfile BASE.PORT and writes the pid into it
    let pidfile = PathBuf::from(format!("{}.{}", pidbase.display(), c.port));
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    assert_eq!(pid.trim(), c.child.id().to_string());

    send_datagrams(c.port, 10);
    // SIGHUP finishes the file: the program is run with its final path
    c.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(20);
    let ran = loop {
        let text = std::fs::read_to_string(&marker).unwrap_or_default();
        if let Some(line) = text.lines().next() {
            break PathBuf::from(line);
        }
        assert!(Instant::now() < deadline, "the -R program was not run");
        std::thread::sleep(Duration::from_millis(20));
    };
    let finished: Vec<PathBuf> = all_files(&work);
    assert_eq!(finished, vec![ran.clone()], "{ran:?}");
    assert!(!ran
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("tmp-"));
    assert_eq!(read_flow_file(&ran).1.len(), 300);
    c.stop();
    assert!(!pidfile.exists(), "the pidfile outlived the collector");
}

/// The NetFlow v5 datagrams of other projects' test data
/// (`../shared/realworld`: real exporters' output and hand-made edge
/// cases), replayed into flow-capture, each source from its own loopback
/// address: every record is stored as the datagram carried it (compared
/// with `formats::v5` on the same bytes, whose decoding
/// `formats/tests/realworld.rs` checks against those projects' own
/// assertions), and the version-9 datagram is refused and counted.
#[test]
fn realworld_datagrams_are_stored_as_their_exporters_sent_them() {
    use crate::util::{pcap_udp_payloads, realworld, realworld_bytes};
    let Some(rw) = realworld() else { return };
    let single = |name: &str| vec![realworld_bytes(&rw, name)];
    let dat = |name: &str| {
        let bytes = realworld_bytes(&rw, name);
        let mut out = Vec::new();
        let mut rest = &bytes[..];
        while rest.len() >= 4 {
            let count = u16::from_be_bytes([rest[2], rest[3]]) as usize;
            let len = (24 + 48 * count).min(rest.len());
            out.push(rest[..len].to_vec());
            rest = &rest[len..];
        }
        out
    };
    let pcap = |name: &str| pcap_udp_payloads(name, &realworld_bytes(&rw, name));
    let sources: Vec<(&str, Vec<Vec<u8>>, usize)> = vec![
        ("goflow2-v5sample.bin", single("goflow2-v5sample.bin"), 6),
        (
            "pynetflow-packet-v5.bin",
            single("pynetflow-packet-v5.bin"),
            3,
        ),
        (
            "graylog-netflow-v5-1.dat",
            dat("graylog-netflow-v5-1.dat"),
            30,
        ),
        (
            "graylog-netflow-v5-2.dat",
            dat("graylog-netflow-v5-2.dat"),
            30,
        ),
        ("graylog-netflow5.pcap", pcap("graylog-netflow5.pcap"), 4),
        (
            "graylog-pmacctd-netflow5.pcap",
            pcap("graylog-pmacctd-netflow5.pcap"),
            42,
        ),
        (
            "graylog-netgraph-netflow5.pcap",
            pcap("graylog-netgraph-netflow5.pcap"),
            120,
        ),
        ("akvorado-nfv5.pcap", pcap("akvorado-nfv5.pcap"), 29),
        ("nifi-sample1.bin", single("nifi-sample1.bin"), 1),
        ("nifi-sample2.bin", single("nifi-sample2.bin"), 3),
        (
            "nifi-invalidVersion.bin",
            single("nifi-invalidVersion.bin"),
            0,
        ),
        (
            "netflow_parser-it_parses_v5.bin",
            single("netflow_parser-it_parses_v5.bin"),
            1,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path(), &[]);
    let mut want: Vec<(String, Vec<Record>)> = Vec::new();
    for (i, (name, datagrams, flows)) in sources.iter().enumerate() {
        let exporter = std::net::Ipv4Addr::new(127, 0, 2, 2 + i as u8);
        let s = UdpSocket::bind((exporter, 0)).unwrap();
        let mut records = Vec::new();
        for d in datagrams {
            s.send_to(d, ("127.0.0.1", c.port)).unwrap();
            if let Ok(p) = formats::v5::decode(d) {
                p.push_records(u32::from(exporter), &mut records);
            }
        }
        assert_eq!(records.len(), *flows, "{name}");
        want.push((name.to_string(), records));
    }
    c.wait_log("NetFlow version 9 is not supported");
    let log = c.stop();
    let files = read_dir_like_flow_cat(dir.path());
    let got: Vec<Record> = files.iter().flat_map(|f| f.2.clone()).collect();
    for (i, (name, records)) in want.iter().enumerate() {
        let exporter = u32::from(std::net::Ipv4Addr::new(127, 0, 2, 2 + i as u8));
        let stored: Vec<Record> = got
            .iter()
            .filter(|r| r.exporter == exporter)
            .cloned()
            .collect();
        assert!(
            stored == *records,
            "{name}: stored records differ from the datagrams'"
        );
    }
    assert_eq!(got.len(), want.iter().map(|w| w.1.len()).sum::<usize>());
    let total = |f: fn(&Header) -> u64| files.iter().map(|x| f(&x.1)).sum::<u64>();
    assert_eq!(
        (
            total(Header::corrupt),
            total(Header::lost),
            total(Header::resets)
        ),
        (1, 0, 0),
        "{log:?}"
    );
}
