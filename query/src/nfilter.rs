//! flow-nfilter (spec §8): pass the records a filter definition permits,
//! unchanged, as an ft stream.

use std::process::ExitCode;

use formats::ft::{self, ByteOrder, FtHeader, FtWriter};

use flowio::input::{self, CollectOptions, RecordSource};
use flowio::select::load_selection;
use flowio::{Skipped, Warning, Warnings};

use crate::Error;

/// What flow-nfilter was asked to do.
#[derive(Clone, Debug, Default)]
pub struct NfilterConfig {
    /// `-f`: the filter configuration file.
    pub config_file: std::path::PathBuf,
    /// `-F`: the definition to apply (flow-tools' default name is `default`).
    pub definition: String,
    /// Whether to load `definition` from `config_file` at all: false when
    /// only `-e` or a time window selects (no `-f`/`-F` given).
    pub use_definition: bool,
    /// `-e`: an inline expression instead of (or in addition to) a definition.
    pub expression: Option<String>,
    /// `-v NAME=value` pairs.
    pub vars: Vec<(String, String)>,
    /// `-b`: output byte order.
    pub byte_order: Option<ByteOrder>,
    /// `-C`: comment.
    pub comment: Option<String>,
    /// `-z`: zlib level.
    pub zlib_level: u32,
    /// `-k`: keep the input's capture times in the output header.
    pub keep_times: bool,
    /// Extension: only flows that started inside this window.
    pub window: input::Window,
    /// Symbol table directory (`--symdir`), else `FLOWTOOLS_SYMDIR`.
    pub symdir: Option<std::path::PathBuf>,
    /// Extension: inputs (files, directories); empty means stdin.
    pub inputs: Vec<String>,
    /// Where problems with single inputs go.
    pub warnings: Warnings,
}

/// Runs flow-nfilter: exit 0, or an error (exit 1) before any output when
/// the configuration or the input header is bad.
pub fn run(cfg: &NfilterConfig) -> Result<ExitCode, Error> {
    let use_def = cfg.use_definition;
    let selection = load_selection(
        Some(&cfg.config_file),
        use_def.then_some(cfg.definition.as_str()),
        cfg.expression.as_deref(),
        &cfg.vars,
        cfg.symdir.as_deref(),
        &cfg.warnings,
    )?;
    let mut sources: Vec<Box<dyn RecordSource>> = Vec::new();
    if cfg.inputs.is_empty() {
        sources.push(Box::new(input::open_stdin(&cfg.warnings)?));
    } else {
        let opts = CollectOptions {
            warnings: cfg.warnings.clone(),
            ..CollectOptions::default()
        };
        for list in input::collect(&cfg.inputs, &opts) {
            for i in list {
                match input::open(&i, &cfg.warnings) {
                    Ok(s) => sources.push(s),
                    Err(e) => cfg
                        .warnings
                        .push(Warning::new(i.display.as_str(), e, Skipped::File)),
                }
            }
        }
        if sources.is_empty() {
            return Err(Error::NoReadableInput);
        }
    }
    let first = sources[0].header().clone();
    let header = FtHeader {
        byte_order: cfg.byte_order.unwrap_or_else(ByteOrder::host),
        export_version: Some(first.export_version.unwrap_or(5)),
        cap_start: Some(if cfg.keep_times {
            first.cap_start.unwrap_or(0)
        } else {
            0
        }),
        cap_end: Some(if cfg.keep_times {
            first.cap_end.unwrap_or(0)
        } else {
            0
        }),
        flags: Some(ft::FLAG_STREAMING),
        flow_count: Some(0),
        comments: cfg.comment.clone(),
        ..FtHeader::default()
    };
    let level = Some(cfg.zlib_level).filter(|&l| l > 0);
    let mut w = FtWriter::new(std::io::stdout().lock(), &header, level)?;
    let mut batch = Vec::with_capacity(input::BATCH);
    for mut src in sources {
        loop {
            batch.clear();
            if src.next_batch(&mut batch)? == 0 {
                break;
            }
            if !cfg.window.is_open() {
                batch.retain(|r| cfg.window.contains(r));
            }
            selection.retain(&mut batch);
            w.write_all(&batch)?;
        }
    }
    use std::io::Write;
    w.finish()?.flush()?;
    Ok(ExitCode::SUCCESS)
}
