//! Listing a flow directory: the files [`FileName`] names, nested or not,
//! in time order.

use std::path::{Path, PathBuf};

use super::recover::RECOVERING;
use super::{ArchiveError, FileName, Op};
use crate::Detected;

/// Deepest directory level entered below the flow directory (nesting uses
/// three).
pub const MAX_DEPTH: usize = 16;

/// What [`list`] includes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Also files still being written (`tmp-` names), and the work files
    /// of an interrupted recovery ([`Listing::recovering`]).
    pub include_tmp: bool,
    /// Enter directories reached through symbolic links (files behind
    /// links are never listed: only regular files are).
    pub follow_dir_links: bool,
}

/// One flow file found by [`list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveFile {
    /// Full path (the flow directory joined with [`rel`](Self::rel)).
    pub path: PathBuf,
    /// Path below the flow directory, `/`-separated: the file's identity
    /// whatever the directory is called.
    pub rel: String,
    /// What the name says.
    pub name: FileName,
    /// Size in bytes when listed.
    pub size: u64,
}

/// The flow files under a directory, oldest first (by the time in the
/// name, ties by `rel`), and what could not be looked at.
#[derive(Debug, Default)]
pub struct Listing {
    /// The files.
    pub files: Vec<ArchiveFile>,
    /// `<tmp name>.recovering` files (with [`ListOptions::include_tmp`]):
    /// work files of a recovery that was interrupted.
    pub recovering: Vec<PathBuf>,
    /// Subdirectories that could not be read (their files are unknown).
    pub unreadable: Vec<ArchiveError>,
}

/// Lists the flow files under `root` (recursively, [`MAX_DEPTH`] levels).
/// Only regular files with a [`FileName`] are listed; names that are not
/// UTF-8 or hold a newline are passed over (no name of ours does). Fails
/// only when `root` itself cannot be read.
pub fn list(root: &Path, opts: ListOptions) -> Result<Listing, ArchiveError> {
    let meta = std::fs::metadata(root).map_err(|e| ArchiveError::io(root, Op::ReadDir, e))?;
    if !meta.is_dir() {
        return Err(ArchiveError::NotADirectory {
            path: root.to_path_buf(),
        });
    }
    let mut out = Listing::default();
    let rd = std::fs::read_dir(root).map_err(|e| ArchiveError::io(root, Op::ReadDir, e))?;
    walk(rd, root, "", opts, 0, &mut out);
    out.files
        .sort_by(|a, b| (a.name.time, &a.rel).cmp(&(b.name.time, &b.rel)));
    out.recovering.sort();
    Ok(out)
}

fn walk(
    rd: std::fs::ReadDir,
    dir: &Path,
    prefix: &str,
    opts: ListOptions,
    depth: usize,
    out: &mut Listing,
) {
    for entry in rd {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.unreadable.push(ArchiveError::io(dir, Op::ReadDir, e));
                return;
            }
        };
        let os_name = entry.file_name();
        let Some(name) = os_name.to_str() else {
            continue;
        };
        if name.contains('\n') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        let is_dir = kind.is_dir()
            || (kind.is_symlink()
                && opts.follow_dir_links
                && std::fs::metadata(&path).is_ok_and(|m| m.is_dir()));
        if is_dir {
            if depth < MAX_DEPTH {
                match std::fs::read_dir(&path) {
                    Ok(rd) => walk(rd, &path, &rel, opts, depth + 1, out),
                    Err(e) => out.unreadable.push(ArchiveError::io(&path, Op::ReadDir, e)),
                }
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        match FileName::parse(name) {
            Some(n) if opts.include_tmp || !n.tmp => out.files.push(ArchiveFile {
                size: entry.metadata().map(|m| m.len()).unwrap_or(0),
                path,
                rel,
                name: n,
            }),
            Some(_) => {}
            None => {
                let leftover = name
                    .strip_suffix(RECOVERING)
                    .and_then(FileName::parse)
                    .is_some_and(|n| n.tmp);
                if opts.include_tmp && leftover {
                    out.recovering.push(path);
                }
            }
        }
    }
}

