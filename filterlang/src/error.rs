//! The crate's one error type, [`FilterError`], and [`Diagnostic`] for
//! warnings. Every variant that comes from a config or an expression names
//! the file, the 1-based line and column, quotes the offending word and says
//! what was expected.

use std::fmt;

/// A position in a config file or expression: 1-based line and column
/// (columns count characters, and refer to the line as written, before
/// variable expansion).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
}

impl Span {
    /// A span at `line`, `col`.
    pub const fn new(line: usize, col: usize) -> Span {
        Span { line, col }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Everything that can go wrong while reading symbol files, parsing and
/// compiling a filter config or an expression, or picking a definition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A problem at one place in a config file or expression: syntax,
    /// values, symbols, variables.
    #[error("{file}:{}:{}: {message}", span.line, span.col)]
    At {
        /// The file name as given by the caller (or `<expr>`).
        file: String,
        /// Where.
        span: Span,
        /// What is wrong, quoting the word and saying what was expected.
        message: String,
    },
    /// A `match` line that cannot be resolved: unknown match type, unknown
    /// primitive, or a primitive of the wrong type.
    #[error(
        "{file}:{}:{}: {message} (in filter-definition \"{definition}\" at line {})",
        span.line,
        span.col,
        definition_span.line
    )]
    Resolve {
        /// The file name as given by the caller.
        file: String,
        /// Position of the offending word on the `match` line.
        span: Span,
        /// The definition's name as written.
        definition: String,
        /// Position of the `filter-definition` line.
        definition_span: Span,
        /// What is wrong, naming the primitive (and where it is defined).
        message: String,
    },
    /// The requested definition does not exist.
    #[error("{file}: no filter-definition named \"{name}\"; {}", known_list(known))]
    NoSuchDefinition {
        /// The file name as given by the caller.
        file: String,
        /// The name asked for.
        name: String,
        /// The definitions the file does have, in file order.
        known: Vec<String>,
    },
    /// The definition matches on a field that NetFlow v5 records do not
    /// carry (flow-tools: "Filter references a field not in flow.").
    #[error(
        "{file}:{}:{}: filter-definition \"{definition}\" matches on {match_type} ({field}), \
         a field NetFlow v5 flows do not have; expected only v5 fields \
         (flow-tools: Filter references a field not in flow)",
        span.line,
        span.col
    )]
    FieldNotInV5 {
        /// The file name as given by the caller.
        file: String,
        /// Position of the match type on the `match` line.
        span: Span,
        /// The definition's name as written.
        definition: String,
        /// The match type as written (`src-tag`, ...).
        match_type: String,
        /// The missing field, in flow-tools' spelling.
        field: &'static str,
    },
    /// A date (a command-line time argument or a `time-date` entry) that
    /// cannot be read.
    #[error(
        "cannot read the date \"{input}\" at column {col}: {message}; {}",
        DATE_EXAMPLES
    )]
    Date {
        /// The date as given.
        input: String,
        /// 1-based column (in characters) of the offending word.
        col: usize,
        /// What is wrong, quoting the word and saying what was expected.
        message: String,
    },
    /// A date that reads, but names an instant outside the years
    /// 0001..=9999 (or adds up to one that no integer holds).
    #[error(
        "the date \"{input}\" is out of range: dates must lie between 0001-01-01 and \
         9999-12-31 (UTC); give a nearer date or a smaller relative amount"
    )]
    DateOutOfRange {
        /// The date as given.
        input: String,
    },
    /// A symbol file could not be read or is malformed.
    #[error("{path}:{line}: {message}")]
    SymbolFile {
        /// The symbol file.
        path: String,
        /// 1-based line (0 when the whole file is concerned).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// What a date may look like, for error messages.
pub(crate) const DATE_EXAMPLES: &str = "dates look like \"2026-11-21 20:35:29\", \
    \"November 21, 2026 8:35pm CST\", \"11/21/26\", \"2026-11-21T20:35:29Z\", \"@1795293329\", \
    \"2 hours ago\", \"last monday\" or \"-1h\"";

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "the file defines no filter-definition at all".to_string()
    } else {
        format!("expected one of: {}", known.join(", "))
    }
}

impl FilterError {
    /// The position the error points at, when it has one.
    pub fn span(&self) -> Option<Span> {
        match self {
            FilterError::At { span, .. }
            | FilterError::Resolve { span, .. }
            | FilterError::FieldNotInV5 { span, .. } => Some(*span),
            FilterError::NoSuchDefinition { .. }
            | FilterError::SymbolFile { .. }
            | FilterError::Date { .. }
            | FilterError::DateOutOfRange { .. } => None,
        }
    }

    pub(crate) fn at(file: &str, span: Span, message: impl Into<String>) -> FilterError {
        FilterError::At {
            file: file.to_string(),
            span,
            message: message.into(),
        }
    }
}

/// A warning found while loading a config (duplicate entries, values that
/// can never match, numbers with trailing garbage). Warnings never stop
/// the load; `Display` gives `file:line:col: warning: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name as given by the caller.
    pub file: String,
    /// Where.
    pub span: Span,
    /// What is suspicious.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: warning: {}",
            self.file, self.span.line, self.span.col, self.message
        )
    }
}
