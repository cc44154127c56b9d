//! The flow directory: which slot a time belongs to, what a file is
//! called, which nesting directory it goes in, how it gets there without a
//! reader ever seeing half of it, how the directory is listed, and how a
//! crashed writer's leftovers are finalized.
//!
//! * [`Schedule`] / [`Slot`]: rotation slots, anchored at **local
//!   midnight** of a [`Zone`](crate::time::Zone) (flow-tools' rule, spec
//!   §4.2); the last slot of a day ends at the next local midnight even on
//!   23- and 25-hour days.
//! * [`FileName`]: `<prefix>vVV.YYYY-MM-DD.HHMMSS±hhmm` in local time, with
//!   the prefixes `nf-` / `tmp-nf-` (native) and `ft-` / `tmp-` (ft, exactly
//!   flow-tools' names), an optional `.N` for a second file of one slot;
//!   [`FileName::parse`] reads every name [`FileName`] writes.
//!   [`nest_dir`] is the `-N` directory; [`first_free`] picks a name that
//!   is neither finished nor being written.
//! * [`TmpFile`]: create `tmp-…`, the caller writes and finishes its
//!   format, then [`TmpFile::commit`] fsyncs, renames to the final name
//!   and fsyncs the directory. (Callers that publish many files at once
//!   split it into [`TmpFile::sync`] and [`publish_all`].)
//! * [`list`]: the flow files under a directory, nested or not, in time
//!   order; finished only or with `tmp-` files; anything that is not a
//!   regular file named by [`FileName`] is left out.
//! * [`recover_file`] / [`recover_dir`]: a `tmp-` file left by a killed
//!   writer becomes a finished file of the format its bytes are in.
//!
//! Names, slots and directories are pure functions of a timestamp and a
//! zone; nothing here reads the clock. Every failure is an
//! [`ArchiveError`] naming the path, what was being done and the OS error.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

mod list;
mod name;
mod recover;
mod slot;
mod tmp;

pub use list::{list, sniff, ArchiveFile, ListOptions, Listing, MAX_DEPTH};
pub use name::{first_free, nest_dir, FileKind, FileName, NESTING, SPAN_LATER};
pub use recover::{recover_dir, recover_file, Recovered, RECOVERING};
pub use slot::{Schedule, Slot, DEFAULT_PERIOD};
pub use tmp::{publish_all, sync_dir, Synced, TmpFile};

/// What was being done to a path when the OS said no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Creating a directory (and its parents).
    CreateDir,
    /// Creating a new file.
    Create,
    /// Opening an existing file.
    Open,
    /// Reading a file.
    Read,
    /// Writing a file.
    Write,
    /// Making a file durable (fsync).
    Sync,
    /// Making a directory's entries durable (fsync of the directory).
    SyncDir,
    /// Removing a file.
    Remove,
    /// Reading a directory's entries.
    ReadDir,
    /// Looking a path up (stat).
    Stat,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::CreateDir => "create directory",
            Op::Create => "create",
            Op::Open => "open",
            Op::Read => "read",
            Op::Write => "write",
            Op::Sync => "fsync",
            Op::SyncDir => "fsync directory",
            Op::Remove => "remove",
            Op::ReadDir => "read directory",
            Op::Stat => "stat",
        })
    }
}

