//! The state file: which finished flow files have been reported, so that
//! consecutive runs neither repeat nor skip one.
//!
//! The state is a set of file identities (path relative to the flow
//! directory, plus the time in the name) above a `floor`: files named
//! before the floor are treated as handled. The first run sets the floor
//! to the start of its look-back window; later runs move it to
//! `newest reported - keep` so the set stays small. A file that finishes
//! late (the collector lagged, or recovered a `tmp-` file after a crash)
//! is still reported once, because membership, not a timestamp, decides.
//!
//! Text, one fact per line, so an operator can read and repair it:
//!
//! ```text
//! flow-alert state 1
//! dir /var/flows
//! floor 1795310100
//! last-slot 1795313700
//! last-run 1795314010
//! file 1795313700 2026/2026-11/2026-11-22/nf-v05.2026-11-22.021500+0000
//! ```
//!
//! It is replaced atomically (temporary file, fsync, rename, fsync of the
//! directory), and only after the report was delivered. A lock file beside
//! it serialises overlapping runs.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::Error;

/// First line of a state file.
const MAGIC: &str = "flow-alert state 1";

/// What is wrong with a line of a state file ([`Error::StateFile`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The first line is not the magic line.
    NoMagic,
    /// A value that should be a number is not.
    NotANumber,
    /// A `file` line without both a time and a path.
    BadFileLine,
    /// A key this version does not know.
    UnknownKey(String),
    /// The `dir` or the `floor` line is missing.
    MissingDirOrFloor,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NoMagic => write!(f, "expected \"{MAGIC}\""),
            Problem::NotANumber => f.write_str("expected a number"),
            Problem::BadFileLine => f.write_str("expected \"file TIME PATH\""),
            Problem::UnknownKey(k) => write!(f, "unknown key \"{k}\""),
            Problem::MissingDirOrFloor => f.write_str("missing \"dir\" or \"floor\" line"),
        }
    }
}

/// What has been reported from one flow directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// The flow directory, as canonicalised when the state was made.
    pub dir: String,
    /// Files whose name time is before this are considered handled.
    pub floor: i64,
    /// Start of the newest slot already examined (for gap detection).
    pub last_slot: Option<i64>,
    /// When the last successful run happened.
    pub last_run: Option<i64>,
    /// Reported files at or above the floor: relative path -> name time.
    pub done: BTreeMap<String, i64>,
}

impl State {
    /// A fresh state whose first window starts at `floor`.
    pub fn new(dir: &str, floor: i64) -> State {
        State {
            dir: dir.to_string(),
            floor,
            ..State::default()
        }
    }

    /// Whether the finished file `rel` named at `time` still needs a report.
    pub fn is_new(&self, rel: &str, time: i64) -> bool {
        time >= self.floor && !self.done.contains_key(rel)
    }

    /// Forgets files named more than `keep` seconds before the newest one
    /// and raises the floor to match.
    pub fn prune(&mut self, keep: i64) {
        let Some(newest) = self.done.values().copied().max() else {
            return;
        };
        let floor = newest.saturating_sub(keep);
        if floor > self.floor {
            self.floor = floor;
            self.done.retain(|_, t| *t >= floor);
        }
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(64 * (self.done.len() + 6));
        s.push_str(MAGIC);
        s.push('\n');
        s.push_str(&format!("dir {}\nfloor {}\n", self.dir, self.floor));
        if let Some(t) = self.last_slot {
            s.push_str(&format!("last-slot {t}\n"));
        }
        if let Some(t) = self.last_run {
            s.push_str(&format!("last-run {t}\n"));
        }
        let mut files: Vec<(&String, &i64)> = self.done.iter().collect();
        files.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
        for (rel, t) in files {
            s.push_str(&format!("file {t} {rel}\n"));
        }
        s
    }

