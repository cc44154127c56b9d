//! Expiry (`-e` files, `-E` bytes; spec §4.3): the oldest finished files of
//! ours are removed until both limits hold.
//!
//! "Ours" means a regular file that [`archive::list`] finds as a finished
//! file (an `nf-v…` or `ft-v…` name) **and** whose first bytes are a
//! native or ft magic. Everything else in the workdir is left alone, and
//! so are `tmp-` files and directories. Files are ordered by the time in
//! their name, ties by path.

use std::path::{Path, PathBuf};

use formats::archive::{self, ListOptions};
use formats::Detected;

use crate::log;

/// Expiry limits; 0 means no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpiryConfig {
    /// Keep at most this many files (`-e`).
    pub max_files: u64,
    /// Keep at most this many bytes (`-E`), the open file included.
    pub max_bytes: u64,
    /// Only log what would be removed (flow-tools' `-d` > 0).
    pub dry_run: bool,
}

impl ExpiryConfig {
    /// True when a limit is set.
    pub fn enabled(&self) -> bool {
        self.max_files > 0 || self.max_bytes > 0
    }
}

/// One finished file known to expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Time from the file name.
    pub time: i64,
    /// Path (workdir-relative if the workdir was).
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

/// The list of our finished files, oldest first.
#[derive(Debug, Default)]
pub struct Expiry {
    cfg: ExpiryConfig,
    files: Vec<Entry>,
}

/// Parses `-E`: a number with an optional suffix `b` (×512), `K`, `M`, `G`
/// (powers of 1024), as flow-tools; `None` for anything else or a size
/// that does not fit. Hand-written on purpose: size crates read `b` as
/// bytes and `K` as 1000, which would change what a flow-tools `-E`
/// means.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last()? {
        b'b' | b'B' => (&s[..s.len() - 1], 512),
        b'k' | b'K' => (&s[..s.len() - 1], 1 << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

impl Expiry {
    /// Lists `workdir` ([`archive::list`]: recursively, in time order)
    /// for our finished files. An unreadable workdir holds none.
    pub fn scan(workdir: &Path, cfg: ExpiryConfig) -> Expiry {
        let mut files = Vec::new();
        if cfg.enabled() {
            if let Ok(listing) = archive::list(workdir, ListOptions::default()) {
                files = listing
                    .files
                    .into_iter()
                    .filter(|f| archive::sniff(&f.path).is_ok_and(|d| d != Detected::Unknown))
                    .map(|f| Entry {
                        time: f.name.time,
                        path: f.path,
                        size: f.size,
                    })
                    .collect();
            }
        }
        Expiry { cfg, files }
    }

    /// Adds a file just finished.
    pub fn add(&mut self, e: Entry) {
        if !self.cfg.enabled() {
            return;
        }
        let at = self
            .files
            .partition_point(|x| (x.time, &x.path) <= (e.time, &e.path));
        self.files.insert(at, e);
    }

    /// Files known, oldest first.
    pub fn files(&self) -> &[Entry] {
        &self.files
    }

    /// Removes the oldest files until the limits hold (`open_bytes` is the
    /// size of the file being written). Returns the paths removed.
    pub fn enforce(&mut self, open_bytes: u64) -> Vec<PathBuf> {
        let mut removed = Vec::new();
        if !self.cfg.enabled() {
            return removed;
        }
        let mut total: u64 = self.files.iter().map(|e| e.size).sum::<u64>() + open_bytes;
        let mut drop_n = 0;
        for e in &self.files {
            let over_count =
                self.cfg.max_files > 0 && (self.files.len() - drop_n) as u64 > self.cfg.max_files;
            let over_bytes = self.cfg.max_bytes > 0 && total > self.cfg.max_bytes;
            if !over_count && !over_bytes {
                break;
            }
            let why = if over_count {
                format!("more than {} files", self.cfg.max_files)
            } else {
                format!("more than {} bytes", self.cfg.max_bytes)
            };
            if self.cfg.dry_run {
                log::line(&format!(
                    "expire: would remove {} ({why}; not removed in debug mode)",
                    e.path.display()
                ));
            } else {
                match std::fs::remove_file(&e.path) {
                    Ok(()) => log::line(&format!("expire: removed {} ({why})", e.path.display())),
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => log::line(&format!(
                        "expire: cannot remove {}: {err}",
                        e.path.display()
                    )),
                }
            }
            removed.push(e.path.clone());
            total = total.saturating_sub(e.size);
            drop_n += 1;
        }
        self.files.drain(..drop_n);
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_flow_tools_suffixes() {
        assert_eq!(parse_size("70K"), Some(70 * 1024));
        assert_eq!(parse_size("2b"), Some(1024));
        assert_eq!(parse_size("3M"), Some(3 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("2B"), Some(1024));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("K"), None);
        assert_eq!(parse_size("-1K"), None);
        assert_eq!(parse_size("18014398509481984K"), None);
        assert_eq!(parse_size("99999999999999999999"), None);
    }

    fn entry(t: i64, size: u64) -> Entry {
        Entry {
            time: t,
            path: PathBuf::from(format!("/nonexistent/expire-test/{t}")),
            size,
        }
    }

    #[test]
    fn oldest_go_first_until_both_limits_hold() {
        let mut x = Expiry {
            cfg: ExpiryConfig {
                max_files: 3,
                max_bytes: 250,
                dry_run: false,
            },
            files: Vec::new(),
        };
        for t in [5, 1, 4, 2, 3] {
            x.add(entry(t, 100));
        }
        let removed = x.enforce(0);
        // count limit leaves 3 (300 bytes), byte limit then removes one more
        assert_eq!(removed.len(), 3);
        assert_eq!(x.files().iter().map(|e| e.time).collect::<Vec<_>>(), [4, 5]);
        // the open file counts towards the byte limit
        let removed = x.enforce(100);
        assert_eq!(removed.len(), 1);
        assert_eq!(x.files()[0].time, 5);
    }
}
