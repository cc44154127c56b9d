//! Hash-keyed reports (flow-tools `ftchash` + the `chash_*_dump` routines):
//! one row per distinct key, in first-seen order unless sorted.
//!
//! Order (spec §7.2): every key remembers the global sequence number of its
//! first appearance (`first`), so partial tables built on different threads
//! merge into the same order as one sequential pass (merge keeps the
//! minimum). At write time the rows are put in first-seen order; a sort is a
//! stable ascending sort of that list, walked from the end for `-S`, so ties
//! come out in reverse first-seen order under `-S` and in first-seen order
//! under `-s`.
//!
//! Over 65536 keys: flow-tools stores records in chunks of 65536 and walks
//! the newest chunk first, so its "first-seen order" is the order of the
//! chunks reversed (each chunk in insertion order). We reproduce that
//! exactly (it is deterministic), so large reports stay byte-identical to
//! flow-tools; see [`first_seen_order`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::{self, Write};

use formats::Record;

use super::array::push_percents;
use super::cfmt;
use filterlang::SymbolTable as SymTable;

use super::spill::{self, FileRun, SeqSpace, Spill};
use super::SymFile;
use super::{Counters, StatConfig};

/// Records per flow-tools hash chunk.
pub(crate) const CHUNK_ENTRIES: usize = 65536;

/// A multiply-shift hasher for small integer keys: each word is folded in
/// with a rotate, xor and a multiplication by an odd constant; `finish`
/// folds the well-mixed high half into the low half, because hashbrown
/// takes its bucket index from the low bits and its tag from the top 7.
#[derive(Clone, Copy, Default)]
pub struct MulHasher {
    h: u64,
}

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for MulHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.h ^ (self.h >> 32)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.h = (self.h.rotate_left(5) ^ n).wrapping_mul(MUL);
    }
    #[inline]
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// `BuildHasher` for [`MulHasher`].
pub type MulBuild = BuildHasherDefault<MulHasher>;

/// A hash-report key: its fields that `-s/-S` can sort on.
pub(crate) trait Key: Copy + Eq + Hash + Default + Send + Sync + 'static {
    /// How many key columns come before the counters (1 or 2).
    const KEY_FIELDS: u32;
    /// Size of the key in a spill file (see [`super::spill`]).
    const BYTES: usize;
    /// Sort value of key column `field` (1-based).
    fn sort_value(&self, field: u32) -> u64;
    /// Appends the key's [`Key::BYTES`] little-endian bytes.
    fn put(&self, out: &mut Vec<u8>);
    /// Reads a key written by [`Key::put`] from the first
    /// [`Key::BYTES`] bytes of `b`.
    fn get(b: &[u8]) -> Self;
}

/// The [`Key`] spill encoding of a key that wraps one unsigned integer.
macro_rules! int_key_bytes {
    ($int:ty) => {
        const BYTES: usize = std::mem::size_of::<$int>();
        fn put(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.0.to_le_bytes());
        }
        fn get(b: &[u8]) -> Self {
            let mut a = [0u8; std::mem::size_of::<$int>()];
            a.copy_from_slice(&b[..std::mem::size_of::<$int>()]);
            Self(<$int>::from_le_bytes(a))
        }
    };
}

/// One 32-bit key: an address or a counter value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub(crate) struct One(pub u32);
/// Two addresses (src, dst).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub(crate) struct AddrPair(pub u64);
/// Two 16-bit values (src/dst AS, input/output interface).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub(crate) struct Pair16(pub u32);
/// Masked prefix and its length (`addr << 8 | len`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub(crate) struct Prefix(pub u64);
/// Two prefixes (`src_addr, src_len, dst_addr, dst_len` packed).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub(crate) struct PrefixPair(pub u128);

impl Key for One {
    const KEY_FIELDS: u32 = 1;
    int_key_bytes!(u32);
    fn sort_value(&self, _: u32) -> u64 {
        self.0 as u64
    }
}
impl Key for AddrPair {
    const KEY_FIELDS: u32 = 2;
    int_key_bytes!(u64);
    fn sort_value(&self, f: u32) -> u64 {
        if f == 1 {
            self.0 >> 32
        } else {
            self.0 & 0xFFFF_FFFF
        }
    }
}
impl Key for Pair16 {
    const KEY_FIELDS: u32 = 2;
    int_key_bytes!(u32);
    fn sort_value(&self, f: u32) -> u64 {
        if f == 1 {
            (self.0 >> 16) as u64
        } else {
            (self.0 & 0xFFFF) as u64
        }
    }
}
impl Key for Prefix {
    const KEY_FIELDS: u32 = 1;
    int_key_bytes!(u64);
    /// Sorts on the address only (flow-tools compares 32 bits).
    fn sort_value(&self, _: u32) -> u64 {
        self.0 >> 8
    }
}
impl Key for PrefixPair {
    const KEY_FIELDS: u32 = 2;
    int_key_bytes!(u128);
    fn sort_value(&self, f: u32) -> u64 {
        if f == 1 {
            ((self.0 >> 72) & 0xFFFF_FFFF) as u64
        } else {
            ((self.0 >> 8) & 0xFFFF_FFFF) as u64
        }
    }
}

impl Prefix {
    fn new(addr: u32, len: u8) -> Self {
        Prefix(((addr & len2mask(len)) as u64) << 8 | len as u64)
    }
    fn parts(self) -> (u32, u8) {
        ((self.0 >> 8) as u32, self.0 as u8)
    }
}

impl PrefixPair {
    fn new(src: Prefix, dst: Prefix) -> Self {
        PrefixPair((src.0 as u128) << 64 | dst.0 as u128)
    }
    fn parts(self) -> (Prefix, Prefix) {
        (Prefix((self.0 >> 64) as u64), Prefix(self.0 as u64))
    }
}

/// `ipv4_len2mask`: a length above 32 gives mask 0.
fn len2mask(len: u8) -> u32 {
    match len {
        0 | 33.. => 0,
        l => u32::MAX << (32 - l as u32),
    }
}

/// Per-key counters plus the first-seen sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub first: u64,
    pub c: Counters,
}

/// Shards per table, chosen by bits of a key's hash that the shard's own
/// map uses for neither its bucket index (low bits) nor its tags (top 7).
pub(super) const SHARDS: usize = 64;

