//! A flow-capture run: [`run`] wires the socket task, the writer thread
//! and the signals together.
//!
//! Threads: one tokio current-thread runtime runs the socket task (receive,
//! decode, account, hand over) and the signal and STAT timers; one writer
//! thread ([`crate::sink::run_writer`]) compresses and writes. They talk
//! through a channel of [`Msg`]s bounded in flows (`Config::queue`, 16 MiB
//! by default): the socket task never waits for the writer with data (a
//! full queue drops the batch and counts it, in the log and as lost flows
//! in the file), but waits for room for control messages, so SIGHUP and
//! SIGTERM are ordered after every datagram received before them.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use formats::Record;
use tokio::io::Interest;
use tokio::signal::unix::{signal, SignalKind};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, BATCH_FLOWS};
use crate::log;
use crate::receive::{self, FlowFilter, Ingest, MultiRecv};
use crate::rotate::FileKind;
use crate::sink::{run_writer, Msg, Sink, SinkError};

/// Why a run could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The socket could not be created or bound.
    #[error("cannot listen on {addr}:{port}: {source}")]
    Bind {
        /// Local address.
        addr: Ipv4Addr,
        /// Port.
        port: u16,
        /// The OS error.
        source: std::io::Error,
    },
    /// The workdir is unusable.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The filter configuration is unusable.
    #[error("{0}")]
    Filter(String),
    /// Anything else from the OS (runtime, signals, threads, pidfile).
    #[error("{what}: {source}")]
    Io {
        /// What failed.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

fn io_err(what: &str) -> impl FnOnce(std::io::Error) -> CaptureError + '_ {
    move |source| CaptureError::Io {
        what: what.to_string(),
        source,
    }
}

/// Builds the flow filter from `-f`/`-F`, or `None` without them.
pub type FilterLoader = dyn Fn(&Config) -> Result<Option<FlowFilter>, String>;

/// Runs flow-capture until SIGTERM, SIGINT or SIGQUIT. `load_filter` builds
/// the filter at start-up and again on every SIGHUP.
pub fn run(cfg: Config, load_filter: &FilterLoader) -> Result<(), CaptureError> {
    if !cfg.keep_umask {
        // SAFETY: umask only changes the process's file mode mask.
        unsafe {
            libc::umask(0o022);
        }
    }
    let startup = SystemClock.now_secs();
    // Signal handlers first: a SIGTERM right after start-up must finish
    // cleanly, not kill the process.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(io_err("runtime"))?;
    let signals = {
        let _guard = rt.enter();
        Signals::new().map_err(io_err("signal handler"))?
    };
    let filter = load_filter(&cfg).map_err(CaptureError::Filter)?;
    let group = cfg.remote.is_multicast().then_some(cfg.remote);
    let (sock, granted) =
        receive::bind(cfg.local, cfg.port, cfg.rcvbuf, group).map_err(|source| {
            CaptureError::Bind {
                addr: cfg.local,
                port: cfg.port,
                source,
            }
        })?;
    log::line(&format!(
        "receive buffer: asked for {} bytes, the kernel granted {granted}{}",
        cfg.rcvbuf,
        if granted < cfg.rcvbuf {
            " (raise net.core.rmem_max, or run as root, for more)"
        } else {
            ""
        }
    ));
    let bound = sock.local_addr().map_err(io_err("socket address"))?;
    let sink = Sink::new(cfg.sink.clone(), SystemClock)?;
    log::line(&format!(
        "listening on {bound}{}; writing {} files under {}, a new file every {} s",
        if cfg.allow.0.is_empty() {
            String::new()
        } else {
            format!(
                " for {}",
                cfg.allow
                    .0
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        match cfg.sink.kind {
            FileKind::Native => "native",
            FileKind::Ft => "ft",
        },
        cfg.sink.workdir.display(),
        cfg.sink.schedule.period
    ));
    let pidfile = match &cfg.pidfile {
        Some(base) => {
            let p = PathBuf::from(format!("{}.{}", base.display(), cfg.port));
            std::fs::write(&p, format!("{}\n", std::process::id())).map_err(io_err("pidfile"))?;
            Some(p)
        }
        None => None,
    };
    let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUE_MESSAGES);
    let (pool_tx, pool_rx) = mpsc::channel::<Vec<Record>>();
    let queued = Arc::new(AtomicUsize::new(0));
    let q2 = queued.clone();
    let writer = std::thread::Builder::new()
        .name("flow-writer".into())
        .spawn(move || run_writer(sink, rx, pool_tx, q2, BATCH_FLOWS))
        .map_err(io_err("writer thread"))?;
    let mut ingest = Ingest::new(cfg.allow.clone(), filter, startup);
    ingest.default_dst = u32::from(cfg.local);
    let hand = Hand {
        tx,
        pool: pool_rx,
        queued,
        max_queued: cfg.queue.max(BATCH_FLOWS * 2),
    };
    let coalesce = granted >= COALESCE_MIN_RCVBUF;
    let served = rt.block_on(serve(
        sock,
        ingest,
        hand,
        signals,
        &cfg,
        load_filter,
        coalesce,
    ));
    let stats = match writer.join() {
        Ok(sink) => Some(sink.stats().clone()),
        Err(_) => None,
    };
    if let Some(p) = pidfile {
        let _ = std::fs::remove_file(p);
    }
    let totals = served?;
    match stats {
        Some(s) => log::line(&format!(
            "stopped: {} datagrams, {} flows received, {} stored in {} files; dropped {} flows (queue) + {} (disk) + {} datagrams (receive buffer); {} corrupt, {} rejected, {} filtered",
            totals.datagrams,
            totals.flows,
            s.flows,
            s.files,
            totals.dropped_queue,
            s.dropped_disk,
            totals.dropped_socket,
            totals.corrupt - totals.rejected.min(totals.corrupt),
            totals.rejected,
            totals.filtered
        )),
        None => log::line("the writer thread failed; the current tmp- file will be finalized at the next start"),
    }
    Ok(())
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
            hup: signal(SignalKind::hangup())?,
        })
    }
}

