//! Writing a file so that no reader ever sees half of it under its final
//! name: [`TmpFile`].
//!
//! The sequence is always the same: create the temporary name (never
//! replacing anything), hand the caller a descriptor to write through,
//! then, once the caller's format is finished and flushed, fsync the file,
//! rename it to its final name and fsync the directory, so that after a
//! crash the file is either absent or complete under its final name (and
//! a half-written one stays under its temporary name, for
//! [`super::recover_file`]).
//!
//! Nothing happens in `Drop`: a `TmpFile` dropped without [`TmpFile::commit`]
//! or [`TmpFile::abort`] leaves its temporary file on disk, which is what a
//! writer that hits a disk error wants (its flushed part is recoverable).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::{first_free, ArchiveError, FileName, Op};

/// A file being written under a temporary name; see the module docs.
#[derive(Debug)]
pub struct TmpFile {
    file: File,
    tmp: PathBuf,
    dest: PathBuf,
}

/// A temporary file made durable, not yet under its final name.
#[derive(Debug)]
pub struct Synced {
    tmp: PathBuf,
    dest: PathBuf,
}

/// Takes a non-blocking exclusive `flock`; false if another open file
/// holds it (the lock [`TmpFile::create`] takes, which recovery tests).
pub(super) fn try_lock(f: &File) -> bool {
    // SAFETY: flock on a descriptor this `File` owns; no memory is touched.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// fsyncs directory `dir` (`""` is the current one), so that the entries
/// created or renamed in it are durable.
pub fn sync_dir(dir: &Path) -> Result<(), ArchiveError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ArchiveError::io(dir, Op::SyncDir, e))
}

fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new(""))
}

impl TmpFile {
    /// Creates `tmp` for writing (mode 0644 before the umask; fails if
    /// anything is there already) and takes its lock, to become `dest` at
    /// [`commit`](Self::commit). The lock is best effort: a file system
    /// without `flock` still gets the file.
    pub fn create(tmp: impl Into<PathBuf>, dest: impl Into<PathBuf>) -> Result<Self, ArchiveError> {
        let mut opts = OpenOptions::new();
        opts.write(true).mode(0o644);
        Self::create_with(tmp, dest, &opts)
    }

    /// [`create`](Self::create) with the caller's open options (for
    /// example `O_DIRECT` as custom flags); `create_new` is always set.
    pub fn create_with(
        tmp: impl Into<PathBuf>,
        dest: impl Into<PathBuf>,
        opts: &OpenOptions,
    ) -> Result<Self, ArchiveError> {
        let tmp = tmp.into();
        let mut opts = opts.clone();
        opts.create_new(true);
        let file = opts
            .open(&tmp)
            .map_err(|e| ArchiveError::io(&tmp, Op::Create, e))?;
        try_lock(&file);
        Ok(TmpFile {
            file,
            tmp,
            dest: dest.into(),
        })
    }

    /// The `tmp-` form of `name` in `dir`, to become its finished form.
    pub fn for_name(dir: &Path, name: FileName) -> Result<Self, ArchiveError> {
        Self::create(
            dir.join(name.as_tmp().to_string()),
            dir.join(name.as_finished().to_string()),
        )
    }

    /// A new file of the flow directory in one call: creates `dir` (and
    /// its parents) if missing, picks the first of `candidates` that is
    /// free there ([`first_free`]) and creates its `tmp-` form. Returns the
    /// file and the (finished) name chosen.
    pub fn create_free(
        dir: &Path,
        candidates: impl IntoIterator<Item = FileName>,
    ) -> Result<(Self, FileName), ArchiveError> {
        std::fs::create_dir_all(dir).map_err(|e| ArchiveError::io(dir, Op::CreateDir, e))?;
        let name = first_free(dir, candidates)?;
        Ok((Self::for_name(dir, name)?, name))
    }

    /// The open file. `&File` is `Write`, or see [`writer`](Self::writer).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// A second descriptor of the file for a writer to own (a
    /// `BufWriter<File>` inside a format writer); the lock and the fsync
    /// at commit cover what is written through it.
    pub fn writer(&self) -> Result<File, ArchiveError> {
        self.file
            .try_clone()
            .map_err(|e| ArchiveError::io(&self.tmp, Op::Open, e))
    }

    /// Where the file is being written.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Where it goes at commit.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Changes the final name (when the one chosen was taken meanwhile).
    pub fn set_dest(&mut self, dest: impl Into<PathBuf>) {
        self.dest = dest.into();
    }

    /// Makes the file durable under its temporary name (fsync). The caller
    /// must have finished and flushed its writer first.
    pub fn sync(self) -> Result<Synced, ArchiveError> {
        self.file
            .sync_all()
            .map_err(|e| ArchiveError::io(&self.tmp, Op::Sync, e))?;
        Ok(Synced {
            tmp: self.tmp,
            dest: self.dest,
        })
    }

    /// fsync, rename to the final name (replacing a file there: choose the
    /// name with [`super::first_free`]), fsync the directory. Returns the
    /// final path. On an error the file stays under whichever name it had.
    pub fn commit(self) -> Result<PathBuf, ArchiveError> {
        self.sync()?.publish()
    }

    /// Gives up: closes and removes the temporary file.
    pub fn abort(self) -> Result<(), ArchiveError> {
        let TmpFile { file, tmp, .. } = self;
        drop(file);
        std::fs::remove_file(&tmp).map_err(|e| ArchiveError::io(&tmp, Op::Remove, e))
    }
}

