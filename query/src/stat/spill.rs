//! Bounded memory for hash reports: a table that outgrows its limit writes
//! its rows to unnamed temporary files and starts again empty (at 8 MB from
//! then on: its keys are many, and a small table misses the cache less),
//! and the report is finished from the files in three passes.
//!
//! 1. **Aggregate.** Every spill writes each of the table's shards as
//!    [`SUBS`] runs, split by two more bits of the key hash, so the rows of
//!    one key always land in the same one of [`PARTS`] partitions (rows
//!    are the key's bytes, then the first appearance and the counters as
//!    varints). Each partition (its runs plus what the table still holds)
//!    is aggregated on its own, in a map of about 1/256 of the keys, and
//!    written back as one run of distinct keys.
//! 2. **Rank.** flow-tools prints (and breaks sort ties) in first-seen
//!    order, which needs every key's rank among all first appearances.
//!    Each key sets the bit of its first appearance in a bitmap over the
//!    sequence numbers of the input ([`SeqSpace`]: one bit per record, or
//!    two for format 11); a key's rank is the number of bits below its
//!    own, so each partition can be put in order without the others.
//! 3. **Sort and merge.** Groups of partitions are sorted on (value,
//!    traversal rank), as the in-memory path sorts a shard, and written as
//!    runs of up to [`GROUP_ROWS`] rows; [`Ordered`] merges the runs,
//!    reading each through a small buffer, on a thread of its own.
//!
//! Memory is then the table's limit plus, while finishing, a partition map
//! per worker, the bitmap (a quarter of a byte per record) and the merge
//! buffers. Each worker thread appends to a file of its own (threads on
//! one file would queue on its inode lock); nothing is left on disk, even
//! after a crash, because the files never had names.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use super::hash::{
    merge_entry, sort_key, traversal_rank, Entry, Key, MulBuild, Ordered, Run, Table, SHARDS,
};
use super::Counters;

/// Runs per shard in a spill: one per value of two hash bits above the
/// shard bits.
pub(super) const SUBS: usize = 4;
/// Partitions of a spilled table.
pub(super) const PARTS: usize = SHARDS * SUBS;
/// Most bytes an [`Entry`] takes in a spill file (first appearance and
/// four counters, each a LEB128 varint of at most 10 bytes).
const ENTRY_MAX: usize = 50;
/// Bytes a table that has spilled may hold before it spills again (at
/// most; see [`Table::check_memory`]).
const SPILLING_TABLE: usize = 8 << 20;
/// Rows sorted together into one run for the final merge (at most; a
/// group is a power-of-two number of partitions).
const GROUP_ROWS: usize = 1 << 18;
/// Bytes a [`FileRun`] reads at a time.
const READ_BYTES: usize = 64 << 10;

/// The default memory limit of a hash report's table (all workers).
pub const DEFAULT_LIMIT: usize = 256 << 20;

/// What every copy of one report's table shares: the limit, the directory
/// and the spill file (created at the first spill).
#[derive(Debug)]
pub(crate) struct Shared {
    /// Bytes one table may hold before it spills.
    limit: usize,
    dir: PathBuf,
    /// One file per worker thread (and one for any other thread), made at
    /// its first spill: threads appending to one file would queue on its
    /// inode lock. A file that could not be made keeps its error, shared
    /// by every later append on that thread.
    files: Vec<OnceLock<Result<SpillFile, Arc<io::Error>>>>,
    /// Set once spilling failed (reported once, then rows stay in memory).
    failed: AtomicBool,
    /// Where that one report goes.
    warnings: flowio::Warnings,
}

/// An unnamed temporary file that threads append to.
#[derive(Debug)]
pub(crate) struct SpillFile {
    file: File,
    end: AtomicU64,
}

impl SpillFile {
    /// Writes `bytes` at the end; returns where they start.
    fn append(&self, bytes: &[u8]) -> io::Result<u64> {
        let off = self.end.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.file.write_all_at(bytes, off)?;
        Ok(off)
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, off)
    }
}

/// Rows written together: which file, where they start, their bytes and
/// how many there are.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Segment {
    file: usize,
    off: u64,
    len: u64,
    rows: u64,
}

