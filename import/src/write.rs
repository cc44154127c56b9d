//! Output: native flow files rotated into 5-minute slots by flow time (the
//! record's Last = export time), named and nested like flow-capture's
//! (`YYYY/YYYY-MM/YYYY-MM-DD/nf-v05.YYYY-MM-DD.HHMMSS+ZZZZ`, written as
//! `tmp-…`, finished, fsynced, renamed), or one ft stream (`-o -`).
//!
//! The slot/naming functions duplicate the collector's on purpose (the
//! import crate must not depend on `collector`); they are pure functions of
//! the time stamp so that they can move into `formats` unchanged.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use formats::ft::{ByteOrder, FtHeader, FtWriter};
use formats::native::{NativeHeader, NativeWriter, WriterOptions};
use formats::Record;

use crate::syslog::Tz;
use crate::Error;

/// Rotation period, seconds.
pub const SLOT_SECS: u32 = 300;

/// Files kept open at once; the oldest slot is finished beyond this.
pub const MAX_OPEN_FILES: usize = 16;

/// Largest total size of NAT rows stored in one file's header metadata.
pub const MAX_NAT_BYTES_PER_FILE: usize = 900 * 1024;

/// Metadata key of one NAT translation row (see [`crate::lookup`]).
pub const META_NAT: &str = "import.nat";

/// Start of the 5-minute slot holding `secs`, aligned to the wall clock of
/// the zone's offset at that time (whole-quarter-hour offsets align the
/// same as UTC).
pub fn slot_of(secs: u32, tz: Tz) -> u32 {
    let off = tz.offset_at(secs as i64 * 1_000_000) as i64;
    let local = secs as i64 + off;
    let start = local - local.rem_euclid(SLOT_SECS as i64) - off;
    start.clamp(0, u32::MAX as i64) as u32
}

/// Path of a slot's file: `nf-v05.YYYY-MM-DD.HHMMSS+ZZZZ` in local time of
/// `tz`, under `nesting` levels of `YYYY/YYYY-MM/YYYY-MM-DD` (0..=3).
pub fn slot_path(dir: &Path, slot: u32, tz: Tz, nesting: u8) -> PathBuf {
    let off = tz.offset_at(slot as i64 * 1_000_000);
    let t = chrono::DateTime::from_timestamp(slot as i64 + off as i64, 0)
        .unwrap_or_default()
        .naive_utc();
    let sign = if off < 0 { '-' } else { '+' };
    let zone = format!("{sign}{:02}{:02}", off.abs() / 3600, off.abs() % 3600 / 60);
    let mut p = dir.to_path_buf();
    for (i, f) in ["%Y", "%Y-%m", "%Y-%m-%d"].iter().enumerate() {
        if (i as u8) < nesting {
            p.push(t.format(f).to_string());
        }
    }
    p.push(format!("nf-v05.{}{zone}", t.format("%Y-%m-%d.%H%M%S")));
    p
}

struct OpenFile {
    w: NativeWriter<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
    exporters: BTreeSet<u32>,
    last_exporter: Option<u32>,
    first_secs: u32,
    last_secs: u32,
    nat: Vec<String>,
    nat_bytes: usize,
}

/// Writes records into slotted native files under a directory.
pub struct SlotWriter {
    dir: PathBuf,
    tz: Tz,
    nesting: u8,
    hostname: String,
    comment: String,
    open: BTreeMap<u32, OpenFile>,
    finished: HashSet<u32>,
    files: Vec<PathBuf>,
    /// Metadata written into every file (interface map, exporters,
    /// prefixes…); the caller keeps it current, it is read at finish.
    pub meta: Vec<(String, String)>,
    nat_dropped: u64,
}

impl std::fmt::Debug for SlotWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotWriter")
            .field("dir", &self.dir)
            .field("open", &self.open.len())
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

