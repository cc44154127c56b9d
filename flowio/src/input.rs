//! Where flows come from. [`RecordSource`] is what every report consumes:
//! batches of records plus the stream header. [`open_stdin`] reads an ft
//! stream on standard input (the classic pipe path).

use std::io::Read;
use std::sync::Arc;

use formats::ft::{FtHeader, FtReader};
use formats::native::{self, BlockInfo, NativeFile, NativeHeader};
use formats::Record;
use memmap2::Mmap;

use crate::{Error, Skipped, Warning, Warnings};

/// Records per batch handed to reports.
pub const BATCH: usize = 4096;

/// A stream of records with its header.
pub trait RecordSource {
    /// The stream header (for `-p` and report metadata).
    fn header(&self) -> &FtHeader;
    /// Appends up to [`BATCH`] records to `out`; returns how many were
    /// added, 0 at the end. Truncation warnings are printed by the source.
    fn next_batch(&mut self, out: &mut Vec<Record>) -> Result<usize, Error>;
}

/// An ft stream read from any byte source.
pub struct FtSource<R: Read> {
    reader: FtReader<R>,
    name: String,
    warnings: Warnings,
    warned: bool,
}

impl<R: Read> FtSource<R> {
    /// Reads the header of `r`; `name` names it in warnings (a truncated
    /// last record, say), which go to `warnings`.
    pub fn new(r: R, name: &str, warnings: &Warnings) -> Result<Self, Error> {
        Ok(FtSource {
            reader: FtReader::new(r)?,
            name: name.to_string(),
            warnings: warnings.clone(),
            warned: false,
        })
    }
}

impl<R: Read> RecordSource for FtSource<R> {
    fn header(&self) -> &FtHeader {
        self.reader.header()
    }
    fn next_batch(&mut self, out: &mut Vec<Record>) -> Result<usize, Error> {
        let n = self.reader.read_batch(out, BATCH)?;
        if n == 0 && !self.warned {
            if let Some(w) = self.reader.warning() {
                let name = if self.name == "-" { "" } else { &self.name };
                self.warnings.push(Warning::new(name, w, Skipped::Nothing));
            }
            self.warned = true;
        }
        Ok(n)
    }
}

/// Drops the pages of native block `b` from this process's resident set
/// once it is decoded. They stay in the page cache (a second scan reads
/// them from memory), but a scan over a day of files no longer holds the
/// whole day as resident memory (and, under a memory cgroup, charged to
/// it): `flow-stat -f 5` over 20 M flows peaked at 370 MB RSS, 330 MB of
/// it the mapped files. Only whole pages inside the block are released,
/// so a neighbouring block that another worker is decoding keeps its
/// pages.
pub fn release_block(map: &Mmap, b: &BlockInfo) {
    if let (Ok(start), Ok(len)) = (usize::try_from(b.offset), usize::try_from(b.total_len())) {
        release_range(map, start, len);
    }
}

/// Drops the whole pages within `start..start + len` of `map` from the
/// resident set (see [`release_block`]); no reference into them may be
/// alive.
fn release_range(map: &Mmap, start: usize, len: usize) {
    const PAGE: usize = 4096;
    let lo = start.div_ceil(PAGE) * PAGE;
    let hi = start.saturating_add(len).min(map.len()) / PAGE * PAGE;
    if hi > lo {
        // SAFETY: `Mmap` is a read-only mapping of a file (PROT_READ,
        // MAP_SHARED); MADV_DONTNEED only drops page-table entries, and the
        // next access faults the same file bytes back in, so no reference
        // into the map ever sees different contents. The callers hold no
        // reference into these pages: a decoded block became owned
        // records, and an opened file's header and block index are owned
        // values; pages shared with a neighbouring block are left alone.
        // (A 4 KiB page size is assumed; with larger pages the kernel
        // rejects the unaligned range and nothing happens.)
        let _ =
            unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, lo, hi - lo) };
    }
}

/// Opens standard input as an ft stream.
pub fn open_stdin(warnings: &Warnings) -> Result<FtSource<std::io::StdinLock<'static>>, Error> {
    FtSource::new(std::io::stdin().lock(), "-", warnings)
}

/// A mapped native file shared by the workers of a scan.
pub type SharedNative = Arc<NativeFile<Mmap>>;