/// A table's spill state: the shared file and the runs it wrote there,
/// by partition.
#[derive(Clone, Debug)]
pub(crate) struct Spill {
    shared: Arc<Shared>,
    /// Empty until the first spill, then [`PARTS`] lists.
    runs: Vec<Vec<Segment>>,
    /// Why runs were lost (taking over another file's runs failed).
    lost: Option<Arc<io::Error>>,
}

impl Spill {
    /// A table limited to `limit` bytes, spilling into `dir`; a failure to
    /// spill is reported to `warnings`.
    pub(crate) fn new(limit: usize, dir: &Path, warnings: &flowio::Warnings) -> Self {
        Spill {
            shared: Arc::new(Shared {
                limit,
                dir: dir.to_path_buf(),
                files: (0..=rayon::current_num_threads())
                    .map(|_| OnceLock::new())
                    .collect(),
                failed: AtomicBool::new(false),
                warnings: warnings.clone(),
            }),
            runs: Vec::new(),
            lost: None,
        }
    }

    /// Whether any rows are in the file.
    fn spilled(&self) -> bool {
        self.runs.iter().any(|r| !r.is_empty())
    }

    /// Takes over the runs of another table of the same report. Copies
    /// of one report share a file; runs in another file are copied over.
    pub(super) fn absorb<K: Key>(&mut self, other: Spill) {
        if let Some(why) = other.lost {
            self.lost.get_or_insert(why);
        }
        if other.runs.is_empty() {
            return;
        }
        if self.runs.is_empty() {
            self.runs = vec![Vec::new(); PARTS];
        }
        let same = Arc::ptr_eq(&self.shared, &other.shared);
        for (to, from) in self.runs.iter_mut().zip(other.runs) {
            if same {
                to.extend(from);
                continue;
            }
            for g in from {
                match copy_segment(&other.shared, &self.shared, g) {
                    Ok(g) => to.push(g),
                    Err(e) => {
                        self.lost.get_or_insert(Arc::new(e));
                    }
                }
            }
        }
    }
}

impl Shared {
    /// Appends `rows` rows (`bytes`) to the calling thread's file, made on
    /// first use.
    fn append(&self, bytes: &[u8], rows: u64) -> io::Result<Segment> {
        let slot = rayon::current_thread_index().map_or(0, |i| i + 1) % self.files.len();
        let made = self.files[slot].get_or_init(|| {
            tempfile::tempfile_in(&self.dir)
                .map(|file| SpillFile {
                    file,
                    end: AtomicU64::new(0),
                })
                .map_err(Arc::new)
        });
        let file = made.as_ref().map_err(|e| io::Error::other(Arc::clone(e)))?;
        Ok(Segment {
            file: slot,
            off: file.append(bytes)?,
            len: bytes.len() as u64,
            rows,
        })
    }

    /// Reads `buf.len()` bytes at `off` of file `file`.
    fn read(&self, file: usize, off: u64, buf: &mut [u8]) -> io::Result<()> {
        match self.files.get(file).and_then(OnceLock::get) {
            Some(Ok(f)) => f.read_at(off, buf),
            _ => Err(io::Error::other("spill file missing")),
        }
    }

    /// Stops spilling after an error, with one warning: the report is
    /// still right, it just holds the rest of its table in memory.
    fn give_up(&self, why: &io::Error) {
        if !self.failed.swap(true, Ordering::Relaxed) {
            let message = format!(
                "cannot spill the report table to a temporary file in {}: {why}; \
                 holding it in memory (set --temp-dir to a directory with space, \
                 or raise --memory)",
                self.dir.display()
            );
            let skipped = flowio::Skipped::Nothing;
            self.warnings
                .push(flowio::Warning::new("", message, skipped));
        }
    }
}

/// Copies segment `g` of file `from` to the end of `to`.
fn copy_segment(from: &Shared, to: &Shared, g: Segment) -> io::Result<Segment> {
    let mut buf = vec![0u8; g.len as usize];
    from.read(g.file, g.off, &mut buf)?;
    to.append(&buf, g.rows)
}

