//! flow-alert: the cron "bad guys" report. Evaluates several filter.cfg
//! definitions in one parallel pass over the flow files that finished since
//! the last successful run, and writes a mail-ready report, or nothing at
//! all when nothing matched (cron mails only when there is output).
//!
//! The window is a set of *files*, not a span of flow times: every
//! finished file (final name, no `tmp-` prefix) is reported exactly once,
//! and [`state`] remembers which. Files still being written are left for
//! the next run. The state is replaced atomically and only after the
//! report was delivered, so a crash or a failed mail repeats a window
//! instead of losing it. `--since`/`--until` select flows by start time
//! for ad-hoc runs and leave the state alone.
//!
//! Pieces: [`files`] (names, slots, gaps), [`state`] (the state file and
//! its lock), [`scan`] (the one-pass tally), [`report`] (text and JSON),
//! [`mail`] (sendmail). [`run`] ties them together; the binary only parses
//! arguments.

pub mod files;
pub mod mail;
pub mod report;
pub mod scan;
pub mod state;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use filterlang::Filter;
use flowio::input::io_reason;

/// Errors of flow-alert (exit status 2). Each variant carries what went
/// wrong as values; its text is the message printed after `flow-alert: `.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the flow files or the filter failed.
    #[error("{0}")]
    Read(#[from] flowio::Error),
    /// The sample flows could not be rendered.
    #[error("{0}")]
    Query(#[from] query::Error),
    /// Input/output failure.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The filter configuration, a definition or the symbol tables are
    /// unusable.
    #[error("{0}")]
    Filter(#[from] filterlang::FilterError),
    /// A file or directory operation failed.
    #[error("{}: cannot {action}: {}", path.display(), io_reason(source))]
    File {
        /// The file or directory.
        path: PathBuf,
        /// What was being done ("read the state file").
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The flow directory could not be listed.
    #[error("{}: cannot read the flow directory: {}", path.display(), archive_reason(source))]
    Listing {
        /// The flow directory.
        path: PathBuf,
        /// Why.
        source: formats::archive::ArchiveError,
    },
    /// `-d` names something that is not a directory.
    #[error("{}: not a directory (-d wants the collector's flow directory)", .0.display())]
    NotADirectory(PathBuf),
    /// No `--state` and nowhere to put the default state file.
    #[error("neither XDG_STATE_HOME nor HOME is set; give --state FILE")]
    NoStateHome,
    /// No `-F` definition.
    #[error("no filter definition given (-F DEF[,DEF...])")]
    NoDefinitions,
    /// `--mail-to` without an address.
    #[error("--mail-to needs an address")]
    NoMailAddress,
    /// A `--mail-to`/`--mail-from` address that would break the headers.
    #[error("\"{0}\" is not a mail address (expected user@host)")]
    BadMailAddress(String),
    /// A `-v` binding is not `NAME=value`.
    #[error("-v {0}: expected NAME=value")]
    BadVariable(String),
    /// A time option could not be read.
    #[error("{option}: {reason}")]
    BadTime {
        /// The option (`--since`).
        option: &'static str,
        /// What was given.
        given: String,
        /// Why it was refused.
        reason: String,
    },
    /// A duration option could not be read.
    #[error("{option} {given}: expected a duration like 90s, 30m, 1h, 7d")]
    BadDuration {
        /// The option (`--lock-wait`).
        option: &'static str,
        /// What was given.
        given: String,
    },
    /// `--since` is not before `--until` (unix seconds).
    #[error(
        "--since must be before --until ({} is not before {})",
        report::window_text(*since * 1000, *since * 1000),
        report::window_text(*until * 1000, *until * 1000)
    )]
    EmptyRange {
        /// `--since`.
        since: i64,
        /// `--until`.
        until: i64,
    },
    /// The state file is about another flow directory.
    #[error(
        "{}: this state belongs to flow directory {owner}, not {dir}; give another --state",
        path.display()
    )]
    ForeignState {
        /// The state file.
        path: PathBuf,
        /// The flow directory the state records.
        owner: String,
        /// The flow directory of this run.
        dir: String,
    },
    /// A line of the state file is malformed.
    #[error(
        "{file} line {line}: {problem}; repair the state file or remove it (a new state starts with the first-run window)"
    )]
    StateFile {
        /// The state file, as named in messages.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: state::Problem,
    },
    /// Another run holds the state's lock.
    #[error(
        "{}: another flow-alert run still holds the lock after {} s; giving up",
        path.display(),
        wait.as_secs()
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// How long this run waited.
        wait: Duration,
    },
    /// sendmail could not be started.
    #[error("cannot run {}: {}", program.display(), io_reason(source))]
    MailSpawn {
        /// The sendmail program.
        program: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// sendmail was started without a pipe to its input.
    #[error("{}: no pipe to its input", program.display())]
    MailNoPipe {
        /// The sendmail program.
        program: PathBuf,
    },
    /// sendmail ran past `--mail-timeout` and was killed.
    #[error(
        "{} did not finish within {} s; killed it",
        program.display(),
        timeout.as_secs()
    )]
    MailTimeout {
        /// The sendmail program.
        program: PathBuf,
        /// The timeout.
        timeout: Duration,
    },
    /// Waiting for sendmail failed.
    #[error("{}: {source}", program.display())]
    MailWait {
        /// The sendmail program.
        program: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// sendmail exited unsuccessfully.
    #[error("{} failed with {}", program.display(), mail::status_text(*status))]
    MailFailed {
        /// The sendmail program.
        program: PathBuf,
        /// How it ended.
        status: std::process::ExitStatus,
    },
    /// sendmail stopped reading before the end of the message.
    #[error("{} did not read the whole message: {}", program.display(), io_reason(source))]
    MailShortRead {
        /// The sendmail program.
        program: PathBuf,
        /// The OS error of the write.
        source: std::io::Error,
    },
    /// The thread writing the message to sendmail panicked.
    #[error("{}: the writer thread failed", program.display())]
    MailWriter {
        /// The sendmail program.
        program: PathBuf,
    },
    /// The report could not be mailed; the state stays where it was.
    #[error(
        "mail delivery failed: {0}; the state was not advanced, the next run reports this window again"
    )]
    MailDelivery(#[source] Box<Error>),
    /// The report could not be written; the state stays where it was.
    #[error(
        "cannot write the report: {}; the state was not advanced, the next run reports this window again",
        io_reason(.0)
    )]
    WriteReport(#[source] std::io::Error),
    /// The new state could not be saved after the run.
    #[error(
        "{source}; {}",
        if *delivered {
            "the report was delivered but the next run will repeat it"
        } else {
            "nothing was reported"
        }
    )]
    StateNotSaved {
        /// Why saving failed.
        source: Box<Error>,
        /// Whether a report had been delivered (it will be repeated).
        delivered: bool,
    },
}

