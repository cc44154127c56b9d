//! Reading flows: what every reading tool shares, from the command-line
//! arguments to the records a report folds.
//!
//! - [`input`]: opening any flow file or stream ([`input::Input`],
//!   [`input::RecordSource`]), collecting files and directories in
//!   flow-cat's order, the time [`input::Window`], and the unordered
//!   parallel scan ([`input::scan`]) reports fold over.
//! - [`ordered`]: the ordered parallel scan, for consumers whose output
//!   follows input order with bounded memory (flow-export).
//! - [`select`]: the selection (filter.cfg definition, inline expression,
//!   field projection) and [`select::prepare`], which resolves
//!   [`select::ScanOptions`] into inputs, window and selection.
//! - [`timeparse`]: the time arguments (`--since`, `-t`).
//! - [`cli`]: the conventions the binaries share (program name, `prog:`
//!   diagnostics, quiet broken pipes); [`args`] (feature `clap`) holds the
//!   clap arguments of the fast path.
//!
//! Problems with one input that do not stop a read (an unreadable file, a
//! corrupt block, a truncated stream) come back as [`Warning`] values
//! through a [`Warnings`] handle: a binary prints them as they happen, a
//! report such as flow-alert's keeps them. Nothing in this crate prints,
//! except [`cli`]'s functions that binaries call.
#![deny(missing_docs)]

use std::sync::{Arc, Mutex};

#[cfg(feature = "clap")]
pub mod args;
pub mod cli;
pub mod input;
pub mod ordered;
pub mod select;
pub mod timeparse;

/// Why reading could not go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An ft stream could not be read.
    #[error("{0}")]
    Ft(#[from] formats::ft::FtError),
    /// A native file could not be opened.
    #[error("{0}")]
    Native(#[from] formats::native::NativeError),
    /// Input/output failure (a broken pipe is handled by the caller).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A file named by an option could not be read.
    #[error("{path}: cannot read {what}: {reason}")]
    Unreadable {
        /// The path as given.
        path: String,
        /// What the file was for ("filter configuration").
        what: &'static str,
        /// The OS reason.
        reason: String,
    },
    /// The filter configuration, expression or symbol tables are unusable.
    #[error("{0}")]
    Filter(Box<filterlang::FilterError>),
    /// `--filter` without `--filter-file`.
    #[error("--filter needs --filter-file FILE")]
    FilterWithoutFile,
    /// A time argument could not be read.
    #[error("{option} {given}: {source}")]
    Time {
        /// The option (`--since`).
        option: &'static str,
        /// What was given.
        given: String,
        /// Why the date parser refused it.
        source: Box<filterlang::FilterError>,
    },
    /// A size argument (`--memory`) could not be read.
    #[error("bad size {given:?} ({reason}): expected a number with K, M or G (powers of 1024), e.g. 256M or 1.5G")]
    Size {
        /// What was given.
        given: String,
        /// Why it was refused.
        reason: String,
    },
    /// None of the named inputs could be read.
    #[error("no readable flow file among the inputs")]
    NoInput,
    /// The worker threads could not be started.
    #[error("cannot start worker threads: {0}")]
    Threads(#[from] rayon::ThreadPoolBuildError),
    /// The ordered scan's workers stopped unexpectedly.
    #[error("{0}")]
    WorkersGone(#[from] ordered::WorkersGone),
}

impl From<filterlang::FilterError> for Error {
    fn from(e: filterlang::FilterError) -> Self {
        Error::Filter(Box::new(e))
    }
}

impl Error {
    /// True when the error is a broken pipe: the reader of our output went
    /// away (`flow-print | head`), which is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Io(e) | Error::Ft(formats::ft::FtError::Io(e)) => cli::is_broken_pipe(e),
            _ => false,
        }
    }
}

/// What a [`Warning`] cost the read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// Nothing beyond what the message says.
    Nothing,
    /// The whole input was left out.
    File,
    /// One native block, of this many flows, was left out.
    Block {
        /// Flows in the block.
        records: u32,
    },
    /// The rest of the input after the problem was left out.
    Rest,
}

/// A problem with one input that did not stop the read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The input as the user named it (or as found in a directory); empty
    /// for warnings about no particular input.
    pub input: String,
    /// The input's position in the scan's input list, when it has one.
    pub index: Option<usize>,
    /// What went wrong.
    pub message: String,
    /// What was left out because of it.
    pub skipped: Skipped,
}

impl Warning {
    /// A warning about input `input`.
    pub fn new(
        input: impl Into<String>,
        message: impl std::fmt::Display,
        skipped: Skipped,
    ) -> Self {
        Warning {
            input: input.into(),
            index: None,
            message: message.to_string(),
            skipped,
        }
    }

    /// The same warning, tied to position `index` of the input list.
    pub fn at(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.input.is_empty() {
            write!(f, "{}: ", self.input)?;
        }
        f.write_str(&self.message)?;
        match self.skipped {
            Skipped::Nothing | Skipped::Rest => Ok(()),
            Skipped::File => f.write_str("; ignoring this file"),
            Skipped::Block { .. } => f.write_str("; skipping this block"),
        }
    }
}

type Live = dyn Fn(&Warning) + Send + Sync;

/// Where warnings go: a shared handle, cheap to clone. [`Warnings::live`]
/// hands each warning to a function as it happens (binaries print it);
/// [`Warnings::kept`] keeps them for [`Warnings::take`].
#[derive(Clone)]
pub struct Warnings {
    live: Option<Arc<Live>>,
    kept: Arc<Mutex<Vec<Warning>>>,
}

impl Default for Warnings {
    fn default() -> Self {
        Warnings::kept()
    }
}

impl std::fmt::Debug for Warnings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warnings")
            .field("live", &self.live.is_some())
            .finish_non_exhaustive()
    }
}

impl Warnings {
    /// Warnings kept until [`Warnings::take`].
    pub fn kept() -> Self {
        Warnings {
            live: None,
            kept: Arc::default(),
        }
    }

    /// Warnings handed to `f` as they happen (and not kept).
    pub fn live(f: impl Fn(&Warning) + Send + Sync + 'static) -> Self {
        Warnings {
            live: Some(Arc::new(f)),
            kept: Arc::default(),
        }
    }

    /// Reports a warning.
    pub fn push(&self, w: Warning) {
        match &self.live {
            Some(f) => f(&w),
            None => self.kept.lock().unwrap_or_else(|e| e.into_inner()).push(w),
        }
    }

    /// The warnings kept so far, oldest first; they are removed.
    pub fn take(&self) -> Vec<Warning> {
        std::mem::take(&mut *self.kept.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