/// A spill-file read or write that failed: the OS error, said to be about
/// the spill file.
#[derive(Debug, thiserror::Error)]
#[error("report spill file (in --temp-dir): {0}")]
pub(crate) struct SpillIo(#[source] io::Error);

/// The error of a failed spill-file read or write, saying which file (the
/// kind is kept, so a caller can still tell what happened).
pub(super) fn context(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), SpillIo(e))
}

/// Appends a row: the key's fixed bytes, then the first appearance and
/// the counters as LEB128 varints (most counters fit a byte or two, so a
/// row is about half its in-memory size, and the file I/O with it).
fn put_row<K: Key>(k: &K, e: &Entry, out: &mut Vec<u8>) {
    k.put(out);
    for mut v in [e.first, e.c.flows, e.c.octets, e.c.packets, e.c.duration] {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
}

/// Reads the row at `b[*at..]` and moves `at` past it; `None` if the bytes
/// end first or a varint is too long.
#[inline]
fn get_row<K: Key>(b: &[u8], at: &mut usize) -> Option<(K, Entry)> {
    let kb = b.get(*at..*at + K::BYTES)?;
    let k = K::get(kb);
    let mut p = *at + K::BYTES;
    let mut v = [0u64; 5];
    for x in v.iter_mut() {
        let mut shift = 0;
        loop {
            let byte = *b.get(p)?;
            p += 1;
            *x |= u64::from(byte & 0x7F) << shift;
            if byte < 0x80 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
    }
    *at = p;
    let c = Counters {
        flows: v[1],
        octets: v[2],
        packets: v[3],
        duration: v[4],
    };
    Some((k, Entry { first: v[0], c }))
}

/// The error for spill bytes that do not decode (the file was changed
/// under us).
fn corrupt() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "spill file corrupt")
}

/// The partition of a key with hash `h` (shard bits, then two more).
#[inline]
fn part_of(h: u64) -> usize {
    ((h >> 40) as usize % SHARDS) * SUBS + ((h >> 46) as usize % SUBS)
}

/// Bytes a hashbrown map of `cap` usable slots allocates for rows of
/// `row` bytes (buckets are 8/7 of the capacity, one control byte each).
fn map_bytes(cap: usize, row: usize) -> usize {
    cap + cap / 7 + (cap + cap / 7) * row
}

impl<K: Key> Table<K> {
    /// Whether part of the table is in its spill file.
    pub(super) fn has_spilled(&self) -> bool {
        self.spill.as_ref().is_some_and(Spill::spilled)
    }

    /// Bytes the shard maps have allocated.
    fn allocated(&self) -> usize {
        let row = std::mem::size_of::<(K, Entry)>();
        self.shards
            .iter()
            .map(|m| map_bytes(m.capacity(), row))
            .sum()
    }

    /// Spills the table if its maps have outgrown the limit (called after
    /// every batch), then shrinks each shard to its share of the limit.
    pub(super) fn check_memory(&mut self) {
        let limit = match &self.spill {
            Some(s) if s.shared.failed.load(Ordering::Relaxed) => return,
            // Once a table has spilled, its keys are known to be many, and
            // a table the size of a cache takes them faster than a big one
            // (nearly every insert into a big one misses the cache) for
            // about as many rows spilled.
            Some(s) if s.spilled() => s.shared.limit.min(SPILLING_TABLE),
            Some(s) => s.shared.limit,
            None => return,
        };
        if self.allocated() <= limit {
            return;
        }
        self.spill_all();
        // The largest power-of-two map per shard that keeps the table
        // within the limit; a smaller shard is left as it is.
        let row = std::mem::size_of::<(K, Entry)>() + 1;
        let buckets = (limit / SHARDS / row).max(16);
        let buckets = 1usize << (usize::BITS - 1 - buckets.leading_zeros());
        for m in &mut self.shards {
            if m.is_empty() {
                m.shrink_to(buckets / 8 * 7);
            }
        }
    }

