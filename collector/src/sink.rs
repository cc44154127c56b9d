//! The writer thread: batches of records in, rotating flow files out.
//!
//! [`Sink`] owns the file being written. It opens a file when the first
//! batch of a slot arrives, writes records as they come (native blocks are
//! compressed here, off the receive path), flushes at least every
//! [`SinkConfig::flush_interval_ms`] so a `tmp-` file is readable up to the
//! last second, and at the end of the slot (or on `Rotate`/`Shutdown`)
//! finishes the file: counters into the header (native trailer, or ft
//! header rewrite with DONE), then [`TmpFile::commit`] (fsync, rename
//! `tmp-` to the final name, fsync the directory), expiry, `-R` program.
//! Slots, names and nesting are [`formats::archive`]'s.
//!
//! If the disk fills up or the workdir becomes unwritable, the sink logs
//! once per cause (rate-limited), counts every flow it cannot store as
//! dropped, retries every second, and carries the counters into the next
//! file it manages to open. A file broken by a write error stays on disk as
//! `tmp-`; it is finalized like a crash leftover
//! ([`formats::archive::recover_file`]) once writing works again, and at
//! the next start-up otherwise.
//!
//! Time comes from a [`Clock`], so tests drive rotation by hand; a
//! [`SinkEvent`] channel tells them what was written, so they wait on
//! events instead of sleeping.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};

use formats::archive::{
    self, first_free, nest_dir, ArchiveError, FileKind, FileName, Op, Schedule, Slot, TmpFile,
};
use formats::ft::{ByteOrder, FtHeader, FtWriter};
use formats::native::{NativeHeader, NativeWriter, WriterOptions};
use formats::Record;

use crate::clock::Clock;
use crate::expire::{Entry, Expiry, ExpiryConfig};
use crate::log::{self, RateLimit};

/// zstd level of native files unless `-z` says otherwise: level 1 keeps
/// the writer's CPU per flow low; the columnar blocks compress well anyway.
pub const DEFAULT_NATIVE_LEVEL: i32 = 1;

/// The only export version stored.
pub const EXPORT_VERSION: u16 = 5;

/// Counters that travel with a batch and add up per file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Valid datagrams received.
    pub datagrams: u64,
    /// Flows lost to exporters' sequence gaps.
    pub lost: u64,
    /// Malformed or rejected datagrams.
    pub corrupt: u64,
    /// Sequence resets.
    pub resets: u64,
    /// Flows received but not stored by the collector (queue full, disk
    /// unwritable). Stored files count them as lost flows too.
    pub dropped: u64,
}

impl Counters {
    /// True when every counter is zero.
    pub fn is_zero(&self) -> bool {
        *self == Counters::default()
    }
}

impl std::ops::AddAssign for Counters {
    fn add_assign(&mut self, o: Counters) {
        self.datagrams += o.datagrams;
        self.lost += o.lost;
        self.corrupt += o.corrupt;
        self.resets += o.resets;
        self.dropped += o.dropped;
    }
}

/// Records and counters handed from the receive task to the writer.
#[derive(Debug, Default)]
pub struct Batch {
    /// Decoded flows, in arrival order.
    pub records: Vec<Record>,
    /// Counters accumulated with them.
    pub counters: Counters,
}

/// A message to the writer thread.
#[derive(Debug)]
pub enum Msg {
    /// Store these.
    Batch(Batch),
    /// Finish the current file now (SIGHUP).
    Rotate,
    /// Finish the current file and stop (SIGTERM, SIGINT).
    Shutdown,
}

/// How the sink writes.
#[derive(Clone, Debug)]
pub struct SinkConfig {
    /// Directory holding the files (and nesting directories).
    pub workdir: PathBuf,
    /// Native or ft files.
    pub kind: FileKind,
    /// Rotation slots.
    pub schedule: Schedule,
    /// Directory nesting level, -3..=3.
    pub nesting: i8,
    /// Compression: zstd level for native files, zlib level for ft files
    /// (0 = uncompressed ft). `None` = the format's default.
    pub level: Option<i32>,
    /// Byte order of ft files.
    pub byte_order: ByteOrder,
    /// Name of this host, for the headers.
    pub hostname: String,
    /// `-C` comment.
    pub comment: String,
    /// Records per native block.
    pub block_records: usize,
    /// Longest time records wait in memory before reaching the file.
    pub flush_interval_ms: i64,
    /// Program run with each finished file's path (`-R`).
    pub post_rotate: Option<PathBuf>,
    /// Expiry limits.
    pub expiry: ExpiryConfig,
}

/// Records per native block the collector writes: larger than the writer's
/// default because per-block costs (one zstd frame per byte plane, table
/// set-up) dominate at high rates; 32768 records cost about 10% less CPU
/// to write than 8192 and the files come out about 6% smaller. Blocks
/// still end at every flush (each second), so nothing waits longer.
pub const BLOCK_RECORDS: usize = 32768;

