//! The fast path's shared machinery: which records a tool looks at
//! (filter.cfg definition, inline expression, time window) and the files
//! it reads them from.

use std::path::{Path, PathBuf};

use formats::ft::{self, FtHeader};

use crate::input::{self, CollectOptions, Input, Window};
use crate::{Error, Skipped, Warning, Warnings};

/// A compiled predicate over records: a filter.cfg definition, an inline
/// expression, or both (both must permit).
#[derive(Clone, Debug)]
pub struct Selection {
    filters: Vec<filterlang::Filter>,
}

impl Selection {
    /// Whether the record passes.
    #[inline]
    pub fn matches(&self, r: &formats::Record) -> bool {
        self.filters.iter().all(|f| f.matches(r))
    }
    /// Keeps only the records that pass, in order (the filters' batch
    /// path: same result as `recs.retain(|r| self.matches(r))`).
    pub fn retain(&self, recs: &mut Vec<formats::Record>) {
        for f in &self.filters {
            if recs.is_empty() {
                break;
            }
            f.retain(recs);
        }
    }
    /// A selection that passes everything.
    pub fn all() -> Self {
        Selection {
            filters: Vec::new(),
        }
    }
    /// The record fields the filters read.
    pub fn fields(&self) -> formats::native::Fields {
        self.filters
            .iter()
            .fold(formats::native::Fields::NONE, |a, f| a | f.fields())
    }
    /// True when nothing is filtered out.
    pub fn is_all(&self) -> bool {
        self.filters.is_empty()
    }
}

/// Loads a filter.cfg definition and/or an inline expression. Config
/// warnings (a shadowed prefix, say) go to `warnings`.
pub fn load_selection(
    config_file: Option<&std::path::Path>,
    definition: Option<&str>,
    expression: Option<&str>,
    vars: &[(String, String)],
    symdir: Option<&std::path::Path>,
    warnings: &Warnings,
) -> Result<Selection, Error> {
    let mut filters = Vec::new();
    if let (Some(path), Some(def)) = (config_file, definition) {
        let symbols = filterlang::Symbols::load(symdir)?;
        let text = read_text(path, "filter configuration")?;
        let name = path.to_string_lossy();
        let (cfg, diagnostics) = filterlang::FilterConfig::parse(&text, &name, vars, &symbols)?;
        for d in diagnostics {
            warnings.push(Warning::new("", d, Skipped::Nothing));
        }
        filters.push(cfg.definition(def)?);
    }
    if let Some(expr) = expression {
        filters.push(filterlang::compile_expr(expr)?);
    }
    Ok(Selection { filters })
}

/// Options every fast-path tool shares (file arguments, time window,
/// selection, workers).
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Files and directories; empty means the classic stdin stream.
    pub inputs: Vec<String>,
    /// `--since`: lower bound on flow start (absolute or relative).
    pub since: Option<String>,
    /// `--until`: upper bound on flow start (exclusive).
    pub until: Option<String>,
    /// `--filter-file`: a filter.cfg.
    pub filter_file: Option<PathBuf>,
    /// `--filter`: the definition to apply from it.
    pub filter: Option<String>,
    /// `-e`: inline expression.
    pub expr: Option<String>,
    /// `-v NAME=value` for the filter.cfg.
    pub vars: Vec<(String, String)>,
    /// `--threads`: workers, 0 = all cores.
    pub threads: usize,
    /// `--symdir`: symbol tables.
    pub symdir: Option<PathBuf>,
    /// `-a`: include `tmp-` files being written.
    pub include_tmp: bool,
    /// Where problems with single inputs go.
    pub warnings: Warnings,
    /// Show a progress line for long scans on a terminal.
    pub progress: bool,
}

/// What [`prepare`] resolved from [`ScanOptions`].
pub struct Prepared {
    /// The files to read, in flow-cat order.
    pub inputs: Vec<Input>,
    /// The time window.
    pub window: Window,
    /// The record selection.
    pub selection: Selection,
    /// A header describing the inputs as one stream (flow-cat -p style).
    pub header: FtHeader,
    /// Where problems with single inputs go.
    pub warnings: Warnings,
    /// Show a progress line for long scans on a terminal.
    pub progress: bool,
}