    /// Writes every row the table holds to its spill file; true when all
    /// were written (a shard whose write failed keeps its rows).
    pub(super) fn spill_all(&mut self) -> bool {
        let Some(spill) = &mut self.spill else {
            return self.shards.iter().all(HashMap::is_empty);
        };
        if self.shards.iter().all(HashMap::is_empty) {
            return true;
        }
        let shared = spill.shared.clone();
        if shared.failed.load(Ordering::Relaxed) {
            return false;
        }
        if spill.runs.is_empty() {
            spill.runs = vec![Vec::new(); PARTS];
        }
        let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); SUBS];
        let mut all = true;
        for (s, map) in self.shards.iter_mut().enumerate() {
            if map.is_empty() {
                continue;
            }
            for b in &mut bufs {
                b.clear();
            }
            let mut counts = [0u64; SUBS];
            for (k, e) in map.iter() {
                let sub = part_of(Self::hash_of(k)) % SUBS;
                put_row(k, e, &mut bufs[sub]);
                counts[sub] += 1;
            }
            let mut written = [true; SUBS];
            for (sub, b) in bufs.iter().enumerate() {
                if b.is_empty() {
                    continue;
                }
                match shared.append(b, counts[sub]) {
                    Ok(g) => spill.runs[s * SUBS + sub].push(g),
                    Err(e) => {
                        written[sub] = false;
                        shared.give_up(&e);
                    }
                }
            }
            if written.iter().all(|&w| w) {
                map.clear();
            } else {
                all = false;
                map.retain(|k, _| !written[part_of(Self::hash_of(k)) % SUBS]);
            }
        }
        all
    }
}

/// The sequence numbers a hash report was fed, to give each a dense
/// index: per scan unit (the high 32 bits of a sequence number), one past
/// the highest position seen.
#[derive(Clone, Debug)]
pub(crate) struct SeqSpace {
    ends: BTreeMap<u64, u64>,
    /// Table sequence numbers per record: 2 for format 11 (`2 * seq + 0`
    /// for the source row, `+ 1` for the destination row), else 1.
    per_record: u64,
}

impl SeqSpace {
    pub(crate) fn new(per_record: u64) -> Self {
        SeqSpace {
            ends: BTreeMap::new(),
            per_record,
        }
    }

    /// Records that `len` records numbered from `first` were counted.
    pub(crate) fn note(&mut self, first: u64, len: usize) {
        let (mut at, end) = (first, first.saturating_add(len as u64));
        while at < end {
            let unit = at >> 32;
            let unit_end = ((unit + 1) << 32).min(end);
            let e = self.ends.entry(unit).or_insert(0);
            *e = (*e).max(unit_end - (unit << 32));
            if unit_end == at {
                break;
            }
            at = unit_end;
        }
    }

    pub(crate) fn merge(&mut self, o: &SeqSpace) {
        for (&u, &e) in &o.ends {
            let m = self.ends.entry(u).or_insert(0);
            *m = (*m).max(e);
        }
    }

    fn layout(&self) -> Layout {
        let mut units = Vec::with_capacity(self.ends.len());
        let mut next = 0u64;
        for (&u, &e) in &self.ends {
            units.push((u, next));
            next += e;
        }
        Layout {
            units,
            per_record: self.per_record,
            bits: next * self.per_record,
        }
    }
}

/// Dense bit positions for the sequence numbers of a [`SeqSpace`].
struct Layout {
    /// (unit, dense index of its position 0), ascending.
    units: Vec<(u64, u64)>,
    per_record: u64,
    bits: u64,
}

impl Layout {
    /// The dense index of table sequence number `seq`.
    fn dense(&self, seq: u64) -> u64 {
        let (s, side) = if self.per_record == 2 {
            (seq >> 1, seq & 1)
        } else {
            (seq, 0)
        };
        let unit = s >> 32;
        let i = self.units.partition_point(|&(u, _)| u <= unit);
        let base = i.checked_sub(1).map_or(0, |i| self.units[i].1);
        (base + (s & 0xFFFF_FFFF)) * self.per_record + side
    }
}

/// A bitmap of first appearances that threads set at once.
struct FirstSeen {
    words: Vec<AtomicU64>,
}