impl SinkConfig {
    /// Defaults for `workdir`: native files, 5-minute slots in local time,
    /// nesting 3, 1 s flushes, no expiry.
    pub fn new(workdir: impl Into<PathBuf>) -> Self {
        SinkConfig {
            workdir: workdir.into(),
            kind: FileKind::Native,
            schedule: Schedule::default(),
            nesting: 3,
            level: None,
            byte_order: ByteOrder::host(),
            hostname: String::new(),
            comment: String::new(),
            block_records: BLOCK_RECORDS,
            flush_interval_ms: 1000,
            post_rotate: None,
            expiry: ExpiryConfig::default(),
        }
    }
}

/// Why the sink cannot start, or could not write or finish a file (the
/// latter are logged: the sink goes on).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The workdir cannot be created or is not a directory.
    #[error("workdir {}: {}", path.display(), archive::io_reason(source))]
    Workdir {
        /// The workdir.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A flow file could not be created, written or finished.
    #[error(transparent)]
    File(#[from] ArchiveError),
}

/// What the writer has just done, for whoever watches a run (tests wait
/// on these instead of sleeping).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkEvent {
    /// A batch was handled; `total` flows are now in files (finished or
    /// open) since the start.
    Stored {
        /// [`SinkStats::flows`] after the batch.
        total: u64,
    },
    /// A file was finished under its final name.
    Finished {
        /// Its path.
        path: PathBuf,
        /// Flows in it.
        flows: u64,
    },
}

// One per sink, never moved in a hot path: the size difference is harmless.

// One per sink, never moved in a hot path: the size difference is harmless.
#[allow(clippy::large_enum_variant)]
enum FileWriter {
    Native(NativeWriter<BufWriter<File>>),
    Ft(FtWriter<BufWriter<File>>, FtHeader),
}

impl FileWriter {
    fn write_all(&mut self, rs: &[Record], path: &Path) -> Result<(), ArchiveError> {
        match self {
            FileWriter::Native(w) => w.write_all(rs).map_err(|e| ArchiveError::native(path, e)),
            FileWriter::Ft(w, _) => w.write_all(rs).map_err(|e| ArchiveError::ft(path, e)),
        }
    }

    fn flush(&mut self, path: &Path) -> Result<(), ArchiveError> {
        match self {
            FileWriter::Native(w) => w.flush_block().map_err(|e| ArchiveError::native(path, e)),
            FileWriter::Ft(w, _) => w.flush().map_err(|e| ArchiveError::ft(path, e)),
        }
    }
}

struct OpenFile {
    writer: FileWriter,
    file: TmpFile,
    name: FileName,
    slot: Slot,
    cap_start: i64,
    counters: Counters,
    flows: u64,
    exporters: BTreeSet<u32>,
    last_exporter: Option<u32>,
    last_flush_ms: i64,
    flushed_flows: u64,
    dirty: bool,
}

/// What the sink has done, for tests and the final log line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// Files finished and renamed.
    pub files: u64,
    /// Flows written to finished or open files.
    pub flows: u64,
    /// Flows dropped because nothing could be written.
    pub dropped_disk: u64,
}

/// The writer: see the module documentation.
pub struct Sink<C: Clock> {
    cfg: SinkConfig,
    clock: C,
    open: Option<OpenFile>,
    carry: Counters,
    dropped_since_failure: u64,
    failing: bool,
    next_retry_ms: i64,
    broken: Vec<PathBuf>,
    expiry: Expiry,
    disk_log: RateLimit,
    finished: Vec<PathBuf>,
    stats: SinkStats,
    /// Newest time used in a file name (names never go back, so a slot's
    /// start is not reused after its file expired).
    newest_name: Option<i64>,
    events: Option<Sender<SinkEvent>>,
}

fn ft_header(cfg: &SinkConfig, cap_start: u32) -> FtHeader {
    FtHeader {
        byte_order: cfg.byte_order,
        stream_version: formats::ft::STREAM_VERSION,
        export_version: Some(EXPORT_VERSION),
        cap_start: Some(cap_start),
        cap_end: Some(0),
        flags: Some(0),
        flow_count: Some(0),
        flow_lost: Some(0),
        pkt_corrupt: Some(0),
        seq_reset: Some(0),
        hostname: Some(cfg.hostname.clone()),
        comments: (!cfg.comment.is_empty()).then(|| cfg.comment.clone()),
        ..FtHeader::default()
    }
}

fn clamp32(v: u64) -> u32 {
    v.min(u32::MAX as u64) as u32
}

