//! Where exported rows go, and the guarantee that no half-written file
//! ever appears under a final name.
//!
//! Every file is written under a hidden temporary name in its final
//! directory (`.NAME.tmp-PID`; engines skip names starting with `.`) as a
//! [`TmpFile`], finished and fsynced ([`TmpFile::sync`]), and all are
//! renamed only when the whole export succeeded ([`Output::commit`],
//! [`publish_all`]). On any error [`Output::abort`] removes every
//! temporary file and every directory the export created (also on drop,
//! as a safety net). Standard output gets text rows directly.
//!
//! With `--partition`, rows go to one file per Hive partition
//! (`date=2026-11-22/hour=03/PREFIX-00000.parquet`), keyed by the flow's
//! start time in UTC. At most [`MAX_OPEN`] partition files are open at
//! once; the least recently used is finished early (still under its
//! temporary name) and a later row for it starts the next part number.
//!
//! Files are written by [`FileWriter`]: big aligned chunks with `O_DIRECT`
//! where the file system takes it, so the export neither fills the page
//! cache with gigabytes nobody reads back soon nor pays for it twice (the
//! copy on `write`, then the writeback that `fsync` waits for).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use formats::archive::{self, publish_all, ArchiveError, Op, Synced, TmpFile};

use parquet::errors::ParquetError;
use parquet::file::properties::WriterPropertiesPtr;
use parquet::schema::types::SchemaDescPtr;

use crate::columnar::{EncodedRowGroup, ParquetFile};
use crate::time::{push_date, DAY_MS, HOUR_MS};
use crate::{Error, Format, Partition};

/// Partition files open at once.
pub const MAX_OPEN: usize = 32;

/// Buffer of standard output.
const BUF: usize = 1 << 20;

/// Chunk of a single output file: one `write` each, a multiple of
/// [`ALIGN`] (direct writes of 1 and 4 MB run at the same speed on the
/// benchmark VM; 4 MB makes fewer calls).
pub const CHUNK: usize = 4 << 20;

/// Chunk of each partition file: [`MAX_OPEN`] of them may be open.
pub const PART_CHUNK: usize = 1 << 20;

/// Alignment of direct I/O buffers, offsets and lengths (the largest
/// logical block size in common use).
pub const ALIGN: usize = 4096;

/// A file written in chunk-sized `write` calls ([`CHUNK`] or [`PART_CHUNK`]). On Linux the file is
/// opened with `O_DIRECT` when the file system supports it: the chunks go
/// from an aligned buffer straight to the device, and the final `fsync`
/// finds nothing left to write back (buffered, the copy into the page
/// cache and its writeback cost about 2 CPU-seconds per GB on the
/// benchmark VM, as much as formatting the CSV). The last partial chunk is
/// written padded to [`ALIGN`] and the file truncated to its true length.
/// If a direct write is refused (`EINVAL`: a file system or device with
/// other alignment rules), the file is reopened without `O_DIRECT` and the
/// write goes on buffered.
pub struct FileWriter {
    file: File,
    path: PathBuf,
    direct: bool,
    /// `chunk + ALIGN` bytes; the chunk starts at `start`, aligned.
    buf: Vec<u8>,
    start: usize,
    /// Bytes per `write`, a multiple of [`ALIGN`].
    chunk: usize,
    /// Bytes of the chunk filled.
    len: usize,
    /// Bytes in the file so far.
    written: u64,
}

