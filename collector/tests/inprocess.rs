//! flow-capture as a library, in this process: `capture::run` on a
//! loopback socket bound here (port 0), time from a `ManualClock`, stop and
//! rotate through `Controls`. Nothing sleeps: the test moves the clock and
//! waits, with a deadline, for the writer's `SinkEvent`s.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use collector::capture::{self, CaptureError, Controller, Controls, Summary};
use collector::clock::ManualClock;
use collector::config::{Config, Options};
use collector::sink::SinkEvent;
use formats::archive::{self, ListOptions};
use formats::native::NativeFile;
use formats::time::Zone;
use formats::Record;

use crate::util::v5_datagram;

/// 2026-11-22 02:19:24 UTC, in milliseconds: 36 s before a slot ends.
const T0: i64 = 1_795_313_964_000;
/// 02:20:00 UTC, the next 5-minute boundary.
const BOUNDARY: i64 = 1_795_314_000_000;

/// Longest wait for one event; the writer wakes at least once a second.
const DEADLINE: Duration = Duration::from_secs(20);

struct Running {
    run: JoinHandle<Result<Summary, CaptureError>>,
    ctl: Controller,
    events: Receiver<SinkEvent>,
    to: SocketAddr,
    from: UdpSocket,
    clock: ManualClock,
}

fn start(dir: &Path) -> Running {
    let cfg = Config::from_options(Options {
        workdir: dir.to_path_buf(),
        nesting: 0,
        zone: Zone::UTC,
        keep_umask: true,
        hostname: Some("inprocess".into()),
        ..Options::default()
    })
    .unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = socket.local_addr().unwrap();
    let (mut controls, ctl) = Controls::new();
    let (tx, events) = mpsc::channel();
    controls.events = Some(tx);
    let clock = ManualClock::new(T0);
    let c2 = clock.clone();
    let run = std::thread::spawn(move || capture::run(socket, cfg, controls, c2));
    Running {
        run,
        ctl,
        events,
        to,
        from: UdpSocket::bind("127.0.0.1:0").unwrap(),
        clock,
    }
}

impl Running {
    /// Sends datagrams `range` (30 flows each, sequence numbers without
    /// gaps).
    fn send(&self, range: std::ops::Range<u32>) {
        for i in range {
            self.from
                .send_to(&v5_datagram(i * 30, 30, i % 200), self.to)
                .unwrap();
        }
    }

    /// The first event `want` accepts; fails after [`DEADLINE`].
    fn wait_for<T>(&self, what: &str, mut want: impl FnMut(SinkEvent) -> Option<T>) -> T {
        let until = Instant::now() + DEADLINE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) => {
                    if let Some(t) = want(e) {
                        return t;
                    }
                }
                Err(e) => panic!("no event {what} within {DEADLINE:?}: {e}"),
            }
        }
    }

    fn stored(&self, flows: u64) {
        self.wait_for(&format!("with {flows} flows stored"), |e| match e {
            SinkEvent::Stored { total } if total >= flows => Some(()),
            _ => None,
        })
    }

    fn finished(&self) -> (PathBuf, u64) {
        self.wait_for("of a finished file", |e| match e {
            SinkEvent::Finished { path, flows } => Some((path, flows)),
            _ => None,
        })
    }

    fn stop(mut self) -> (Summary, Vec<SinkEvent>) {
        self.ctl.stop("test");
        let summary = self.run.join().expect("the run panicked").unwrap();
        (summary, self.events.try_iter().collect())
    }
}

fn read(p: &Path) -> (formats::native::NativeHeader, Vec<Record>) {
    let nf = NativeFile::open(std::fs::read(p).unwrap()).unwrap();
    let mut out = Vec::new();
    assert!(nf.decode_all(&mut out).is_empty());
    (nf.header().clone(), out)
}

fn names(dir: &Path, include_tmp: bool) -> Vec<String> {
    let opts = ListOptions {
        include_tmp,
        ..ListOptions::default()
    };
    let l = archive::list(dir, opts).unwrap();
    l.files.into_iter().map(|f| f.rel).collect()
}