/// The OS reason of an archive error when it has one, else its text.
fn archive_reason(e: &formats::archive::ArchiveError) -> String {
    e.io_error()
        .map_or_else(|| e.to_string(), formats::archive::io_reason)
}

impl flowio::cli::Failure for Error {
    fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Read(e) => e.is_broken_pipe(),
            Error::Io(e) => flowio::cli::is_broken_pipe(e),
            _ => false,
        }
    }
}
use files::{FlowFile, SLOT_SECS};
use flowio::input::Window;
use mail::MailConfig;
use report::{DefReport, Mode, Problem, ProblemKind, Report};
use scan::{Job, OpenFailure, Opened};
use state::State;

/// Exit status: nothing matched, nothing written.
pub const EXIT_QUIET: u8 = 0;
/// Exit status: a report was delivered (matches or problems).
pub const EXIT_REPORTED: u8 = 1;
/// Exit status: an error; nothing delivered, state unchanged.
pub const EXIT_ERROR: u8 = 2;

/// Slack, in seconds, when picking files for a `--since`/`--until` window:
/// flows are exported (and filed) after they start, and exporter clocks
/// drift, so files up to an hour around the window are read and the
/// window itself is applied per flow.
const RANGE_SLACK_SECS: i64 = 3600;

/// How the report is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Plain text for people (and mail).
    #[default]
    Text,
    /// One JSON object.
    Json,
}