/// What the first bytes of the file at `path` are.
pub fn sniff(path: &Path) -> Result<Detected, ArchiveError> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| ArchiveError::io(path, Op::Open, e))?;
    let mut prefix = Vec::with_capacity(8);
    f.take(8)
        .read_to_end(&mut prefix)
        .map_err(|e| ArchiveError::io(path, Op::Read, e))?;
    Ok(crate::detect(&prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    fn rels(l: &Listing) -> Vec<&str> {
        l.files.iter().map(|f| f.rel.as_str()).collect()
    }

    #[test]
    fn listing_is_in_time_order_across_nesting_and_zones() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // 02:20 UTC written at -05:00 sorts after 02:15 UTC at +00:00,
        // whatever the names' text order.
        touch(
            &d.join("2026/2026-11/2026-11-21/ft-v05.2026-11-21.212000-0500"),
            b"",
        );
        touch(
            &d.join("2026/2026-11/2026-11-22/nf-v05.2026-11-22.021500+0000"),
            b"x",
        );
        touch(&d.join("nf-v05.2026-11-22.021000+0000"), b"");
        touch(&d.join("nf-v05.2026-11-22.021000+0000.1"), b"");
        touch(&d.join("tmp-nf-v05.2026-11-22.022500+0000"), b"");
        touch(&d.join("tmp-v05.2026-11-22.022500+0000.recovering"), b"");
        touch(&d.join("README"), b"");
        touch(&d.join("nf-v05.2026-11-22.021000+0000.bak"), b"");
        std::fs::create_dir(d.join("ft-v05.2026-11-22.000000+0000")).unwrap();
        std::os::unix::fs::symlink(
            d.join("nf-v05.2026-11-22.021000+0000"),
            d.join("nf-v05.2026-11-22.023000+0000"),
        )
        .unwrap();
        let l = list(d, ListOptions::default()).unwrap();
        assert_eq!(
            rels(&l),
            [
                "nf-v05.2026-11-22.021000+0000",
                "nf-v05.2026-11-22.021000+0000.1",
                "2026/2026-11/2026-11-22/nf-v05.2026-11-22.021500+0000",
                "2026/2026-11/2026-11-21/ft-v05.2026-11-21.212000-0500",
            ]
        );
        assert_eq!(l.files[2].size, 1);
        assert_eq!(
            l.files[2].path,
            d.join("2026/2026-11/2026-11-22/nf-v05.2026-11-22.021500+0000")
        );
        assert!(l.recovering.is_empty() && l.unreadable.is_empty());
        let l = list(
            d,
            ListOptions {
                include_tmp: true,
                ..ListOptions::default()
            },
        )
        .unwrap();
        assert_eq!(rels(&l).last(), Some(&"tmp-nf-v05.2026-11-22.022500+0000"));
        assert!(l.files.last().unwrap().name.tmp);
        assert_eq!(
            l.recovering,
            [d.join("tmp-v05.2026-11-22.022500+0000.recovering")]
        );
    }

    #[test]
    fn linked_directories_are_entered_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        touch(&elsewhere.path().join("nf-v05.2026-11-22.021000+0000"), b"");
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("2026")).unwrap();
        assert!(list(dir.path(), ListOptions::default())
            .unwrap()
            .files
            .is_empty());
        let l = list(
            dir.path(),
            ListOptions {
                follow_dir_links: true,
                ..ListOptions::default()
            },
        )
        .unwrap();
        assert_eq!(rels(&l), ["2026/nf-v05.2026-11-22.021000+0000"]);
    }

    #[test]
    fn a_missing_or_plain_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = list(&dir.path().join("nope"), ListOptions::default()).unwrap_err();
        assert!(
            matches!(
                e,
                ArchiveError::Io {
                    op: Op::ReadDir,
                    ..
                }
            ),
            "{e}"
        );
        let f = dir.path().join("file");
        touch(&f, b"");
        let e = list(&f, ListOptions::default()).unwrap_err();
        assert!(matches!(e, ArchiveError::NotADirectory { .. }), "{e}");
    }

    #[test]
    fn sniff_reads_the_magic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        touch(&p, &crate::native::MAGIC);
        assert_eq!(sniff(&p).unwrap(), Detected::Native);
        touch(&p, &[crate::ft::MAGIC1, crate::ft::MAGIC2, 1, 3]);
        assert_eq!(sniff(&p).unwrap(), Detected::Ft);
        touch(&p, b"hello");
        assert_eq!(sniff(&p).unwrap(), Detected::Unknown);
        assert!(sniff(&dir.path().join("nope")).is_err());
    }
}