/// A mergeable table of keys, split into [`SHARDS`] maps by key hash.
///
/// Built for the memory of big reports (`-f 10` over millions of pairs):
/// a shard that grows rehashes only its 1/64th of the table; a merge folds
/// the smaller shard into the larger one and frees it, shard by shard; and
/// writing turns one shard at a time into a sorted row list and merges the
/// 64 lists ([`Ordered`]), so the peak stays near one table instead of the
/// two partial tables, the merged one and a row list of a plain map.
///
/// With a memory limit ([`Table::spill`]), a table that outgrows it writes
/// its rows to a temporary file and starts again empty; the report is then
/// finished from the file ([`super::spill`]).
#[derive(Clone, Debug)]
pub(crate) struct Table<K: Key> {
    pub(super) shards: Vec<HashMap<K, Entry, MulBuild>>,
    pub(super) spill: Option<Spill>,
}

impl<K: Key> Default for Table<K> {
    fn default() -> Self {
        Table {
            shards: (0..SHARDS)
                .map(|_| HashMap::with_hasher(MulBuild::default()))
                .collect(),
            spill: None,
        }
    }
}

/// Why a table's rows could not be put in order.
#[derive(Debug)]
pub(crate) enum OrderError {
    /// `-s`/`-S` named a field the report does not have (the sort order).
    BadField(i32),
    /// Reading or writing the spill file failed.
    Io(io::Error),
}

impl<K: Key> Table<K> {
    /// The key's hash (the same one the shard maps use).
    #[inline]
    pub(super) fn hash_of(key: &K) -> u64 {
        use std::hash::BuildHasher;
        MulBuild::default().hash_one(key)
    }

    #[inline]
    fn shard_of(key: &K) -> usize {
        (Self::hash_of(key) >> 40) as usize % SHARDS
    }

    /// Counts `r` under `key`; `seq` is the record's position in the
    /// input. A table may see units out of input order (a scan with
    /// [`flowio::input::MergeOrder::Any`]), so `first` keeps the smallest.
    #[inline]
    fn update(&mut self, key: K, seq: u64, r: &Record) {
        let e = self.shards[Self::shard_of(&key)]
            .entry(key)
            .or_insert(Entry {
                first: seq,
                c: Counters::default(),
            });
        e.first = e.first.min(seq);
        e.c.add_record(r);
    }

    /// Folds `later` into this table, the shards on all cores (the last
    /// merge of a scan joins two tables of millions of keys). If either
    /// has spilled, both spill what they hold and the result is their
    /// spilled runs together.
    fn merge(&mut self, mut later: Table<K>) {
        use rayon::prelude::*;
        if self.has_spilled() || later.has_spilled() {
            let all_out = self.spill_all() & later.spill_all();
            if let (Some(mine), Some(theirs)) = (&mut self.spill, later.spill.take()) {
                mine.absorb::<K>(theirs);
            }
            if all_out {
                return;
            }
            // A spill that failed left rows in memory: merge those below.
        }
        self.shards
            .par_iter_mut()
            .zip(later.shards.into_par_iter())
            .for_each(|(mine, mut theirs)| {
                if mine.len() < theirs.len() {
                    std::mem::swap(mine, &mut theirs);
                }
                for (k, e) in theirs {
                    merge_entry(mine, k, &e);
                }
            });
    }

    /// Number of distinct keys (in memory; see [`Table::has_spilled`]).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(HashMap::len).sum()
    }

    /// Rows in report order, or `Err(sort_order)` for an invalid field.
    /// The table is left as it was (see [`Table::into_ordered`]).
    #[cfg(test)]
    pub(crate) fn ordered(&self, sort_order: i32) -> Result<Vec<(K, Entry)>, i32> {
        match self.clone().into_ordered(sort_order, &SeqSpace::new(1)) {
            Ok(mut o) => {
                let rows: Vec<_> = o.by_ref().collect();
                assert!(o.take_error().is_none());
                Ok(rows)
            }
            Err(OrderError::BadField(so)) => Err(so),
            Err(OrderError::Io(e)) => panic!("{e}"),
        }
    }

    /// The rows in report order (flow-tools' traversal order, then for a
    /// sort a stable ascending sort on the field, reversed for `-S`), or
    /// the error. Each row's `first` is replaced by its traversal rank.
    /// `seqs` describes the sequence numbers the table was fed (needed
    /// only if it spilled).
    ///
    /// The stable sort is done as an unstable sort on (value, traversal
    /// rank), which gives the same order without a scratch copy: each
    /// shard becomes a row list sorted by first appearance (its map freed
    /// at once), a 64-way merge numbers the keys in traversal order, each
    /// list is sorted by (value, rank), and [`Ordered`] merges the lists.
    pub(crate) fn into_ordered(
        self,
        sort_order: i32,
        seqs: &SeqSpace,
    ) -> Result<Ordered<K>, OrderError> {
        let field = sort_order.unsigned_abs();
        if field > K::KEY_FIELDS + 4 {
            return Err(OrderError::BadField(sort_order));
        }
        let descending = sort_order > 0;
        if self.has_spilled() {
            return spill::external_order(self, field, descending, seqs).map_err(OrderError::Io);
        }
        use rayon::prelude::*;
        let n = self.len();
        // Shards are independent: they become sorted row lists on all cores.
        let mut shards: Vec<Vec<(K, Entry)>> = self
            .shards
            .into_par_iter()
            .map(|map| {
                let mut rows: Vec<(K, Entry)> = map.into_iter().collect();
                rows.sort_unstable_by_key(|(_, e)| e.first);
                rows
            })
            .collect();
        let mut p = 0;
        for_each_merged(
            &mut shards,
            |row| row.1.first,
            |row| {
                row.1.first = traversal_rank(p, n);
                p += 1;
            },
        );
        let key = move |row: &(K, Entry)| sort_key(field, K::KEY_FIELDS, row);
        shards.par_iter_mut().for_each(|sh| {
            sh.sort_unstable_by_key(key);
            if descending {
                sh.reverse();
            }
        });
        let runs = shards
            .into_iter()
            .map(|rows| Run::Mem(rows.into_iter()))
            .collect();
        Ok(Ordered::new(runs, field, descending, n))
    }
}

/// Adds `e` (counters and first appearance) to `key`'s entry in `map`.
#[inline]
pub(super) fn merge_entry<K: Key>(map: &mut HashMap<K, Entry, MulBuild>, key: K, e: &Entry) {
    let m = map.entry(key).or_insert(Entry {
        first: e.first,
        c: Counters::default(),
    });
    m.first = m.first.min(e.first);
    m.c.add(&e.c);
}