impl FileWriter {
    /// Creates `tmp`, which must not exist, as a [`TmpFile`] that becomes
    /// `dest` when committed, and a writer of it in `chunk`-byte writes
    /// (rounded up to a multiple of [`ALIGN`]).
    pub fn create_new(
        tmp: &Path,
        dest: &Path,
        chunk: usize,
    ) -> Result<(TmpFile, Self), ArchiveError> {
        let chunk = chunk.max(1).div_ceil(ALIGN) * ALIGN;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true);
        let (tmp_file, direct) = match Self::direct_create(&opts, tmp, dest) {
            Some(f) => (f, true),
            None => (TmpFile::create_with(tmp, dest, &opts)?, false),
        };
        let file = match tmp_file.writer() {
            Ok(f) => f,
            Err(e) => {
                let _ = tmp_file.abort();
                return Err(e);
            }
        };
        let buf = vec![0u8; chunk + ALIGN];
        let start = buf.as_ptr().align_offset(ALIGN).min(ALIGN);
        let w = FileWriter {
            file,
            path: tmp.to_path_buf(),
            direct,
            buf,
            start,
            chunk,
            len: 0,
            written: 0,
        };
        Ok((tmp_file, w))
    }

    /// The file created with `O_DIRECT`, if the system and the file system
    /// take it; `None` (the file not created) otherwise.
    #[cfg(target_os = "linux")]
    fn direct_create(opts: &std::fs::OpenOptions, tmp: &Path, dest: &Path) -> Option<TmpFile> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut o = opts.clone();
        o.custom_flags(libc::O_DIRECT);
        TmpFile::create_with(tmp, dest, &o).ok()
    }

    #[cfg(not(target_os = "linux"))]
    fn direct_create(_: &std::fs::OpenOptions, _: &Path, _: &Path) -> Option<TmpFile> {
        None
    }

    /// Writes `len` bytes of the chunk (a multiple of [`ALIGN`] when
    /// direct) at the end of the file.
    fn write_chunk(&mut self, len: usize) -> std::io::Result<()> {
        let mut done = 0;
        while done < len {
            let data = &self.buf[self.start + done..self.start + len];
            match self.file.write(data) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    done += n;
                    self.written += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if self.direct && e.raw_os_error() == Some(libc::EINVAL) => {
                    self.buffered()?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Goes on without `O_DIRECT`: the same file, opened again.
    fn buffered(&mut self) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().write(true).open(&self.path)?;
        file.seek(SeekFrom::Start(self.written))?;
        self.file = file;
        self.direct = false;
        Ok(())
    }

    /// Writes what is buffered and returns the file (not yet fsynced).
    pub fn finish(mut self) -> std::io::Result<File> {
        let len = self.len;
        if len > 0 {
            if self.direct {
                let padded = len.div_ceil(ALIGN) * ALIGN;
                self.buf[self.start + len..self.start + padded].fill(0);
                let end = self.written + len as u64;
                self.write_chunk(padded)?;
                self.file.set_len(end)?;
                self.written = end;
            } else {
                self.write_chunk(len)?;
            }
            self.len = 0;
        }
        Ok(self.file)
    }
}

impl Write for FileWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    fn write_all(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        while !data.is_empty() {
            let n = data.len().min(self.chunk - self.len);
            let at = self.start + self.len;
            self.buf[at..at + n].copy_from_slice(&data[..n]);
            self.len += n;
            data = &data[n..];
            if self.len == self.chunk {
                self.write_chunk(self.chunk)?;
                self.len = 0;
            }
        }
        Ok(())
    }

    /// Whole chunks only: a partial one is written by [`FileWriter::finish`].
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The partition of a row: `None` without `--partition`, else the hour
/// (`start_ms / HOUR_MS`, for `day` rounded down to midnight).
pub type PartKey = Option<i64>;

impl Partition {
    /// The key of a flow starting at `start_ms`.
    #[inline]
    pub fn key(self, start_ms: i64) -> i64 {
        match self {
            Partition::Hour => start_ms.div_euclid(HOUR_MS),
            Partition::Day => start_ms.div_euclid(DAY_MS) * 24,
        }
    }

    /// The Hive directory of a key: `date=YYYY-MM-DD/hour=HH` or
    /// `date=YYYY-MM-DD`.
    pub fn dir(self, key: i64) -> String {
        let mut v = b"date=".to_vec();
        push_date(&mut v, key.div_euclid(24));
        if self == Partition::Hour {
            v.extend_from_slice(b"/hour=");
            crate::time::push_digits(&mut v, key.rem_euclid(24) as u32, 2);
        }
        String::from_utf8_lossy(&v).into_owned()
    }
}

/// Encoded rows of one partition, ready to write.
pub enum Payload {
    /// CSV or JSON-lines text.
    Text(Vec<u8>),
    /// A Parquet row group.
    RowGroup(EncodedRowGroup),
}

/// Where the export goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Text on standard output.
    Stdout,
    /// One file.
    File(PathBuf),
    /// A partitioned table directory.
    Dir(PathBuf),
}