/// One input named on a command line, after its header was read (a clone
/// shares the mapped file).
#[derive(Clone, Debug)]
pub struct Input {
    /// The name as the user typed it (or the path found in a directory).
    pub display: String,
    /// `None` for standard input.
    pub path: Option<std::path::PathBuf>,
    /// The stream header (for native files, an ft view of their header).
    pub header: FtHeader,
    /// The opened native file, when the input is one.
    pub native: Option<SharedNative>,
}

/// How command-line arguments become inputs (flow-cat's rules, spec §5).
#[derive(Clone, Debug, Default)]
pub struct CollectOptions {
    /// `-a`: include `tmp*` files.
    pub include_tmp: bool,
    /// `-g`: one list for all arguments, sorted by capture start.
    pub global_sort: bool,
    /// Where unreadable inputs are reported.
    pub warnings: Warnings,
}

fn header_of_file(
    path: &std::path::Path,
    warnings: &Warnings,
) -> Result<(FtHeader, Option<SharedNative>), Error> {
    let mut f = std::fs::File::open(path)?;
    let mut magic = [0u8; 8];
    let n = read_prefix(&mut f, &mut magic)?;
    if formats::detect(&magic[..n]) == formats::Detected::Native {
        let map = native::mmap_file(&f)?;
        let nf = NativeFile::open(map)?;
        // Reading the block headers mapped much of the file (the kernel maps
        // up to 64 KiB of cached pages around each fault); give them back
        // until the blocks are decoded (see release_block).
        release_range(nf.bytes(), 0, nf.bytes().len());
        let name = path.display().to_string();
        for w in nf.warnings() {
            warnings.push(Warning::new(name.as_str(), w, Skipped::Nothing));
        }
        return Ok((native_ft_view(nf.header()), Some(Arc::new(nf))));
    }
    use std::io::{Seek, SeekFrom};
    f.seek(SeekFrom::Start(0))?;
    let (h, _) = formats::ft::read_header(&mut std::io::BufReader::with_capacity(4096, f))?;
    Ok((h, None))
}

fn read_prefix(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The ft-header view of a native file's header, so `-p` and flow-cat's
/// preloaded headers treat both formats alike.
pub fn native_ft_view(h: &NativeHeader) -> FtHeader {
    let clamp = |v: u64| v.min(u32::MAX as u64) as u32;
    FtHeader {
        byte_order: formats::ft::ByteOrder::Little,
        stream_version: 3,
        export_version: Some(h.export_version),
        cap_start: Some(h.cap_start),
        cap_end: Some(h.cap_end),
        flags: Some(
            if h.complete {
                formats::ft::FLAG_DONE
            } else {
                0
            } | formats::ft::FLAG_COMPRESS,
        ),
        flow_count: Some(clamp(h.flows)),
        flow_lost: Some(clamp(h.lost_flows)),
        pkt_corrupt: Some(clamp(h.corrupt_packets)),
        seq_reset: Some(clamp(h.seq_resets)),
        hostname: (!h.hostname.is_empty()).then(|| h.hostname.clone()),
        comments: (!h.comment.is_empty()).then(|| h.comment.clone()),
        ..FtHeader::default()
    }
}

fn scan_dir(
    dir: &std::path::Path,
    opts: &CollectOptions,
    out: &mut Vec<std::path::PathBuf>,
    depth: usize,
) {
    if depth > 50 {
        return;
    }
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            let why = format!("cannot read directory: {}; skipping it", io_reason(&e));
            let w = Warning::new(dir.display().to_string(), why, Skipped::Nothing);
            opts.warnings.push(w);
            return;
        }
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            scan_dir(&p, opts, out, depth + 1);
        } else if !opts.include_tmp && name.starts_with("tmp") {
            continue;
        } else {
            out.push(p);
        }
    }
}

