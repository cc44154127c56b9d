//! A flow-capture run: [`run`] wires the socket task, the writer thread
//! and the caller's [`Controls`] together.
//!
//! The caller binds the socket ([`bind`]), says when to stop and when to
//! rotate ([`Controls`]: values, not signals; [`Controls::from_signals`]
//! turns SIGTERM/SIGINT/SIGQUIT and SIGHUP into them for the binary) and
//! gives the [`Clock`] every rotation and time stamp reads, so that a test
//! can run a whole collector in-process with a manual clock.
//!
//! Threads: one tokio current-thread runtime runs the socket task (receive,
//! decode, account, hand over) and the STAT timer; one writer thread
//! ([`crate::sink::run_writer`]) compresses and writes. They talk through a
//! channel of [`Msg`]s bounded in flows (`Config::queue`, 16 MiB by
//! default): the socket task never waits for the writer with data (a full
//! queue drops the batch and counts it, in the log and as lost flows in the
//! file), but waits for room for control messages, so a rotation or the
//! shutdown is ordered after every datagram received before it.

use std::net::{Ipv4Addr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use formats::Record;
use tokio::io::Interest;
use tokio::sync::{mpsc as tmpsc, oneshot};

use crate::clock::Clock;
use crate::config::{Config, BATCH_FLOWS};
use crate::filter::{self, FilterError};
use crate::log;
use crate::receive::{self, Ingest, IngestTotals, MultiRecv};
use crate::sink::{run_writer, Msg, Sink, SinkError, SinkEvent, SinkStats};

/// Why a run could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The command line is wrong.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The socket could not be created or bound.
    #[error(
        "cannot listen on {addr}:{port}: {}",
        formats::archive::io_reason(source)
    )]
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
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// Anything else from the OS (runtime, signals, threads, pidfile).
    #[error("{what}: {}", formats::archive::io_reason(source))]
    Io {
        /// What failed.
        what: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The writer thread ended before it was told to.
    #[error("the writer thread stopped unexpectedly")]
    WriterGone,
}

fn io_err(what: &'static str) -> impl FnOnce(std::io::Error) -> CaptureError {
    move |source| CaptureError::Io { what, source }
}

/// How the caller steers and watches a run.
#[derive(Debug)]
pub struct Controls {
    /// Completes when the run should stop, with the reason to log
    /// ("SIGTERM"). A dropped sender stops the run too.
    pub shutdown: oneshot::Receiver<&'static str>,
    /// Each message finishes the current file and reloads the filter
    /// (SIGHUP), with the reason to log.
    pub rotate: tmpsc::UnboundedReceiver<&'static str>,
    /// Where the writer reports what it stored and finished, if anyone
    /// listens.
    pub events: Option<mpsc::Sender<SinkEvent>>,
}

/// The caller's end of [`Controls`]. Dropping it stops the run.
#[derive(Debug)]
pub struct Controller {
    shutdown: Option<oneshot::Sender<&'static str>>,
    rotate: tmpsc::UnboundedSender<&'static str>,
}

impl Controller {
    /// Asks the run to finish the current file and stop.
    pub fn stop(&mut self, why: &'static str) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(why);
        }
    }

    /// Asks the run to finish the current file now and reload the filter.
    pub fn rotate(&self, why: &'static str) {
        let _ = self.rotate.send(why);
    }
}

impl Controls {
    /// Controls without an event listener, and their controller.
    pub fn new() -> (Controls, Controller) {
        let (stop_tx, stop_rx) = oneshot::channel();
        let (rot_tx, rot_rx) = tmpsc::unbounded_channel();
        (
            Controls {
                shutdown: stop_rx,
                rotate: rot_rx,
                events: None,
            },
            Controller {
                shutdown: Some(stop_tx),
                rotate: rot_tx,
            },
        )
    }