enum Sink {
    Text(FileWriter),
    Parquet(ParquetFile<FileWriter>),
}

struct OpenFile {
    file: TmpFile,
    sink: Sink,
    last_use: u64,
}

/// The files of one export run.
pub struct Output {
    format: Format,
    target: Target,
    partition: Option<Partition>,
    prefix: String,
    schema: SchemaDescPtr,
    props: WriterPropertiesPtr,
    stdout: Option<BufWriter<std::io::StdoutLock<'static>>>,
    open: HashMap<PartKey, OpenFile>,
    finished: Vec<Synced>,
    /// Temporary files left by a failed [`publish_all`], for abort.
    unpublished: Vec<PathBuf>,
    next_part: HashMap<PartKey, u32>,
    created_dirs: Vec<PathBuf>,
    clock: u64,
    done: bool,
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Final paths of the files (empty for standard output).
    pub files: Vec<PathBuf>,
}

fn io_err(path: &Path, action: &'static str, e: &std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        action,
        reason: flowio::input::io_reason(e),
    }
}

/// An archive error as the export words it: about the final name `dest`,
/// whatever temporary name the file had.
fn archive_err(dest: &Path, e: &ArchiveError) -> Error {
    let action = match e {
        ArchiveError::Rename { .. } => "cannot rename into place",
        ArchiveError::Io { op: Op::Sync, .. } => "cannot write",
        ArchiveError::Io { op: Op::Remove, .. } => "cannot remove",
        _ => "cannot create",
    };
    Error::Io {
        path: dest.to_path_buf(),
        action,
        reason: e
            .io_error()
            .map_or_else(|| e.to_string(), archive::io_reason),
    }
}

/// The OS reason inside a Parquet error when it is an I/O failure.
fn parquet_err(path: &Path, e: ParquetError) -> Error {
    if let ParquetError::External(inner) = &e {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return io_err(path, "cannot write", io);
        }
    }
    Error::ParquetWrite {
        path: path.to_path_buf(),
        source: e,
    }
}

impl Output {
    /// Prepares an export to `target`; creates nothing yet. `prefix` names
    /// partition files (`PREFIX-00000.parquet`), unique per run so that
    /// periodic exports add files to a table instead of replacing them.
    pub fn new(
        format: Format,
        target: Target,
        partition: Option<Partition>,
        prefix: String,
        schema: SchemaDescPtr,
        props: WriterPropertiesPtr,
    ) -> Result<Self, Error> {
        match &target {
            Target::File(p) if p.is_dir() => return Err(Error::OutputIsDirectory(p.clone())),
            Target::Dir(p) if p.exists() && !p.is_dir() => {
                return Err(Error::NotADirectory(p.clone()))
            }
            _ => {}
        }
        let mut stdout = (target == Target::Stdout)
            .then(|| BufWriter::with_capacity(BUF, std::io::stdout().lock()));
        if let (Some(out), Format::Csv) = (&mut stdout, format) {
            let header = crate::columns::csv_header();
            out.write_all(header.as_bytes())
                .and_then(|_| out.write_all(b"\n"))
                .map_err(Error::Stdout)?;
        }
        Ok(Output {
            format,
            target,
            partition,
            prefix,
            schema,
            props,
            stdout,
            open: HashMap::new(),
            finished: Vec::new(),
            unpublished: Vec::new(),
            next_part: HashMap::new(),
            created_dirs: Vec::new(),
            clock: 0,
            done: false,
        })
    }

