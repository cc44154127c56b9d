//! One pass over the window's files: every definition is evaluated on
//! every record, in parallel over native blocks (and whole ft files), into
//! per-definition tallies that merge deterministically.
//!
//! The pass is [`flowio::input::scan`]; a block or file that cannot be
//! decoded comes back as a warning value and becomes a problem of its
//! input in the report.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::sync::Arc;

use filterlang::Filter;
use flowio::input::{Input, MergeOrder, Window};
use flowio::{Skipped, Warnings};
use formats::native::NativeFile;
use formats::Record;

use crate::Error;

/// A fast hasher for the integer keys of the tallies (addresses, ports).
#[derive(Clone, Copy, Debug, Default)]
pub struct IntHasher(u64);

const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^ (h >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(MIX);
        }
    }
    fn write_u16(&mut self, n: u16) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(MIX);
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(MIX);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(MIX);
    }
}

/// A hash map keyed by integers.
pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;
/// A hash set of integers.
pub type IntSet<K> = HashSet<K, BuildHasherDefault<IntHasher>>;

/// What one definition saw of one address (a source or a destination).
/// Flat counters: the distinct peers and ports live in the definition's
/// pair sets, so a new address costs no allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerStats {
    /// Flows.
    pub flows: u64,
    /// Octets.
    pub octets: u64,
    /// Packets.
    pub packets: u64,
    /// Earliest flow start, ms since the epoch.
    pub first_ms: i64,
    /// Latest flow end, ms since the epoch.
    pub last_ms: i64,
}

impl PeerStats {
    #[inline]
    fn add(&mut self, r: &Record, start: i64, end: i64) {
        if self.flows == 0 {
            self.first_ms = start;
            self.last_ms = end;
        } else {
            self.first_ms = self.first_ms.min(start);
            self.last_ms = self.last_ms.max(end);
        }
        self.flows += 1;
        self.octets += u64::from(r.octets);
        self.packets += u64::from(r.packets);
    }

    fn merge(&mut self, other: &PeerStats) {
        if other.flows == 0 {
            return;
        }
        if self.flows == 0 {
            *self = *other;
            return;
        }
        self.flows += other.flows;
        self.octets += other.octets;
        self.packets += other.packets;
        self.first_ms = self.first_ms.min(other.first_ms);
        self.last_ms = self.last_ms.max(other.last_ms);
    }
}

/// One row of a top table: an address, its counters, and how many
/// distinct peers (destinations of a source, sources of a destination) and
/// destination ports it had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerRow {
    /// The address.
    pub addr: u32,
    /// Its counters.
    pub stats: PeerStats,
    /// Distinct addresses on the other side.
    pub peers: usize,
    /// Distinct destination ports.
    pub ports: usize,
}

/// Everything one definition matched.
#[derive(Clone, Debug, Default)]
pub struct DefTally {
    /// Flows.
    pub flows: u64,
    /// Octets.
    pub octets: u64,
    /// Packets.
    pub packets: u64,
    /// Per source address.
    pub by_src: IntMap<u32, PeerStats>,
    /// Per destination address.
    pub by_dst: IntMap<u32, PeerStats>,
    /// Distinct `(source << 32) | destination` pairs.
    pub pairs: IntSet<u64>,
    /// Distinct `(source << 16) | destination port` pairs.
    pub src_ports: IntSet<u64>,
    /// Distinct `(destination << 16) | destination port` pairs.
    pub dst_ports: IntSet<u64>,
    /// The first matching flows in input order, with their order keys
    /// (unsorted until [`Tally`] is finished).
    pub samples: Vec<(u64, Record)>,
    /// The largest key in `samples` once it is full.
    sample_cut: u64,
}

impl DefTally {
    #[inline]
    fn add(&mut self, r: &Record, key: u64, max_samples: usize) {
        let (start, end) = (r.start_ms(), r.end_ms());
        self.flows += 1;
        self.octets += u64::from(r.octets);
        self.packets += u64::from(r.packets);
        let (src, dst, port) = (
            u64::from(r.src_addr),
            u64::from(r.dst_addr),
            u64::from(r.dst_port),
        );
        self.by_src
            .entry(r.src_addr)
            .or_default()
            .add(r, start, end);
        self.by_dst
            .entry(r.dst_addr)
            .or_default()
            .add(r, start, end);
        self.pairs.insert(src << 32 | dst);
        self.src_ports.insert(src << 16 | port);
        self.dst_ports.insert(dst << 16 | port);
        if self.samples.len() < max_samples {
            self.samples.push((key, *r));
            if self.samples.len() == max_samples {
                self.sample_cut = self.samples.iter().map(|s| s.0).max().unwrap_or(0);
            }
        } else if max_samples > 0 && key < self.sample_cut {
            // Out of input order (only across merged partial results):
            // replace the latest sample.
            if let Some(slot) = self.samples.iter_mut().max_by_key(|s| s.0) {
                *slot = (key, *r);
            }
            self.sample_cut = self.samples.iter().map(|s| s.0).max().unwrap_or(0);
        }
    }