/// Everything flow-alert was asked to do.
#[derive(Clone, Debug)]
pub struct Config {
    /// The collector's flow directory.
    pub flow_dir: PathBuf,
    /// Where filter.cfg warnings go (the binary prints them).
    pub warnings: flowio::Warnings,
    /// The filter.cfg.
    pub filter_file: PathBuf,
    /// Definitions to evaluate, in report order.
    pub definitions: Vec<String>,
    /// `-v NAME=value` bindings for the filter.cfg.
    pub vars: Vec<(String, String)>,
    /// Symbol tables (else `$FLOWTOOLS_SYMDIR`, else built-in).
    pub symdir: Option<PathBuf>,
    /// The state file; `None` picks [`default_state_path`].
    pub state: Option<PathBuf>,
    /// Look-back of the first run (no state yet), seconds.
    pub first_window_secs: i64,
    /// How long reported file names are remembered, seconds: a file
    /// finishing more than this late is not reported.
    pub keep_secs: i64,
    /// `--since`: flows starting at or after (ad-hoc run, state unused).
    pub since: Option<String>,
    /// `--until`: flows starting before (ad-hoc run, state unused).
    pub until: Option<String>,
    /// "Now", unix seconds.
    pub now: i64,
    /// Rows in the top tables.
    pub top: usize,
    /// Raw flows shown per definition.
    pub samples: usize,
    /// Text or JSON.
    pub format: Format,
    /// Write a report even when nothing matched (exit status stays 0).
    pub always: bool,
    /// Mail the report instead of writing it to stdout.
    pub mail: Option<MailConfig>,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// How long to wait for another run's lock.
    pub lock_wait: Duration,
}

/// 64-bit FNV-1a, for stable state file names.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The state file used when `--state` is not given:
/// `$XDG_STATE_HOME/flow-alert/<dir>-<key>.state` (or under
/// `~/.local/state`), where the key hashes the flow directory, the filter
/// file and the definitions, so two cron jobs with different definitions
/// never share a window.
pub fn default_state_path(
    flow_dir: &Path,
    filter_file: &Path,
    definitions: &[String],
) -> Result<PathBuf, Error> {
    let base = match std::env::var_os("XDG_STATE_HOME").map(PathBuf::from) {
        Some(p) if p.is_absolute() => p,
        _ => match std::env::var_os("HOME") {
            Some(h) if !h.is_empty() => PathBuf::from(h).join(".local").join("state"),
            _ => return Err(Error::NoStateHome),
        },
    };
    Ok(state_path_in(&base, flow_dir, filter_file, definitions))
}

/// [`default_state_path`] under the state directory `base`.
fn state_path_in(
    base: &Path,
    flow_dir: &Path,
    filter_file: &Path,
    definitions: &[String],
) -> PathBuf {
    let filter = std::fs::canonicalize(filter_file).unwrap_or_else(|_| filter_file.to_path_buf());
    let mut defs: Vec<String> = definitions.iter().map(|d| d.to_lowercase()).collect();
    defs.sort();
    let mut key = flow_dir.as_os_str().as_encoded_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(filter.as_os_str().as_encoded_bytes());
    key.push(0);
    key.extend_from_slice(defs.join(",").as_bytes());
    let stem: String = flow_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = if stem.is_empty() {
        "flows".into()
    } else {
        stem
    };
    base.join("flow-alert")
        .join(format!("{stem}-{:016x}.state", fnv1a(&key)))
}

/// Loads the definitions (config errors come back worded for the user;
/// warnings go to stderr).
pub fn load_filters(cfg: &Config) -> Result<Vec<Filter>, Error> {
    if cfg.definitions.is_empty() {
        return Err(Error::NoDefinitions);
    }
    let symbols = filterlang::Symbols::load(cfg.symdir.as_deref())?;
    let text = std::fs::read_to_string(&cfg.filter_file).map_err(|source| Error::File {
        path: cfg.filter_file.clone(),
        action: "read filter configuration",
        source,
    })?;
    let name = cfg.filter_file.to_string_lossy();
    let (fc, warnings) = filterlang::FilterConfig::parse(&text, &name, &cfg.vars, &symbols)?;
    for w in warnings {
        let skipped = flowio::Skipped::Nothing;
        cfg.warnings.push(flowio::Warning::new("", w, skipped));
    }
    cfg.definitions
        .iter()
        .map(|d| fc.definition(d).map_err(Error::from))
        .collect()
}

