//! The import driver: reads inputs, checks the format before anything is
//! written, resolves years, de-duplicates, dispatches lines to the
//! parsers, pairs connections, maps to records and counts everything.
//!
//! Inputs are streamed ([`crate::input`]): memory is bounded by the
//! line buffer, the duplicate window, the open connections and the open
//! output files, not by the input size. Order of work: every input's head
//! (its first [`crate::input::HEAD_BYTES`]) is checked before anything is written; then,
//! input by input, a scan of the year-less stamps (the year of a line
//! depends on the lines after it, spec §6.3) and the import proper.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::Path;

use formats::time::{LocalTime, Zone};
use formats::Record;

use crate::anetcon::{self, NamespaceMap};
use crate::input::{lines, Input, Line, LineReader, MAX_LINE};
use crate::model::{self, protocol_name, v5_times, Addr, Connection, Packet, Pushed, Tracker};
use crate::summary::{utc_text, Report, Summary, MAX_LISTED_LINES};
use crate::syslog::{self, Repeat, Stamp, YearScan};
use crate::write::{FtStream, SlotWriter};
use crate::{conntrack, iptables, ulogd, Anchor, Config, Error, Format, NatMode, Output};

/// Lines examined for auto-detection.
const DETECT_LINES: usize = 50;
/// Candidate lines examined by the format check.
const CHECK_CANDIDATES: usize = 1000;
/// Entries per generation of the duplicate window.
const DEDUPE_WINDOW: usize = 1 << 20;

/// v5 `engine_type` tags per source kind (spec §6.4).
const ENGINE_LOG: u8 = 0xC1;
const ENGINE_ULOGD: u8 = 0xC2;
const ENGINE_CONNTRACK: u8 = 0xC3;

fn strip_nul(line: &[u8]) -> (bool, &[u8]) {
    if line.first() == Some(&0) {
        let n = line.iter().take_while(|&&c| c == 0).count();
        (true, &line[n..])
    } else {
        (false, line)
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|c| c.is_ascii_whitespace())
}

/// Tag handling for LOG lines: `kernel:` (or an RFC 5424 app-name) is
/// stripped; any other tag leaves the whole rest as the message (LOGEMU
/// lines have no tag; other programs' lines come out unrelated).
fn message_of<'a>(h: &syslog::Header<'a>) -> &'a [u8] {
    if h.app.is_some() {
        return h.rest;
    }
    match syslog::split_tag(h.rest) {
        Some((b"kernel", msg)) => msg,
        Some((t, msg)) if t.starts_with(b"ulogd") => msg,
        _ => h.rest,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Record,
    Malformed,
    Unrelated,
    Other,
}

fn classify(format: Format, line: &[u8]) -> Class {
    if line.len() > MAX_LINE {
        return Class::Malformed;
    }
    let (_, line) = strip_nul(line);
    if is_blank(line) {
        return Class::Other;
    }
    match format {
        Format::Iptables | Format::Anetcon | Format::Auto => {
            let Some(h) = syslog::parse_header(line) else {
                return Class::Malformed;
            };
            let mut msg = message_of(&h);
            if let Some(Repeat::Inline(_, inner)) = syslog::repeat(msg) {
                msg = inner;
            }
            let (_, msg) = syslog::strip_uptime(msg);
            match iptables::parse(msg) {
                Ok(p) if format == Format::Anetcon && anetcon::classify(p.prefix).is_none() => {
                    Class::Unrelated
                }
                Ok(_) => Class::Record,
                Err(iptables::NotPacket::Unrelated) => Class::Unrelated,
                Err(_) => Class::Malformed,
            }
        }
        Format::UlogdText => {
            let Some(h) = syslog::parse_header(line) else {
                return Class::Malformed;
            };
            match ulogd::parse_text(message_of(&h)) {
                Ok(_) => Class::Record,
                Err(_) => Class::Malformed,
            }
        }
        Format::UlogdJson => match ulogd::parse_json(line) {
            Ok(_) => Class::Record,
            Err(_) => Class::Malformed,
        },
        Format::Conntrack => match conntrack::parse(line) {
            Ok(conntrack::Line::Event(_)) => Class::Record,
            Ok(_) => Class::Other,
            Err(_) => Class::Malformed,
        },
    }
}

/// Guesses the format from the first non-blank lines (spec §6.10): the
/// format under which most of them parse; anetcon when kernel LOG lines
/// carry anetcon prefixes. `None`: nothing fits.
pub fn detect_format(data: &[u8]) -> Option<Format> {
    let sample: Vec<&[u8]> = lines(data)
        .filter(|l| !is_blank(strip_nul(l).1))
        .take(DETECT_LINES)
        .collect();
    let mut best = (0usize, Format::Auto);
    for f in [
        Format::UlogdJson,
        Format::Conntrack,
        Format::UlogdText,
        Format::Iptables,
    ] {
        let n = sample
            .iter()
            .filter(|l| classify(f, l) == Class::Record)
            .count();
        if n > best.0 {
            best = (n, f);
        }
    }
    match best {
        (0, _) => None,
        (_, Format::Iptables) => {
            let anetcon = sample
                .iter()
                .any(|l| classify(Format::Anetcon, l) == Class::Record);
            Some(if anetcon {
                Format::Anetcon
            } else {
                Format::Iptables
            })
        }
        (_, f) => Some(f),
    }
}

/// A kernel-LOG line parsed as far as it goes without the engine's
/// state.
enum LogLine<'a> {
    /// No syslog header.
    NoHeader,
    /// `last message repeated N times`: N more copies of the host's
    /// previous record.
    Previous(syslog::Header<'a>, u64),
    /// A message, `copies` times (more than once when `repeated`, an
    /// rsyslog `message repeated N times: [ … ]`).
    Message {
        header: syslog::Header<'a>,
        copies: u64,
        repeated: bool,
        parsed: Result<Packet<'a>, iptables::NotPacket>,
    },
}

fn parse_log_line<'a>(line: &'a [u8], stamps: &mut syslog::StampCache) -> LogLine<'a> {
    let Some(header) = syslog::parse_header_cached(line, stamps) else {
        return LogLine::NoHeader;
    };
    let msg = message_of(&header);
    let (msg, copies, repeated) = match syslog::repeat(msg) {
        Some(Repeat::Inline(n, inner)) => (inner, n, true),
        Some(Repeat::Previous(n)) => return LogLine::Previous(header, n),
        None => (msg, 1, false),
    };
    let (_, msg) = syslog::strip_uptime(msg);
    LogLine::Message {
        header,
        copies,
        repeated,
        parsed: iptables::parse(msg),
    }
}