impl Synced {
    /// Where the file is now.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Where it goes.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    fn rename(&self) -> Result<(), ArchiveError> {
        if self.tmp == self.dest {
            return Ok(());
        }
        std::fs::rename(&self.tmp, &self.dest).map_err(|source| ArchiveError::Rename {
            from: self.tmp.clone(),
            to: self.dest.clone(),
            source,
        })
    }

    /// Renames the file to its final name and fsyncs the directory.
    pub fn publish(self) -> Result<PathBuf, ArchiveError> {
        self.rename()?;
        sync_dir(parent(&self.dest))?;
        Ok(self.dest)
    }

    /// Removes the file (it was never published).
    pub fn abort(self) -> Result<(), ArchiveError> {
        std::fs::remove_file(&self.tmp).map_err(|e| ArchiveError::io(&self.tmp, Op::Remove, e))
    }
}

/// Renames every file to its final name, in order, then fsyncs each
/// directory once. Stops at the first rename that fails (the files before
/// it are published, the rest are still under their temporary names).
pub fn publish_all(files: Vec<Synced>) -> Result<Vec<PathBuf>, ArchiveError> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        f.rename()?;
        let d = parent(&f.dest).to_path_buf();
        if !dirs.contains(&d) {
            dirs.push(d);
        }
        out.push(f.dest);
    }
    for d in dirs {
        sync_dir(&d)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::archive::FileKind;
    use crate::time::Zone;

    #[test]
    fn a_tmp_file_appears_under_its_final_name_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let name = FileName::new(FileKind::Native, 5, 1_795_313_700, Zone::UTC);
        let t = TmpFile::for_name(dir.path(), name).unwrap();
        assert_eq!(
            t.path(),
            dir.path().join("tmp-nf-v05.2026-11-22.021500+0000")
        );
        assert_eq!(t.dest(), dir.path().join("nf-v05.2026-11-22.021500+0000"));
        let mut w = std::io::BufWriter::new(t.writer().unwrap());
        w.write_all(b"flows").unwrap();
        w.flush().unwrap();
        drop(w);
        assert!(!t.dest().exists());
        let tmp = t.path().to_path_buf();
        let fin = t.commit().unwrap();
        assert!(!tmp.exists());
        assert_eq!(std::fs::read(&fin).unwrap(), b"flows");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&fin).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o644, 0, "{mode:o}");
    }

    #[test]
    fn create_free_makes_the_directory_and_skips_taken_names() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("2026/2026-11");
        let name = FileName::new(FileKind::Ft, 5, 1_795_313_700, Zone::UTC);
        let (a, got) = TmpFile::create_free(&nested, name.later(Zone::UTC)).unwrap();
        assert_eq!(got, name);
        assert_eq!(a.path(), nested.join("tmp-v05.2026-11-22.021500+0000"));
        let (b, got) = TmpFile::create_free(&nested, name.later(Zone::UTC)).unwrap();
        assert_eq!(got.time, name.time + 1, "the first is being written");
        assert_eq!(b.dest(), nested.join("ft-v05.2026-11-22.021501+0000"));
    }

    #[test]
    fn a_tmp_file_never_replaces_anything_and_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp-x");
        std::fs::write(&tmp, "someone else's").unwrap();
        let e = TmpFile::create(&tmp, dir.path().join("x")).unwrap_err();
        assert!(matches!(&e, ArchiveError::Io { op: Op::Create, .. }), "{e}");
        assert_eq!(
            e.io_error().map(std::io::Error::kind),
            Some(std::io::ErrorKind::AlreadyExists)
        );
        assert_eq!(std::fs::read(&tmp).unwrap(), b"someone else's");
        let t = TmpFile::create(dir.path().join("tmp-y"), dir.path().join("y")).unwrap();
        let other = File::open(t.path()).unwrap();
        assert!(!try_lock(&other), "the writer holds the lock");
        let p = t.path().to_path_buf();
        drop(t);
        assert!(p.exists(), "dropping leaves the file for recovery");
        assert!(try_lock(&other), "the lock goes with the writer");
    }

    #[test]
    fn abort_removes_and_publish_all_renames_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let t = TmpFile::create(dir.path().join(".a.tmp"), dir.path().join("a")).unwrap();
        let p = t.path().to_path_buf();
        t.abort().unwrap();
        assert!(!p.exists());
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let mut synced = Vec::new();
        for (d, n) in [(dir.path(), "b"), (sub.as_path(), "c"), (dir.path(), "d")] {
            let t = TmpFile::create(d.join(format!(".{n}.tmp")), d.join(n)).unwrap();
            t.file().write_all(n.as_bytes()).unwrap();
            synced.push(t.sync().unwrap());
        }
        assert!(!dir.path().join("b").exists());
        let done = publish_all(synced).unwrap();
        assert_eq!(
            done,
            [dir.path().join("b"), sub.join("c"), dir.path().join("d")]
        );
        assert_eq!(std::fs::read(sub.join("c")).unwrap(), b"c");
        assert!(!sub.join(".c.tmp").exists());
    }

    #[test]
    fn a_failed_rename_leaves_the_tmp_file_and_says_both_names() {
        let dir = tempfile::tempdir().unwrap();
        let t = TmpFile::create(dir.path().join("tmp-z"), dir.path().join("gone/z")).unwrap();
        let tmp = t.path().to_path_buf();
        let e = t.commit().unwrap_err();
        assert!(matches!(e, ArchiveError::Rename { .. }), "{e}");
        let text = e.to_string();
        assert!(text.contains("tmp-z") && text.contains("gone/z"), "{text}");
        assert!(tmp.exists());
    }
}