/// Why something in the flow directory could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// An OS call on `path` failed.
    #[error("{}: cannot {op}: {}", path.display(), io_reason(source))]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        op: Op,
        /// The OS error.
        source: io::Error,
    },
    /// Renaming a finished file into place failed.
    #[error("cannot rename {} to {}: {}", from.display(), to.display(), io_reason(source))]
    Rename {
        /// The `tmp-` (or work) file, still there.
        from: PathBuf,
        /// The final name.
        to: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A directory was expected.
    #[error("{}: not a directory", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Another process holds the file's lock: a writer is still at work.
    #[error("{}: in use by another running collector; left alone", path.display())]
    Locked {
        /// The `tmp-` file.
        path: PathBuf,
    },
    /// The bytes are neither a native nor an ft flow file.
    #[error("{}: not a flow file; left alone", path.display())]
    NotFlowFile {
        /// The file.
        path: PathBuf,
    },
    /// The name is not a `tmp-` name of [`FileName`]'s.
    #[error("{}: not a tmp- flow file name", path.display())]
    NotTmpName {
        /// The file.
        path: PathBuf,
    },
    /// Every candidate name is taken.
    #[error("{}: no free file name from {first} on", dir.display())]
    NoFreeName {
        /// The directory.
        dir: PathBuf,
        /// The first candidate tried.
        first: String,
    },
    /// A native flow file could not be read or written.
    #[error("{}: {source}", path.display())]
    Native {
        /// The file.
        path: PathBuf,
        /// What the native reader or writer said.
        source: crate::native::NativeError,
    },
    /// An ft flow file could not be read or written.
    #[error("{}: {source}", path.display())]
    Ft {
        /// The file.
        path: PathBuf,
        /// What the ft reader or writer said.
        source: crate::ft::FtError,
    },
}

impl ArchiveError {
    /// An [`ArchiveError::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, op: Op, source: io::Error) -> Self {
        ArchiveError::Io {
            path: path.into(),
            op,
            source,
        }
    }

    /// The path the error is about (for a rename, the file being renamed).
    pub fn path(&self) -> &Path {
        match self {
            ArchiveError::Io { path, .. }
            | ArchiveError::NotADirectory { path }
            | ArchiveError::Locked { path }
            | ArchiveError::NotFlowFile { path }
            | ArchiveError::NotTmpName { path }
            | ArchiveError::Native { path, .. }
            | ArchiveError::Ft { path, .. } => path,
            ArchiveError::Rename { from, .. } => from,
            ArchiveError::NoFreeName { dir, .. } => dir,
        }
    }

    /// The OS error underneath, if there is one (also inside a native or
    /// ft error), so callers can match on its kind without reading text.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            ArchiveError::Io { source, .. } | ArchiveError::Rename { source, .. } => Some(source),
            ArchiveError::Native {
                source: crate::native::NativeError::Io(e),
                ..
            } => Some(e),
            ArchiveError::Ft {
                source: crate::ft::FtError::Io(e) | crate::ft::FtError::Inflate { source: e, .. },
                ..
            } => Some(e),
            _ => None,
        }
    }

    /// An [`ArchiveError::Native`] on `path`.
    pub fn native(path: &Path, source: crate::native::NativeError) -> Self {
        ArchiveError::Native {
            path: path.to_path_buf(),
            source,
        }
    }

    /// An [`ArchiveError::Ft`] on `path`.
    pub fn ft(path: &Path, source: crate::ft::FtError) -> Self {
        ArchiveError::Ft {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The OS's reason without Rust's " (os error N)" suffix: "No space left
/// on device".
pub fn io_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_path_the_operation_and_the_reason() {
        let e = ArchiveError::io(
            "/flows/2026",
            Op::CreateDir,
            io::Error::from_raw_os_error(libc::ENOSPC),
        );
        assert_eq!(
            e.to_string(),
            "/flows/2026: cannot create directory: No space left on device"
        );
        assert_eq!(e.path(), Path::new("/flows/2026"));
        assert_eq!(
            e.io_error().map(|e| e.raw_os_error()),
            Some(Some(libc::ENOSPC))
        );
        let e = ArchiveError::native(
            Path::new("f"),
            crate::native::NativeError::Io(io::ErrorKind::BrokenPipe.into()),
        );
        assert_eq!(
            e.io_error().map(io::Error::kind),
            Some(io::ErrorKind::BrokenPipe)
        );
        assert!(ArchiveError::NotFlowFile { path: "x".into() }
            .io_error()
            .is_none());
    }
}