fn excerpt(line: &[u8], n: usize) -> String {
    let s = String::from_utf8_lossy(&line[..line.len().min(n)]);
    s.chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect()
}

/// Refuses an input that is not the chosen format: no record among the
/// candidate lines, or more than half of them malformed.
fn check_format(format: Format, name: &str, data: &[u8]) -> Result<(), Error> {
    let (mut ok, mut bad, mut other, mut seen) = (0usize, 0usize, 0usize, 0usize);
    let mut first = Vec::new();
    for l in lines(data) {
        match classify(format, l) {
            Class::Record => ok += 1,
            Class::Malformed => bad += 1,
            Class::Unrelated => other += 1,
            Class::Other => continue,
        }
        seen += 1;
        if first.len() < 3 {
            first.push(excerpt(l, 120));
        }
        if ok + bad >= CHECK_CANDIDATES {
            break;
        }
    }
    if seen == 0 {
        return Ok(()); // empty input: nothing to import, nothing wrong
    }
    if ok == 0 || bad * 2 > ok + bad {
        return Err(Error::NotFormat {
            path: name.to_string(),
            format: format.name(),
            detail: format!(
                "{ok} lines parse, {bad} are malformed, {other} unrelated among the first {seen}; first lines:\n  {}",
                first.join("\n  ")
            ),
        });
    }
    Ok(())
}

/// Microseconds per second.
const US: i64 = 1_000_000;

/// The naive local time (µs, as if UTC) of `utc_us` in `zone`.
fn naive_us(zone: Zone, utc_us: i64) -> i64 {
    utc_us + i64::from(zone.offset_at(utc_us.div_euclid(US))) * US
}

/// (month, day, second of day, microseconds) of a year-less stamp.
type YearLessStamp = (u8, u8, u32, u32);

/// Year segments `(first line number, year)`, ascending: one pass over
/// the input feeding every year-less stamp to a [`YearScan`].
fn year_plan(inp: &mut Input, tz: Zone, anchor_utc: i64) -> Result<Vec<(u64, i64)>, Error> {
    let name = inp.name.clone();
    let io = |e| Error::Io {
        path: name.clone().into(),
        source: e,
    };
    let mut scan = YearScan::default();
    let mut lr = LineReader::new(inp.reader()?);
    let mut line_no = 0u64;
    // the first 16 bytes of the last traditional header and its stamp:
    // a line starting the same (same second) has the same stamp if a
    // host follows, and no header at all otherwise
    let mut last: Option<([u8; 16], YearLessStamp)> = None;
    while let Some(l) = lr.next_line().map_err(io)? {
        line_no += 1;
        let Line::Text(l) = l else { continue };
        let (_, l) = strip_nul(l);
        if let (Some(head), Some((prev, stamp))) = (l.first_chunk::<16>(), &last) {
            if head == prev {
                if syslog::host_follows(&l[16..]) {
                    scan.push(line_no, *stamp);
                }
                continue;
            }
        }
        if let Some(syslog::Header {
            stamp:
                Stamp::YearLess {
                    month,
                    day,
                    sod,
                    micros,
                },
            ..
        }) = syslog::parse_header(l)
        {
            scan.push(line_no, (month, day, sod, micros));
            if let Some(head) = l.first_chunk::<16>() {
                if syslog::traditional_stamp(head).is_some() {
                    last = Some((*head, (month, day, sod, micros)));
                }
            }
        }
    }
    Ok(scan.finish(naive_us(tz, anchor_utc)))
}

/// 128-bit hash of a line for the duplicate window: two multiply-rotate
/// lanes taking alternate 8-byte words (so that their dependency chains
/// run side by side), each finished with the other's state mixed in.
fn hash128(b: &[u8]) -> u128 {
    const K1: u64 = 0xBF58_476D_1CE4_E5B9;
    const K2: u64 = 0x94D0_49BB_1331_11EB;
    let mut a: u64 = 0x9E37_79B9_7F4A_7C15 ^ b.len() as u64;
    let mut c: u64 = 0xC2B2_AE3D_27D4_EB4F ^ (b.len() as u64).rotate_left(32);
    let word = |w: &[u8]| {
        let mut x = [0u8; 8];
        x[..w.len()].copy_from_slice(w);
        u64::from_le_bytes(x)
    };
    let mut pairs = b.chunks_exact(16);
    for p in &mut pairs {
        let (Some(x), Some(y)) = (p.first_chunk::<8>(), p.last_chunk::<8>()) else {
            break;
        };
        a = (a ^ u64::from_le_bytes(*x))
            .wrapping_mul(K1)
            .rotate_left(31);
        c = (c ^ u64::from_le_bytes(*y))
            .wrapping_mul(K2)
            .rotate_left(27);
    }
    let rest = pairs.remainder();
    let (x, y) = rest.split_at(rest.len().min(8));
    a = (a ^ word(x)).wrapping_mul(K1);
    c = (c ^ word(y) ^ a).wrapping_mul(K2);
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(K1);
        z = (z ^ (z >> 27)).wrapping_mul(K2);
        z ^ (z >> 31)
    };
    (mix(a) as u128) << 64 | mix(c ^ a.rotate_left(17)) as u128
}

/// One generation of the duplicate window: a set of line hashes in an
/// open-addressed table (linear probing, at most half full), so that a
/// lookup of a new line costs one cache miss and its insertion none.
struct HashTable {
    /// 0 marks an empty slot; a zero hash is kept in `has_zero`.
    slots: Vec<u128>,
    len: usize,
    has_zero: bool,
}

impl HashTable {
    fn new() -> HashTable {
        HashTable {
            slots: Vec::new(),
            len: 0,
            has_zero: false,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The slot holding `h` or the empty slot where it would go.
    #[inline]
    fn find(&self, h: u128) -> (bool, usize) {
        let mut i = h as usize & self.mask();
        loop {
            match self.slots[i] {
                0 => return (false, i),
                x if x == h => return (true, i),
                _ => i = (i + 1) & self.mask(),
            }
        }
    }

    fn contains(&self, h: u128) -> bool {
        if h == 0 {
            return self.has_zero;
        }
        !self.slots.is_empty() && self.find(h).0
    }

    /// Inserts `h` (not yet present); the table holds at most
    /// [`DEDUPE_WINDOW`] hashes in `2 * DEDUPE_WINDOW` slots.
    fn insert(&mut self, h: u128) {
        if h == 0 {
            self.has_zero = true;
        } else {
            if self.slots.is_empty() {
                self.slots = vec![0; 2 * DEDUPE_WINDOW];
            }
            let (found, i) = self.find(h);
            if !found {
                self.slots[i] = h;
            }
        }
        self.len += 1;
    }

    fn clear(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = 0);
        self.len = 0;
        self.has_zero = false;
    }

    fn iter(&self) -> impl Iterator<Item = u128> + '_ {
        let zero = self.has_zero.then_some(0);
        self.slots.iter().copied().filter(|&h| h != 0).chain(zero)
    }
}