/// Most receive calls (of up to 64 datagrams) made to drain the socket
/// before a rotation or at shutdown, so an exporter that never pauses
/// cannot hold the collector up.
const DRAIN_CALLS: usize = 20_000;

/// Longest time a partial batch waits in the socket task before it is
/// handed to the writer (full batches go at once).
const LINGER: std::time::Duration = std::time::Duration::from_millis(100);

/// Pause after the socket ran empty, so that wake-ups are batched.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(2);

/// Smallest granted receive buffer for which the socket task pauses
/// ([`COALESCE`]): 2 ms of 4 M flows/s is about 270 datagrams, roughly
/// 600 KiB of kernel memory; with less room than this the pause could
/// overflow the buffer, so the task then waits for datagrams instead.
const COALESCE_MIN_RCVBUF: usize = 4 << 20;

/// Longest wait for room in the writer's queue before a batch is dropped
/// (signals wait at most this long too).
const ROOM_WAIT: std::time::Duration = std::time::Duration::from_millis(250);
/// How often the queue is looked at meanwhile (the writer frees a batch's
/// room about every millisecond at 4 M flows/s).
const ROOM_POLL: std::time::Duration = std::time::Duration::from_millis(1);

/// Messages the channel holds; memory is bounded by `Hand::max_queued`
/// flows, not by this.
const QUEUE_MESSAGES: usize = 4096;

struct Hand {
    tx: SyncSender<Msg>,
    pool: Receiver<Vec<Record>>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
}

impl Hand {
    fn spare(&self) -> Vec<Record> {
        self.pool
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH_FLOWS + 64))
    }

    /// Queues the current batch. If the writer is behind, waits up to
    /// [`ROOM_WAIT`] for room first: meanwhile datagrams wait in the
    /// kernel's receive buffer (which holds more than the queue, at no cost
    /// to this process's memory), and this thread leaves the CPU to the
    /// writer instead of receiving datagrams only to drop them. Past that,
    /// the batch is counted dropped. Err if the writer is gone.
    fn offer(&self, ingest: &mut Ingest) -> Result<(), ()> {
        if !ingest.has_pending() {
            return Ok(());
        }
        let n = ingest.batch_len();
        let full = || self.queued.load(Ordering::Acquire) + n > self.max_queued;
        let since = std::time::Instant::now();
        while full() && since.elapsed() < ROOM_WAIT {
            std::thread::sleep(ROOM_POLL);
        }
        if full() {
            let b = ingest.take_small_batch();
            ingest.requeue_counters(&b, SystemClock.now_ms());
            return Ok(());
        }
        let b = self.take(ingest);
        self.queued.fetch_add(n, Ordering::AcqRel);
        match self.tx.try_send(Msg::Batch(b)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(Msg::Batch(b))) => {
                self.queued.fetch_sub(n, Ordering::AcqRel);
                ingest.requeue_counters(&b, SystemClock.now_ms());
                Ok(())
            }
            Err(_) => Err(()),
        }
    }

    /// Queues the current batch, waiting for room (before control messages).
    fn push(&self, ingest: &mut Ingest) -> Result<(), ()> {
        if ingest.has_pending() {
            let n = ingest.batch_len();
            let b = self.take(ingest);
            self.queued.fetch_add(n, Ordering::AcqRel);
            self.tx.send(Msg::Batch(b)).map_err(|_| ())?;
        }
        Ok(())
    }

    /// Small batches travel in buffers of their own size; full ones in a
    /// recycled buffer.
    fn take(&self, ingest: &mut Ingest) -> crate::sink::Batch {
        if ingest.batch_len() < BATCH_FLOWS / 4 {
            ingest.take_small_batch()
        } else {
            ingest.take_batch(self.spare())
        }
    }
}