    /// Writes one payload to the file of its partition.
    pub fn write(&mut self, key: PartKey, payload: Payload) -> Result<(), Error> {
        if let Some(out) = &mut self.stdout {
            if let Payload::Text(t) = payload {
                return out.write_all(&t).map_err(Error::Stdout);
            }
            return Err(Error::ParquetToStdout);
        }
        self.clock += 1;
        if !self.open.contains_key(&key) {
            if self.open.len() >= MAX_OPEN {
                self.close_least_recent()?;
            }
            let f = self.open_file(key)?;
            self.open.insert(key, f);
        }
        let clock = self.clock;
        let Some(f) = self.open.get_mut(&key) else {
            return Ok(());
        };
        f.last_use = clock;
        match (&mut f.sink, payload) {
            (Sink::Text(w), Payload::Text(t)) => w
                .write_all(&t)
                .map_err(|e| io_err(f.file.dest(), "cannot write", &e)),
            (Sink::Parquet(p), Payload::RowGroup(rg)) => {
                p.append(rg).map_err(|e| parquet_err(f.file.dest(), e))
            }
            _ => Err(Error::PayloadMismatch),
        }
    }

    fn close_least_recent(&mut self) -> Result<(), Error> {
        let Some(key) = self
            .open
            .iter()
            .min_by_key(|(_, f)| f.last_use)
            .map(|(k, _)| *k)
        else {
            return Ok(());
        };
        if let Some(f) = self.open.remove(&key) {
            self.finish_file(f)?;
        }
        Ok(())
    }