/// log2 of the bits of the filter in front of the older generation.
const BLOOM_BITS_LOG2: u32 = 24;

/// One cache line of the filter.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct BloomBlock([u64; 8]);

/// Exact-duplicate window: two generations of line hashes. A Bloom filter
/// of the older generation saves its probe (a cache miss in a table of a
/// million entries) for nearly every new line; its four bits of a hash lie
/// in one cache line, and it has no false negatives, so the answers are
/// those of the two sets.
struct Dedupe {
    current: HashTable,
    previous: HashTable,
    /// Bits of every hash in `previous` (empty while there is none).
    bloom: Vec<BloomBlock>,
}

impl Default for Dedupe {
    fn default() -> Self {
        Dedupe {
            current: HashTable::new(),
            previous: HashTable::new(),
            bloom: Vec::new(),
        }
    }
}

/// The filter block and four bit positions in it, from the high half of
/// a line hash (the low half places it in the tables).
fn bloom_bits(h: u128) -> (usize, [u32; 4]) {
    let hi = (h >> 64) as u64;
    let block = (hi & ((1 << (BLOOM_BITS_LOG2 - 9)) - 1)) as usize;
    let b = |k: u32| ((hi >> (BLOOM_BITS_LOG2 - 9 + 9 * k)) & 511) as u32;
    (block, [b(0), b(1), b(2), b(3)])
}

impl Dedupe {
    fn in_bloom(&self, h: u128) -> bool {
        let (block, bits) = bloom_bits(h);
        self.bloom.get(block).is_some_and(|b| {
            bits.iter()
                .all(|&i| b.0[i as usize / 64] & (1 << (i % 64)) != 0)
        })
    }

    /// The hash of `line`, with the places [`seen_hash`](Self::seen_hash)
    /// will read already on their way into the cache (a hint: the
    /// caller has other work to do meanwhile).
    #[inline]
    fn prefetch(&self, line: &[u8]) -> u128 {
        let h = hash128(line);
        if let Some(slot) = self.current.slots.get(h as usize & self.current.mask()) {
            crate::bytescan::prefetch(slot);
        }
        if let Some(block) = self.bloom.get(bloom_bits(h).0) {
            crate::bytescan::prefetch(block);
        }
        h
    }

    /// True when `line` was seen within the window (and records it).
    #[cfg(test)]
    fn seen(&mut self, line: &[u8]) -> bool {
        self.seen_hash(hash128(line))
    }

    /// True when the line of hash `h` was seen within the window (and
    /// records it).
    fn seen_hash(&mut self, h: u128) -> bool {
        if self.current.contains(h) || (self.in_bloom(h) && self.previous.contains(h)) {
            return true;
        }
        if self.current.len >= DEDUPE_WINDOW {
            // the current generation becomes the previous one; the old
            // previous table is reused (cleared) for the new current one
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear();
            self.bloom.clear();
            self.bloom
                .resize(1 << (BLOOM_BITS_LOG2 - 9), BloomBlock::default());
            for k in self.previous.iter() {
                let (block, bits) = bloom_bits(k);
                for i in bits {
                    self.bloom[block].0[i as usize / 64] |= 1 << (i % 64);
                }
            }
        }
        self.current.insert(h);
        false
    }
}

struct Host {
    name: String,
    exporter: u32,
    ifs: Vec<(Vec<u8>, u16)>,
    last: Option<Record>,
}

enum Sink {
    Slots(SlotWriter),
    Ft(FtStream<BufWriter<std::io::Stdout>>),
}

struct Engine<'c> {
    cfg: &'c Config,
    sink: Sink,
    hosts: Vec<Host>,
    host_cache: usize,
    prefixes: Vec<Vec<u8>>,
    prefix_cache: usize,
    namespaces: NamespaceMap,
    ipv6: Option<BufWriter<File>>,
    errors: Option<BufWriter<File>>,
    dedupe: Dedupe,
    meta_dirty: bool,
    formats_seen: Vec<&'static str>,
    nat_rows: u64,
    exporters: Vec<(String, Ipv4Addr, &'static str)>,
    // per input
    s: Summary,
    proto_v4: [u64; 256],
    proto_v6: [u64; 256],
    host_counts: Vec<u64>,
    prefix_counts: Vec<u64>,
    last_local: i64,
    hour_cache: (i64, i64),
    /// The input is anetcon (prefixes are classified).
    anetcon_input: bool,
    /// (year, month, day) -> naive µs of that midnight, of the last stamp.
    day_cache: (i64, u8, u8, i64),
}

fn create(path: &Path) -> Result<BufWriter<File>, Error> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })
}