    /// Controls driven by the process's signals: SIGTERM, SIGINT and
    /// SIGQUIT stop, SIGHUP rotates. The handlers are installed before this
    /// returns (so a SIGTERM right after start-up finishes cleanly instead
    /// of killing the process); a thread of its own forwards them.
    pub fn from_signals() -> Result<Controls, CaptureError> {
        use tokio::signal::unix::{signal, SignalKind};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(io_err("signal runtime"))?;
        let (mut term, mut int, mut quit, mut hup) = {
            let _guard = rt.enter();
            let sig = |k| signal(k).map_err(io_err("signal handler"));
            (
                sig(SignalKind::terminate())?,
                sig(SignalKind::interrupt())?,
                sig(SignalKind::quit())?,
                sig(SignalKind::hangup())?,
            )
        };
        let (controls, mut ctl) = Controls::new();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                rt.block_on(async move {
                    let why = loop {
                        tokio::select! {
                            _ = term.recv() => break "SIGTERM",
                            _ = int.recv() => break "SIGINT",
                            _ = quit.recv() => break "SIGQUIT",
                            _ = hup.recv() => ctl.rotate("SIGHUP"),
                        }
                    };
                    ctl.stop(why);
                })
            })
            .map_err(io_err("signal thread"))?;
        Ok(controls)
    }
}

/// What a run did, once it stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The receive side's totals.
    pub received: IngestTotals,
    /// The writer's totals (`None` if the writer thread panicked).
    pub stored: Option<SinkStats>,
}

/// Creates and binds the socket `cfg` asks for ([`receive::bind`]:
/// receive buffer, `IP_PKTINFO`, multicast group) and logs the receive
/// buffer the kernel granted.
pub fn bind(cfg: &Config) -> Result<UdpSocket, CaptureError> {
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
    Ok(sock)
}