    fn make_dir(&mut self, dir: &Path) -> Result<(), Error> {
        let mut missing = Vec::new();
        let mut p = Some(dir);
        while let Some(d) = p {
            if d.as_os_str().is_empty() || d.exists() {
                break;
            }
            missing.push(d.to_path_buf());
            p = d.parent();
        }
        for d in missing.into_iter().rev() {
            match std::fs::create_dir(&d) {
                Ok(()) => self.created_dirs.push(d),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(&d, "cannot create directory", &e)),
            }
        }
        Ok(())
    }

    fn open_file(&mut self, key: PartKey) -> Result<OpenFile, Error> {
        let pid = std::process::id();
        let (tmp, dest) = match (&self.target, key, self.partition) {
            (Target::Dir(root), Some(k), Some(p)) => {
                let dir = root.join(p.dir(k));
                self.make_dir(&dir)?;
                let n = self.next_part.entry(key).or_insert(0);
                let name = format!("{}-{:05}.{}", self.prefix, n, self.format.extension());
                *n += 1;
                (dir.join(format!(".{name}.tmp-{pid}")), dir.join(name))
            }
            (Target::File(path), None, None) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "export".into());
                let dir = path.parent().unwrap_or(Path::new(""));
                (dir.join(format!(".{name}.tmp-{pid}")), path.clone())
            }
            _ => return Err(Error::UnexpectedPartition),
        };
        let chunk = match key {
            Some(_) => PART_CHUNK,
            None => CHUNK,
        };
        let (file, mut w) =
            FileWriter::create_new(&tmp, &dest, chunk).map_err(|e| archive_err(&dest, &e))?;
        let sink = match self.format {
            Format::Parquet => match ParquetFile::new(w, &self.schema, &self.props) {
                Ok(p) => Sink::Parquet(p),
                Err(e) => {
                    let _ = file.abort();
                    return Err(parquet_err(&dest, e));
                }
            },
            Format::Csv => {
                let header = crate::columns::csv_header();
                if let Err(e) = w
                    .write_all(header.as_bytes())
                    .and_then(|_| w.write_all(b"\n"))
                {
                    drop(w);
                    let _ = file.abort();
                    return Err(io_err(&dest, "cannot write", &e));
                }
                Sink::Text(w)
            }
            Format::Json => Sink::Text(w),
        };
        Ok(OpenFile {
            file,
            sink,
            last_use: self.clock,
        })
    }

    /// Finishes a file under its temporary name: footer, flush, fsync.
    /// On an error the temporary file is removed.
    fn finish_file(&mut self, f: OpenFile) -> Result<(), Error> {
        let OpenFile { file, sink, .. } = f;
        let dest = file.dest().to_path_buf();
        let written = match sink {
            Sink::Text(w) => Ok(w),
            Sink::Parquet(p) => p.finish().map_err(|e| parquet_err(&dest, e)),
        }
        .and_then(|w| w.finish().map_err(|e| io_err(&dest, "cannot write", &e)));
        if let Err(e) = written {
            let _ = file.abort();
            return Err(e);
        }
        let path = file.path().to_path_buf();
        match file.sync() {
            Ok(synced) => {
                self.finished.push(synced);
                Ok(())
            }
            Err(e) => {
                // The TmpFile is gone with the failed sync; its file is not.
                self.unpublished.push(path);
                Err(archive_err(&dest, &e))
            }
        }
    }

    /// Finishes every file and renames each to its final name. On error
    /// the temporary files are removed.
    pub fn commit(mut self) -> Result<Written, Error> {
        let r = self.commit_inner();
        if r.is_err() {
            self.abort();
        }
        r
    }

    fn commit_inner(&mut self) -> Result<Written, Error> {
        if let Some(out) = &mut self.stdout {
            out.flush().map_err(Error::Stdout)?;
            self.done = true;
            return Ok(Written::default());
        }
        if self.open.is_empty() && self.finished.is_empty() {
            if let Target::File(_) = self.target {
                // No flow selected: still an empty, valid file.
                let f = self.open_file(None)?;
                self.open.insert(None, f);
            }
        }
        let mut open: Vec<(PartKey, OpenFile)> = self.open.drain().collect();
        open.sort_by_key(|(k, _)| *k);
        let mut open = open.into_iter();
        while let Some((_, f)) = open.next() {
            if let Err(e) = self.finish_file(f) {
                // The rest go back, for abort to remove.
                self.open.extend(open);
                return Err(e);
            }
        }
        let finished = std::mem::take(&mut self.finished);
        let dests: Vec<PathBuf> = finished.iter().map(|f| f.dest().to_path_buf()).collect();
        self.unpublished = finished.iter().map(|f| f.path().to_path_buf()).collect();
        let mut files = match publish_all(finished) {
            Ok(files) => files,
            // Every file is in place; only a directory's fsync failed,
            // which the export has always taken as best effort.
            Err(ArchiveError::Io {
                op: Op::SyncDir, ..
            }) => dests,
            Err(e) => {
                let dest = match &e {
                    ArchiveError::Rename { to, .. } => to.clone(),
                    e => e.path().to_path_buf(),
                };
                return Err(archive_err(&dest, &e));
            }
        };
        self.unpublished.clear();
        self.done = true;
        files.sort();
        Ok(Written { files })
    }

    /// Removes every temporary file and every directory this export
    /// created (if empty). Idempotent.
    pub fn abort(&mut self) {
        if self.done {
            return;
        }
        for (_, f) in self.open.drain() {
            drop(f.sink);
            let _ = f.file.abort();
        }
        for f in self.finished.drain(..) {
            let _ = f.abort();
        }
        // After a failed rename: the files not yet renamed (removing the
        // ones already in place fails, harmlessly).
        for tmp in self.unpublished.drain(..) {
            let _ = std::fs::remove_file(&tmp);
        }
        for d in self.created_dirs.drain(..).rev() {
            let _ = std::fs::remove_dir(&d);
        }
        self.done = true;
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Only on an error path that did not call abort (or a panic):
        // never leave temporary files behind.
        self.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(target: Target, partition: Option<Partition>) -> Output {
        let schema = crate::columnar::schema(false).unwrap();
        let props = crate::columnar::properties(false, 1).unwrap();
        Output::new(
            Format::Csv,
            target,
            partition,
            "part-test".into(),
            schema,
            props,
        )
        .unwrap()
    }

    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn files_appear_under_their_names_only_at_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = output(Target::Dir(dir.path().to_path_buf()), Some(Partition::Day));
        for day in [3, 1] {
            let key = Some(Partition::Day.key(day * DAY_MS));
            out.write(key, Payload::Text(b"row\n".to_vec())).unwrap();
        }
        let day = dir.path().join("date=1970-01-02");
        let tmp = day.join(format!(".part-test-00000.csv.tmp-{}", std::process::id()));
        assert!(tmp.is_file() && entries(&day) == 1);
        let written = out.commit().unwrap();
        assert!(!tmp.exists() && entries(&day) == 1);
        assert_eq!(
            written.files,
            [
                dir.path().join("date=1970-01-02/part-test-00000.csv"),
                dir.path().join("date=1970-01-04/part-test-00000.csv"),
            ]
        );
        let text = std::fs::read_to_string(&written.files[0]).unwrap();
        assert_eq!(text, format!("{}\nrow\n", crate::columns::csv_header()));
        assert_eq!(entries(&dir.path().join("date=1970-01-04")), 1);
    }

    /// A rename that fails at commit (something put a directory where the
    /// file goes) is an error naming the file, and no temporary file stays.
    #[test]
    fn a_failed_rename_at_commit_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.csv");
        let mut out = output(Target::File(dest.clone()), None);
        out.write(None, Payload::Text(b"row\n".to_vec())).unwrap();
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("keep"), b"").unwrap();
        let e = out.commit().unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: cannot rename into place: ", dest.display())),
            "{e}"
        );
        assert_eq!(entries(dir.path()), 1, "only the directory in the way");
        assert!(dest.join("keep").is_file() && entries(&dest) == 1);
    }

    /// Whole chunks, a padded tail cut back to its length, and writes of
    /// every size in between give exactly the bytes written, whether the
    /// file system takes `O_DIRECT` (the temporary directory) or not.
    #[test]
    fn file_writer_writes_exactly_the_bytes_given() {
        let dir = tempfile::tempdir().unwrap();
        let mut roots = vec![dir.path().to_path_buf()];
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            roots.push(shm.to_path_buf());
        }
        for (k, root) in roots.iter().enumerate() {
            for total in [
                0usize,
                1,
                ALIGN - 1,
                ALIGN,
                CHUNK,
                CHUNK + 1,
                2 * CHUNK + 777,
            ] {
                for chunk in [CHUNK, PART_CHUNK, 3 * ALIGN + 1] {
                    let path = root.join(format!(
                        ".file-writer-test-{}-{k}-{total}-{chunk}",
                        std::process::id()
                    ));
                    let data: Vec<u8> = (0..total).map(|i| (i * 7 + i / 4096) as u8).collect();
                    let (tmp, mut w) = FileWriter::create_new(&path, &path, chunk).unwrap();
                    let mut rest = &data[..];
                    let mut step = 1;
                    while !rest.is_empty() {
                        let n = step.min(rest.len());
                        w.write_all(&rest[..n]).unwrap();
                        rest = &rest[n..];
                        step = step * 3 + 1;
                    }
                    drop(w.finish().unwrap());
                    let synced = tmp.sync().unwrap();
                    let got = std::fs::read(&path).unwrap();
                    synced.abort().unwrap();
                    assert!(
                        got == data,
                        "{total} bytes in {chunk}-byte chunks under {}",
                        root.display()
                    );
                }
            }
        }
    }
}