impl<'c> Engine<'c> {
    fn host_index(&mut self, name: &[u8]) -> usize {
        if let Some(h) = self.hosts.get(self.host_cache) {
            if h.name.as_bytes() == name {
                return self.host_cache;
            }
        }
        if let Some(i) = self.hosts.iter().position(|h| h.name.as_bytes() == name) {
            self.host_cache = i;
            return i;
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let short = name.split('.').next().unwrap_or(&name).to_string();
        let (addr, how) = if let Some((_, a)) = self
            .cfg
            .exporter_map
            .iter()
            .find(|(h, _)| *h == name || *h == short)
        {
            (*a, "--exporter-map")
        } else if let Ok(a) = name.parse::<Ipv4Addr>() {
            (a, "host is an address")
        } else if let Some(a) = self.cfg.exporter_default {
            (a, "--exporter")
        } else {
            // stable across runs without state: 240.0.0.0/4 + FNV-1a(name)
            let mut h: u32 = 0x811C_9DC5;
            for b in name.bytes() {
                h = (h ^ b as u32).wrapping_mul(0x0100_0193);
            }
            (
                Ipv4Addr::from(0xF000_0000 | (h & 0x0FFF_FFFF)),
                "automatic, 240.0.0.0/4 (give --exporter-map)",
            )
        };
        self.exporters.push((name.clone(), addr, how));
        self.hosts.push(Host {
            name,
            exporter: u32::from(addr),
            ifs: Vec::new(),
            last: None,
        });
        self.host_counts.push(0);
        self.meta_dirty = true;
        self.host_cache = self.hosts.len() - 1;
        self.host_cache
    }

    fn if_index(&mut self, host: usize, name: &[u8]) -> u16 {
        if name.is_empty() {
            return 0;
        }
        let ifs = &mut self.hosts[host].ifs;
        if let Some((_, i)) = ifs.iter().find(|(n, _)| n == name) {
            return *i;
        }
        let i = (ifs.len() + 1).min(u16::MAX as usize) as u16;
        ifs.push((name.to_vec(), i));
        self.meta_dirty = true;
        i
    }

    fn prefix_index(&mut self, p: &[u8]) -> usize {
        if self.prefixes.get(self.prefix_cache).is_some_and(|x| x == p) {
            return self.prefix_cache;
        }
        let i = match self.prefixes.iter().position(|x| x == p) {
            Some(i) => i,
            None => {
                self.prefixes.push(p.to_vec());
                self.meta_dirty = true;
                self.prefixes.len() - 1
            }
        };
        if self.prefix_counts.len() <= i {
            self.prefix_counts.resize(i + 1, 0);
        }
        self.prefix_cache = i;
        i
    }

    fn refresh_meta(&mut self) {
        if !self.meta_dirty {
            return;
        }
        self.meta_dirty = false;
        let Sink::Slots(w) = &mut self.sink else {
            return;
        };
        let mut m = vec![("import.source".to_string(), self.formats_seen.join(","))];
        for h in &self.hosts {
            let ip = Ipv4Addr::from(h.exporter);
            m.push(("import.exporter".into(), format!("{ip}\t{}", h.name)));
            for (n, i) in &h.ifs {
                m.push((
                    "import.ifname".into(),
                    format!("{ip}\t{i}\t{}", String::from_utf8_lossy(n)),
                ));
            }
        }
        for (i, p) in self.prefixes.iter().enumerate() {
            m.push((
                "import.prefix".into(),
                format!("{}\t{}", i.min(255), String::from_utf8_lossy(p)),
            ));
        }
        w.meta = m;
    }

    fn put(&mut self, r: &Record) -> Result<(), Error> {
        if self.meta_dirty {
            self.refresh_meta();
        }
        self.s.v5_records += 1;
        match &mut self.sink {
            Sink::Slots(w) => w.write(r),
            Sink::Ft(w) => w.write(r),
        }
    }

    fn malformed(
        &mut self,
        input: &str,
        line_no: u64,
        reason: &'static str,
        line: &[u8],
    ) -> Result<(), Error> {
        self.s.malformed(line_no, reason);
        if let Some(e) = &mut self.errors {
            writeln!(e, "{input}:{line_no}: {reason}: {}", excerpt(line, 120)).map_err(|e| {
                Error::Io {
                    path: self.cfg.errors_out.clone().unwrap_or_default(),
                    source: e,
                }
            })?;
        }
        Ok(())
    }

    fn local_to_utc(&mut self, naive: i64) -> i64 {
        let hour = naive.div_euclid(3_600_000_000);
        if self.cfg.tz == Zone::Local && self.hour_cache.0 == hour {
            let t = naive - self.hour_cache.1;
            self.last_local = t;
            return t;
        }
        let (secs, fraction) = (naive.div_euclid(US), naive.rem_euclid(US));
        let us = |t: i64| t * US + fraction;
        let t = match self.cfg.tz.from_naive(secs) {
            LocalTime::Single(t) => {
                let t = us(t);
                self.hour_cache = (hour, naive - t);
                t
            }
            LocalTime::Ambiguous(a, b) => {
                self.hour_cache = (i64::MIN, 0);
                if us(a) >= self.last_local {
                    us(a)
                } else {
                    us(b)
                }
            }
            LocalTime::Gap(_, t) => {
                self.hour_cache = (i64::MIN, 0);
                self.s.nonexistent_local_times += 1;
                us(t)
            }
        };
        self.last_local = t;
        t
    }

    fn stamp_time(&mut self, stamp: Stamp, year: i64) -> Result<i64, &'static str> {
        match stamp {
            Stamp::YearLess {
                month,
                day,
                sod,
                micros,
            } => {
                // consecutive lines are nearly always of the same day
                let (y, m, d, midnight) = self.day_cache;
                let midnight = if (y, m, d) == (year, month, day) {
                    midnight
                } else {
                    let n = syslog::place(year, month, day, 0, 0)
                        .ok_or("date does not exist in the resolved year")?;
                    self.day_cache = (year, month, day, n);
                    n
                };
                Ok(self.local_to_utc(midnight + sod as i64 * 1_000_000 + micros as i64))
            }
            Stamp::Utc(t) => Ok(t),
            Stamp::Naive(n) => Ok(self.local_to_utc(n)),
            Stamp::Uptime(u) => self
                .cfg
                .boot_time_us
                .map(|b| b + u)
                .ok_or("uptime-only stamp and no --boot-time"),
        }
    }

    fn ipv6_line(&mut self, fields: std::fmt::Arguments<'_>) -> Result<(), Error> {
        if let Some(w) = &mut self.ipv6 {
            w.write_fmt(fields).map_err(|e| Error::Io {
                path: self.cfg.ipv6_out.clone().unwrap_or_default(),
                source: e,
            })?;
        }
        Ok(())
    }