/// Runs flow-capture on `socket` (already bound, see [`bind`]) until
/// `controls.shutdown` completes, with time from `clock`; then stores
/// everything already received and finishes the current file. Unless
/// `cfg.keep_umask`, sets the process's umask to 022 (as flow-tools does).
pub fn run<C: Clock + Clone>(
    socket: UdpSocket,
    cfg: Config,
    controls: Controls,
    clock: C,
) -> Result<Summary, CaptureError> {
    if !cfg.keep_umask {
        // SAFETY: umask only changes the process's file mode mask.
        unsafe {
            libc::umask(0o022);
        }
    }
    let startup = clock.now_secs();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(io_err("runtime"))?;
    let filter = filter::load_opt(cfg.filter.as_ref())?;
    socket.set_nonblocking(true).map_err(io_err("socket"))?;
    let granted = receive::granted_rcvbuf(&socket);
    let bound = socket.local_addr().map_err(io_err("socket address"))?;
    let Controls {
        shutdown,
        rotate,
        events,
    } = controls;
    let mut sink = Sink::new(cfg.sink.clone(), clock.clone())?;
    if let Some(tx) = events {
        sink.notify(tx);
    }
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
        cfg.sink.kind.as_str(),
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
        clock,
    };
    let coalesce = granted >= COALESCE_MIN_RCVBUF;
    let served = rt.block_on(serve(
        socket, ingest, hand, shutdown, rotate, &cfg, coalesce,
    ));
    let stored = writer.join().ok().map(|sink| sink.stats().clone());
    if let Some(p) = pidfile {
        let _ = std::fs::remove_file(p);
    }
    let totals = served?;
    match &stored {
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
    Ok(Summary {
        received: totals,
        stored,
    })
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

struct Hand<C> {
    tx: SyncSender<Msg>,
    pool: Receiver<Vec<Record>>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
    clock: C,
}

impl<C: Clock> Hand<C> {
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
            ingest.requeue_counters(&b, self.clock.now_ms());
            return Ok(());
        }
        let b = self.take(ingest);
        self.queued.fetch_add(n, Ordering::AcqRel);
        match self.tx.try_send(Msg::Batch(b)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(Msg::Batch(b))) => {
                self.queued.fetch_sub(n, Ordering::AcqRel);
                ingest.requeue_counters(&b, self.clock.now_ms());
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
///
/// `drain` (before a rotation and at shutdown): receive whatever the
/// kernel holds even if the runtime has not yet seen the socket become
/// readable (a datagram that arrived just before the control message
/// belongs to the file being finished), and wait for room in the queue
/// instead of dropping.
fn receive_ready<C: Clock>(
    sock: &tokio::net::UdpSocket,
    mr: &mut MultiRecv,
    ingest: &mut Ingest,
    hand: &Hand<C>,
    budget: usize,
    drain: bool,
) -> Result<bool, ()> {
    for _ in 0..budget {
        let r = if drain {
            mr.recv(sock)
        } else {
            sock.try_io(Interest::READABLE, || mr.recv(sock))
        };
        let n = match r {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log::line(&format!("receive error: {e}"));
                return Ok(true);
            }
        };
        let now = hand.clock.now_ms();
        if let Some(d) = mr.kernel_drops {
            ingest.kernel_drops(d, now);
        }
        for i in 0..n {
            let (buf, trunc, src, dst) = mr.get(i);
            ingest.datagram(buf, trunc, src, dst, now);
        }
        if ingest.batch_len() >= BATCH_FLOWS {
            if drain {
                hand.push(ingest)?;
            } else {
                hand.offer(ingest)?;
            }
        }
    }
    Ok(false)
}

async fn serve<C: Clock>(
    sock: UdpSocket,
    mut ingest: Ingest,
    hand: Hand<C>,
    mut shutdown: oneshot::Receiver<&'static str>,
    mut rotate: tmpsc::UnboundedReceiver<&'static str>,
    cfg: &Config,
    coalesce: bool,
) -> Result<IngestTotals, CaptureError> {
    let sock = tokio::net::UdpSocket::from_std(sock).map_err(io_err("socket"))?;
    let mut mr = MultiRecv::new();
    let stat_period = std::time::Duration::from_secs(cfg.stat_interval_secs.max(1));
    let mut stat = tokio::time::interval_at(tokio::time::Instant::now() + stat_period, stat_period);
    let gone = |_| CaptureError::WriterGone;
    let mut linger = tokio::time::interval(LINGER);
    linger.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_handover = tokio::time::Instant::now();
    let mut rotate_open = true;
    let why = loop {
        tokio::select! {
            why = &mut shutdown => break why.unwrap_or("the controller went away"),
            r = rotate.recv(), if rotate_open => {
                let Some(why) = r else {
                    rotate_open = false;
                    continue;
                };
                log::line(&format!("{why}: finishing the current file, reloading the filter"));
                receive_ready(&sock, &mut mr, &mut ingest, &hand, DRAIN_CALLS, true).map_err(gone)?;
                hand.push(&mut ingest).map_err(gone)?;
                hand.tx.send(Msg::Rotate).map_err(|_| CaptureError::WriterGone)?;
                if cfg.filter.is_some() {
                    match filter::load_opt(cfg.filter.as_ref()) {
                        Ok(f) => {
                            ingest.set_filter(f);
                            log::line("Reloading filters.");
                        }
                        Err(e) => log::line(&format!("filter reload failed, keeping the previous filter: {e}")),
                    }
                }
            }
            _ = stat.tick(), if cfg.stat_interval_secs > 0 => {
                for l in ingest.stat_lines(hand.clock.now_secs()) {
                    log::line(&l);
                }
            }
            r = sock.readable() => {
                if let Err(e) = r {
                    log::line(&format!("socket error: {e}"));
                    continue;
                }
                let emptied = receive_ready(&sock, &mut mr, &mut ingest, &hand, 64, false)
                    .map_err(gone)?;
                let now = tokio::time::Instant::now();
                if now >= next_handover {
                    hand.offer(&mut ingest).map_err(gone)?;
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
                    // a third of this thread's CPU). Controls wait in the
                    // runtime's queue for at most this long.
                    std::thread::sleep(COALESCE);
                }
            }
            _ = linger.tick() => {
                if tokio::time::Instant::now() >= next_handover {
                    hand.offer(&mut ingest).map_err(gone)?;
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