/// Receives until the socket has nothing more (at most `budget` receive
/// calls), handing over full batches. Returns true if it stopped because
/// the socket was empty.
fn receive_ready(
    sock: &tokio::net::UdpSocket,
    mr: &mut MultiRecv,
    ingest: &mut Ingest,
    hand: &Hand,
    budget: usize,
    wait_for_room: bool,
) -> Result<bool, ()> {
    for _ in 0..budget {
        let r = sock.try_io(Interest::READABLE, || mr.recv(sock));
        let n = match r {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log::line(&format!("receive error: {e}"));
                return Ok(true);
            }
        };
        let now = SystemClock.now_ms();
        if let Some(d) = mr.kernel_drops {
            ingest.kernel_drops(d, now);
        }
        for i in 0..n {
            let (buf, trunc, src, dst) = mr.get(i);
            ingest.datagram(buf, trunc, src, dst, now);
        }
        if ingest.batch_len() >= BATCH_FLOWS {
            if wait_for_room {
                hand.push(ingest)?;
            } else {
                hand.offer(ingest)?;
            }
        }
    }
    Ok(false)
}

async fn serve(
    sock: std::net::UdpSocket,
    mut ingest: Ingest,
    hand: Hand,
    signals: Signals,
    cfg: &Config,
    load_filter: &FilterLoader,
    coalesce: bool,
) -> Result<receive::IngestTotals, CaptureError> {
    let sock = tokio::net::UdpSocket::from_std(sock).map_err(io_err("socket"))?;
    let mut mr = MultiRecv::new();
    let Signals {
        mut term,
        mut int,
        mut quit,
        mut hup,
    } = signals;
    let stat_period = std::time::Duration::from_secs(cfg.stat_interval_secs.max(1));
    let mut stat = tokio::time::interval_at(tokio::time::Instant::now() + stat_period, stat_period);
    let writer_gone = || CaptureError::Io {
        what: "writer thread".into(),
        source: std::io::Error::other("stopped unexpectedly"),
    };
    let mut linger = tokio::time::interval(LINGER);
    linger.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_handover = tokio::time::Instant::now();
    let why = loop {
        tokio::select! {
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
            _ = quit.recv() => break "SIGQUIT",
            _ = hup.recv() => {
                log::line("SIGHUP: finishing the current file, reloading the filter");
                receive_ready(&sock, &mut mr, &mut ingest, &hand, DRAIN_CALLS, true).map_err(|_| writer_gone())?;
                hand.push(&mut ingest).map_err(|_| writer_gone())?;
                hand.tx.send(Msg::Rotate).map_err(|_| writer_gone())?;
                if cfg.filter.is_some() {
                    match load_filter(cfg) {
                        Ok(f) => {
                            ingest.set_filter(f);
                            log::line("Reloading filters.");
                        }
                        Err(e) => log::line(&format!("filter reload failed, keeping the previous filter: {e}")),
                    }
                }
            }
            _ = stat.tick(), if cfg.stat_interval_secs > 0 => {
                for l in ingest.stat_lines(SystemClock.now_secs()) {
                    log::line(&l);
                }
            }
            r = sock.readable() => {
                if let Err(e) = r {
                    log::line(&format!("socket error: {e}"));
                    continue;
                }
                let emptied = receive_ready(&sock, &mut mr, &mut ingest, &hand, 64, false)
                    .map_err(|_| writer_gone())?;
                let now = tokio::time::Instant::now();
                if now >= next_handover {
                    hand.offer(&mut ingest).map_err(|_| writer_gone())?;
                    next_handover = now + LINGER;
                }
                if emptied && coalesce {
                    // Coalesce wake-ups: let datagrams gather in the kernel
                    // buffer for a moment, then take them with few large
                    // recvmmsg calls (a 32 MiB buffer holds seconds of
                    // traffic; this costs at most COALESCE of latency).
                    // A blocking sleep on purpose: an async one leaves the
                    // runtime in epoll_wait, which the socket's
                    // edge-triggered readiness wakes for every burst of
                    // datagrams (measured: 7,000 wake-ups/s at 2 M flows/s,
                    // a third of this thread's CPU). Signals wait in the
                    // runtime's queue for at most this long.
                    std::thread::sleep(COALESCE);
                }
            }
            _ = linger.tick() => {
                if tokio::time::Instant::now() >= next_handover {
                    hand.offer(&mut ingest).map_err(|_| writer_gone())?;
                    next_handover = tokio::time::Instant::now() + LINGER;
                }
            }
        }
    };
    log::line(&format!("{why}: finishing the current file"));
    // Everything the kernel already holds counts as received.
    let _ = receive_ready(&sock, &mut mr, &mut ingest, &hand, DRAIN_CALLS, true);
    let _ = hand.push(&mut ingest);
    let _ = hand.tx.send(Msg::Shutdown);
    Ok(ingest.totals())
}