    fn emit_packet(
        &mut self,
        p: &Packet<'_>,
        host: usize,
        t_us: i64,
        copies: u64,
    ) -> Result<(), Error> {
        let pi = self.prefix_index(p.prefix);
        self.prefix_counts[pi] += copies;
        self.host_counts[host] += copies;
        self.s.saw_time(t_us);
        let anetcon = if self.anetcon_input {
            anetcon::classify(p.prefix)
        } else {
            None
        };
        let (engine_type, engine_id) = match anetcon {
            Some((kind, hash)) => {
                *self.s.records_by_kind.entry(kind.label()).or_default() += copies;
                let (ni, ns) = self.namespaces.lookup(hash.as_ref());
                if matches!(kind, anetcon::Kind::OtherNew | anetcon::Kind::DnatNew) {
                    *self.s.records_by_namespace.entry(ns).or_default() += copies;
                }
                let dir = if kind.inside_is_destination() {
                    0x80
                } else {
                    0
                };
                (kind.engine_type(), dir | ni)
            }
            _ => (ENGINE_LOG, pi.min(255) as u8),
        };
        match (p.src, p.dst) {
            (Addr::V4(src), Addr::V4(dst)) => {
                self.proto_v4[p.protocol as usize] += copies;
                self.s.ipv4_bytes += p.length as u64 * copies;
                let mut r = Record {
                    exporter: self.hosts[host].exporter,
                    src_addr: src,
                    dst_addr: dst,
                    input_if: self.if_index(host, p.in_if),
                    output_if: self.if_index(host, p.out_if),
                    packets: 1,
                    octets: p.length,
                    src_port: p.src_port,
                    dst_port: p.dst_port,
                    protocol: p.protocol,
                    tos: p.tos,
                    tcp_flags: p.tcp_flags,
                    engine_type,
                    engine_id,
                    ..Record::default()
                };
                let ms = t_us.div_euclid(1000);
                v5_times(&mut r, ms, ms);
                for _ in 0..copies {
                    self.put(&r)?;
                }
                self.hosts[host].last = Some(r);
            }
            (src, dst) => {
                self.proto_v6[p.protocol as usize] += copies;
                self.s.ipv6_bytes += p.length as u64 * copies;
                self.s.ipv6_records += copies;
                self.hosts[host].last = None;
                let (h, t) = (self.hosts[host].name.clone(), utc_text(t_us));
                for _ in 0..copies {
                    self.ipv6_line(format_args!(
                        "{t}\t{t}\t{h}\t{}\t{src}\t{}\t{dst}\t{}\t1\t{}\tpacket\n",
                        p.protocol, p.src_port, p.dst_port, p.length
                    ))?;
                }
            }
        }
        Ok(())
    }

    fn emit_conn(&mut self, c: &Connection) -> Result<(), Error> {
        let e = &c.event;
        match (c.new_seen, c.destroyed) {
            (true, true) => self.s.connections_complete += 1,
            (_, false) => self.s.connections_open_at_end += 1,
            (false, true) => self.s.connections_without_new += 1,
        }
        if !c.start_known {
            self.s.connections_start_unknown += 1;
        }
        if e.mark != 0 {
            self.s.connections_with_mark += 1;
        }
        let (o, r) = (e.orig, e.reply);
        let (oc, rc) = (e.orig_counters, e.reply_counters);
        let v4 = e.is_v4() && r.src.is_some_and(|a| a.is_v4());
        let (first_ms, last_ms) = (c.first_us.div_euclid(1000), c.last_us.div_euclid(1000));
        if !v4 {
            self.proto_v6[e.protocol as usize] += 1;
            if c.destroyed {
                self.s.ipv6_orig_bytes += oc.bytes;
                self.s.ipv6_reply_bytes += rc.bytes;
            }
            let host = self
                .hosts
                .get(e.source as usize)
                .map(|h| h.name.clone())
                .unwrap_or_default();
            let (t0, t1) = (utc_text(c.first_us), utc_text(c.last_us));
            for (dir, t, k) in [("orig", o, oc), ("reply", r, rc)] {
                if (dir == "orig" && self.cfg.nat == NatMode::Reply)
                    || (dir == "reply" && self.cfg.nat == NatMode::Orig)
                {
                    continue;
                }
                self.s.ipv6_records += 1;
                let (src, dst) = (t.src.map(|a| a.to_string()), t.dst.map(|a| a.to_string()));
                self.ipv6_line(format_args!(
                    "{t0}\t{t1}\t{host}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{dir}\n",
                    e.protocol,
                    src.unwrap_or_default(),
                    t.src_port,
                    dst.unwrap_or_default(),
                    t.dst_port,
                    k.packets,
                    k.bytes
                ))?;
            }
            return Ok(());
        }
        self.proto_v4[e.protocol as usize] += 1;
        if c.destroyed {
            self.s.ipv4_orig_packets += oc.packets;
            self.s.ipv4_orig_bytes += oc.bytes;
            self.s.ipv4_reply_packets += rc.packets;
            self.s.ipv4_reply_bytes += rc.bytes;
        }
        let snat = r.dst != o.src;
        let dnat = r.src != o.dst;
        if snat {
            self.s.snat_connections += 1;
            if matches!(e.protocol, 6 | 17) && r.dst_port != o.src_port {
                self.s.snat_with_port_change += 1;
            }
        }
        if dnat {
            self.s.dnat_connections += 1;
        }
        let exporter = self.hosts.get(e.source as usize).map_or(0, |h| h.exporter);
        let engine_type = if self.s.format == "conntrack" {
            ENGINE_CONNTRACK
        } else {
            ENGINE_ULOGD
        };
        let clamp32 = |v: u64| v.min(u32::MAX as u64) as u32;
        for (id, t, k) in [(0u8, o, oc), (1u8, r, rc)] {
            if (id == 0 && self.cfg.nat == NatMode::Reply)
                || (id == 1 && self.cfg.nat == NatMode::Orig)
            {
                continue;
            }
            let mut packets = clamp32(k.packets);
            if id == 0 && !c.destroyed {
                packets = packets.max(1); // the first packet did pass
            }
            let mut rec = Record {
                exporter,
                src_addr: t.src.and_then(|a| a.v4()).unwrap_or(0),
                dst_addr: t.dst.and_then(|a| a.v4()).unwrap_or(0),
                packets,
                octets: clamp32(k.bytes),
                src_port: t.src_port,
                dst_port: t.dst_port,
                protocol: e.protocol,
                tcp_flags: c.tcp_flags,
                engine_type,
                engine_id: id,
                ..Record::default()
            };
            if v5_times(&mut rec, first_ms, last_ms) {
                self.s.durations_clamped += 1;
            }
            self.put(&rec)?;
        }
        if snat || dnat {
            let row = format!(
                "{first_ms}\t{last_ms}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                Ipv4Addr::from(exporter),
                e.protocol,
                opt(o.src),
                o.src_port,
                opt(o.dst),
                o.dst_port,
                opt(r.src),
                r.src_port,
                opt(r.dst),
                r.dst_port,
                e.ct_id.map_or("-".to_string(), |i| i.to_string()),
                e.mark
            );
            if let Sink::Slots(w) = &mut self.sink {
                w.write_nat(
                    (last_ms.div_euclid(1000)).clamp(0, u32::MAX as i64) as u32,
                    row,
                )?;
                self.nat_rows += 1;
            }
        }
        Ok(())
    }