    /// Parses a state file's text; `name` is used in messages.
    pub fn parse(text: &str, name: &str) -> Result<State, Error> {
        let bad = |line: usize, problem: Problem| Error::StateFile {
            file: name.to_string(),
            line,
            problem,
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, l)) if l == MAGIC => {}
            _ => return Err(bad(1, Problem::NoMagic)),
        }
        let mut st = State::default();
        let mut have_dir = false;
        let mut have_floor = false;
        for (i, line) in lines {
            let n = i + 1;
            if line.is_empty() {
                continue;
            }
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            let int = |v: &str| v.parse::<i64>().map_err(|_| bad(n, Problem::NotANumber));
            match key {
                "dir" => {
                    st.dir = value.to_string();
                    have_dir = true;
                }
                "floor" => {
                    st.floor = int(value)?;
                    have_floor = true;
                }
                "last-slot" => st.last_slot = Some(int(value)?),
                "last-run" => st.last_run = Some(int(value)?),
                "file" => {
                    let (t, rel) = value
                        .split_once(' ')
                        .ok_or_else(|| bad(n, Problem::BadFileLine))?;
                    if rel.is_empty() {
                        return Err(bad(n, Problem::BadFileLine));
                    }
                    st.done.insert(rel.to_string(), int(t)?);
                }
                other => return Err(bad(n, Problem::UnknownKey(other.to_string()))),
            }
        }
        if !have_dir || !have_floor {
            return Err(bad(1, Problem::MissingDirOrFloor));
        }
        Ok(st)
    }
}

/// Reads the state at `path`; `None` when there is none yet.
pub fn load(path: &Path) -> Result<Option<State>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => State::parse(&text, &path.display().to_string()).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::File {
            path: path.to_path_buf(),
            action: "read the state file",
            source,
        }),
    }
}

/// Replaces the state at `path` atomically: a crash leaves either the old
/// or the new state, never a mix.
pub fn save(path: &Path, st: &State) -> Result<(), Error> {
    let fail = |action: &'static str, source: std::io::Error| Error::File {
        path: path.to_path_buf(),
        action,
        source,
    };
    let tmp = sibling(path, &format!(".tmp.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(st.to_text().as_bytes())?;
        f.sync_all()
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("write the state file", e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("replace the state file", e));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| fail("sync the directory of the state file", e))
}

/// `path` with `suffix` appended to its file name.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// An exclusive lock on a state file, held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

/// Takes the lock file beside `state`, waiting up to `wait` for another
/// run to finish.
pub fn lock(state: &Path, wait: Duration) -> Result<Lock, Error> {
    let path = sibling(state, ".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| Error::File {
            path: path.clone(),
            action: "create the lock file",
            source,
        })?;
    let deadline = Instant::now() + wait;
    loop {
        // SAFETY: flock on a descriptor this function owns; no memory is
        // shared with the kernel.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(Lock { _file: file });
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::WouldBlock {
            return Err(Error::File {
                path,
                action: "lock",
                source: err,
            });
        }
        if Instant::now() >= deadline {
            return Err(Error::Locked { path, wait });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let mut st = State::new("/var/flows", 1000);
        st.last_slot = Some(1500);
        st.last_run = Some(1600);
        st.done.insert("a b/nf-v05.x".into(), 1200);
        st.done.insert("nf-v05.y".into(), 1500);
        let back = State::parse(&st.to_text(), "s").expect("parses");
        assert_eq!(back, st);
    }

    #[test]
    fn pruning_raises_the_floor() {
        let mut st = State::new("/d", 0);
        st.done.insert("old".into(), 100);
        st.done.insert("new".into(), 10_000);
        st.prune(5000);
        assert_eq!(st.floor, 5000);
        assert!(!st.done.contains_key("old"));
        assert!(!st.is_new("old", 100));
        assert!(!st.is_new("new", 10_000));
        assert!(st.is_new("late", 6000));
    }

    #[test]
    fn corrupt_state_names_the_line() {
        let e = State::parse("flow-alert state 1\ndir /d\nfloor x\n", "st").expect_err("bad floor");
        assert!(
            matches!(
                &e,
                Error::StateFile {
                    line: 3,
                    problem: Problem::NotANumber,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "st line 3: expected a number; repair the state file or remove it \
             (a new state starts with the first-run window)"
        );
        let e = State::parse("garbage", "st").expect_err("no magic line");
        assert!(
            e.to_string()
                .starts_with("st line 1: expected \"flow-alert state 1\"; "),
            "{e}"
        );
        let e = State::parse("flow-alert state 1\ndir /d\nfloor 1\nfiles 3 x\n", "st")
            .expect_err("unknown key");
        assert!(
            e.to_string()
                .starts_with("st line 4: unknown key \"files\"; "),
            "{e}"
        );
        let e = State::parse("flow-alert state 1\ndir /d\nfloor 1\nfile 3\n", "st")
            .expect_err("file without a path");
        assert!(
            e.to_string()
                .starts_with("st line 4: expected \"file TIME PATH\"; "),
            "{e}"
        );
        let e = State::parse("flow-alert state 1\ndir /d\n", "st").expect_err("no floor");
        assert!(
            e.to_string()
                .starts_with("st line 1: missing \"dir\" or \"floor\" line; "),
            "{e}"
        );
    }
}