impl Prepared {
    /// The unordered parallel scan of these inputs with this window and
    /// selection, decoding `fields` (plus the selection's) on `threads`
    /// workers; see [`input::scan`].
    pub fn scan<A, I, F, M>(
        &self,
        fields: formats::native::Fields,
        threads: usize,
        order: input::MergeOrder,
        init: I,
        fold: F,
        merge: M,
    ) -> Result<A, Error>
    where
        A: Send,
        I: Fn() -> A + Sync + Send,
        F: Fn(&mut A, u64, &[formats::Record]) + Sync + Send,
        M: Fn(&mut A, A) + Sync + Send,
    {
        let selection = &self.selection;
        let keep = |batch: &mut Vec<formats::Record>| selection.retain(batch);
        let scan = input::Scan {
            inputs: &self.inputs,
            window: self.window,
            keep: &keep,
            fields: fields | selection.fields(),
            threads,
            order,
            warnings: &self.warnings,
            progress: self.progress,
        };
        input::scan(&scan, init, fold, merge)
    }
}

impl ScanOptions {
    /// Whether the tool reads named files instead of stdin.
    pub fn is_fast_path(&self) -> bool {
        !self.inputs.is_empty()
    }

    /// Loads the selection (filter, expression) alone.
    pub fn selection(&self) -> Result<Selection, Error> {
        if self.filter.is_some() && self.filter_file.is_none() {
            return Err(Error::FilterWithoutFile);
        }
        load_selection(
            self.filter_file.as_deref(),
            self.filter.as_deref(),
            self.expr.as_deref(),
            &self.vars,
            self.symdir.as_deref(),
            &self.warnings,
        )
    }

    /// Parses the time window.
    pub fn window(&self) -> Result<Window, Error> {
        let now = chrono::Utc::now().timestamp();
        let parse = |s: &Option<String>, option: &'static str| -> Result<Option<i64>, Error> {
            s.as_deref()
                .map(|t| {
                    crate::timeparse::parse_time(t, now)
                        .map(|secs| secs * 1000)
                        .map_err(|source| Error::Time {
                            option,
                            given: t.to_string(),
                            source: Box::new(source),
                        })
                })
                .transpose()
        };
        Ok(Window {
            since_ms: parse(&self.since, "--since")?,
            until_ms: parse(&self.until, "--until")?,
        })
    }
}

/// Resolves options into inputs, window and selection; fails when no
/// input is readable.
pub fn prepare(o: &ScanOptions) -> Result<Prepared, Error> {
    let selection = o.selection()?;
    let window = o.window()?;
    let opts = CollectOptions {
        include_tmp: o.include_tmp,
        global_sort: false,
        warnings: o.warnings.clone(),
    };
    let inputs: Vec<Input> = input::collect(&o.inputs, &opts)
        .into_iter()
        .flatten()
        .collect();
    if inputs.is_empty() {
        return Err(Error::NoInput);
    }
    let header = stream_header(&inputs);
    Ok(Prepared {
        inputs,
        window,
        selection,
        header,
        warnings: o.warnings.clone(),
        progress: o.progress,
    })
}

/// One header for several inputs: export version of the first, capture
/// span and counters summed, as `flow-cat -p` would write it.
pub fn stream_header(inputs: &[Input]) -> FtHeader {
    let sum = |f: fn(&FtHeader) -> Option<u32>| {
        inputs
            .iter()
            .filter_map(|i| f(&i.header))
            .fold(0u32, |a, b| a.wrapping_add(b))
    };
    let last = |f: fn(&FtHeader) -> Option<String>| inputs.iter().rev().find_map(|i| f(&i.header));
    FtHeader {
        byte_order: ft::ByteOrder::host(),
        stream_version: 3,
        export_version: Some(
            inputs
                .first()
                .and_then(|i| i.header.export_version)
                .unwrap_or(5),
        ),
        cap_start: inputs.iter().filter_map(|i| i.header.cap_start).min(),
        cap_end: inputs.iter().filter_map(|i| i.header.cap_end).max(),
        flags: Some(ft::FLAG_STREAMING | ft::FLAG_PRELOADED),
        flow_count: Some(sum(|h| h.flow_count)),
        flow_lost: Some(sum(|h| h.flow_lost)),
        pkt_corrupt: Some(sum(|h| h.pkt_corrupt)),
        seq_reset: inputs.iter().rev().find_map(|i| i.header.seq_reset),
        hostname: last(|h| h.hostname.clone()),
        comments: last(|h| h.comments.clone()),
        ..FtHeader::default()
    }
}