    fn merge(&mut self, mut other: DefTally, max_samples: usize) {
        self.flows += other.flows;
        self.octets += other.octets;
        self.packets += other.packets;
        merge_maps(&mut self.by_src, std::mem::take(&mut other.by_src));
        merge_maps(&mut self.by_dst, std::mem::take(&mut other.by_dst));
        union(&mut self.pairs, std::mem::take(&mut other.pairs));
        union(&mut self.src_ports, std::mem::take(&mut other.src_ports));
        union(&mut self.dst_ports, std::mem::take(&mut other.dst_ports));
        self.samples.append(&mut other.samples);
        if self.samples.len() > max_samples {
            trim_samples(&mut self.samples, max_samples);
        }
        if self.samples.len() == max_samples {
            self.sample_cut = self.samples.iter().map(|s| s.0).max().unwrap_or(0);
        }
    }

    /// The `n` sources and the `n` destinations with the most flows (then
    /// octets, then the lower address), with their distinct counts.
    pub fn top(&self, n: usize) -> (Vec<PeerRow>, Vec<PeerRow>) {
        let mut srcs = top_rows(&self.by_src, n);
        let mut dsts = top_rows(&self.by_dst, n);
        let index = |rows: &[PeerRow]| -> IntMap<u32, usize> {
            rows.iter().enumerate().map(|(i, r)| (r.addr, i)).collect()
        };
        let (si, di) = (index(&srcs), index(&dsts));
        for p in &self.pairs {
            if let Some(&i) = si.get(&((p >> 32) as u32)) {
                srcs[i].peers += 1;
            }
            if let Some(&i) = di.get(&(*p as u32)) {
                dsts[i].peers += 1;
            }
        }
        for p in &self.src_ports {
            if let Some(&i) = si.get(&((p >> 16) as u32)) {
                srcs[i].ports += 1;
            }
        }
        for p in &self.dst_ports {
            if let Some(&i) = di.get(&((p >> 16) as u32)) {
                dsts[i].ports += 1;
            }
        }
        (srcs, dsts)
    }
}

fn top_rows(map: &IntMap<u32, PeerStats>, n: usize) -> Vec<PeerRow> {
    let mut v: Vec<(u32, &PeerStats)> = map.iter().map(|(k, s)| (*k, s)).collect();
    let order = |a: &(u32, &PeerStats), b: &(u32, &PeerStats)| {
        b.1.flows
            .cmp(&a.1.flows)
            .then(b.1.octets.cmp(&a.1.octets))
            .then(a.0.cmp(&b.0))
    };
    if n < v.len() {
        if n == 0 {
            return Vec::new();
        }
        v.select_nth_unstable_by(n - 1, order);
        v.truncate(n);
    }
    v.sort_unstable_by(order);
    v.into_iter()
        .map(|(addr, s)| PeerRow {
            addr,
            stats: *s,
            peers: 0,
            ports: 0,
        })
        .collect()
}

fn merge_maps(into: &mut IntMap<u32, PeerStats>, mut from: IntMap<u32, PeerStats>) {
    if from.len() > into.len() {
        std::mem::swap(into, &mut from);
    }
    for (k, v) in from {
        into.entry(k).or_default().merge(&v);
    }
}

fn union(into: &mut IntSet<u64>, mut from: IntSet<u64>) {
    if from.len() > into.len() {
        std::mem::swap(into, &mut from);
    }
    into.extend(from);
}

/// Keeps the `n` samples that come first in input order, sorted.
fn trim_samples(s: &mut Vec<(u64, Record)>, n: usize) {
    s.sort_unstable_by_key(|(k, _)| *k);
    s.truncate(n);
}