impl FirstSeen {
    fn new(bits: u64) -> Self {
        FirstSeen {
            words: (0..bits.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn set(&self, bit: u64) {
        if let Some(w) = self.words.get((bit / 64) as usize) {
            w.fetch_or(1 << (bit % 64), Ordering::Relaxed);
        }
    }

    /// Frozen with a running count per word, for [`Ranks::rank`].
    fn ranks(self) -> Ranks {
        let words: Vec<u64> = self.words.into_iter().map(AtomicU64::into_inner).collect();
        let mut before = Vec::with_capacity(words.len());
        let mut n = 0u64;
        for w in &words {
            before.push(n);
            n += u64::from(w.count_ones());
        }
        Ranks { words, before }
    }
}

/// How many first appearances come before a given one.
struct Ranks {
    words: Vec<u64>,
    before: Vec<u64>,
}

impl Ranks {
    fn rank(&self, bit: u64) -> u64 {
        let i = (bit / 64) as usize;
        match (self.words.get(i), self.before.get(i)) {
            (Some(w), Some(b)) => b + u64::from((w & ((1u64 << (bit % 64)) - 1)).count_ones()),
            _ => self.before.last().copied().unwrap_or(0),
        }
    }
}

/// Reads the rows of `seg` into `rows`, through `buf`.
fn read_rows<K: Key>(
    file: &Shared,
    seg: Segment,
    buf: &mut Vec<u8>,
    rows: &mut Vec<(K, Entry)>,
) -> io::Result<()> {
    buf.resize(seg.len as usize, 0);
    file.read(seg.file, seg.off, buf)?;
    rows.reserve(seg.rows as usize);
    let mut at = 0;
    for _ in 0..seg.rows {
        rows.push(get_row::<K>(buf, &mut at).ok_or_else(corrupt)?);
    }
    Ok(())
}

/// Appends `rows` to the file as one segment.
fn write_rows<'a, K: Key>(
    file: &Shared,
    rows: impl Iterator<Item = (&'a K, &'a Entry)>,
    buf: &mut Vec<u8>,
) -> io::Result<Segment> {
    buf.clear();
    let mut n = 0u64;
    for (k, e) in rows {
        put_row(k, e, buf);
        n += 1;
    }
    file.append(buf, n)
}

/// Finishes a table that spilled: the three passes of the module docs.
pub(super) fn external_order<K: Key>(
    mut table: Table<K>,
    field: u32,
    descending: bool,
    seqs: &SeqSpace,
) -> io::Result<Ordered<K>> {
    use rayon::prelude::*;
    let Some(spill) = table.spill.take() else {
        return Err(io::Error::other("table has no spill file"));
    };
    if let Some(why) = &spill.lost {
        return Err(io::Error::other(Arc::clone(why)));
    }
    let file = &*spill.shared;
    let layout = seqs.layout();
    let seen = FirstSeen::new(layout.bits);

    // 1. Aggregate each partition: the shard's remaining rows split by
    // partition, then the partition's runs.
    let shards = std::mem::take(&mut table.shards);
    // Each worker reuses its buffers and map from one partition to the
    // next (fresh ones would be fresh pages to fault in every time).
    let scratch = || {
        let agg: HashMap<K, Entry, MulBuild> = HashMap::with_hasher(MulBuild::default());
        (Vec::new(), Vec::new(), agg)
    };
    let distinct: Vec<io::Result<[Segment; SUBS]>> = shards
        .into_par_iter()
        .enumerate()
        .map_init(scratch, |(buf, rows, agg), (s, map)| {
            let mut out = [Segment::default(); SUBS];
            for (sub, seg) in out.iter_mut().enumerate() {
                agg.clear();
                agg.extend(
                    map.iter()
                        .filter(|(k, _)| part_of(Table::<K>::hash_of(k)) % SUBS == sub)
                        .map(|(k, e)| (*k, *e)),
                );
                let part = &spill.runs[s * SUBS + sub];
                let spilled: u64 = part.iter().map(|g| g.rows).sum();
                agg.reserve((spilled as usize).saturating_sub(agg.len()) / 2);
                for &g in part {
                    rows.clear();
                    read_rows(file, g, buf, rows)?;
                    for (k, e) in rows.iter() {
                        merge_entry(agg, *k, e);
                    }
                }
                for e in agg.values() {
                    seen.set(layout.dense(e.first));
                }
                *seg = write_rows(file, agg.iter(), buf)?;
            }
            Ok(out)
        })
        .collect();
    let mut parts = Vec::with_capacity(PARTS);
    for d in distinct {
        parts.extend(d?);
    }
    drop(spill.runs);

    // 2. Rank first appearances.
    let ranks = seen.ranks();
    let n = parts.iter().map(|g| g.rows).sum::<u64>() as usize;

    // 3. Sort groups of partitions into report order: the fewer the runs,
    // the cheaper the final merge, which is not parallel.
    let per_part = n / PARTS + 1;
    let group = (GROUP_ROWS / per_part).clamp(1, PARTS);
    let group = 1usize << (usize::BITS - 1 - group.leading_zeros());
    let sorted: Vec<io::Result<Segment>> = parts
        .par_chunks(group)
        .map_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(buf, rows, order), gs| {
                rows.clear();
                for &g in gs {
                    read_rows::<K>(file, g, buf, rows)?;
                }
                for (_, e) in rows.iter_mut() {
                    e.first = traversal_rank(ranks.rank(layout.dense(e.first)) as usize, n);
                }
                if n > u32::MAX as usize {
                    rows.sort_unstable_by_key(|row| sort_key(field, K::KEY_FIELDS, row));
                    if descending {
                        rows.reverse();
                    }
                    return write_rows(file, rows.iter().map(|(k, e)| (k, e)), buf);
                }
                // Sort 16-byte integers (value, rank, row index) rather
                // than the rows: ranks and indexes are below n < 2^32.
                order.clear();
                order.extend(rows.iter().enumerate().map(|(i, row)| {
                    let (v, t) = sort_key(field, K::KEY_FIELDS, row);
                    (v as u128) << 64 | (t as u128) << 32 | i as u128
                }));
                order.sort_unstable();
                let at = |o: &u128| {
                    let (k, e) = &rows[*o as u32 as usize];
                    (k, e)
                };
                if descending {
                    write_rows(file, order.iter().rev().map(at), buf)
                } else {
                    write_rows(file, order.iter().map(at), buf)
                }
            },
        )
        .collect();
    let mut runs = Vec::with_capacity(sorted.len());
    for g in sorted {
        runs.push(Run::File(FileRun::new(spill.shared.clone(), g?)));
    }
    Ok(Ordered::new(runs, field, descending, n))
}

/// One sorted run of the spill file, read a buffer at a time.
pub(super) struct FileRun<K> {
    shared: Arc<Shared>,
    /// What is left of the segment past the buffer.
    next: Segment,
    buf: Vec<u8>,
    at: usize,
    /// Rows not yet given out.
    rows: u64,
    key: PhantomData<K>,
}

impl<K: Key> FileRun<K> {
    fn new(shared: Arc<Shared>, seg: Segment) -> Self {
        FileRun {
            shared,
            next: seg,
            buf: Vec::new(),
            at: 0,
            rows: seg.rows,
            key: PhantomData,
        }
    }

    pub(super) fn next_row(&mut self) -> io::Result<Option<(K, Entry)>> {
        if self.rows == 0 {
            return Ok(None);
        }
        if self.buf.len() - self.at < K::BYTES + ENTRY_MAX && self.next.len > 0 {
            // Keep the partial row, read the next piece behind it.
            self.buf.drain(..self.at);
            self.at = 0;
            let have = self.buf.len();
            let take = self.next.len.min(READ_BYTES as u64) as usize;
            self.buf.resize(have + take, 0);
            self.shared
                .read(self.next.file, self.next.off, &mut self.buf[have..])?;
            self.next.off += take as u64;
            self.next.len -= take as u64;
        }
        let row = get_row(&self.buf, &mut self.at).ok_or_else(corrupt)?;
        self.rows -= 1;
        Ok(Some(row))
    }
}