/// Reads `path` fully (for small config files); `what` says what the
/// file is for in the error.
pub fn read_text(path: &Path, what: &'static str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::Unreadable {
        path: path.display().to_string(),
        what,
        reason: input::io_reason(&e),
    })
}

/// The records of prepared inputs, in flow-cat order, restricted to the
/// window and selection: the sequential fast path (flow-print, flow-dump),
/// whose output order must equal the pipe's.
pub struct ChainSource {
    prepared: Prepared,
    next: usize,
    current: Option<Box<dyn input::RecordSource>>,
    buf: Vec<formats::Record>,
}

impl ChainSource {
    /// Starts at the first input.
    pub fn new(prepared: Prepared) -> Self {
        ChainSource {
            prepared,
            next: 0,
            current: None,
            buf: Vec::with_capacity(input::BATCH),
        }
    }
}

impl input::RecordSource for ChainSource {
    fn header(&self) -> &FtHeader {
        &self.prepared.header
    }
    fn next_batch(&mut self, out: &mut Vec<formats::Record>) -> Result<usize, Error> {
        loop {
            if self.current.is_none() {
                let Some(inp) = self.prepared.inputs.get(self.next) else {
                    return Ok(0);
                };
                self.next += 1;
                if !self.prepared.window.may_hold_file(&inp.header) {
                    continue;
                }
                match input::open(inp, &self.prepared.warnings) {
                    Ok(s) => self.current = Some(s),
                    Err(e) => {
                        let w = Warning::new(inp.display.as_str(), e, Skipped::File);
                        self.prepared.warnings.push(w.at(self.next - 1));
                        continue;
                    }
                }
            }
            let src = self.current.as_mut().expect("set above");
            self.buf.clear();
            let n = match src.next_batch(&mut self.buf) {
                Ok(n) => n,
                Err(e) => {
                    let name = self.prepared.inputs[self.next - 1].display.as_str();
                    let w = Warning::new(name, e, Skipped::Rest);
                    self.prepared.warnings.push(w.at(self.next - 1));
                    0
                }
            };
            if n == 0 {
                self.current = None;
                continue;
            }
            let (w, s) = (&self.prepared.window, &self.prepared.selection);
            self.buf.retain(|r| w.contains(r));
            s.retain(&mut self.buf);
            if !self.buf.is_empty() {
                out.extend_from_slice(&self.buf);
                return Ok(self.buf.len());
            }
        }
    }
}

/// Opens what a reading tool should read: the stdin stream when no file
/// is named (then only the selection applies), else the prepared files.
pub fn open_source(o: &ScanOptions) -> Result<Box<dyn input::RecordSource>, Error> {
    if o.is_fast_path() {
        return Ok(Box::new(ChainSource::new(prepare(o)?)));
    }
    let window = o.window()?;
    let selection = o.selection()?;
    let stdin = input::open_stdin(&o.warnings)?;
    if window.is_open() && selection.is_all() {
        return Ok(Box::new(stdin));
    }
    Ok(Box::new(FilteredSource {
        inner: stdin,
        window,
        selection,
        buf: Vec::with_capacity(input::BATCH),
    }))
}

/// A stream restricted to a window and selection.
struct FilteredSource<S: input::RecordSource> {
    inner: S,
    window: Window,
    selection: Selection,
    buf: Vec<formats::Record>,
}

impl<S: input::RecordSource> input::RecordSource for FilteredSource<S> {
    fn header(&self) -> &FtHeader {
        self.inner.header()
    }
    fn next_batch(&mut self, out: &mut Vec<formats::Record>) -> Result<usize, Error> {
        loop {
            self.buf.clear();
            if self.inner.next_batch(&mut self.buf)? == 0 {
                return Ok(0);
            }
            let (w, s) = (&self.window, &self.selection);
            self.buf.retain(|r| w.contains(r));
            s.retain(&mut self.buf);
            if !self.buf.is_empty() {
                out.extend_from_slice(&self.buf);
                return Ok(self.buf.len());
            }
        }
    }
}