/// The files a run reads, with what it decided about them.
struct Selection<'a> {
    mode: Mode,
    files: Vec<&'a FlowFile>,
    window: Window,
    report_window: Option<(i64, i64)>,
    gap_range: Option<(i64, i64)>,
}

/// Runs flow-alert; the report (if any) goes to `out` unless it is mailed.
/// Returns [`EXIT_QUIET`] or [`EXIT_REPORTED`]; errors mean nothing was
/// delivered and the state is unchanged.
pub fn run(cfg: &Config, out: &mut dyn Write) -> Result<ExitCode, Error> {
    let filters = load_filters(cfg)?;
    if let Some(m) = &cfg.mail {
        if m.to.is_empty() {
            return Err(Error::NoMailAddress);
        }
        for a in m.to.iter().chain(m.from.iter()) {
            mail::check_address(a)?;
        }
    }
    let flow_dir = std::fs::canonicalize(&cfg.flow_dir).map_err(|source| Error::File {
        path: cfg.flow_dir.clone(),
        action: "read the flow directory",
        source,
    })?;
    let ranged = cfg.since.is_some() || cfg.until.is_some();

    // The state and its lock (held until the end of the run).
    let mut st_ctx = None;
    if !ranged {
        let path = match &cfg.state {
            Some(p) => p.clone(),
            None => default_state_path(&flow_dir, &cfg.filter_file, &cfg.definitions)?,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| Error::File {
                path: parent.to_path_buf(),
                action: "create the state directory",
                source,
            })?;
        }
        let lock = state::lock(&path, cfg.lock_wait)?;
        let dir = flow_dir.to_string_lossy().into_owned();
        let (st, first_run) = match state::load(&path)? {
            Some(st) if st.dir != dir => {
                return Err(Error::ForeignState {
                    path,
                    owner: st.dir,
                    dir,
                })
            }
            Some(st) => (st, false),
            None => (
                State::new(&dir, files::slot_of(cfg.now - cfg.first_window_secs)),
                true,
            ),
        };
        st_ctx = Some((path, lock, st, first_run));
    }

    let listing = files::list(&flow_dir)?;
    let sel = match &st_ctx {
        Some((_, _, st, first_run)) => select_since_last_run(&listing, st, *first_run),
        None => select_range(cfg, &listing)?,
    };

    // Problems known before reading: unlisted directories, missing slots.
    let mut problems = Vec::new();
    for (dir, why) in &listing.unreadable_dirs {
        problems.push(Problem {
            kind: ProblemKind::Unreadable,
            subject: dir.clone(),
            message: format!("cannot list this directory: {why}; its files were not examined"),
        });
    }
    if let Some((first, last)) = sel.gap_range {
        for g in files::gaps(&listing.covered_slots(), first, last) {
            let n = g.slots();
            problems.push(Problem {
                kind: ProblemKind::Missing,
                subject: report::window_text(g.from * 1000, (g.to + SLOT_SECS) * 1000),
                message: format!(
                    "no flow file for {n} five-minute slot{} (collector down, or files removed)",
                    if n == 1 { "" } else { "s" }
                ),
            });
        }
    }

    // Open the files; decide which count as reported.
    let mut opened: Vec<Opened> = Vec::new();
    let mut handled: Vec<&FlowFile> = Vec::new();
    for f in &sel.files {
        match scan::open_file(&f.path, &f.rel) {
            Ok(o) => {
                for w in &o.warnings {
                    problems.push(Problem {
                        kind: ProblemKind::Corrupt,
                        subject: f.rel.clone(),
                        message: format!("{w}; the other blocks were examined"),
                    });
                }
                if o.incomplete {
                    problems.push(Problem {
                        kind: ProblemKind::Incomplete,
                        subject: f.rel.clone(),
                        message: "its writer did not finish it (no trailer); the readable blocks were examined".into(),
                    });
                }
                opened.push(o);
                handled.push(f);
            }
            Err(OpenFailure::Vanished) => {
                problems.push(Problem {
                    kind: ProblemKind::Vanished,
                    subject: f.rel.clone(),
                    message: "removed before it could be read (expired?)".into(),
                });
                handled.push(f);
            }
            Err(OpenFailure::Unreadable(why)) => problems.push(Problem {
                kind: ProblemKind::Unreadable,
                subject: f.rel.clone(),
                message: format!("{why}; it will be tried again next run"),
            }),
            Err(OpenFailure::Corrupt(why)) => {
                problems.push(Problem {
                    kind: ProblemKind::Corrupt,
                    subject: f.rel.clone(),
                    message: format!("{why}; none of its flows were examined"),
                });
                handled.push(f);
            }
        }
    }

    let job = Job {
        filters: &filters,
        window: sel.window,
        samples: cfg.samples,
        threads: cfg.threads,
    };
    let mut tally = scan::examine(&opened, &job)?;
    for (i, msg) in std::mem::take(&mut tally.problems) {
        problems.push(Problem {
            kind: ProblemKind::Corrupt,
            subject: opened
                .get(i)
                .map_or_else(String::new, |o| o.input.display.clone()),
            message: msg,
        });
    }

    let mut notes = Vec::new();
    if let Some((_, _, st, _)) = &st_ctx {
        let newest_final = listing
            .files
            .iter()
            .filter(|f| !f.open)
            .map(|f| f.time)
            .max();
        for f in listing
            .files
            .iter()
            .filter(|f| f.open && f.time >= st.floor)
        {
            if newest_final.is_some_and(|n| f.time < n) {
                notes.push(format!(
                    "{} is still open although newer files are finished; it will be examined once it is",
                    f.rel
                ));
            }
        }
    }

    let rep = Report {
        flow_dir: cfg.flow_dir.display().to_string(),
        filter_file: cfg.filter_file.display().to_string(),
        mode: sel.mode,
        window: sel.report_window,
        files: sel.files.len(),
        scanned: tally.scanned,
        matched: tally.matched,
        sources: tally.sources.len(),
        defs: cfg
            .definitions
            .iter()
            .cloned()
            .zip(std::mem::take(&mut tally.defs))
            .map(|(name, tally)| DefReport { name, tally })
            .collect(),
        problems,
        notes,
        top: cfg.top,
    };

    let quiet = rep.is_quiet();
    if !quiet || cfg.always {
        deliver(cfg, &rep, out)?;
    }

    if let Some((path, lock, mut st, _)) = st_ctx {
        for f in &handled {
            st.done.insert(f.rel.clone(), f.time);
        }
        if let Some(newest) = sel.files.iter().map(|f| f.slot()).max() {
            st.last_slot = Some(st.last_slot.map_or(newest, |l| l.max(newest)));
        }
        st.last_run = Some(cfg.now);
        st.prune(cfg.keep_secs);
        state::save(&path, &st).map_err(|e| Error::StateNotSaved {
            source: Box::new(e),
            delivered: !quiet,
        })?;
        drop(lock);
    }
    Ok(ExitCode::from(if quiet {
        EXIT_QUIET
    } else {
        EXIT_REPORTED
    }))
}