/// Logs what recovering a leftover `tmp-` file did.
fn log_recovery(r: Result<archive::Recovered, ArchiveError>) {
    match r {
        Ok(r) => log::line(&r.to_string()),
        Err(e) => log::line(&format!("cannot recover {e}")),
    }
}

impl<C: Clock> Sink<C> {
    /// Creates the workdir if needed, finalizes leftover `tmp-` files
    /// ([`archive::recover_dir`]) and applies expiry once.
    pub fn new(cfg: SinkConfig, clock: C) -> Result<Self, SinkError> {
        std::fs::create_dir_all(&cfg.workdir).map_err(|source| SinkError::Workdir {
            path: cfg.workdir.clone(),
            source,
        })?;
        if !cfg.workdir.is_dir() {
            return Err(SinkError::Workdir {
                path: cfg.workdir.clone(),
                source: std::io::Error::other("not a directory"),
            });
        }
        archive::recover_dir(&cfg.workdir)
            .into_iter()
            .for_each(log_recovery);
        let mut expiry = Expiry::scan(&cfg.workdir, cfg.expiry);
        expiry.enforce(0);
        let newest_name = expiry.files().iter().map(|e| e.time).max();
        Ok(Sink {
            cfg,
            clock,
            open: None,
            carry: Counters::default(),
            dropped_since_failure: 0,
            failing: false,
            next_retry_ms: i64::MIN,
            broken: Vec::new(),
            expiry,
            disk_log: RateLimit::new(10_000),
            finished: Vec::new(),
            stats: SinkStats::default(),
            newest_name,
            events: None,
        })
    }

    /// Sends a [`SinkEvent`] to `tx` for every batch stored and file
    /// finished from now on (a closed channel is ignored).
    pub fn notify(&mut self, tx: Sender<SinkEvent>) {
        self.events = Some(tx);
    }