fn io_at(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

impl SlotWriter {
    /// A writer into `dir` (created when the first file is).
    pub fn new(dir: &Path, tz: Tz, nesting: u8, comment: String) -> SlotWriter {
        let hostname = std::fs::read_to_string("/etc/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        SlotWriter {
            dir: dir.to_path_buf(),
            tz,
            nesting: nesting.min(3),
            hostname,
            comment,
            open: BTreeMap::new(),
            finished: HashSet::new(),
            files: Vec::new(),
            meta: Vec::new(),
            nat_dropped: 0,
        }
    }

    fn file_for(&mut self, secs: u32) -> Result<&mut OpenFile, Error> {
        let slot = slot_of(secs, self.tz);
        if !self.open.contains_key(&slot) {
            while self.open.len() >= MAX_OPEN_FILES {
                let Some((&oldest, _)) = self.open.iter().next() else {
                    break;
                };
                self.finish_slot(oldest)?;
            }
            let f = self.create(slot)?;
            self.open.insert(slot, f);
        }
        self.open
            .get_mut(&slot)
            .ok_or_else(|| Error::Usage("slot vanished".into()))
    }

    fn create(&mut self, slot: u32) -> Result<OpenFile, Error> {
        let base = slot_path(&self.dir, slot, self.tz, self.nesting);
        let parent = base.parent().unwrap_or(&self.dir).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| io_at(&parent, e))?;
        let name = base
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A slot already written (earlier in this run, or by a previous
        // import) gets a numbered sibling instead of being overwritten.
        let mut path = base.clone();
        let mut n = 0;
        while path.exists() || (n == 0 && self.finished.contains(&slot)) {
            n += 1;
            path = parent.join(format!("{name}.{n}"));
        }
        let final_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = parent.join(format!("tmp-{final_name}"));
        let file = File::create(&tmp).map_err(|e| io_at(&tmp, e))?;
        let header = NativeHeader {
            export_version: 5,
            cap_start: slot,
            hostname: self.hostname.clone(),
            comment: self.comment.clone(),
            metadata: self.meta.clone(),
            ..NativeHeader::default()
        };
        let w = NativeWriter::new(
            BufWriter::with_capacity(256 * 1024, file),
            &header,
            WriterOptions::default(),
        )
        .map_err(|e| Error::native(&tmp, e))?;
        Ok(OpenFile {
            w,
            tmp,
            path,
            exporters: BTreeSet::new(),
            last_exporter: None,
            first_secs: u32::MAX,
            last_secs: 0,
            nat: Vec::new(),
            nat_bytes: 0,
        })
    }

    /// Writes one record into the file of its slot (by export time = Last).
    pub fn write(&mut self, r: &Record) -> Result<(), Error> {
        // consecutive records nearly always share a slot and an exporter
        let slot = match self.tz {
            Tz::Utc => r.unix_secs - r.unix_secs % SLOT_SECS,
            tz => slot_of(r.unix_secs, tz),
        };
        let f = match self.open.get_mut(&slot) {
            Some(f) => f,
            None => self.file_for(r.unix_secs)?,
        };
        if f.last_exporter != Some(r.exporter) {
            f.exporters.insert(r.exporter);
            f.last_exporter = Some(r.exporter);
        }
        f.first_secs = f.first_secs.min(r.unix_secs);
        f.last_secs = f.last_secs.max(r.unix_secs);
        match f.w.write(r) {
            Ok(()) => Ok(()),
            Err(e) => Err(Error::native(&f.tmp, e)),
        }
    }

    /// Stores a NAT translation row with the file holding time `secs`
    /// (written right after that connection's records).
    pub fn write_nat(&mut self, secs: u32, row: String) -> Result<(), Error> {
        let f = self.file_for(secs)?;
        if f.nat_bytes + row.len() > MAX_NAT_BYTES_PER_FILE {
            self.nat_dropped += 1;
            return Ok(());
        }
        f.nat_bytes += row.len() + META_NAT.len() + 8;
        f.nat.push(row);
        Ok(())
    }

    fn finish_slot(&mut self, slot: u32) -> Result<(), Error> {
        let Some(mut f) = self.open.remove(&slot) else {
            return Ok(());
        };
        self.finished.insert(slot);
        let flows = f.w.records_written();
        let h = f.w.header_mut();
        h.flows = flows;
        h.cap_start = slot;
        h.cap_end = f.last_secs.max(slot);
        h.exporters = f.exporters.iter().copied().collect();
        h.metadata = self.meta.clone();
        h.metadata
            .extend(f.nat.drain(..).map(|r| (META_NAT.to_string(), r)));
        let tmp = f.tmp.clone();
        f.w.finish_durable().map_err(|e| Error::native(&tmp, e))?;
        std::fs::rename(&f.tmp, &f.path).map_err(|e| io_at(&f.path, e))?;
        self.files.push(f.path);
        Ok(())
    }

    /// Finishes every open file; returns the files written, in order.
    pub fn finish(mut self) -> Result<(Vec<PathBuf>, u64), Error> {
        let slots: Vec<u32> = self.open.keys().copied().collect();
        for s in slots {
            self.finish_slot(s)?;
        }
        self.files.sort();
        Ok((self.files, self.nat_dropped))
    }
}

/// An ft stream of v5 records on a writer (stdout for `-o -`).
pub struct FtStream<W: Write> {
    w: FtWriter<W>,
    batch: Vec<Record>,
}

impl<W: Write> std::fmt::Debug for FtStream<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtStream")
            .field("batch", &self.batch.len())
            .finish_non_exhaustive()
    }
}

impl<W: Write> FtStream<W> {
    /// Writes the stream header.
    pub fn new(w: W, comment: &str) -> Result<Self, Error> {
        let h = FtHeader {
            byte_order: ByteOrder::host(),
            stream_version: 3,
            export_version: Some(5),
            flags: Some(formats::ft::FLAG_STREAMING),
            comments: Some(comment.to_string()),
            ..FtHeader::default()
        };
        let w = FtWriter::new(w, &h, None).map_err(Error::ft)?;
        Ok(FtStream {
            w,
            batch: Vec::with_capacity(1024),
        })
    }

    /// Queues one record.
    pub fn write(&mut self, r: &Record) -> Result<(), Error> {
        self.batch.push(*r);
        if self.batch.len() >= 1024 {
            self.w.write_all(&self.batch).map_err(Error::ft)?;
            self.batch.clear();
        }
        Ok(())
    }

    /// Writes what is queued and ends the stream.
    pub fn finish(mut self) -> Result<W, Error> {
        self.w.write_all(&self.batch).map_err(Error::ft)?;
        self.w.finish().map_err(Error::ft)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_names_like_the_collector() {
        let t = 1_767_225_600 + 301; // 2026-01-01 00:05:01 UTC
        assert_eq!(slot_of(t, Tz::Utc), 1_767_225_600 + 300);
        let p = slot_path(Path::new("/d"), slot_of(t, Tz::Utc), Tz::Utc, 3);
        assert_eq!(
            p,
            Path::new("/d/2026/2026-01/2026-01-01/nf-v05.2026-01-01.000500+0000")
        );
        let p = slot_path(
            Path::new("/d"),
            slot_of(t, Tz::Fixed(-5 * 3600)),
            Tz::Fixed(-5 * 3600),
            1,
        );
        assert_eq!(p, Path::new("/d/2025/nf-v05.2025-12-31.190500-0500"));
        assert_eq!(slot_of(t, Tz::Fixed(5 * 3600 + 1800)), 1_767_225_600 + 300);
    }
}