/// Turns arguments into lists of inputs whose headers are readable, in
/// flow-cat's order: one list per argument (directories scanned
/// recursively and sorted by capture start, ties by name), or one list
/// sorted by capture start with `global_sort`. Unreadable inputs are
/// reported to `opts.warnings` and skipped. `"-"` is standard input, read later.
pub fn collect(args: &[String], opts: &CollectOptions) -> Vec<Vec<Input>> {
    let mut lists: Vec<Vec<Input>> = Vec::new();
    for arg in args {
        let mut list = Vec::new();
        if arg == "-" {
            list.push(Input {
                display: "-".into(),
                path: None,
                header: FtHeader::default(),
                native: None,
            });
            lists.push(list);
            continue;
        }
        let p = std::path::PathBuf::from(arg);
        let mut files = Vec::new();
        match std::fs::metadata(&p) {
            Err(e) => {
                let why = format!("cannot open: {}; skipping it", io_reason(&e));
                opts.warnings
                    .push(Warning::new(arg.as_str(), why, Skipped::Nothing));
                continue;
            }
            Ok(m) if m.is_dir() => scan_dir(&p, opts, &mut files, 0),
            Ok(_) => {
                if !opts.include_tmp && arg.starts_with("tmp") {
                    continue;
                }
                files.push(p)
            }
        }
        for f in files {
            let display = f.to_string_lossy().into_owned();
            match header_of_file(&f, &opts.warnings) {
                Ok((header, native)) => list.push(Input {
                    display,
                    path: Some(f),
                    header,
                    native,
                }),
                Err(e) => opts.warnings.push(Warning::new(display, e, Skipped::File)),
            }
        }
        let is_dir = std::fs::metadata(arg).map(|m| m.is_dir()).unwrap_or(false);
        if is_dir {
            list.sort_by_key(|i| i.header.cap_start.unwrap_or(0));
        }
        lists.push(list);
    }
    if opts.global_sort {
        let mut all: Vec<Input> = lists.into_iter().flatten().collect();
        all.sort_by_key(|i| i.header.cap_start.unwrap_or(0));
        lists = vec![all];
    }
    lists
}

/// The OS reason of an I/O error without Rust's "(os error N)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Opens an input for reading its records; problems that do not stop
/// the read (a corrupt block) go to `warnings`.
pub fn open(input: &Input, warnings: &Warnings) -> Result<Box<dyn RecordSource>, Error> {
    if let Some(nf) = &input.native {
        return Ok(Box::new(NativeSource {
            display: input.display.clone(),
            warnings: warnings.clone(),
            blocks: nf.blocks().to_vec(),
            file: nf.clone(),
            header: input.header.clone(),
            next: 0,
        }));
    }
    match &input.path {
        None => Ok(Box::new(open_stdin(warnings)?)),
        Some(p) => {
            let f = std::fs::File::open(p)?;
            let r = std::io::BufReader::with_capacity(256 * 1024, f);
            Ok(Box::new(FtSource::new(r, &input.display, warnings)?))
        }
    }
}

/// A native file read block after block, in file order.
pub struct NativeSource {
    display: String,
    warnings: Warnings,
    file: Arc<NativeFile<Mmap>>,
    blocks: Vec<BlockInfo>,
    header: FtHeader,
    next: usize,
}

impl RecordSource for NativeSource {
    fn header(&self) -> &FtHeader {
        &self.header
    }
    fn next_batch(&mut self, out: &mut Vec<Record>) -> Result<usize, Error> {
        while self.next < self.blocks.len() {
            let b = self.blocks[self.next];
            self.next += 1;
            let before = out.len();
            let decoded = self.file.decode_block(&b, out);
            release_block(self.file.bytes(), &b);
            match decoded {
                Ok(()) if out.len() > before => return Ok(out.len() - before),
                Ok(()) => {}
                Err(e) => self.warnings.push(Warning::new(
                    self.display.as_str(),
                    e,
                    Skipped::Block { records: b.records },
                )),
            }
        }
        Ok(0)
    }
}

/// A time window on flow start times, in ms since the epoch: a record is
/// inside when `since <= start < until`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Inclusive lower bound.
    pub since_ms: Option<i64>,
    /// Exclusive upper bound.
    pub until_ms: Option<i64>,
}