/// The sort key of a row for sort field `field` (0: traversal order only).
#[inline]
pub(super) fn sort_key<K: Key>(field: u32, key_fields: u32, (k, e): &(K, Entry)) -> (u64, u64) {
    let v = if field == 0 {
        0
    } else if field <= key_fields {
        k.sort_value(field)
    } else {
        match field - key_fields {
            1 => e.c.flows,
            2 => e.c.octets,
            3 => e.c.packets,
            _ => e.c.duration,
        }
    };
    (v, e.first)
}

/// flow-tools' traversal position of the key that appeared `p`-th of `n`:
/// keys are stored in chunks of [`CHUNK_ENTRIES`] and the newest chunk is
/// walked first, each chunk in insertion order.
pub(super) fn traversal_rank(p: usize, n: usize) -> u64 {
    if n <= CHUNK_ENTRIES {
        return p as u64;
    }
    let chunks = n.div_ceil(CHUNK_ENTRIES);
    let last_len = n - (chunks - 1) * CHUNK_ENTRIES;
    let c = p / CHUNK_ENTRIES;
    let start = if c == chunks - 1 {
        0
    } else {
        last_len + (chunks - 2 - c) * CHUNK_ENTRIES
    };
    (start + p % CHUNK_ENTRIES) as u64
}

/// Calls `f` on every row of the (each ascending by `key`) `shards` in
/// ascending `key` order across all of them.
fn for_each_merged<K>(
    shards: &mut [Vec<(K, Entry)>],
    key: impl Fn(&(K, Entry)) -> u64,
    mut f: impl FnMut(&mut (K, Entry)),
) {
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = shards
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(i, s)| Reverse((key(&s[0]), i)))
        .collect();
    let mut pos = vec![0usize; shards.len()];
    while let Some(Reverse((_, i))) = heap.pop() {
        f(&mut shards[i][pos[i]]);
        pos[i] += 1;
        if let Some(next) = shards[i].get(pos[i]) {
            heap.push(Reverse((key(next), i)));
        }
    }
}

/// One sorted list of rows that [`Ordered`] merges: in memory, or a run
/// of a spill file.
pub(super) enum Run<K> {
    Mem(std::vec::IntoIter<(K, Entry)>),
    File(FileRun<K>),
}

impl<K: Key> Run<K> {
    fn next_row(&mut self) -> io::Result<Option<(K, Entry)>> {
        match self {
            Run::Mem(it) => Ok(it.next()),
            Run::File(f) => f.next_row(),
        }
    }
}

/// A run's next row in [`Merge`]'s max-heap: its [`heap_key`] and the run.
type HeapItem = (u128, usize);

/// [`sort_key`] as one integer, bit-inverted when ascending so that the
/// max-heap gives the smallest first.
#[inline]
fn heap_key<K: Key>(field: u32, descending: bool, row: &(K, Entry)) -> u128 {
    let (v, t) = sort_key(field, K::KEY_FIELDS, row);
    let k = (v as u128) << 64 | t as u128;
    if descending {
        k
    } else {
        !k
    }
}

/// The rows of a [`Table`] in report order: a merge of runs, each in
/// report order already (ascending by [`sort_key`], or descending for
/// `-S`). A big merge runs on a thread of its own and hands over rows a
/// batch at a time, so it overlaps with the formatting of the rows.
pub(crate) struct Ordered<K> {
    source: Source<K>,
    error: Option<io::Error>,
}

/// Where [`Ordered`] takes its rows from.
enum Source<K> {
    Here(Merge<K>),
    Behind {
        rx: std::sync::mpsc::Receiver<io::Result<Vec<(K, Entry)>>>,
        batch: std::vec::IntoIter<(K, Entry)>,
    },
}

/// Rows per batch a background merge hands over.
const MERGE_BATCH: usize = 8192;

impl<K: Key> Ordered<K> {
    /// The merge of `runs` (`rows` rows in all).
    pub(super) fn new(runs: Vec<Run<K>>, field: u32, descending: bool, rows: usize) -> Self {
        let merge = Merge::new(runs, field, descending);
        if rows < 4 * MERGE_BATCH {
            return Ordered {
                source: Source::Here(merge),
                error: None,
            };
        }
        // The merge goes to the thread once it is running; without a
        // thread (the system refused one) it stays here.
        let (hand_tx, hand_rx) = std::sync::mpsc::channel::<Merge<K>>();
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let spawned = std::thread::Builder::new()
            .name("report-merge".into())
            .spawn(move || {
                let Ok(mut merge) = hand_rx.recv() else {
                    return;
                };
                loop {
                    let batch: Vec<_> = merge.by_ref().take(MERGE_BATCH).collect();
                    let done = batch.len() < MERGE_BATCH;
                    if tx.send(Ok(batch)).is_err() {
                        return;
                    }
                    if done {
                        if let Some(e) = merge.take_error() {
                            let _ = tx.send(Err(e));
                        }
                        return;
                    }
                }
            });
        let source = match spawned {
            Ok(_) => match hand_tx.send(merge) {
                Ok(()) => Source::Behind {
                    rx,
                    batch: Vec::new().into_iter(),
                },
                Err(back) => Source::Here(back.0),
            },
            Err(_) => Source::Here(merge),
        };
        Ordered {
            source,
            error: None,
        }
    }

    /// The read error that cut a spill run short, if there was one (the
    /// rows given out are then incomplete).
    pub(crate) fn take_error(&mut self) -> Option<io::Error> {
        match &mut self.source {
            Source::Here(m) => self.error.take().or_else(|| m.take_error()),
            Source::Behind { .. } => self.error.take(),
        }
    }
}

impl<K: Key> Iterator for Ordered<K> {
    type Item = (K, Entry);

    #[inline]
    fn next(&mut self) -> Option<(K, Entry)> {
        match &mut self.source {
            Source::Here(m) => m.next(),
            Source::Behind { rx, batch } => loop {
                if let Some(row) = batch.next() {
                    return Some(row);
                }
                match rx.recv() {
                    Ok(Ok(b)) if !b.is_empty() => *batch = b.into_iter(),
                    Ok(Ok(_)) | Err(_) => return None,
                    Ok(Err(e)) => {
                        self.error.get_or_insert(e);
                        return None;
                    }
                }
            },
        }
    }
}

/// The heap merge behind [`Ordered`].
pub(super) struct Merge<K> {
    runs: Vec<Run<K>>,
    /// The row each run has ready (its key is on the heap).
    heads: Vec<Option<(K, Entry)>>,
    heap: BinaryHeap<HeapItem>,
    field: u32,
    descending: bool,
    /// The first read error of a file run; the merge goes on without it.
    error: Option<io::Error>,
}