/// Files the state has not seen, all flows in them.
fn select_since_last_run<'a>(
    listing: &'a files::Listing,
    st: &State,
    first_run: bool,
) -> Selection<'a> {
    let files: Vec<&FlowFile> = listing
        .files
        .iter()
        .filter(|f| !f.open && st.is_new(&f.rel, f.time))
        .collect();
    let first = files.iter().map(|f| f.slot()).min();
    let last = files.iter().map(|f| f.slot()).max();
    let gap_range = match (first, last) {
        (Some(first), Some(last)) => {
            let from = match st.last_slot {
                Some(l) => l + SLOT_SECS,
                None => first,
            };
            Some((from, last))
        }
        _ => None,
    };
    Selection {
        mode: Mode::SinceLastRun { first_run },
        report_window: first
            .zip(last)
            .map(|(a, b)| (a * 1000, (b + SLOT_SECS) * 1000)),
        files,
        window: Window::default(),
        gap_range,
    }
}

/// Files that may hold flows starting in `[since, until)`.
fn select_range<'a>(cfg: &Config, listing: &'a files::Listing) -> Result<Selection<'a>, Error> {
    let parse = |s: &Option<String>, option: &'static str| -> Result<Option<i64>, Error> {
        s.as_deref()
            .map(|t| {
                flowio::timeparse::parse_time(t, cfg.now).map_err(|reason| Error::BadTime {
                    option,
                    given: t.to_string(),
                    reason: reason.to_string(),
                })
            })
            .transpose()
    };
    let since = parse(&cfg.since, "--since")?;
    let until = parse(&cfg.until, "--until")?;
    if let (Some(a), Some(b)) = (since, until) {
        if a >= b {
            return Err(Error::EmptyRange { since: a, until: b });
        }
    }
    let files: Vec<&FlowFile> = listing
        .files
        .iter()
        .filter(|f| {
            !f.open
                && since.is_none_or(|s| f.time + SLOT_SECS + RANGE_SLACK_SECS > s)
                && until.is_none_or(|u| f.time < u + RANGE_SLACK_SECS)
        })
        .collect();
    let first = files.iter().map(|f| f.slot()).min();
    let last = files.iter().map(|f| f.slot()).max();
    let report_window = match (since, until, first, last) {
        (Some(a), Some(b), _, _) => Some((a * 1000, b * 1000)),
        (Some(a), None, _, Some(l)) => Some((a * 1000, (l + SLOT_SECS) * 1000)),
        (None, Some(b), Some(f), _) => Some((f * 1000, b * 1000)),
        _ => None,
    };
    // Slots that should have a file: the window's, within the files seen.
    let gap_range = match (first, last) {
        (Some(f), Some(l)) => {
            let from = since.map_or(f, |s| files::slot_of(s).max(f));
            let to = until.map_or(l, |u| files::slot_of(u - 1).min(l));
            Some((from, to))
        }
        _ => None,
    };
    Ok(Selection {
        mode: Mode::Range,
        files,
        window: Window {
            since_ms: since.map(|s| s * 1000),
            until_ms: until.map(|u| u * 1000),
        },
        report_window,
        gap_range,
    })
}

