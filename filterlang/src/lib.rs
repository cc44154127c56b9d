//! The flow-tools filter language: `filter.cfg` files (flow-nfilter's
//! `filter-primitive` / `filter-definition` language, spec §8) and a small
//! inline expression language for `-e EXPR` (`6 ne $protocol &&
//! "10.0.0.0/8" eq $srcip`), both compiled to a [`Filter`] whose
//! [`Filter::matches`] runs on a [`formats::Record`] with no allocation and
//! no string work.
//!
//! The main types are [`FilterConfig`] (a parsed, resolved and checked
//! config), [`Filter`] (one runnable definition or expression),
//! [`Symbols`] (ip-prot.sym / tcp-port.sym / asn.sym / tag.sym, also used
//! by the reports' `-n`), and [`FilterError`] / [`Diagnostic`]. [`date`]
//! holds the suite's one date parser ([`parse_date`]), behind `time-date`
//! entries and every tool's time arguments. The
//! pipeline is text -> variable expansion (`vars`) -> pest grammar
//! (`grammar.pest`, `parse`) -> AST ([`ast`]) -> lookup tables and
//! resolved definitions (`compile`) -> [`Filter`] (`eval`).
//!
//! This crate reads symbol files when asked to ([`Symbols::load`]) and
//! does no other I/O: no config files (the caller passes the text), no
//! printing, no DNS (a host name where an address is expected is an
//! error). It never panics on any input.
#![deny(missing_docs)]

pub mod ast;
mod compile;
pub mod date;
mod error;
mod eval;
mod number;
mod parse;
mod symbols;
mod vars;

pub use date::{parse_date, Zone};
pub use error::{Diagnostic, FilterError, Span};
pub use eval::Filter;
pub use symbols::{SymbolTable, Symbols, SYMDIR_ENV};

/// Knobs that make a load reproducible; [`FilterConfig::parse`] uses the
/// defaults (the current time and the process's time zone).
#[derive(Clone, Copy, Debug, Default)]
pub struct ParseOptions {
    /// "Now" for relative dates (`1 hour ago`, a date without a year), in
    /// seconds since the epoch; `None` reads the clock.
    pub now: Option<i64>,
    /// The zone of dates written without one, and of the `time`
    /// primitive (default: the process's local zone, `TZ`).
    pub zone: Zone,
}

/// A parsed filter.cfg: every primitive compiled, every definition
/// resolved and type-checked (used or not).
#[derive(Clone, Debug)]
pub struct FilterConfig {
    file: String,
    compiled: compile::Compiled,
}

impl FilterConfig {
    /// Parses and checks a config. `file_name` is used in messages, `vars`
    /// are the `-v NAME=value` bindings (the last binding of a name wins).
    /// Returns the config and its warnings (duplicates and other
    /// suspicious but legal lines).
    pub fn parse(
        text: &str,
        file_name: &str,
        vars: &[(String, String)],
        symbols: &Symbols,
    ) -> Result<(FilterConfig, Vec<Diagnostic>), FilterError> {
        FilterConfig::parse_with(text, file_name, vars, symbols, &ParseOptions::default())
    }

    /// [`FilterConfig::parse`] with explicit [`ParseOptions`].
    pub fn parse_with(
        text: &str,
        file_name: &str,
        vars: &[(String, String)],
        symbols: &Symbols,
        options: &ParseOptions,
    ) -> Result<(FilterConfig, Vec<Diagnostic>), FilterError> {
        let ast = parse::parse_config(text, file_name, vars)?;
        let now = options.now.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
        let ctx = compile::Context {
            now,
            zone: options.zone,
        };
        let (compiled, warnings) = compile::compile(&ast, file_name, symbols, ctx)?;
        Ok((
            FilterConfig {
                file: file_name.to_string(),
                compiled,
            },
            warnings,
        ))
    }

    /// Parses a config's syntax only (no symbols, no resolution): the AST,
    /// for tools and tests.
    pub fn parse_ast(
        text: &str,
        file_name: &str,
        vars: &[(String, String)],
    ) -> Result<ast::Config, FilterError> {
        parse::parse_config(text, file_name, vars)
    }

    /// The runnable filter of definition `name` (case-insensitive). Fails
    /// when there is no such definition, or when it matches on a field
    /// NetFlow v5 flows do not have (tags, marked ToS, ...).
    pub fn definition(&self, name: &str) -> Result<Filter, FilterError> {
        let def = self
            .compiled
            .definitions
            .iter()
            .find(|d| d.name.text.eq_ignore_ascii_case(name))
            .ok_or_else(|| FilterError::NoSuchDefinition {
                file: self.file.clone(),
                name: name.to_string(),
                known: self.definition_names().map(str::to_string).collect(),
            })?;
        compile::build_filter(&self.compiled, def, &self.file)
    }

    /// The definitions' names as written, in file order.
    pub fn definition_names(&self) -> impl Iterator<Item = &str> {
        self.compiled
            .definitions
            .iter()
            .map(|d| d.name.text.as_str())
    }

    /// The file name given to [`FilterConfig::parse`].
    pub fn file_name(&self) -> &str {
        &self.file
    }
}

/// Compiles an inline filter expression (`-e`): comparisons `== != < <= >
/// >=` (or `eq ne lt le gt ge`) between a `$field` and a number (decimal
/// or `0x` hex), an address, a prefix (`"10.0.0.0/8" eq $srcip` tests
/// membership; only `eq`/`ne`), or another field; operands in either
/// order; `&&` / `and`, `||` / `or`, `!` / `not`, parentheses.
///
/// Fields: `$srcip $dstip $exporterip $nexthop $srcport $dstport
/// $protocol $tos $tcp_flags $input_if $output_if $pkts $bytes $src_as
/// $dst_as $src_mask $dst_mask $engine_id $engine_type $startime
/// $endtime` (unix seconds) and `$duration` (milliseconds, as flow-tools'
/// `duration`), plus the aliases `$srcaddr $dstaddr $exaddr $prot
/// $packets $octets $starttime`.
pub fn compile_expr(text: &str) -> Result<Filter, FilterError> {
    let ast = parse::parse_expr(text)?;
    let node = compile::compile_expr_ast(&ast)?;
    Ok(Filter::from_expr(text, node))
}

/// Parses an inline expression's syntax only: the AST.
pub fn parse_expr(text: &str) -> Result<ast::Expr, FilterError> {
    parse::parse_expr(text)
}