    fn conn_event(
        &mut self,
        ev: model::ConnEvent,
        tracker: &mut Tracker,
        fallback: i64,
    ) -> Result<(), Error> {
        *self
            .s
            .events
            .entry(match ev.kind {
                model::EventKind::New => "NEW",
                model::EventKind::Update => "UPDATE",
                model::EventKind::Destroy => "DESTROY",
            })
            .or_default() += 1;
        if let Some(t) = ev.time_us {
            self.s.saw_time(t);
        }
        if let Some(t) = ev.start_us {
            self.s.saw_time(t);
        }
        if ev.userspace {
            self.s.destroyed_by_userspace += 1;
        }
        if let Pushed::Closed(c) = tracker.push(&ev, fallback) {
            self.emit_conn(&c)?;
        }
        Ok(())
    }

    fn import(&mut self, inp: &mut Input, format: Format) -> Result<Summary, Error> {
        let name = inp.name.clone();
        let name = name.as_str();
        let mtime_us = inp.mtime_us;
        self.s = Summary {
            input: name.to_string(),
            format: format.name().to_string(),
            ..Summary::default()
        };
        self.proto_v4 = [0; 256];
        self.proto_v6 = [0; 256];
        self.host_counts.iter_mut().for_each(|c| *c = 0);
        self.prefix_counts.iter_mut().for_each(|c| *c = 0);
        self.last_local = i64::MIN;
        self.hour_cache = (i64::MIN, 0);
        self.anetcon_input = format == Format::Anetcon;
        if !self.formats_seen.contains(&format.name()) {
            self.formats_seen.push(format.name());
            self.meta_dirty = true;
        }
        let anchor_utc = match self.cfg.anchor {
            Anchor::Mtime => mtime_us,
            Anchor::At(t) => t,
            Anchor::Year(y) => {
                let n = syslog::place(y as i64, 12, 31, 86_399, 0).unwrap_or(0);
                self.cfg.tz.from_naive(n.div_euclid(US)).earliest() * US + n.rem_euclid(US)
            }
        };
        let plan = match format {
            Format::Iptables | Format::Anetcon | Format::UlogdText => {
                inp.spool()?;
                year_plan(inp, self.cfg.tz, anchor_utc)?
            }
            _ => Vec::new(),
        };
        if !plan.is_empty() {
            self.s.year_anchor = Some(match self.cfg.anchor {
                Anchor::Mtime => format!("file mtime {}", utc_text(anchor_utc)),
                Anchor::Year(y) => format!("--year {y}"),
                Anchor::At(_) => format!("--anchor {}", utc_text(anchor_utc)),
            });
        }
        let mut plan_at = 0usize;
        let mut tracker = Tracker::default();
        let nameless = if matches!(format, Format::UlogdJson | Format::Conntrack) {
            Some(self.host_index(b"-") as u32)
        } else {
            None
        };
        let mut line_no = 0u64;
        let io = |e| Error::Io {
            path: name.into(),
            source: e,
        };
        let mut lr = LineReader::new(inp.reader()?);
        let mut stamps = syslog::StampCache::default();
        while let Some(raw) = lr.next_line().map_err(io)? {
            line_no += 1;
            let raw = match raw {
                Line::Text(l) => l,
                Line::TooLong(l) => {
                    self.malformed(name, line_no, "line longer than 1 MiB", l)?;
                    continue;
                }
            };
            while plan.get(plan_at + 1).is_some_and(|p| p.0 <= line_no) {
                plan_at += 1;
            }
            let year = plan.get(plan_at).map_or(2000, |p| p.1);
            let (nul, line) = strip_nul(raw);
            if nul {
                self.s.nul_prefixed_recovered += 1;
            }
            if is_blank(line) {
                self.s.blank_lines += 1;
                continue;
            }
            // The duplicate check needs a probe of a big table: its hash
            // is taken and the probe's cache lines requested first, and
            // a LOG line is parsed (pure work, nothing counted) while
            // they arrive.
            let hash = self.cfg.dedupe.then(|| self.dedupe.prefetch(line));
            let log = match format {
                Format::Iptables | Format::Anetcon | Format::Auto => {
                    parse_log_line(line, &mut stamps)
                }
                _ => LogLine::NoHeader,
            };
            if hash.is_some_and(|h| self.dedupe.seen_hash(h)) {
                self.s.duplicates += 1;
                if self.s.duplicate_lines.len() < MAX_LISTED_LINES {
                    self.s.duplicate_lines.push(line_no);
                }
                continue;
            }
            match format {
                Format::Iptables | Format::Anetcon | Format::Auto => {
                    let (h, copies, repeated, parsed) = match log {
                        LogLine::NoHeader => {
                            self.malformed(name, line_no, "no syslog header", line)?;
                            continue;
                        }
                        LogLine::Message {
                            header,
                            copies,
                            repeated,
                            parsed,
                        } => (header, copies, repeated, parsed),
                        LogLine::Previous(h, n) => {
                            self.s.repeat_summaries += 1;
                            let host = self.host_index(h.host);
                            let t = match self.stamp_time(h.stamp, year) {
                                Ok(t) => t,
                                Err(r) => {
                                    self.malformed(name, line_no, r, line)?;
                                    continue;
                                }
                            };
                            if let Some(mut r) = self.hosts[host].last {
                                let ms = t.div_euclid(1000);
                                v5_times(&mut r, ms, ms);
                                self.s.saw_time(t);
                                self.proto_v4[r.protocol as usize] += n;
                                self.s.ipv4_bytes += r.octets as u64 * n;
                                self.host_counts[host] += n;
                                self.s.records_from_repeats += n;
                                for _ in 0..n {
                                    self.put(&r)?;
                                }
                            } else {
                                self.s.unrelated_lines += 1;
                            }
                            continue;
                        }
                    };
                    if repeated {
                        self.s.repeat_summaries += 1;
                    }
                    match parsed {
                        Ok(p) => {
                            if format == Format::Anetcon && anetcon::classify(p.prefix).is_none() {
                                self.s.unrelated_lines += 1;
                                continue;
                            }
                            let t = match self.stamp_time(h.stamp, year) {
                                Ok(t) => t,
                                Err(r) => {
                                    self.malformed(name, line_no, r, line)?;
                                    continue;
                                }
                            };
                            let host = self.host_index(h.host);
                            if repeated {
                                self.s.records_from_repeats += copies;
                            }
                            self.emit_packet(&p, host, t, copies)?;
                        }
                        Err(iptables::NotPacket::Unrelated) => self.s.unrelated_lines += 1,
                        Err(iptables::NotPacket::Malformed(r)) => {
                            self.malformed(name, line_no, r.as_str(), line)?
                        }
                    }
                }
                Format::UlogdText => {
                    let Some(h) = syslog::parse_header(line) else {
                        self.malformed(name, line_no, "no LOGEMU/syslog header", line)?;
                        continue;
                    };
                    match ulogd::parse_text(message_of(&h)) {
                        Ok(mut ev) => {
                            let t = match self.stamp_time(h.stamp, year) {
                                Ok(t) => t,
                                Err(r) => {
                                    self.malformed(name, line_no, r, line)?;
                                    continue;
                                }
                            };
                            ev.time_us = Some(t);
                            ev.source = self.host_index(h.host) as u32;
                            self.conn_event(ev, &mut tracker, t)?;
                        }
                        Err(r) => self.malformed(name, line_no, r.as_str(), line)?,
                    }
                }
                Format::UlogdJson => match ulogd::parse_json(line) {
                    Ok(mut ev) => {
                        ev.source = nameless.unwrap_or(0);
                        self.conn_event(ev, &mut tracker, anchor_utc)?;
                    }
                    Err(r) => self.malformed(name, line_no, r.as_str(), line)?,
                },
                Format::Conntrack => match conntrack::parse(line) {
                    Ok(conntrack::Line::Event(ct)) => {
                        let mut ev = ct.event;
                        if let (Some(n), None) = (ct.start_naive, ev.start_us) {
                            ev.start_us = Some(self.local_to_utc(n));
                        }
                        ev.source = nameless.unwrap_or(0);
                        self.conn_event(ev, &mut tracker, anchor_utc)?;
                    }
                    Ok(conntrack::Line::Enobufs) => {
                        self.s.diagnostic_lines += 1;
                        self.s.enobufs_warnings += 1;
                    }
                    Ok(conntrack::Line::Trailer(n)) => {
                        self.s.diagnostic_lines += 1;
                        self.s.trailer_reported_events.push(n);
                    }
                    Err(r) => self.malformed(name, line_no, r.as_str(), line)?,
                },
            }
        }
        for c in tracker.drain() {
            self.emit_conn(&c)?;
        }
        self.s.lines_total = line_no;
        for (p, &n) in self.proto_v4.iter().enumerate() {
            if n > 0 {
                *self
                    .s
                    .ipv4_by_protocol
                    .entry(protocol_name(p as u8))
                    .or_default() += n;
                if protocol_name(p as u8) == "other" {
                    self.s.ipv4_other_protocols.insert(p as u8);
                }
            }
        }
        for (p, &n) in self.proto_v6.iter().enumerate() {
            if n > 0 {
                *self
                    .s
                    .ipv6_by_protocol
                    .entry(protocol_name(p as u8))
                    .or_default() += n;
            }
        }
        if matches!(format, Format::Iptables | Format::Anetcon) {
            for (i, &n) in self.prefix_counts.iter().enumerate() {
                if n > 0 {
                    let p = String::from_utf8_lossy(&self.prefixes[i]).into_owned();
                    self.s.records_by_prefix.insert(p, n);
                }
            }
            for (i, &n) in self.host_counts.iter().enumerate() {
                if n > 0 {
                    self.s.records_by_host.insert(self.hosts[i].name.clone(), n);
                }
            }
        }
        Ok(std::mem::take(&mut self.s))
    }
}