/// Writes or mails the report; any failure is an error (the caller then
/// leaves the state alone).
fn deliver(cfg: &Config, rep: &Report, out: &mut dyn Write) -> Result<(), Error> {
    let body = match cfg.format {
        Format::Text => rep.text()?,
        Format::Json => rep.json(),
    };
    match &cfg.mail {
        Some(m) => {
            let text_body = match cfg.format {
                // The subject is the first line: do not repeat it.
                Format::Text => body
                    .split_once("\n\n")
                    .map_or(body.as_str(), |(_, rest)| rest),
                Format::Json => body.as_str(),
            };
            let msg = mail::message(
                m,
                &rep.subject(),
                text_body,
                cfg.format == Format::Json,
                cfg.now,
            );
            mail::send(m, &msg).map_err(|e| Error::MailDelivery(Box::new(e)))
        }
        None => out
            .write_all(body.as_bytes())
            .and_then(|()| out.flush())
            .map_err(Error::WriteReport),
    }
}

/// The distinct definitions of `-F` lists (`a,b` and repeated `-F`),
/// first occurrence kept, case-insensitively.
pub fn split_definitions(args: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for a in args {
        for d in a.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            if seen.insert(d.to_lowercase()) {
                out.push(d.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enoent() -> std::io::Error {
        std::io::Error::from_raw_os_error(libc::ENOENT)
    }

    #[test]
    fn messages_keep_their_words() {
        let again = "the state was not advanced, the next run reports this window again";
        let cases: Vec<(Error, String)> = vec![
            (
                Error::File {
                    path: "/etc/f.cfg".into(),
                    action: "read filter configuration",
                    source: enoent(),
                },
                "/etc/f.cfg: cannot read filter configuration: No such file or directory".into(),
            ),
            (
                Error::NotADirectory("/f".into()),
                "/f: not a directory (-d wants the collector's flow directory)".into(),
            ),
            (
                Error::NoStateHome,
                "neither XDG_STATE_HOME nor HOME is set; give --state FILE".into(),
            ),
            (
                Error::NoDefinitions,
                "no filter definition given (-F DEF[,DEF...])".into(),
            ),
            (Error::NoMailAddress, "--mail-to needs an address".into()),
            (
                Error::BadMailAddress("nobody".into()),
                "\"nobody\" is not a mail address (expected user@host)".into(),
            ),
            (Error::BadVariable("X".into()), "-v X: expected NAME=value".into()),
            (
                Error::BadTime {
                    option: "--since",
                    given: "soon".into(),
                    reason: "cannot parse".into(),
                },
                "--since: cannot parse".into(),
            ),
            (
                Error::BadDuration {
                    option: "--lock-wait",
                    given: "ages".into(),
                },
                "--lock-wait ages: expected a duration like 90s, 30m, 1h, 7d".into(),
            ),
            (
                Error::EmptyRange {
                    since: 7200,
                    until: 3600,
                },
                format!(
                    "--since must be before --until ({} is not before {})",
                    report::window_text(7_200_000, 7_200_000),
                    report::window_text(3_600_000, 3_600_000)
                ),
            ),
            (
                Error::ForeignState {
                    path: "/s/x.state".into(),
                    owner: "/a".into(),
                    dir: "/b".into(),
                },
                "/s/x.state: this state belongs to flow directory /a, not /b; give another --state"
                    .into(),
            ),
            (
                Error::Locked {
                    path: "/s/x.state.lock".into(),
                    wait: Duration::from_secs(60),
                },
                "/s/x.state.lock: another flow-alert run still holds the lock after 60 s; giving up"
                    .into(),
            ),
            (
                Error::MailDelivery(Box::new(Error::MailNoPipe {
                    program: "/usr/sbin/sendmail".into(),
                })),
                format!("mail delivery failed: /usr/sbin/sendmail: no pipe to its input; {again}"),
            ),
            (
                Error::MailDelivery(Box::new(Error::MailTimeout {
                    program: "/usr/sbin/sendmail".into(),
                    timeout: Duration::from_secs(60),
                })),
                format!(
                    "mail delivery failed: /usr/sbin/sendmail did not finish within 60 s; killed it; {again}"
                ),
            ),
            (
                Error::MailShortRead {
                    program: "sm".into(),
                    source: std::io::Error::from_raw_os_error(libc::EPIPE),
                },
                "sm did not read the whole message: Broken pipe".into(),
            ),
            (
                Error::MailWriter {
                    program: "sm".into(),
                },
                "sm: the writer thread failed".into(),
            ),
            (
                Error::WriteReport(std::io::Error::from_raw_os_error(libc::ENOSPC)),
                format!("cannot write the report: No space left on device; {again}"),
            ),
            (
                Error::StateNotSaved {
                    source: Box::new(Error::File {
                        path: "/s/x.state".into(),
                        action: "replace the state file",
                        source: enoent(),
                    }),
                    delivered: true,
                },
                "/s/x.state: cannot replace the state file: No such file or directory; \
                 the report was delivered but the next run will repeat it"
                    .into(),
            ),
            (
                Error::StateNotSaved {
                    source: Box::new(Error::File {
                        path: "/s/x.state".into(),
                        action: "write the state file",
                        source: enoent(),
                    }),
                    delivered: false,
                },
                "/s/x.state: cannot write the state file: No such file or directory; \
                 nothing was reported"
                    .into(),
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want, "{e:?}");
        }
    }

    #[test]
    fn definitions_split_and_dedupe() {
        let got = split_definitions(&["redflags,inboundmail_false".into(), "REDFLAGS, x".into()]);
        assert_eq!(got, vec!["redflags", "inboundmail_false", "x"]);
    }

    #[test]
    fn default_state_names_depend_on_the_definitions() {
        let base = Path::new("/var/lib/test-state");
        let a = state_path_in(
            base,
            Path::new("/flows"),
            Path::new("/f.cfg"),
            &["a".into()],
        );
        let b = state_path_in(
            base,
            Path::new("/flows"),
            Path::new("/f.cfg"),
            &["b".into()],
        );
        let a2 = state_path_in(
            base,
            Path::new("/flows"),
            Path::new("/f.cfg"),
            &["A".into()],
        );
        assert!(a.starts_with("/var/lib/test-state/flow-alert"));
        assert!(a.to_string_lossy().contains("/flows-"));
        assert_ne!(a, b);
        assert_eq!(a, a2);
    }
}