impl<K: Key> Merge<K> {
    fn new(runs: Vec<Run<K>>, field: u32, descending: bool) -> Self {
        let mut o = Merge {
            heads: (0..runs.len()).map(|_| None).collect(),
            heap: BinaryHeap::with_capacity(runs.len()),
            runs,
            field,
            descending,
            error: None,
        };
        for i in 0..o.runs.len() {
            o.pull(i);
        }
        o
    }

    /// Takes run `i`'s next row (if any) as its head.
    fn pull(&mut self, i: usize) {
        match self.runs[i].next_row() {
            Ok(Some(row)) => {
                let k = heap_key(self.field, self.descending, &row);
                self.heads[i] = Some(row);
                self.heap.push((k, i));
            }
            Ok(None) => {}
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }
}

impl<K: Key> Iterator for Merge<K> {
    type Item = (K, Entry);

    fn next(&mut self) -> Option<(K, Entry)> {
        use std::collections::binary_heap::PeekMut;
        // The run that gives the next row gets its following row's key in
        // place at the top of the heap: one sift instead of a pop and a push.
        let mut top = self.heap.peek_mut()?;
        let i = top.1;
        let row = self.heads[i].take();
        match self.runs[i].next_row() {
            Ok(Some(next)) => {
                top.0 = heap_key(self.field, self.descending, &next);
                self.heads[i] = Some(next);
            }
            Ok(None) => {
                PeekMut::pop(top);
            }
            Err(e) => {
                PeekMut::pop(top);
                self.error.get_or_insert(e);
            }
        }
        row
    }
}

/// Puts rows in flow-tools' traversal order: by first appearance, but with
/// more than [`CHUNK_ENTRIES`] keys the chunks of 65536 come newest first.
#[cfg(test)]
pub(crate) fn first_seen_order<K: Copy>(mut rows: Vec<(K, Entry)>) -> Vec<(K, Entry)> {
    rows.sort_unstable_by_key(|(_, e)| e.first);
    let n = rows.len();
    let mut out = rows.clone();
    for (p, row) in rows.into_iter().enumerate() {
        out[traversal_rank(p, n) as usize] = row;
    }
    out
}

/// Which hash report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HashKind {
    /// f1: octets/packets of each flow (dPkts = 0 flows skipped, but still
    /// in the totals, as in flow-tools).
    PacketSize,
    /// f2: packets of each flow.
    Packets,
    /// f3: octets of each flow.
    Octets,
    /// f8
    DstAddr,
    /// f9
    SrcAddr,
    /// f10
    SrcDstAddr,
    /// f11: the src row then the dst row of each flow; counted once in the
    /// totals.
    SrcOrDstAddr,
    /// f16
    NextHop,
    /// f21
    SrcDstAs,
    /// f23
    InOutIf,
    /// f24
    SrcPrefix,
    /// f25
    DstPrefix,
    /// f26
    SrcDstPrefix,
    /// f27
    Exporter,
}

#[derive(Clone, Debug)]
enum Tables {
    One(Table<One>),
    AddrPair(Table<AddrPair>),
    Pair16(Table<Pair16>),
    Prefix(Table<Prefix>),
    PrefixPair(Table<PrefixPair>),
}

/// A hash report: key table, totals, and the count of skipped flows.
#[derive(Clone, Debug)]
pub(crate) struct HashReport {
    kind: HashKind,
    tables: Tables,
    pub(crate) total: Counters,
    pub(crate) bogus: u64,
    /// The sequence numbers seen (for the order of a spilled table).
    seqs: SeqSpace,
}

impl HashReport {
    pub(crate) fn new(kind: HashKind) -> Self {
        let tables = match kind {
            HashKind::SrcDstAddr => Tables::AddrPair(Table::default()),
            HashKind::SrcDstAs | HashKind::InOutIf => Tables::Pair16(Table::default()),
            HashKind::SrcPrefix | HashKind::DstPrefix => Tables::Prefix(Table::default()),
            HashKind::SrcDstPrefix => Tables::PrefixPair(Table::default()),
            _ => Tables::One(Table::default()),
        };
        HashReport {
            kind,
            tables,
            total: Counters::default(),
            bogus: 0,
            // f11 numbers the src and the dst row of each flow.
            seqs: SeqSpace::new(if kind == HashKind::SrcOrDstAddr { 2 } else { 1 }),
        }
    }

    /// Bounds the table's memory: past `bytes` it spills its rows to an
    /// unnamed temporary file in `dir` (see [`super::spill`]).
    pub(crate) fn limit_memory(
        &mut self,
        bytes: usize,
        dir: &std::path::Path,
        warnings: &flowio::Warnings,
    ) {
        let spill = Some(Spill::new(bytes, dir, warnings));
        match &mut self.tables {
            Tables::One(t) => t.spill = spill,
            Tables::AddrPair(t) => t.spill = spill,
            Tables::Pair16(t) => t.spill = spill,
            Tables::Prefix(t) => t.spill = spill,
            Tables::PrefixPair(t) => t.spill = spill,
        }
    }

    /// Spills the table if it has outgrown its memory limit.
    fn check_memory(&mut self) {
        match &mut self.tables {
            Tables::One(t) => t.check_memory(),
            Tables::AddrPair(t) => t.check_memory(),
            Tables::Pair16(t) => t.check_memory(),
            Tables::Prefix(t) => t.check_memory(),
            Tables::PrefixPair(t) => t.check_memory(),
        }
    }

    /// Whether part of the table is in its spill file.
    #[cfg(test)]
    pub(crate) fn has_spilled(&self) -> bool {
        match &self.tables {
            Tables::One(t) => t.has_spilled(),
            Tables::AddrPair(t) => t.has_spilled(),
            Tables::Pair16(t) => t.has_spilled(),
            Tables::Prefix(t) => t.has_spilled(),
            Tables::PrefixPair(t) => t.has_spilled(),
        }
    }