impl Window {
    /// True when no bound is set.
    pub fn is_open(&self) -> bool {
        self.since_ms.is_none() && self.until_ms.is_none()
    }
    /// Whether a record's start time is inside.
    #[inline]
    pub fn contains(&self, r: &Record) -> bool {
        let s = r.start_ms();
        self.since_ms.is_none_or(|lo| s >= lo) && self.until_ms.is_none_or(|hi| s < hi)
    }
    /// Whether a native block may hold records inside the window.
    pub fn may_hold(&self, b: &BlockInfo) -> bool {
        b.records > 0
            && self.until_ms.is_none_or(|hi| b.min_start_ms < hi)
            && self.since_ms.is_none_or(|lo| b.max_end_ms >= lo)
    }
    /// Whether a whole file may hold records inside the window, judged
    /// from its header: a complete file whose capture ended before the
    /// window cannot (its flows all started before they were exported).
    pub fn may_hold_file(&self, h: &FtHeader) -> bool {
        let done = h.flags() & formats::ft::FLAG_DONE != 0;
        match (self.since_ms, h.cap_end) {
            (Some(lo), Some(end)) if done && end != 0 => (end as i64 + 1) * 1000 > lo,
            _ => true,
        }
    }
}

/// One piece of parallel work: a native block or a whole ft input.
enum Unit {
    Block(usize, BlockInfo),
    Whole(usize),
}

/// How [`scan`] may combine its partial results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeOrder {
    /// `merge(left, right)` sees partial results in input order (for
    /// accumulators that keep records in order or sum floats); about eight
    /// accumulators per worker keep the load balanced.
    Input,
    /// `merge` is commutative and associative (integer sums, minimum
    /// first-seen indexes): one accumulator per worker thread, each taking
    /// whichever unit comes next, merged at the end. For big hash tables
    /// this is the difference between one table per worker and a dozen
    /// partial ones alive at once (`flow-stat -f 10` over 13 M pairs:
    /// 835 MB peak instead of 1.65 GB).
    Any,
}

/// What [`scan`] reads, and how.
#[derive(Clone, Copy)]
pub struct Scan<'a> {
    /// The inputs.
    pub inputs: &'a [Input],
    /// The time window.
    pub window: Window,
    /// The selection, as a batch filter (e.g.
    /// [`crate::select::Selection::retain`]).
    pub keep: &'a (dyn Fn(&mut Vec<Record>) + Sync),
    /// The record fields `keep` and the fold read: native blocks decode
    /// only these (the time fields a closed window reads are added); other
    /// fields are unspecified.
    pub fields: formats::native::Fields,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// How partial results may be merged.
    pub order: MergeOrder,
    /// Where problems with single inputs and blocks go; each carries the
    /// input's index in `inputs`.
    pub warnings: &'a Warnings,
    /// Show a progress line on stderr when it is a terminal and the scan
    /// takes more than about two seconds (binaries ask for it).
    pub progress: bool,
}