fn opt(a: Option<Addr>) -> String {
    a.map_or("-".to_string(), |a| a.to_string())
}

/// Runs an import: opens every input and checks its head (refusing,
/// before anything is written, an input that is not the chosen format),
/// imports them in order, finishes the output and returns the report.
pub fn run(cfg: &Config) -> Result<Report, Error> {
    let mut inputs = Vec::new();
    let mut stdin_taken = false;
    for p in &cfg.inputs {
        inputs.push(Input::open(p, &mut stdin_taken)?);
    }
    let mut formats = Vec::new();
    for inp in &mut inputs {
        let head = inp.head()?;
        let f = match cfg.format {
            Format::Auto => match detect_format(&head) {
                Some(f) => f,
                None if head.iter().all(|c| c.is_ascii_whitespace() || *c == 0) => Format::Iptables,
                None => {
                    return Err(Error::NotFormat {
                        path: inp.name.clone(),
                        format: "any known",
                        detail: format!(
                            "no line fits any format; first line: {}",
                            lines(&head)
                                .next()
                                .map(|l| excerpt(l, 120))
                                .unwrap_or_default()
                        ),
                    })
                }
            },
            f => f,
        };
        check_format(f, &inp.name, &head)?;
        formats.push(f);
    }
    let namespaces = match &cfg.namespace_hash {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::Io {
                path: p.clone(),
                source: e,
            })?;
            NamespaceMap::parse(&text).0
        }
        None => NamespaceMap::default(),
    };
    let comment = format!("flow-import ({})", env!("CARGO_PKG_VERSION"));
    let sink = match &cfg.output {
        Output::Dir(d) => Sink::Slots(SlotWriter::new(d, cfg.tz, cfg.nesting, comment)),
        Output::Stdout => Sink::Ft(FtStream::new(
            BufWriter::with_capacity(1 << 16, std::io::stdout()),
            &comment,
        )?),
    };
    let mut eng = Engine {
        cfg,
        sink,
        hosts: Vec::new(),
        host_cache: 0,
        prefixes: Vec::new(),
        prefix_cache: 0,
        namespaces,
        ipv6: cfg.ipv6_out.as_deref().map(create).transpose()?,
        errors: cfg.errors_out.as_deref().map(create).transpose()?,
        dedupe: Dedupe::default(),
        meta_dirty: true,
        formats_seen: Vec::new(),
        nat_rows: 0,
        exporters: Vec::new(),
        s: Summary::default(),
        proto_v4: [0; 256],
        proto_v6: [0; 256],
        host_counts: Vec::new(),
        prefix_counts: Vec::new(),
        last_local: i64::MIN,
        hour_cache: (i64::MIN, 0),
        anetcon_input: false,
        day_cache: (i64::MIN, 0, 0, 0),
    };
    let mut report = Report {
        zone: cfg.tz.to_string(),
        ..Report::default()
    };
    for (inp, f) in inputs.iter_mut().zip(formats) {
        let s = eng.import(inp, f)?;
        report.inputs.push(s);
    }
    eng.refresh_meta();
    let nat_rows = eng.nat_rows;
    for (path, w) in [
        (&cfg.ipv6_out, eng.ipv6.take()),
        (&cfg.errors_out, eng.errors.take()),
    ] {
        if let Some(mut w) = w {
            w.flush().map_err(|e| Error::Io {
                path: path.clone().unwrap_or_default(),
                source: e,
            })?;
        }
    }
    match eng.sink {
        Sink::Slots(w) => {
            let (files, dropped) = w.finish()?;
            report.files_written = files;
            report.nat_rows_dropped = dropped;
        }
        Sink::Ft(w) => {
            let mut out = w.finish()?;
            out.flush().map_err(|e| {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    Error::BrokenPipe
                } else {
                    Error::Io {
                        path: "-".into(),
                        source: e,
                    }
                }
            })?;
        }
    }
    report.nat_rows = nat_rows.saturating_sub(report.nat_rows_dropped);
    report.exporters = eng.exporters;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_like_the_reference() {
        assert_eq!(lines(b"a\nb\n").count(), 2);
        assert_eq!(lines(b"a\nb").count(), 2);
        assert_eq!(lines(b"a\n\nb").count(), 3);
        assert_eq!(lines(b"").count(), 0);
    }

    /// The filtered window answers exactly like two plain sets.
    #[test]
    fn dedupe_equals_two_generations_of_sets() {
        use std::collections::HashSet;
        struct Plain(HashSet<u128>, HashSet<u128>);
        impl Plain {
            fn seen(&mut self, line: &[u8]) -> bool {
                let h = hash128(line);
                if self.0.contains(&h) || self.1.contains(&h) {
                    return true;
                }
                if self.0.len() >= DEDUPE_WINDOW {
                    self.1 = std::mem::take(&mut self.0);
                }
                self.0.insert(h);
                false
            }
        }
        let mut plain = Plain(HashSet::new(), HashSet::new());
        let mut fast = Dedupe::default();
        let mut rng = crate::TestRng(0x5DEE_CE66_D1CE_4E5B);
        let mut next_id = 0u64;
        let mut dups = 0;
        for _ in 0..(DEDUPE_WINDOW * 5 / 2) {
            let x = rng.next();
            // mostly new lines; repeats from near, within and beyond the window
            let id = match x % 16 {
                0 => next_id.saturating_sub(1 + (x >> 8) % 64),
                1 => next_id.saturating_sub(1 + (x >> 8) % (3 * DEDUPE_WINDOW as u64)),
                _ => {
                    next_id += 1;
                    next_id
                }
            };
            let line = id.to_le_bytes();
            let (a, b) = (plain.seen(&line), fast.seen(&line));
            assert_eq!(a, b, "line {id}");
            dups += a as u64;
        }
        assert!(dups > 100_000, "{dups}");
    }

    /// The year scan's shortcut for repeated stamps changes nothing.
    #[test]
    fn year_plan_equals_a_scan_of_every_header() {
        let mut text = String::new();
        let stamps = [
            "Dec 31 23:59:59",
            "Jan  1 00:00:00",
            "Feb 29 12:00:00",
            "Jul  4 01:02:03",
            "Jan  1 00:00:00",
            "Dec 31 23:59:59",
        ];
        let mut rng = crate::TestRng(0x2545_F491_4F6C_DD1D);
        for i in 0..3000 {
            let x = rng.next();
            let stamp = stamps[(i / 200 + (x % 7 == 0) as usize) % stamps.len()];
            let line = match x % 11 {
                0 => format!("{stamp} "),
                1 => format!("{stamp}  h kernel: x"),
                2 => format!("<4>{stamp} h kernel: x"),
                3 => format!("{stamp}.5 h kernel: x"),
                4 => format!("{stamp} hostonly"),
                5 => String::new(),
                _ => format!("{stamp} h{} kernel: x", x % 3),
            };
            text.push_str(&line);
            text.push('\n');
        }
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let mut inp = Input::open(f.path(), &mut false).unwrap();
        let anchor = 1_735_689_600_000_000; // 2025-01-01 UTC
        let got = year_plan(&mut inp, Zone::UTC, anchor).unwrap();
        let mut scan = YearScan::default();
        for (i, l) in lines(text.as_bytes()).enumerate() {
            if let Some(syslog::Header {
                stamp:
                    Stamp::YearLess {
                        month,
                        day,
                        sod,
                        micros,
                    },
                ..
            }) = syslog::parse_header(l)
            {
                scan.push(i as u64 + 1, (month, day, sod, micros));
            }
        }
        let want = scan.finish(naive_us(Zone::UTC, anchor));
        assert!(want.len() > 3, "{want:?}");
        assert_eq!(got, want);
    }

    #[test]
    fn hash_table_keeps_zero_and_colliding_slots() {
        let mut t = HashTable::new();
        assert!(!t.contains(0) && !t.contains(5));
        let m = (2 * DEDUPE_WINDOW) as u128;
        for h in [0, 5, 5 + m, 5 + 2 * m, m - 1, 2 * m - 1] {
            assert!(!t.contains(h), "{h}");
            t.insert(h);
            assert!(t.contains(h), "{h}");
        }
        assert_eq!(t.len, 6);
        assert_eq!(t.iter().count(), 6);
        assert!(!t.contains(6) && !t.contains(3 * m - 1));
        t.clear();
        assert!(!t.contains(0) && !t.contains(5 + m) && t.iter().next().is_none());
    }

    #[test]
    fn hash_differs_on_every_byte_and_length() {
        let base: Vec<u8> = (0..70u8).collect();
        let mut seen = std::collections::HashSet::new();
        for n in 0..base.len() {
            assert!(seen.insert(hash128(&base[..n])), "length {n}");
            for i in 0..n {
                let mut v = base[..n].to_vec();
                v[i] ^= 0x20;
                assert!(seen.insert(hash128(&v)), "length {n} byte {i}");
            }
        }
    }

    #[test]
    fn hash_differs_on_one_byte() {
        assert_ne!(hash128(b"abcdefghij"), hash128(b"abcdefghik"));
        assert_ne!(hash128(b""), hash128(b"\0"));
    }

    #[test]
    fn detects_formats() {
        assert_eq!(detect_format(b"Jan  1 00:00:00 h kernel: X IN=a OUT=b SRC=1.2.3.4 DST=1.2.3.5 LEN=40 TOS=0x00 PREC=0x00 TTL=1 ID=1 PROTO=47\n"), Some(Format::Iptables));
        assert_eq!(detect_format(b"hello\nworld\n"), None);
    }
}