/// The result of the pass.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Records examined (inside the time window, if any).
    pub scanned: u64,
    /// Records that matched at least one definition.
    pub matched: u64,
    /// Distinct sources of those records.
    pub sources: IntSet<u32>,
    /// One tally per definition, in the order given.
    pub defs: Vec<DefTally>,
    /// `(input index, message)` for blocks or files that could not be read.
    pub problems: Vec<(usize, String)>,
}

impl Tally {
    fn new(defs: usize) -> Tally {
        Tally {
            defs: vec![DefTally::default(); defs],
            ..Tally::default()
        }
    }

    fn add_batch(&mut self, job: &Job<'_>, key: u64, batch: &[Record]) {
        let check_window = !job.window.is_open();
        for (k, r) in batch.iter().enumerate() {
            if check_window && !job.window.contains(r) {
                continue;
            }
            self.scanned += 1;
            let mut any = false;
            for (d, f) in job.filters.iter().enumerate() {
                if f.matches(r) {
                    any = true;
                    self.defs[d].add(r, key + k as u64, job.samples);
                }
            }
            if any {
                self.matched += 1;
                self.sources.insert(r.src_addr);
            }
        }
    }

    fn merge(&mut self, mut other: Tally, max_samples: usize) {
        self.scanned += other.scanned;
        self.matched += other.matched;
        if other.sources.len() > self.sources.len() {
            std::mem::swap(&mut self.sources, &mut other.sources);
        }
        self.sources.extend(other.sources);
        for (a, b) in self.defs.iter_mut().zip(other.defs) {
            a.merge(b, max_samples);
        }
        self.problems.extend(other.problems);
    }

    /// Sorts the samples and keeps the first `max_samples` of each
    /// definition; sorts problems by input.
    fn finish(&mut self, max_samples: usize) {
        for d in &mut self.defs {
            trim_samples(&mut d.samples, max_samples);
        }
        self.problems.sort();
    }
}

/// What the pass needs besides the inputs.
pub struct Job<'a> {
    /// The definitions, in report order.
    pub filters: &'a [Filter],
    /// Flow start window (open in state mode).
    pub window: Window,
    /// Samples kept per definition.
    pub samples: usize,
    /// Worker threads (0 = all cores).
    pub threads: usize,
}

/// Why a file could not be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenFailure {
    /// It disappeared between listing and opening (expired by the collector).
    Vanished,
    /// An I/O error that may go away (permissions, EIO): try again next run.
    Unreadable(String),
    /// Its bytes are not a usable flow file.
    Corrupt(String),
}

/// A flow file opened for the pass, with what was wrong with it.
#[derive(Debug)]
pub struct Opened {
    /// The input (header read, native files indexed).
    pub input: Input,
    /// Blocks the index skipped (truncation, corruption), one line each.
    pub warnings: Vec<String>,
    /// Under a final name but without its trailer (native) or DONE flag
    /// (ft): the writer did not finish it.
    pub incomplete: bool,
}