    /// Number of distinct keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match &self.tables {
            Tables::One(t) => t.len(),
            Tables::AddrPair(t) => t.len(),
            Tables::Pair16(t) => t.len(),
            Tables::Prefix(t) => t.len(),
            Tables::PrefixPair(t) => t.len(),
        }
    }

    pub(crate) fn add_batch(&mut self, first_index: u64, recs: &[Record]) {
        self.add_batch_in_memory(first_index, recs);
        self.seqs.note(first_index, recs.len());
        self.check_memory();
    }

    fn add_batch_in_memory(&mut self, first_index: u64, recs: &[Record]) {
        let total = &mut self.total;
        macro_rules! each {
            ($t:expr, $key:expr) => {
                for (i, r) in recs.iter().enumerate() {
                    total.add_record(r);
                    $t.update($key(r), first_index + i as u64, r);
                }
            };
        }
        match (&mut self.tables, self.kind) {
            (Tables::One(t), HashKind::PacketSize) => {
                for (i, r) in recs.iter().enumerate() {
                    total.add_record(r);
                    if r.packets == 0 {
                        self.bogus += 1;
                        continue;
                    }
                    t.update(One(r.octets / r.packets), first_index + i as u64, r);
                }
            }
            (Tables::One(t), HashKind::Packets) => each!(t, |r: &Record| One(r.packets)),
            (Tables::One(t), HashKind::Octets) => each!(t, |r: &Record| One(r.octets)),
            (Tables::One(t), HashKind::DstAddr) => each!(t, |r: &Record| One(r.dst_addr)),
            (Tables::One(t), HashKind::SrcAddr) => each!(t, |r: &Record| One(r.src_addr)),
            (Tables::One(t), HashKind::NextHop) => each!(t, |r: &Record| One(r.next_hop)),
            (Tables::One(t), HashKind::Exporter) => each!(t, |r: &Record| One(r.exporter)),
            (Tables::One(t), HashKind::SrcOrDstAddr) => {
                for (i, r) in recs.iter().enumerate() {
                    total.add_record(r);
                    let seq = (first_index + i as u64) * 2;
                    t.update(One(r.src_addr), seq, r);
                    t.update(One(r.dst_addr), seq + 1, r);
                }
            }
            (Tables::AddrPair(t), _) => {
                each!(t, |r: &Record| AddrPair(
                    (r.src_addr as u64) << 32 | r.dst_addr as u64
                ))
            }
            (Tables::Pair16(t), HashKind::SrcDstAs) => {
                each!(t, |r: &Record| Pair16(
                    (r.src_as as u32) << 16 | r.dst_as as u32
                ))
            }
            (Tables::Pair16(t), _) => {
                each!(t, |r: &Record| Pair16(
                    (r.input_if as u32) << 16 | r.output_if as u32
                ))
            }
            (Tables::Prefix(t), HashKind::SrcPrefix) => {
                each!(t, |r: &Record| Prefix::new(r.src_addr, r.src_mask))
            }
            (Tables::Prefix(t), _) => each!(t, |r: &Record| Prefix::new(r.dst_addr, r.dst_mask)),
            (Tables::PrefixPair(t), _) => each!(t, |r: &Record| PrefixPair::new(
                Prefix::new(r.src_addr, r.src_mask),
                Prefix::new(r.dst_addr, r.dst_mask)
            )),
            // Every kind is created with its table variant (see `new`).
            (Tables::One(_), _) => {}
        }
    }

    pub(crate) fn merge(&mut self, later: HashReport) {
        self.total.add(&later.total);
        self.bogus += later.bogus;
        self.seqs.merge(&later.seqs);
        match (&mut self.tables, later.tables) {
            (Tables::One(a), Tables::One(b)) => a.merge(b),
            (Tables::AddrPair(a), Tables::AddrPair(b)) => a.merge(b),
            (Tables::Pair16(a), Tables::Pair16(b)) => a.merge(b),
            (Tables::Prefix(a), Tables::Prefix(b)) => a.merge(b),
            (Tables::PrefixPair(a), Tables::PrefixPair(b)) => a.merge(b),
            _ => debug_assert!(false, "merging different hash reports"),
        }
    }

    /// Writes the report, leaving it as it was.
    pub(crate) fn write(
        &self,
        cfg: &StatConfig,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<()> {
        self.clone().write_owned(cfg, out, err)
    }

    /// Writes the report, freeing the table as its rows are taken (the
    /// peak memory stays near one table).
    pub(crate) fn write_owned(
        self,
        cfg: &StatConfig,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<()> {
        let so = cfg.sort_order();
        let q = &self.seqs;
        let rows = match self.tables {
            Tables::One(t) => t.into_ordered(so, q).map(Rows::One),
            Tables::AddrPair(t) => t.into_ordered(so, q).map(Rows::AddrPair),
            Tables::Pair16(t) => t.into_ordered(so, q).map(Rows::Pair16),
            Tables::Prefix(t) => t.into_ordered(so, q).map(Rows::Prefix),
            Tables::PrefixPair(t) => t.into_ordered(so, q).map(Rows::PrefixPair),
        };
        write_rows(self.kind, &self.total, rows, cfg, out, err)
    }
}

/// A hash report's rows in report order.
enum Rows {
    One(Ordered<One>),
    AddrPair(Ordered<AddrPair>),
    Pair16(Ordered<Pair16>),
    Prefix(Ordered<Prefix>),
    PrefixPair(Ordered<PrefixPair>),
}

impl Rows {
    /// The read error that cut the rows short, if any.
    fn take_error(&mut self) -> Option<io::Error> {
        match self {
            Rows::One(o) => o.take_error(),
            Rows::AddrPair(o) => o.take_error(),
            Rows::Pair16(o) => o.take_error(),
            Rows::Prefix(o) => o.take_error(),
            Rows::PrefixPair(o) => o.take_error(),
        }
    }
}

/// The body of a hash report: column header and one line per row, or the
/// `can't sort` complaint for a bad sort field. A spill file that cannot
/// be written or read is an error (the report would be wrong).
fn write_rows(
    kind: HashKind,
    total: &Counters,
    rows: Result<Rows, OrderError>,
    cfg: &StatConfig,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    let cc = cfg.comment_char as char;
    let mut rows = match rows {
        Ok(r) => r,
        Err(OrderError::BadField(so)) => return writeln!(err, "{cc} can't sort on field {so}."),
        Err(OrderError::Io(e)) => return Err(spill::context(e)),
    };
    write_body(kind, total, &mut rows, cfg, out)?;
    match rows.take_error() {
        Some(e) => Err(spill::context(e)),
        None => Ok(()),
    }
}

/// The column header and the rows of [`write_rows`].
fn write_body(
    kind: HashKind,
    total: &Counters,
    rows: &mut Rows,
    cfg: &StatConfig,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut s = String::with_capacity(256);
    match rows {
        Rows::One(rows) => {
            match kind {
                HashKind::PacketSize | HashKind::Packets | HashKind::Octets => {
                    let title = match kind {
                        HashKind::PacketSize => "Pkt Size ",
                        HashKind::Packets => "Packets  ",
                        _ => "Octets   ",
                    };
                    header(out, cfg, title)?;
                    // flow-tools' chash_c32_dump loads tag.sym for -n
                    // whatever the report; kept as is.
                    let syms = if cfg.names {
                        cfg.symbols(SymFile::Tag)
                    } else {
                        None
                    };
                    for (k, e) in rows {
                        s.clear();
                        c32_row(&mut s, cfg, syms.as_ref(), k.0, &e.c, total);
                        out.write_all(s.as_bytes())?;
                    }
                }
                _ => {
                    header(out, cfg, "IPaddr        ")?;
                    for (k, e) in rows {
                        cfmt::ipv4_left15(&mut s, k.0);
                        s.push_str("  ");
                        single_key_tail(&mut s, cfg, &e.c, total);
                        flush_some(out, &mut s)?;
                    }
                    out.write_all(s.as_bytes())?;
                }
            }
        }
        Rows::AddrPair(rows) => {
            header(out, cfg, "src IPaddr     dst IPaddr      ")?;
            for (k, e) in rows {
                cfmt::ipv4_left15(&mut s, k.sort_value(1) as u32);
                s.push_str("  ");
                cfmt::ipv4_left15(&mut s, k.sort_value(2) as u32);
                s.push_str("  ");
                counters_tail(&mut s, cfg, &e.c, total, true);
                flush_some(out, &mut s)?;
            }
            out.write_all(s.as_bytes())?;
        }
        Rows::Pair16(rows) => {
            if kind == HashKind::SrcDstAs {
                header(out, cfg, "src AS          dst AS           ")?;
                let syms = if cfg.names {
                    cfg.symbols(SymFile::Asn)
                } else {
                    None
                };
                for (k, e) in rows {
                    s.clear();
                    let name = |v: u64| match syms.as_ref().and_then(|t| t.name(v as u32)) {
                        Some(n) => n.to_string(),
                        None => v.to_string(),
                    };
                    cfmt::left(&mut s, &name(k.sort_value(1)), 16);
                    s.push_str("  ");
                    cfmt::left(&mut s, &name(k.sort_value(2)), 16);
                    s.push_str("  ");
                    counters_tail(&mut s, cfg, &e.c, total, true);
                    out.write_all(s.as_bytes())?;
                }
            } else {
                header(out, cfg, "in   out   ")?;
                for (k, e) in rows {
                    s.clear();
                    cfmt::num_pad(&mut s, k.sort_value(1), 5);
                    s.push_str("  ");
                    cfmt::num_pad(&mut s, k.sort_value(2), 5);
                    s.push_str("  ");
                    counters_tail(&mut s, cfg, &e.c, total, true);
                    out.write_all(s.as_bytes())?;
                }
            }
        }
        Rows::Prefix(rows) => {
            // flow-tools titles f25 "Source Prefix" too.
            header(out, cfg, "Source Prefix    ")?;
            for (k, e) in rows {
                s.clear();
                let (a, l) = k.parts();
                let mut key = String::with_capacity(18);
                cfmt::ipv4_prefix(&mut key, a, l);
                single_key_row(&mut s, cfg, &key, 18, &e.c, total);
                out.write_all(s.as_bytes())?;
            }
        }
        Rows::PrefixPair(rows) => {
            header(out, cfg, "Source Prefix     Destination Prefix ")?;
            for (k, e) in rows {
                s.clear();
                let (src, dst) = k.parts();
                let mut key = String::with_capacity(38);
                let mut p = String::with_capacity(18);
                let (a, l) = src.parts();
                cfmt::ipv4_prefix(&mut p, a, l);
                cfmt::left(&mut key, &p, 18);
                key.push_str("  ");
                p.clear();
                let (a, l) = dst.parts();
                cfmt::ipv4_prefix(&mut p, a, l);
                key.push_str(&p);
                if cfg.percent {
                    cfmt::left(&mut s, &key, 38);
                    s.push_str("  ");
                    push_percents(&mut s, &e.c, total, cfg.wide);
                    s.push('\n');
                } else {
                    cfmt::left(&mut s, &key, 38);
                    s.push_str("  ");
                    counters_tail(&mut s, cfg, &e.c, total, false);
                }
                out.write_all(s.as_bytes())?;
            }
        }
    }
    Ok(())
}

/// `#`, `# <title> flows ...`, `#`. `title` includes its own padding up to
/// the last space before `flows`.
fn header(out: &mut dyn Write, cfg: &StatConfig, title: &str) -> io::Result<()> {
    let cc = cfg.comment_char as char;
    let cols = match (cfg.percent, cfg.wide) {
        (true, true) => "flows    octets   packets  duration",
        (true, false) => "flows    octets   packets",
        (false, true) => {
            "flows                 octets                packets               duration"
        }
        (false, false) => "flows                 octets                packets",
    };
    write!(out, "{cc}\n{cc} {title} {cols}\n{cc}\n")
}

/// Rows of the ip and prefix dumps: the key padded to `w`, then the
/// counters; without -w the packets column is not padded.
fn single_key_row(
    s: &mut String,
    cfg: &StatConfig,
    key: &str,
    w: usize,
    c: &Counters,
    total: &Counters,
) {
    cfmt::left(s, key, w);
    s.push_str("  ");
    single_key_tail(s, cfg, c, total);
}

/// The counter columns of [`single_key_row`], after the key.
fn single_key_tail(s: &mut String, cfg: &StatConfig, c: &Counters, total: &Counters) {
    if cfg.percent {
        push_percents(s, c, total, cfg.wide);
        s.push('\n');
    } else {
        counters_tail(s, cfg, c, total, false);
    }
}

/// Writes `s` out once it holds a good buffer's worth of rows.
#[inline]
fn flush_some(out: &mut dyn Write, s: &mut String) -> io::Result<()> {
    if s.len() >= 64 * 1024 {
        out.write_all(s.as_bytes())?;
        s.clear();
    }
    Ok(())
}

/// The counter columns and the newline. `pad_packets`: the packets column
/// is padded to 20 even without -w (f10, f21, f23).
fn counters_tail(
    s: &mut String,
    cfg: &StatConfig,
    c: &Counters,
    total: &Counters,
    pad_packets: bool,
) {
    if cfg.percent {
        push_percents(s, c, total, cfg.wide);
    } else {
        cfmt::num_pad(s, c.flows, 20);
        s.push_str("  ");
        cfmt::num_pad(s, c.octets, 20);
        s.push_str("  ");
        if cfg.wide {
            cfmt::num_pad(s, c.packets, 20);
            s.push_str("  ");
            cfmt::uint(s, c.duration);
        } else if pad_packets {
            cfmt::num_pad(s, c.packets, 20);
        } else {
            cfmt::uint(s, c.packets);
        }
    }
    s.push('\n');
}

/// Rows of `chash_c32_dump` (f1-f3).
fn c32_row(
    s: &mut String,
    cfg: &StatConfig,
    syms: Option<&SymTable>,
    v: u32,
    c: &Counters,
    total: &Counters,
) {
    let key = match syms.and_then(|t| t.name(v)) {
        Some(n) => n.to_string(),
        None => format!("{v:<10}"),
    };
    if cfg.percent {
        // -P uses %-10.10s even with -w.
        cfmt::left(s, &key, 10);
        s.push_str("  ");
        push_percents(s, c, total, cfg.wide);
        s.push('\n');
    } else {
        cfmt::left(s, &key, if cfg.wide { 15 } else { 10 });
        s.push_str("  ");
        counters_tail(s, cfg, c, total, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(src: u32, dst: u32, octets: u32) -> Record {
        Record {
            src_addr: src,
            dst_addr: dst,
            packets: 1,
            octets,
            ..Record::default()
        }
    }

    /// `n` xorshift records: sources below `range[0]`, destinations below
    /// `range[1]`, octets below `range[2]`, 1-3 packets (many ties).
    fn random_recs(seed: u64, n: u32, range: [u64; 3]) -> Vec<Record> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let mut r = rec(
                    (x % range[0]) as u32,
                    ((x >> 20) % range[1]) as u32,
                    ((x >> 40) % range[2]) as u32,
                );
                r.packets = (x >> 50) as u32 % 3 + 1;
                r
            })
            .collect()
    }

    fn keys(rows: &[(One, Entry)]) -> Vec<u32> {
        rows.iter().map(|(k, _)| k.0).collect()
    }

    fn one_table(h: &HashReport) -> &Table<One> {
        match &h.tables {
            Tables::One(t) => t,
            _ => unreachable!(),
        }
    }

    #[test]
    fn unsorted_is_first_seen_and_ties_reverse_under_big_s() {
        let mut h = HashReport::new(HashKind::SrcAddr);
        // 3 and 1 tie on flows (1 each), 2 has two flows.
        h.add_batch(0, &[rec(3, 0, 5), rec(2, 0, 1), rec(1, 0, 9), rec(2, 0, 1)]);
        let t = one_table(&h);
        assert_eq!(keys(&t.ordered(0).unwrap()), vec![3, 2, 1]);
        assert_eq!(keys(&t.ordered(2).unwrap()), vec![2, 1, 3]);
        assert_eq!(keys(&t.ordered(-2).unwrap()), vec![3, 1, 2]);
        assert_eq!(keys(&t.ordered(1).unwrap()), vec![3, 2, 1]);
        assert_eq!(keys(&t.ordered(-1).unwrap()), vec![1, 2, 3]);
        assert_eq!(t.ordered(6).unwrap_err(), 6);
        assert!(t.ordered(5).is_ok());
    }

    #[test]
    fn src_or_dst_inserts_src_before_dst_and_counts_totals_once() {
        let mut h = HashReport::new(HashKind::SrcOrDstAddr);
        h.add_batch(0, &[rec(5, 6, 10), rec(6, 6, 10)]);
        let t = one_table(&h);
        let rows = t.ordered(0).unwrap();
        assert_eq!(keys(&rows), vec![5, 6]);
        assert_eq!(rows[1].1.c.flows, 3);
        assert_eq!(h.total.flows, 2);
    }

    #[test]
    fn merging_partials_reproduces_the_sequential_order() {
        let recs: Vec<Record> = (0..1000u32)
            .map(|i| rec((i * 7919) % 97, i % 13, i))
            .collect();
        let mut seq = HashReport::new(HashKind::SrcAddr);
        seq.add_batch(0, &recs);
        let mut parts: Vec<HashReport> = recs
            .chunks(64)
            .enumerate()
            .map(|(n, c)| {
                let mut h = HashReport::new(HashKind::SrcAddr);
                h.add_batch(n as u64 * 64, c);
                h
            })
            .collect();
        // merge in a scrambled order
        parts.reverse();
        let mut merged = parts.remove(3);
        for p in parts {
            merged.merge(p);
        }
        for so in [0, 1, -1, 2, -2, 3, -3, 5] {
            assert_eq!(
                one_table(&seq).ordered(so).unwrap(),
                one_table(&merged).ordered(so).unwrap(),
                "sort {so}"
            );
        }
        assert_eq!(seq.total, merged.total);
    }

    /// The report order computed the plain way: a map, the rows sorted by
    /// first appearance, chunks of 65536 newest first, then a stable sort
    /// reversed for `-S`.
    fn reference_order(recs: &[Record], so: i32) -> Vec<(AddrPair, Counters)> {
        let mut map: std::collections::HashMap<AddrPair, Entry> = Default::default();
        for (i, r) in recs.iter().enumerate() {
            let k = AddrPair((r.src_addr as u64) << 32 | r.dst_addr as u64);
            let e = map.entry(k).or_insert(Entry {
                first: i as u64,
                c: Counters::default(),
            });
            e.c.add_record(r);
        }
        let mut rows: Vec<(AddrPair, Entry)> = map.into_iter().collect();
        rows.sort_by_key(|(_, e)| e.first);
        let mut trav = Vec::new();
        for chunk in rows.chunks(CHUNK_ENTRIES).rev() {
            trav.extend_from_slice(chunk);
        }
        let f = so.unsigned_abs();
        match f {
            0 => {}
            1 | 2 => trav.sort_by_key(|(k, _)| k.sort_value(f)),
            3 => trav.sort_by_key(|(_, e)| e.c.flows),
            4 => trav.sort_by_key(|(_, e)| e.c.octets),
            5 => trav.sort_by_key(|(_, e)| e.c.packets),
            _ => trav.sort_by_key(|(_, e)| e.c.duration),
        }
        if so > 0 {
            trav.reverse();
        }
        trav.into_iter().map(|(k, e)| (k, e.c)).collect()
    }

    #[test]
    fn big_tables_merged_in_any_order_print_in_the_reference_order() {
        // 300k flows over ~190k pairs with many ties, so that there are
        // several 65536-key chunks and every shard grows many times.
        let recs = random_recs(0x2545_F491_4F6C_DD1D, 300_000, [100_000, 3, 7]);
        let mut seq = HashReport::new(HashKind::SrcDstAddr);
        seq.add_batch(0, &recs);
        let mut parts: Vec<HashReport> = recs
            .chunks(30_000)
            .enumerate()
            .map(|(n, c)| {
                let mut h = HashReport::new(HashKind::SrcDstAddr);
                h.add_batch(n as u64 * 30_000, c);
                h
            })
            .collect();
        // One accumulator fed the units out of input order, as a worker of
        // a MergeOrder::Any scan may be.
        let mut backwards = HashReport::new(HashKind::SrcDstAddr);
        for (n, c) in recs.chunks(30_000).enumerate().rev() {
            backwards.add_batch(n as u64 * 30_000, c);
        }
        parts.swap(0, 3);
        let mut merged = parts.pop().unwrap();
        for p in parts {
            merged.merge(p);
        }
        let pairs = |h: &HashReport, so: i32| -> Vec<(AddrPair, Counters)> {
            match &h.tables {
                Tables::AddrPair(t) => t
                    .ordered(so)
                    .unwrap()
                    .into_iter()
                    .map(|(k, e)| (k, e.c))
                    .collect(),
                _ => unreachable!(),
            }
        };
        for so in [0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6] {
            let want = reference_order(&recs, so);
            assert!(want.len() > 2 * CHUNK_ENTRIES);
            assert!(pairs(&seq, so) == want, "sequential, sort {so}");
            assert!(pairs(&merged, so) == want, "merged, sort {so}");
            assert!(
                pairs(&backwards, so) == want,
                "units out of order, sort {so}"
            );
        }
    }

    /// Every row of a report, in report order, through the writer's path.
    fn report_rows(h: HashReport, so: i32) -> Vec<(u64, u64, Counters)> {
        let q = h.seqs.clone();
        macro_rules! rows {
            ($t:expr) => {{
                let mut o = $t
                    .into_ordered(so, &q)
                    .map_err(|e| format!("{e:?}"))
                    .unwrap();
                let v: Vec<_> = o
                    .by_ref()
                    .map(|(k, e)| (k.sort_value(1), k.sort_value(2), e.c))
                    .collect();
                assert!(o.take_error().is_none());
                v
            }};
        }
        match h.tables {
            Tables::One(t) => rows!(t),
            Tables::AddrPair(t) => rows!(t),
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_table_past_its_memory_limit_spills_and_prints_the_same_rows() {
        let recs = random_recs(0x9E37_79B9_7F4A_7C15, 250_000, [60_000, 4, 5]);
        let dir = tempfile::tempdir().unwrap();
        for kind in [
            HashKind::SrcDstAddr,
            HashKind::SrcOrDstAddr,
            HashKind::SrcAddr,
        ] {
            let mut plain = HashReport::new(kind);
            plain.add_batch(0, &recs);
            // Two workers with 256 KiB each, fed 10k-record units (unit
            // numbers in the high bits, as a scan numbers them) out of
            // order, then merged.
            // Copies of one report share a spill file (as a scan's workers
            // do); separately made ones have a file each.
            let limited = || {
                let mut h = HashReport::new(kind);
                h.limit_memory(256 << 10, dir.path(), &flowio::Warnings::kept());
                h
            };
            let mut parts = if kind == HashKind::SrcDstAddr {
                let proto = limited();
                vec![proto.clone(), proto]
            } else {
                vec![limited(), limited()]
            };
            for (u, c) in recs.chunks(10_000).enumerate().rev() {
                parts[u % 2].add_batch((u as u64) << 32, c);
            }
            assert!(parts.iter().all(HashReport::has_spilled), "{kind:?}");
            let later = parts.pop().unwrap();
            let mut spilled = parts.pop().unwrap();
            spilled.merge(later);
            assert_eq!(spilled.total, plain.total);
            for so in [0i32, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6] {
                if kind != HashKind::SrcDstAddr && so.abs() == 6 {
                    continue;
                }
                let want = report_rows(plain.clone(), so);

                assert!(want.len() > 2 * CHUNK_ENTRIES || kind != HashKind::SrcDstAddr);
                assert!(
                    report_rows(spilled.clone(), so) == want,
                    "{kind:?} sort {so}"
                );
            }
        }
    }

    #[test]
    fn a_spill_directory_that_cannot_be_written_keeps_the_table_in_memory() {
        let mut plain = HashReport::new(HashKind::SrcDstAddr);
        let mut h = HashReport::new(HashKind::SrcDstAddr);
        h.limit_memory(
            4096,
            std::path::Path::new("/nonexistent/spill"),
            &flowio::Warnings::kept(),
        );
        let recs: Vec<Record> = (0..20_000u32).map(|i| rec(i, i / 3, i)).collect();
        plain.add_batch(0, &recs);
        h.add_batch(0, &recs);
        assert!(!h.has_spilled());
        assert!(report_rows(h, 2) == report_rows(plain, 2));
    }

    #[test]
    fn over_65536_keys_the_chunks_come_newest_first() {
        let rows: Vec<(One, Entry)> = (0..(CHUNK_ENTRIES as u32 * 2 + 3))
            .map(|i| {
                (
                    One(i),
                    Entry {
                        first: i as u64,
                        c: Counters::default(),
                    },
                )
            })
            .collect();
        let order = first_seen_order(rows);
        let k = |i: usize| order[i].0 .0 as usize;
        assert_eq!(k(0), 2 * CHUNK_ENTRIES);
        assert_eq!(k(2), 2 * CHUNK_ENTRIES + 2);
        assert_eq!(k(3), CHUNK_ENTRIES);
        assert_eq!(k(3 + CHUNK_ENTRIES), 0);
    }

    #[test]
    fn prefixes_are_masked_and_pair_keys_sort_on_either_side() {
        let p = Prefix::new(0xC000_02FF, 24);
        assert_eq!(p.parts(), (0xC000_0200, 24));
        assert_eq!(Prefix::new(0xC000_02FF, 40).parts(), (0, 40));
        let pp = PrefixPair::new(p, Prefix::new(0x0A01_0203, 16));
        assert_eq!(pp.sort_value(1), 0xC000_0200);
        assert_eq!(pp.sort_value(2), 0x0A01_0000);
        let a = AddrPair(1 << 32 | 2);
        assert_eq!((a.sort_value(1), a.sort_value(2)), (1, 2));
        let q = Pair16(7 << 16 | 9);
        assert_eq!((q.sort_value(1), q.sort_value(2)), (7, 9));
    }

    #[test]
    fn packet_size_skips_bogus_flows_but_counts_them_in_totals() {
        let mut h = HashReport::new(HashKind::PacketSize);
        let mut r = rec(1, 2, 100);
        r.packets = 0;
        h.add_batch(0, &[r, rec(1, 2, 100)]);
        assert_eq!(h.bogus, 1);
        assert_eq!(h.total.flows, 2);
        assert_eq!(h.len(), 1);
    }
}
