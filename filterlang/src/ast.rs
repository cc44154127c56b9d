//! The syntax tree of a filter.cfg file (after variable expansion) and of
//! an inline expression. Every node carries the [`Span`] of the word it
//! came from; nothing here has been checked against symbol tables or types
//! yet (that is `compile.rs`).

use crate::error::Span;

/// One word of a config line, with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The word as written (after variable expansion).
    pub text: String,
    /// Where it starts.
    pub span: Span,
}

/// `permit` or `deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The entry permits.
    Permit,
    /// The entry denies.
    Deny,
}

impl Mode {
    /// The other mode.
    pub fn opposite(self) -> Mode {
        match self {
            Mode::Permit => Mode::Deny,
            Mode::Deny => Mode::Permit,
        }
    }

    /// `true` for permit.
    pub fn permits(self) -> bool {
        self == Mode::Permit
    }

    /// `"permit"` or `"deny"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Permit => "permit",
            Mode::Deny => "deny",
        }
    }
}

/// A whole config file, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Primitives and definitions as they appear.
    pub items: Vec<Item>,
}

/// A top-level section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// `filter-primitive NAME` and its lines.
    Primitive(Primitive),
    /// `filter-definition NAME` and its lines.
    Definition(Definition),
}

/// `filter-primitive NAME` with its `type` and entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Primitive {
    /// The name as written.
    pub name: Word,
    /// Position of the `filter-primitive` keyword.
    pub keyword: Span,
    /// The `type` line's argument (the type name), if any.
    pub type_name: Option<Word>,
    /// `permit`, `deny`, `default` and `mask` lines, in order.
    pub statements: Vec<PrimitiveStatement>,
}

/// A line inside a primitive, after `type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrimitiveStatement {
    /// `permit ARGS...` or `deny ARGS...`.
    Entry {
        /// Which keyword.
        mode: Mode,
        /// Position of the keyword.
        keyword: Span,
        /// The words after the keyword.
        args: Vec<Word>,
        /// The raw text after the keyword's first argument (the rest of
        /// the line, trimmed), for `time-date` entries: `None` when the
        /// entry has fewer than two words.
        rest_after_first: Option<Word>,
    },
    /// `default ARGS...`.
    Default {
        /// Position of the keyword.
        keyword: Span,
        /// The words after the keyword.
        args: Vec<Word>,
    },
    /// `mask ARGS...`.
    Mask {
        /// Position of the keyword.
        keyword: Span,
        /// The words after the keyword.
        args: Vec<Word>,
    },
}

/// `filter-definition NAME` with its match groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    /// The name as written.
    pub name: Word,
    /// Position of the `filter-definition` keyword.
    pub keyword: Span,
    /// Groups of `match` lines; a definition permits when every match of
    /// some group permits. `or` starts a new group.
    pub groups: Vec<Vec<Match>>,
    /// Position of the (first) `invert` line, if any.
    pub invert: Option<Span>,
}

/// `match <match-type> <primitive>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// Position of the `match` keyword.
    pub keyword: Span,
    /// The match type (`ip-protocol`, `src-ip-addr`, ...).
    pub match_type: Word,
    /// The primitive's name.
    pub primitive: Word,
}

/// A comparison operator of the expression language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`, `eq`
    Eq,
    /// `!=`, `ne`
    Ne,
    /// `<`, `lt`
    Lt,
    /// `<=`, `le`
    Le,
    /// `>`, `gt`
    Gt,
    /// `>=`, `ge`
    Ge,
}

impl CmpOp {
    /// The operator that gives the same result with the operands swapped.
    pub fn swapped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }
}

/// An operand of the expression language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// `$name` (the name without the `$`).
    Field(String),
    /// A number (decimal or 0x hex) as written.
    Number(String),
    /// An address or prefix, quoted or bare (`"10.0.0.0/8"`).
    Address(String),
    /// Any other quoted text.
    Text(String),
}

/// An inline filter expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `a || b || ...`
    Or(Vec<Expr>),
    /// `a && b && ...`
    And(Vec<Expr>),
    /// `! a`
    Not(Box<Expr>),
    /// `left op right`
    Compare {
        /// Left operand and where it starts.
        left: (Operand, Span),
        /// The operator and where it is.
        op: (CmpOp, Span),
        /// Right operand and where it starts.
        right: (Operand, Span),
    },
}