/// Runs a fold over every record of `s.inputs` that is inside the window
/// and that `s.keep` retains, decoding native blocks (and whole ft files)
/// in parallel.
///
/// `fold(acc, base, records)` sees the records of one unit in input order;
/// `base` is `(unit << 32) | position`, strictly increasing in input order,
/// so reports that need first-seen order can keep the smallest index of a
/// key and get the same result as a sequential pass. With
/// [`MergeOrder::Input`], `merge(left, right)` is called with partial
/// results in input order; with [`MergeOrder::Any`] in no particular order.
pub fn scan<A, I, F, M>(s: &Scan<'_>, init: I, fold: F, merge: M) -> Result<A, Error>
where
    A: Send,
    I: Fn() -> A + Sync + Send,
    F: Fn(&mut A, u64, &[Record]) + Sync + Send,
    M: Fn(&mut A, A) + Sync + Send,
{
    let Scan {
        inputs,
        window,
        keep,
        fields,
        threads,
        order,
        warnings,
        progress,
    } = *s;
    use rayon::prelude::*;
    let fields = if window.is_open() {
        fields
    } else {
        fields | formats::native::Fields::TIMES
    };
    let mut units = Vec::new();
    for (i, inp) in inputs.iter().enumerate() {
        if !window.may_hold_file(&inp.header) {
            continue;
        }
        match &inp.native {
            Some(nf) => units.extend(
                nf.blocks()
                    .iter()
                    .filter(|b| window.may_hold(b))
                    .map(|b| Unit::Block(i, *b)),
            ),
            None => units.push(Unit::Whole(i)),
        }
    }
    let progress = Progress::new(units.len() as u64, progress);
    let run_unit = |acc: &mut A, seq: usize, u: &Unit, buf: &mut Vec<Record>| {
        let base = (seq as u64) << 32;
        let mut pos = 0u64;
        // Window and selection thin the decoded batch in place: no copy of
        // the records the fold sees.
        let mut emit = |acc: &mut A, buf: &mut Vec<Record>| {
            if !window.is_open() {
                buf.retain(|r| window.contains(r));
            }
            keep(buf);
            if !buf.is_empty() {
                fold(acc, base | pos, buf);
                pos += buf.len() as u64;
            }
            buf.clear();
        };
        match u {
            Unit::Block(i, b) => {
                let nf = inputs[*i].native.as_ref().expect("native unit");
                buf.clear();
                let decoded = nf.decode_block_fields(b, buf, fields);
                release_block(nf.bytes(), b);
                if let Err(e) = decoded {
                    let skipped = Skipped::Block { records: b.records };
                    let w = Warning::new(inputs[*i].display.as_str(), e, skipped);
                    warnings.push(w.at(*i));
                    buf.clear();
                }
                emit(acc, buf);
            }
            Unit::Whole(i) => match open(&inputs[*i], warnings) {
                Ok(mut src) => loop {
                    buf.clear();
                    match src.next_batch(buf) {
                        Ok(0) => break,
                        Ok(_) => emit(acc, buf),
                        Err(e) => {
                            let w = Warning::new(inputs[*i].display.as_str(), e, Skipped::Rest);
                            warnings.push(w.at(*i));
                            break;
                        }
                    }
                },
                Err(e) => {
                    let w = Warning::new(inputs[*i].display.as_str(), e, Skipped::File);
                    warnings.push(w.at(*i))
                }
            },
        }
        progress.tick();
    };
    let in_order = || {
        // Every split of the work starts a fresh accumulator (a 64 Ki-row
        // port table for -f 5, say) and merges it later; rayon's adaptive
        // splitting made hundreds of them. About eight splits per worker
        // keep the load balanced (units are blocks of similar size, or
        // whole ft files) with a few accumulators.
        let min_len = units.len() / (rayon::current_num_threads() * 8);
        units
            .par_iter()
            .enumerate()
            .with_min_len(min_len.max(1))
            .fold(
                || (init(), Vec::with_capacity(8192)),
                |(mut acc, mut buf), (seq, u)| {
                    run_unit(&mut acc, seq, u, &mut buf);
                    (acc, buf)
                },
            )
            .map(|(acc, _)| acc)
            .reduce(&init, |mut l, r| {
                merge(&mut l, r);
                l
            })
    };
    let any_order = || {
        type Slot<A> = std::sync::Mutex<Option<(A, Vec<Record>)>>;
        let slots: Vec<Slot<A>> = (0..rayon::current_num_threads())
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        units.par_iter().enumerate().for_each(|(seq, u)| {
            // a worker only ever takes its own slot: the lock is uncontended
            let t = rayon::current_thread_index().unwrap_or(0) % slots.len();
            let mut slot = slots[t].lock().unwrap_or_else(|e| e.into_inner());
            let (acc, buf) = slot.get_or_insert_with(|| (init(), Vec::with_capacity(8192)));
            run_unit(acc, seq, u, buf);
        });
        slots
            .into_iter()
            .filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .map(|(acc, _)| acc)
            .reduce(|mut l, r| {
                merge(&mut l, r);
                l
            })
            .unwrap_or_else(&init)
    };
    let work = || match order {
        MergeOrder::Input => in_order(),
        MergeOrder::Any => any_order(),
    };
    let result = if threads == 0 {
        work()
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        pool.install(work)
    };
    progress.finish();
    Ok(result)
}

/// A progress line on stderr for scans that take longer than about two
/// seconds — only when stderr is a terminal, never in pipes or logs.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: std::time::Instant,
    shown: std::sync::atomic::AtomicBool,
}

impl Progress {
    const DELAY: std::time::Duration = std::time::Duration::from_secs(2);

    fn new(units: u64, wanted: bool) -> Self {
        use std::io::IsTerminal;
        let bar = (wanted && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(units),
                indicatif::ProgressDrawTarget::hidden(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} blocks, {per_sec}, eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Progress {
            bar,
            start: std::time::Instant::now(),
            shown: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn tick(&self) {
        use std::sync::atomic::Ordering;
        let Some(bar) = &self.bar else { return };
        bar.inc(1);
        if !self.shown.load(Ordering::Relaxed)
            && self.start.elapsed() > Self::DELAY
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