    fn event(&self, e: SinkEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(e);
        }
    }

    /// Paths of the files finished so far, in order.
    pub fn finished(&self) -> &[PathBuf] {
        &self.finished
    }

    /// Totals so far.
    pub fn stats(&self) -> &SinkStats {
        &self.stats
    }

    /// The `tmp-` path being written, if a file is open.
    pub fn open_path(&self) -> Option<&Path> {
        self.open.as_ref().map(|f| f.file.path())
    }

    /// Handles one message; returns false after `Shutdown`.
    pub fn handle(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Batch(b) => {
                self.write_batch(&b);
                true
            }
            Msg::Rotate => {
                self.rotate();
                true
            }
            Msg::Shutdown => {
                self.rotate();
                false
            }
        }
    }

    /// Stores a batch: rotates first if the slot is over, opens a file if
    /// none is open.
    pub fn write_batch(&mut self, b: &Batch) {
        self.store(b);
        if self.events.is_some() {
            self.event(SinkEvent::Stored {
                total: self.stats.flows,
            });
        }
    }

    fn store(&mut self, b: &Batch) {
        let now = self.clock.now_ms();
        self.rotate_if_due(now);
        if b.records.is_empty() && b.counters.is_zero() {
            return;
        }
        if self.open.is_none() && !self.try_open(now) {
            let mut c = b.counters;
            c.dropped += b.records.len() as u64;
            self.dropped_since_failure += b.records.len() as u64;
            self.stats.dropped_disk += b.records.len() as u64;
            self.carry += c;
            return;
        }
        let Some(f) = self.open.as_mut() else { return };
        f.counters += b.counters;
        if b.records.is_empty() {
            return;
        }
        match f.writer.write_all(&b.records, f.file.path()) {
            Ok(()) => {
                f.flows += b.records.len() as u64;
                f.dirty = true;
                self.stats.flows += b.records.len() as u64;
                for r in &b.records {
                    if f.last_exporter != Some(r.exporter) {
                        f.last_exporter = Some(r.exporter);
                        f.exporters.insert(r.exporter);
                    }
                }
            }
            Err(e) => self.fail(now, &e, b.records.len() as u64),
        }
    }

    /// Periodic work: flush, rotate at the slot end, retry a failed disk.
    pub fn tick(&mut self) {
        let now = self.clock.now_ms();
        self.rotate_if_due(now);
        let flush_due = match &self.open {
            Some(f) => f.dirty && now - f.last_flush_ms >= self.cfg.flush_interval_ms,
            None => false,
        };
        if flush_due {
            self.flush(now);
        }
    }

    /// Milliseconds until [`tick`](Self::tick) has something to do (at
    /// most 1000).
    pub fn next_tick_in_ms(&self) -> u64 {
        let now = self.clock.now_ms();
        let mut due = now + 1000;
        if let Some(f) = &self.open {
            if f.dirty {
                due = due.min(f.last_flush_ms + self.cfg.flush_interval_ms);
            }
            due = due.min(f.slot.end * 1000);
        }
        (due - now).clamp(1, 1000) as u64
    }

    /// Makes everything written so far readable in the `tmp-` file.
    pub fn flush(&mut self, now: i64) {
        let Some(f) = self.open.as_mut() else { return };
        match f.writer.flush(f.file.path()) {
            Ok(()) => {
                f.last_flush_ms = now;
                f.flushed_flows = f.flows;
                f.dirty = false;
            }
            Err(e) => self.fail(now, &e, 0),
        }
    }

    fn rotate_if_due(&mut self, now: i64) {
        let secs = now.div_euclid(1000);
        if let Some(f) = &self.open {
            // Also rotate when the clock went back before the slot.
            if !f.slot.contains(secs) {
                self.rotate();
            }
        }
    }

    fn try_open(&mut self, now: i64) -> bool {
        if self.failing && now < self.next_retry_ms {
            return false;
        }
        match self.open_file(now) {
            Ok(mut f) => {
                if self.failing {
                    log::line(&format!(
                        "writing again to {}: {} flows were dropped while files could not be written",
                        f.file.path().display(),
                        self.dropped_since_failure
                    ));
                    self.failing = false;
                    self.dropped_since_failure = 0;
                }
                f.counters = std::mem::take(&mut self.carry);
                self.open = Some(f);
                self.recover_broken();
                true
            }
            Err(e) => {
                self.failing = true;
                self.next_retry_ms = now + 1000;
                self.disk_log.log(now, || {
                    format!("cannot create a flow file: {e}; still receiving, flows are counted as dropped until files can be written")
                });
                false
            }
        }
    }

    /// The names for a new file of `slot` opened at `now`, best first:
    /// the slot start, unless a file of ours already used that time (then
    /// the file's own start time), then the seconds after it.
    fn name_candidates(&self, slot: Slot, now: i64) -> impl Iterator<Item = FileName> {
        let (kind, zone) = (self.cfg.kind, self.cfg.schedule.zone);
        let floor = self.newest_name.map_or(i64::MIN, |t| t + 1);
        let mut times: Vec<i64> = [slot.start, now]
            .into_iter()
            .filter(|&t| t >= floor)
            .collect();
        if times.is_empty() {
            times.push(floor);
        }
        let name = move |t| FileName::new(kind, EXPORT_VERSION, t, zone);
        let last = name(times[times.len() - 1]);
        times.into_iter().map(name).chain(last.later(zone).skip(1))
    }

    fn open_file(&mut self, now_ms: i64) -> Result<OpenFile, ArchiveError> {
        let now = now_ms.div_euclid(1000);
        let slot = self.cfg.schedule.slot(now);
        let dir = self.cfg.workdir.join(nest_dir(
            self.cfg.nesting,
            slot.start,
            self.cfg.schedule.zone,
        ));
        let (file, name) = TmpFile::create_free(&dir, self.name_candidates(slot, now))?;
        self.newest_name = Some(self.newest_name.map_or(name.time, |n| n.max(name.time)));
        let cap_start = now.max(slot.start);
        let bw = match file.writer() {
            Ok(w) => BufWriter::with_capacity(256 * 1024, w),
            Err(e) => {
                let _ = file.abort();
                return Err(e);
            }
        };
        let writer = match self.cfg.kind {
            FileKind::Native => {
                let h = NativeHeader {
                    export_version: EXPORT_VERSION,
                    cap_start: cap_start as u32,
                    hostname: self.cfg.hostname.clone(),
                    comment: self.cfg.comment.clone(),
                    metadata: vec![(
                        "collector".into(),
                        format!("flow-capture {}", env!("CARGO_PKG_VERSION")),
                    )],
                    ..NativeHeader::default()
                };
                let opts = WriterOptions {
                    block_records: self.cfg.block_records,
                    zstd_level: self.cfg.level.unwrap_or(DEFAULT_NATIVE_LEVEL),
                };
                NativeWriter::new(bw, &h, opts)
                    .map(FileWriter::Native)
                    .map_err(|e| ArchiveError::native(file.path(), e))
            }
            FileKind::Ft => {
                let h = ft_header(&self.cfg, cap_start as u32);
                let level = self.cfg.level.unwrap_or(6).clamp(0, 9) as u32;
                FtWriter::new(bw, &h, Some(level))
                    .map(|w| FileWriter::Ft(w, h))
                    .map_err(|e| ArchiveError::ft(file.path(), e))
            }
        };
        let writer = match writer {
            Ok(w) => w,
            Err(e) => {
                let _ = file.abort();
                return Err(e);
            }
        };
        Ok(OpenFile {
            writer,
            file,
            name,
            slot,
            cap_start,
            counters: Counters::default(),
            flows: 0,
            exporters: BTreeSet::new(),
            last_exporter: None,
            last_flush_ms: now_ms,
            flushed_flows: 0,
            dirty: false,
        })
    }

    /// A write failed: keep the tmp- file for recovery, count what is lost,
    /// carry the counters on.
    fn fail(&mut self, now: i64, err: &ArchiveError, unwritten: u64) {
        let Some(f) = self.open.take() else { return };
        let lost_in_memory = f.flows.saturating_sub(f.flushed_flows) + unwritten;
        let mut c = f.counters;
        c.dropped += lost_in_memory;
        self.carry += c;
        self.stats.dropped_disk += lost_in_memory;
        self.stats.flows = self.stats.flows.saturating_sub(f.flows - f.flushed_flows);
        self.dropped_since_failure += lost_in_memory;
        self.failing = true;
        self.next_retry_ms = now + 1000;
        self.disk_log.log(now, || {
            format!(
                "cannot write: {err}; still receiving, flows are counted as dropped until files can be written"
            )
        });
        // Dropping the writer and the TmpFile closes the file and leaves it
        // on disk as tmp-.
        self.broken.push(f.file.path().to_path_buf());
    }

    fn recover_broken(&mut self) {
        let broken = std::mem::take(&mut self.broken);
        for p in broken {
            match archive::recover_file(&p) {
                Ok(r) => log::line(&r.to_string()),
                Err(e) => {
                    log::line(&format!("cannot finalize yet: {e}"));
                    self.broken.push(p);
                }
            }
        }
    }

    /// Finishes the open file (if any): counters, trailer or header
    /// rewrite, fsync, rename, expiry, `-R`.
    pub fn rotate(&mut self) {
        let Some(f) = self.open.take() else { return };
        let now = self.clock.now_ms();
        let cap_end = (now.div_euclid(1000)).max(f.cap_start);
        let c = f.counters;
        let exporters: Vec<u32> = f.exporters.iter().copied().collect();
        let tmp = f.file.path().to_path_buf();
        let finished: Result<(), ArchiveError> = match f.writer {
            FileWriter::Native(mut w) => {
                let h = w.header_mut();
                h.exporters = exporters;
                h.cap_end = cap_end as u32;
                h.flows = f.flows;
                h.lost_flows = c.lost + c.dropped;
                h.corrupt_packets = c.corrupt;
                h.seq_resets = c.resets;
                if c.dropped > 0 {
                    h.metadata
                        .push(("dropped_flows".into(), c.dropped.to_string()));
                }
                w.finish()
                    .map(drop)
                    .map_err(|e| ArchiveError::native(&tmp, e))
            }
            FileWriter::Ft(w, mut h) => {
                h.cap_end = Some(cap_end as u32);
                h.flow_count = Some(clamp32(f.flows));
                h.flow_lost = Some(clamp32(c.lost + c.dropped));
                h.pkt_corrupt = Some(clamp32(c.corrupt));
                h.seq_reset = Some(clamp32(c.resets));
                w.finish_rewrite(&h)
                    .map(drop)
                    .map_err(|e| ArchiveError::ft(&tmp, e))
            }
        };
        let mut file = f.file;
        if finished.is_ok() && file.dest().exists() {
            // Someone made that name meanwhile: never overwrite.
            let dir = file.dest().parent().unwrap_or(Path::new("")).to_path_buf();
            let zone = self.cfg.schedule.zone;
            if let Ok(n) = first_free(&dir, f.name.later(zone).skip(1)) {
                file.set_dest(dir.join(n.to_string()));
            }
        }
        let dest = file.dest().to_path_buf();
        let committed = finished.and_then(|()| file.commit());
        let final_path = match committed {
            Ok(p) => p,
            Err(ArchiveError::Io {
                op: Op::SyncDir, ..
            }) if dest.exists() => {
                // Renamed; only the directory entry's durability is in doubt.
                log::line(&format!(
                    "{}: finished, but its directory could not be fsynced",
                    dest.display()
                ));
                dest
            }
            Err(e @ ArchiveError::Rename { .. }) => {
                log::line(&e.to_string());
                self.broken.push(tmp);
                return;
            }
            Err(e) => {
                self.disk_log.log(now, || {
                    format!(
                        "cannot finish {e}; left as is, it will be finalized when writing works again"
                    )
                });
                self.stats.dropped_disk += f.flows - f.flushed_flows;
                self.broken.push(tmp);
                self.failing = true;
                self.next_retry_ms = now + 1000;
                return;
            }
        };
        self.stats.files += 1;
        let size = std::fs::metadata(&final_path).map(|m| m.len()).unwrap_or(0);
        let time = final_path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(FileName::parse)
            .map_or(f.name.time, |n| n.time);
        self.expiry.add(Entry {
            time,
            path: final_path.clone(),
            size,
        });
        self.expiry.enforce(0);
        if let Some(prog) = &self.cfg.post_rotate {
            run_post_rotate(prog, &final_path);
        }
        self.event(SinkEvent::Finished {
            path: final_path.clone(),
            flows: f.flows,
        });
        self.finished.push(final_path);
    }
}