#[test]
fn the_clock_crossing_a_slot_boundary_rotates_and_shutdown_stores_every_queued_datagram() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(dir.path());
    c.send(0..10);
    c.stored(300);
    assert_eq!(
        names(dir.path(), true),
        ["tmp-nf-v05.2026-11-22.021500+0000"]
    );
    // Nothing happens until the clock says the slot is over.
    c.clock.set_ms(BOUNDARY - 1);
    c.send(10..11);
    c.stored(330);
    assert!(names(dir.path(), false).is_empty());
    // 02:20:00: the writer finishes the file on its own (no datagram
    // needed), named by the slot it covered.
    c.clock.set_ms(BOUNDARY);
    let (first, flows) = c.finished();
    assert_eq!(first, dir.path().join("nf-v05.2026-11-22.021500+0000"));
    assert_eq!(flows, 330);
    let (h, r) = read(&first);
    assert!(h.complete);
    assert_eq!((h.flows, r.len()), (330, 330));
    assert_eq!(h.cap_start as i64, T0 / 1000);
    assert_eq!(h.cap_end as i64, BOUNDARY / 1000);
    assert_eq!(h.hostname, "inprocess");
    // The next slot's datagrams, and the shutdown right behind them: all
    // of them are still in the socket's queue when the stop arrives.
    c.clock.advance_ms(5_000);
    c.send(11..71);
    let (summary, events) = c.stop();
    assert_eq!(summary.received.datagrams, 71);
    assert_eq!(summary.received.flows, 71 * 30);
    let stored = summary.stored.unwrap();
    assert_eq!(
        (stored.flows, stored.files, stored.dropped_disk),
        (2130, 2, 0)
    );
    assert_eq!(summary.received.dropped_queue, 0);
    let second = dir.path().join("nf-v05.2026-11-22.022000+0000");
    assert!(
        events.contains(&SinkEvent::Finished {
            path: second.clone(),
            flows: 1800
        }),
        "{events:?}"
    );
    assert_eq!(
        names(dir.path(), true),
        [
            "nf-v05.2026-11-22.021500+0000",
            "nf-v05.2026-11-22.022000+0000"
        ]
    );
    let (h, r) = read(&second);
    assert!(h.complete);
    assert_eq!(r.len(), 1800);
    assert_eq!(h.lost_flows, 0);
    assert_eq!(h.cap_start as i64, BOUNDARY / 1000 + 5);
    // Every flow once, in the order sent.
    let all: Vec<u32> = read(&first)
        .1
        .iter()
        .chain(r.iter())
        .map(|r| r.dst_addr)
        .collect();
    assert_eq!(all, (0..71 * 30).collect::<Vec<u32>>());
}

#[test]
fn a_rotate_request_finishes_the_file_and_the_next_is_named_by_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(dir.path());
    c.send(0..2);
    c.stored(60);
    c.ctl.rotate("test rotate");
    let (first, flows) = c.finished();
    assert_eq!(first.file_name().unwrap(), "nf-v05.2026-11-22.021500+0000");
    assert_eq!(flows, 60);
    c.clock.advance_ms(1_000);
    c.send(2..3);
    c.stored(90);
    let (summary, _) = c.stop();
    assert_eq!(summary.stored.unwrap().files, 2);
    assert_eq!(
        names(dir.path(), true),
        [
            "nf-v05.2026-11-22.021500+0000",
            "nf-v05.2026-11-22.021925+0000"
        ]
    );
}

#[test]
fn dropping_the_controller_stops_the_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(dir.path());
    c.send(0..1);
    c.stored(30);
    let Running { run, ctl, .. } = c;
    drop(ctl);
    let summary = run.join().expect("the run panicked").unwrap();
    assert_eq!(summary.stored.unwrap().files, 1);
    assert_eq!(names(dir.path(), true), ["nf-v05.2026-11-22.021500+0000"]);
}