/// Opens one flow file: native files are indexed, ft files have their
/// header read.
pub fn open_file(path: &Path, display: &str) -> Result<Opened, OpenFailure> {
    use std::io::Read;
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            OpenFailure::Vanished
        } else {
            OpenFailure::Unreadable(flowio::input::io_reason(&e))
        }
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut magic = [0u8; 8];
    let mut n = 0;
    while n < magic.len() {
        match f.read(&mut magic[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    match formats::detect(&magic[..n]) {
        formats::Detected::Native => {
            let map = formats::native::mmap_file(&f).map_err(io)?;
            let nf = NativeFile::open(map).map_err(|e| OpenFailure::Corrupt(e.to_string()))?;
            let warnings = nf.warnings().iter().map(|w| w.to_string()).collect();
            let incomplete = !nf.header().complete;
            let header = flowio::input::native_ft_view(nf.header());
            Ok(Opened {
                input: Input {
                    display: display.to_string(),
                    path: Some(path.to_path_buf()),
                    header,
                    native: Some(Arc::new(nf)),
                },
                warnings,
                incomplete,
            })
        }
        formats::Detected::Ft => {
            use std::io::{Seek, SeekFrom};
            f.seek(SeekFrom::Start(0)).map_err(io)?;
            let mut r = std::io::BufReader::with_capacity(4096, f);
            let (header, _) = formats::ft::read_header(&mut r).map_err(|e| match e {
                formats::ft::FtError::Io(e) => io(e),
                e => OpenFailure::Corrupt(e.to_string()),
            })?;
            let incomplete = header.flags() & formats::ft::FLAG_DONE == 0;
            Ok(Opened {
                input: Input {
                    display: display.to_string(),
                    path: Some(path.to_path_buf()),
                    header,
                    native: None,
                },
                warnings: Vec::new(),
                incomplete,
            })
        }
        formats::Detected::Unknown if n == 0 => Err(OpenFailure::Corrupt("empty file".into())),
        formats::Detected::Unknown => Err(OpenFailure::Corrupt(
            "not a flow file (neither native nor ft magic)".into(),
        )),
    }
}

/// Runs the pass over `inputs` (in report order): flowio's parallel scan,
/// with the blocks and files it could not read kept as problems of their
/// input instead of being printed.
pub fn examine(inputs: &[Opened], job: &Job<'_>) -> Result<Tally, Error> {
    let list: Vec<Input> = inputs.iter().map(|o| o.input.clone()).collect();
    let warnings = Warnings::kept();
    let keep_all = |_: &mut Vec<Record>| {};
    let scan = flowio::input::Scan {
        inputs: &list,
        window: job.window,
        keep: &keep_all,
        fields: formats::native::Fields::ALL,
        threads: job.threads,
        order: MergeOrder::Input,
        warnings: &warnings,
        progress: false,
    };
    let ndefs = job.filters.len();
    let mut t = flowio::input::scan(
        &scan,
        || Tally::new(ndefs),
        |acc, base, recs| acc.add_batch(job, base, recs),
        |acc, later| acc.merge(later, job.samples),
    )?;
    for w in warnings.take() {
        let what = match w.skipped {
            Skipped::Block { records } => {
                format!("; the block's {records} flows were not examined")
            }
            Skipped::Rest => "; the rest of the file was not examined".to_string(),
            Skipped::File => "; the file was not examined".to_string(),
            Skipped::Nothing => String::new(),
        };
        t.problems
            .push((w.index.unwrap_or(0), format!("{}{what}", w.message)));
    }
    t.finish(job.samples);
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(src: u32, dst: u32, port: u16, first: u32) -> Record {
        Record {
            unix_secs: 1_800_000_000,
            sys_uptime_ms: 100_000,
            first_uptime_ms: first,
            last_uptime_ms: first + 10,
            src_addr: src,
            dst_addr: dst,
            dst_port: port,
            protocol: 6,
            packets: 2,
            octets: 100,
            ..Record::default()
        }
    }

    #[test]
    fn merged_tallies_equal_one_sequential_tally() {
        let filters = vec![
            filterlang::compile_expr("$dstport == 23").expect("expr"),
            filterlang::compile_expr("$protocol == 6").expect("expr"),
        ];
        let job = Job {
            filters: &filters,
            window: Window::default(),
            samples: 3,
            threads: 1,
        };
        let recs: Vec<Record> = (0..40u32)
            .map(|i| rec(i % 5, 100 + i % 7, if i % 3 == 0 { 23 } else { 80 }, i))
            .collect();
        let mut whole = Tally::new(2);
        whole.add_batch(&job, 0, &recs);
        whole.finish(3);
        let mut left = Tally::new(2);
        left.add_batch(&job, 0, &recs[..17]);
        let mut right = Tally::new(2);
        right.add_batch(&job, 1 << 32, &recs[17..]);
        // merge out of order on purpose: samples still come out first-first
        right.merge(left, 3);
        right.finish(3);
        assert_eq!(whole.matched, right.matched);
        for (a, b) in whole.defs.iter().zip(&right.defs) {
            assert_eq!(a.flows, b.flows);
            assert_eq!(a.by_src.len(), b.by_src.len());
            let sa: Vec<Record> = a.samples.iter().map(|s| s.1).collect();
            let sb: Vec<Record> = b.samples.iter().map(|s| s.1).collect();
            assert_eq!(sa, sb);
            assert_eq!(a.by_src, b.by_src);
            assert_eq!(a.by_dst, b.by_dst);
            assert_eq!(a.top(3), b.top(3));
        }
        assert_eq!(whole.defs[0].flows, 14);
        assert_eq!(whole.defs[1].flows, 40);
        // source 0 sent flows 0, 5, .., 35 to 100 + i % 7 on ports 23/80
        let (srcs, _) = whole.defs[1].top(1);
        assert_eq!(srcs[0].stats.flows, 8);
        assert_eq!((srcs[0].addr, srcs[0].peers, srcs[0].ports), (0, 7, 2));
    }
}