/// Runs `prog <file>` without waiting; a thread reaps it and logs a
/// non-zero exit.
fn run_post_rotate(prog: &Path, file: &Path) {
    match std::process::Command::new(prog).arg(file).spawn() {
        Ok(mut child) => {
            let prog = prog.to_path_buf();
            let _ = std::thread::Builder::new()
                .name("post-rotate".into())
                .spawn(move || match child.wait() {
                    Ok(st) if !st.success() => log::line(&format!("{}: {st}", prog.display())),
                    Ok(_) => {}
                    Err(e) => log::line(&format!("{}: {}", prog.display(), archive::io_reason(&e))),
                });
        }
        Err(e) => log::line(&format!(
            "cannot run {}: {}",
            prog.display(),
            archive::io_reason(&e)
        )),
    }
}

/// Runs the writer loop until `Shutdown` or until every sender is gone:
/// receives with a timeout so flushes and rotations happen on time, and
/// hands emptied record buffers back through `pool`.
///
/// `queued` counts the flows sent but not yet written (the sender adds,
/// this loop subtracts); only buffers of at least `pool_min` capacity go
/// back to the pool, so small batches never pile up there.
pub fn run_writer<C: Clock>(
    mut sink: Sink<C>,
    rx: Receiver<Msg>,
    pool: Sender<Vec<Record>>,
    queued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pool_min: usize,
) -> Sink<C> {
    loop {
        let timeout = std::time::Duration::from_millis(sink.next_tick_in_ms());
        match rx.recv_timeout(timeout) {
            Ok(Msg::Batch(mut b)) => {
                sink.write_batch(&b);
                queued.fetch_sub(b.records.len(), std::sync::atomic::Ordering::AcqRel);
                if b.records.capacity() >= pool_min {
                    b.records.clear();
                    let _ = pool.send(b.records);
                }
            }
            Ok(msg) => {
                if !sink.handle(msg) {
                    return sink;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                sink.rotate();
                return sink;
            }
        }
        sink.tick();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use formats::ft::FtReader;
    use formats::native::NativeFile;
    use formats::time::Zone;

    use crate::clock::ManualClock;

    /// 2026-11-22 02:19:24 UTC, in milliseconds.
    const T0: i64 = 1_795_313_964_000;

    fn recs(n: u32, exporter: u32) -> Vec<Record> {
        (0..n)
            .map(|i| Record {
                unix_secs: 1_795_313_964,
                sys_uptime_ms: 100_000,
                exporter,
                src_addr: 0x0a00_0000 + i,
                dst_addr: 0xc000_0201,
                packets: i + 1,
                octets: 40 * (i + 1),
                first_uptime_ms: 90_000,
                last_uptime_ms: 95_000,
                protocol: 6,
                ..Record::default()
            })
            .collect()
    }

    fn batch(n: u32, exporter: u32, c: Counters) -> Batch {
        Batch {
            records: recs(n, exporter),
            counters: c,
        }
    }

    fn cfg(dir: &Path, kind: FileKind) -> SinkConfig {
        let mut c = SinkConfig::new(dir);
        c.kind = kind;
        c.nesting = 0;
        c.schedule.zone = Zone::Fixed(0);
        c.hostname = "testhost".into();
        c
    }

    fn read_native(p: &Path) -> (NativeHeader, Vec<Record>) {
        let bytes = std::fs::read(p).unwrap();
        let nf = NativeFile::open(bytes).unwrap();
        let mut out = Vec::new();
        assert!(nf.decode_all(&mut out).is_empty());
        (nf.header().clone(), out)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn rotation_happens_at_slot_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let mut s = Sink::new(cfg(dir.path(), FileKind::Native), clock.clone()).unwrap();
        s.write_batch(&batch(
            10,
            1,
            Counters {
                lost: 3,
                ..Counters::default()
            },
        ));
        assert_eq!(names(dir.path()), ["tmp-nf-v05.2026-11-22.021500+0000"]);
        clock.set_ms(T0 + 35_999); // 02:19:59.999
        s.tick();
        s.write_batch(&batch(5, 2, Counters::default()));
        assert!(s.finished().is_empty());
        clock.set_ms(T0 + 36_000); // 02:20:00
        s.tick();
        assert_eq!(names(dir.path()), ["nf-v05.2026-11-22.021500+0000"]);
        s.write_batch(&batch(
            7,
            1,
            Counters {
                resets: 1,
                ..Counters::default()
            },
        ));
        clock.set_ms(T0 + 36_000 + 300_000); // 02:25:00: the batch path rotates too
        s.write_batch(&batch(1, 1, Counters::default()));
        s.rotate();
        assert_eq!(
            names(dir.path()),
            [
                "nf-v05.2026-11-22.021500+0000",
                "nf-v05.2026-11-22.022000+0000",
                "nf-v05.2026-11-22.022500+0000"
            ]
        );
        let (h, r) = read_native(&dir.path().join("nf-v05.2026-11-22.021500+0000"));
        assert!(h.complete);
        assert_eq!((h.flows, r.len()), (15, 15));
        assert_eq!(h.lost_flows, 3);
        assert_eq!(h.exporters, [1, 2]);
        assert_eq!(h.cap_start as i64, T0 / 1000);
        assert_eq!(h.cap_end as i64, T0 / 1000 + 36);
        assert_eq!(h.hostname, "testhost");
        let (h, r) = read_native(&dir.path().join("nf-v05.2026-11-22.022000+0000"));
        assert_eq!((h.flows, r.len(), h.seq_resets), (7, 7, 1));
        assert_eq!(h.cap_start as i64, T0 / 1000 + 36);
        assert_eq!(s.stats().files, 3);
    }

    #[test]
    fn a_second_file_in_one_slot_is_named_by_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let mut s = Sink::new(cfg(dir.path(), FileKind::Native), clock.clone()).unwrap();
        s.write_batch(&batch(1, 1, Counters::default()));
        s.handle(Msg::Rotate); // SIGHUP
        s.write_batch(&batch(1, 1, Counters::default()));
        s.handle(Msg::Rotate);
        s.write_batch(&batch(1, 1, Counters::default()));
        assert!(!s.handle(Msg::Shutdown));
        assert_eq!(
            names(dir.path()),
            [
                "nf-v05.2026-11-22.021500+0000",
                "nf-v05.2026-11-22.021924+0000",
                "nf-v05.2026-11-22.021925+0000"
            ]
        );
    }

    #[test]
    fn the_tmp_file_is_readable_within_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let mut s = Sink::new(cfg(dir.path(), FileKind::Native), clock.clone()).unwrap();
        s.write_batch(&batch(3, 1, Counters::default()));
        let tmp = s.open_path().unwrap().to_path_buf();
        assert_eq!(read_native(&tmp).1.len(), 0);
        clock.advance_ms(999);
        s.tick();
        assert_eq!(read_native(&tmp).1.len(), 0);
        assert!(s.next_tick_in_ms() <= 1);
        clock.advance_ms(1);
        s.tick();
        let (h, r) = read_native(&tmp);
        assert!(!h.complete);
        assert_eq!(r, recs(3, 1));
    }

    #[test]
    fn a_killed_collectors_tmp_file_is_recovered() {
        for kind in [FileKind::Native, FileKind::Ft] {
            for level in [None, Some(0)] {
                let dir = tempfile::tempdir().unwrap();
                let clock = ManualClock::new(T0);
                let mut c = cfg(dir.path(), kind);
                c.level = level;
                c.comment = "kept".into();
                let mut s = Sink::new(c.clone(), clock.clone()).unwrap();
                s.write_batch(&batch(20, 7, Counters::default()));
                clock.advance_ms(1000);
                s.tick();
                // A kill -9: the process vanishes without finishing.
                drop(s);
                let left = names(dir.path());
                assert_eq!(left.len(), 1);
                assert!(left[0].starts_with("tmp-"), "{left:?}");
                // The next start finalizes it.
                let s = Sink::new(c, clock.clone()).unwrap();
                drop(s);
                let after = names(dir.path());
                let want = match kind {
                    FileKind::Native => "nf-v05.2026-11-22.021500+0000",
                    FileKind::Ft => "ft-v05.2026-11-22.021500+0000",
                };
                assert_eq!(after, [want], "{kind:?} {level:?}");
                let p = dir.path().join(want);
                match kind {
                    FileKind::Native => {
                        let (h, r) = read_native(&p);
                        assert!(h.complete);
                        assert_eq!(h.flows, 20);
                        assert_eq!(h.exporters, [7]);
                        assert_eq!(h.comment, "kept");
                        assert_eq!(r, recs(20, 7));
                    }
                    FileKind::Ft => {
                        let mut rd = FtReader::new(File::open(&p).unwrap()).unwrap();
                        let h = rd.header().clone();
                        let r = rd.read_all().unwrap();
                        if level == Some(0) {
                            // uncompressed ft flushes like native
                            assert_eq!(r, recs(20, 7));
                        }
                        assert_eq!(h.flow_count, Some(r.len() as u32));
                        assert_ne!(h.flags() & formats::ft::FLAG_DONE, 0);
                        assert_eq!(h.comments.as_deref(), Some("kept"));
                    }
                }
            }
        }
    }

    #[test]
    fn a_locked_tmp_file_is_left_alone_and_foreign_files_too() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let c = cfg(dir.path(), FileKind::Native);
        let mut s = Sink::new(c.clone(), clock.clone()).unwrap();
        s.write_batch(&batch(2, 1, Counters::default()));
        std::fs::write(dir.path().join("tmp-notes.txt"), "mine").unwrap();
        std::fs::write(
            dir.path().join("tmp-v05.2026-11-22.021500+0000"),
            "not a flow file",
        )
        .unwrap();
        // A second collector starting in the same workdir.
        let results = archive::recover_dir(dir.path());
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(ArchiveError::Locked { .. }))),
            "{results:?}"
        );
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(ArchiveError::NotFlowFile { .. }))),
            "{results:?}"
        );
        assert!(s.open_path().unwrap().exists());
        s.rotate();
        assert_eq!(
            names(dir.path()),
            [
                "nf-v05.2026-11-22.021500+0000",
                "tmp-notes.txt",
                "tmp-v05.2026-11-22.021500+0000"
            ]
        );
    }

    #[test]
    fn ft_files_carry_flow_tools_counters() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let mut c = cfg(dir.path(), FileKind::Ft);
        c.comment = "golden".into();
        let mut s = Sink::new(c, clock.clone()).unwrap();
        s.write_batch(&batch(
            21,
            6,
            Counters {
                corrupt: 4,
                resets: 1,
                ..Counters::default()
            },
        ));
        clock.advance_ms(1500);
        s.handle(Msg::Shutdown);
        let p = dir.path().join("ft-v05.2026-11-22.021500+0000");
        let mut rd = FtReader::new(File::open(&p).unwrap()).unwrap();
        let h = rd.header().clone();
        assert_eq!(rd.read_all().unwrap(), recs(21, 6));
        assert_eq!(
            h.flags(),
            formats::ft::FLAG_DONE | formats::ft::FLAG_COMPRESS
        );
        assert_eq!(h.flow_count, Some(21));
        assert_eq!(h.pkt_corrupt, Some(4));
        assert_eq!(h.seq_reset, Some(1));
        assert_eq!(h.flow_lost, Some(0));
        assert_eq!(h.cap_start, Some((T0 / 1000) as u32));
        assert_eq!(h.cap_end, Some((T0 / 1000 + 1) as u32));
        assert_eq!(h.hostname.as_deref(), Some("testhost"));
        assert_eq!(h.comments.as_deref(), Some("golden"));
        assert_eq!(h.exporter_ip, None);
    }

    #[test]
    fn an_unwritable_workdir_drops_counts_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let mut c = cfg(dir.path(), FileKind::Native);
        c.nesting = 1;
        let mut s = Sink::new(c, clock.clone()).unwrap();
        // The nesting directory cannot be created: a file is in the way.
        let blocker = dir.path().join("2026");
        std::fs::write(&blocker, "in the way").unwrap();
        s.write_batch(&batch(
            10,
            1,
            Counters {
                lost: 2,
                ..Counters::default()
            },
        ));
        clock.advance_ms(300);
        s.write_batch(&batch(5, 1, Counters::default()));
        assert_eq!(s.stats().dropped_disk, 15);
        std::fs::remove_file(&blocker).unwrap();
        clock.advance_ms(300); // retry not yet due
        s.write_batch(&batch(1, 1, Counters::default()));
        assert_eq!(s.stats().dropped_disk, 16);
        clock.advance_ms(1000);
        s.write_batch(&batch(4, 1, Counters::default()));
        s.rotate();
        let p = dir.path().join("2026/nf-v05.2026-11-22.021500+0000");
        let (h, r) = read_native(&p);
        assert_eq!(r.len(), 4);
        assert_eq!(h.lost_flows, 2 + 16);
        assert!(h
            .metadata
            .contains(&("dropped_flows".to_string(), "16".to_string())));
    }

    #[test]
    fn expiry_removes_the_oldest_of_ours_only() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        std::fs::write(
            dir.path().join("ft-v05.2026-11-21.000000+0000"),
            "not a flow file",
        )
        .unwrap();
        std::fs::write(dir.path().join("README"), "keep").unwrap();
        let mut c = cfg(dir.path(), FileKind::Native);
        c.expiry.max_files = 2;
        let mut s = Sink::new(c, clock.clone()).unwrap();
        for _ in 0..4 {
            s.write_batch(&batch(1, 1, Counters::default()));
            clock.advance_ms(300_000);
            s.tick();
        }
        assert_eq!(
            names(dir.path()),
            [
                "README",
                "ft-v05.2026-11-21.000000+0000",
                "nf-v05.2026-11-22.022500+0000",
                "nf-v05.2026-11-22.023000+0000"
            ]
        );
    }
}
