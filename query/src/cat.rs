//! flow-cat (spec §5): concatenate flow files and streams into one ft
//! stream, on stdout or into a file whose header is rewritten at the end.

use std::io::{Seek, Write};
use std::process::ExitCode;

use formats::ft::{self, ByteOrder, FtHeader, FtWriter};

use flowio::input::{self, CollectOptions, Input};
use flowio::{Skipped, Warning};

use crate::Error;

/// What flow-cat was asked to do.
#[derive(Clone, Debug, Default)]
pub struct CatConfig {
    /// Inputs (files, directories, `-`); empty means stdin.
    pub inputs: Vec<String>,
    /// `-a`, `-g`.
    pub collect: CollectOptions,
    /// `-p`: preload the header with the inputs' times and counters.
    pub preload: bool,
    /// `-b`: output byte order.
    pub byte_order: Option<ByteOrder>,
    /// `-C`: comment.
    pub comment: Option<String>,
    /// `-o`: output file instead of stdout.
    pub output: Option<std::path::PathBuf>,
    /// `-z`: zlib level, 0 = none.
    pub zlib_level: u32,
    /// `-t`: low capture-time bound (unix secs) for file selection.
    pub t_low: Option<i64>,
    /// `-T`: high capture-time bound (unix secs) for file selection.
    pub t_high: Option<i64>,
    /// Extension: only flows that started inside this window.
    pub window: input::Window,
    /// Extension: only flows an inline expression (`-e`) permits.
    pub selection: Option<flowio::select::Selection>,
}

/// Keeps an input when its header times pass `-t`/`-T` (spec §5).
fn selected(h: &FtHeader, lo: Option<i64>, hi: Option<i64>) -> bool {
    let start = h.cap_start.unwrap_or(0) as i64;
    let end = h.cap_end.unwrap_or(0) as i64;
    match (lo, hi) {
        (Some(lo), Some(hi)) => !(start < lo || start > hi),
        (Some(lo), None) => start <= lo,
        (None, Some(hi)) => end >= hi,
        (None, None) => true,
    }
}

/// The header flow-cat writes (spec §1.4) for the given inputs.
fn output_header(cfg: &CatConfig, inputs: &[&Input], to_file: bool) -> FtHeader {
    let first = inputs.first().map(|i| &i.header);
    let mut h = FtHeader {
        byte_order: cfg.byte_order.unwrap_or_else(ByteOrder::host),
        export_version: Some(first.and_then(|h| h.export_version).unwrap_or(5)),
        comments: cfg.comment.clone(),
        ..FtHeader::default()
    };
    let preload = cfg.preload || cfg.t_low.is_some() || cfg.t_high.is_some();
    let mut flags = if to_file { 0 } else { ft::FLAG_STREAMING };
    if to_file || preload {
        let start = inputs.iter().filter_map(|i| i.header.cap_start).min();
        let end = inputs.iter().filter_map(|i| i.header.cap_end).max();
        let sum = |f: fn(&FtHeader) -> Option<u32>| {
            inputs
                .iter()
                .filter_map(|i| f(&i.header))
                .fold(0u32, |a, b| a.wrapping_add(b))
        };
        h.cap_start = Some(if preload {
            start.unwrap_or(0)
        } else {
            u32::MAX
        });
        h.cap_end = Some(if preload { end.unwrap_or(0) } else { 0 });
        h.flow_count = Some(if preload { sum(|h| h.flow_count) } else { 0 });
        h.flow_lost = Some(if preload { sum(|h| h.flow_lost) } else { 0 });
        h.pkt_corrupt = Some(if preload { sum(|h| h.pkt_corrupt) } else { 0 });
    }
    if preload {
        flags |= ft::FLAG_PRELOADED;
        for i in inputs {
            let ih = &i.header;
            if ih.hostname.is_some() {
                h.hostname = ih.hostname.clone();
            }
            if ih.comments.is_some() {
                h.comments = ih.comments.clone();
            }
            if ih.seq_reset.is_some() {
                h.seq_reset = ih.seq_reset;
            }
            if ih.flow_misordered.is_some() {
                h.flow_misordered = ih.flow_misordered;
            }
            if ih.vendor.is_some() {
                h.vendor = ih.vendor;
            }
            if ih.exporter_ip.is_some() {
                h.exporter_ip = ih.exporter_ip;
            }
            if ih.agg_version.is_some() {
                h.agg_version = ih.agg_version;
                h.agg_method = ih.agg_method;
            }
            if ih.rot_schedule.is_some() {
                h.rot_schedule = ih.rot_schedule;
            }
        }
    }
    h.flags = Some(flags);
    h
}

enum Out {
    Stdout(FtWriter<std::io::StdoutLock<'static>>),
    File(FtWriter<std::fs::File>),
}

impl Out {
    fn write_all(&mut self, rs: &[formats::Record]) -> Result<(), Error> {
        match self {
            Out::Stdout(w) => w.write_all(rs)?,
            Out::File(w) => w.write_all(rs)?,
        }
        Ok(())
    }
}

/// Runs flow-cat. Exit status 0 when at least one input was processed.
pub fn run(cfg: &CatConfig) -> Result<ExitCode, Error> {
    let args = if cfg.inputs.is_empty() {
        vec!["-".to_string()]
    } else {
        cfg.inputs.clone()
    };
    let lists = input::collect(&args, &cfg.collect);
    let mut inputs: Vec<Input> = lists.into_iter().flatten().collect();
    // stdin's header is read when it is opened; others are known now
    if cfg.t_low.is_some() || cfg.t_high.is_some() {
        inputs.retain(|i| i.path.is_none() || selected(&i.header, cfg.t_low, cfg.t_high));
    }
    if !cfg.window.is_open() {
        inputs.retain(|i| i.path.is_none() || cfg.window.may_hold_file(&i.header));
    }
    let mut out: Option<Out> = None;
    let mut out_header = FtHeader::default();
    let mut version: Option<u16> = None;
    let mut processed = 0usize;
    let mut batch = Vec::with_capacity(input::BATCH);
    for idx in 0..inputs.len() {
        let warnings = &cfg.collect.warnings;
        let mut src = match input::open(&inputs[idx], warnings) {
            Ok(s) => s,
            Err(e) => {
                warnings.push(Warning::new(inputs[idx].display.as_str(), e, Skipped::File));
                continue;
            }
        };
        if inputs[idx].path.is_none() {
            inputs[idx].header = src.header().clone();
        }
        let v = src.header().export_version.unwrap_or(0);
        match version {
            None => version = Some(v),
            Some(pv) if pv != v => {
                return Err(Error::MixedVersions {
                    input: inputs[idx].display.clone(),
                    got: v,
                    first: pv,
                })
            }
            _ => {}
        }
        if out.is_none() {
            let refs: Vec<&Input> = inputs.iter().collect();
            out_header = output_header(cfg, &refs, cfg.output.is_some());
            let level = Some(cfg.zlib_level).filter(|&l| l > 0);
            out = Some(match &cfg.output {
                Some(p) => {
                    let f = std::fs::File::create(p).map_err(|source| Error::Create {
                        path: p.clone(),
                        source,
                    })?;
                    Out::File(FtWriter::new(f, &out_header, level)?)
                }
                None => Out::Stdout(FtWriter::new(std::io::stdout().lock(), &out_header, level)?),
            });
        }
        let o = out.as_mut().expect("opened above");
        loop {
            batch.clear();
            match src.next_batch(&mut batch) {
                Ok(0) => break,
                Ok(_) => {
                    if !cfg.window.is_open() {
                        batch.retain(|r| cfg.window.contains(r));
                    }
                    if let Some(sel) = &cfg.selection {
                        sel.retain(&mut batch);
                    }
                    o.write_all(&batch)?
                }
                Err(e) => {
                    warnings.push(Warning::new(inputs[idx].display.as_str(), e, Skipped::Rest));
                    break;
                }
            }
        }
        processed += 1;
    }
    match out {
        None => {}
        Some(Out::Stdout(w)) => {
            let mut so = w.finish()?;
            so.flush()?;
        }
        Some(Out::File(w)) => {
            let n = w.records_written();
            let mut h = out_header.clone();
            let refs: Vec<&Input> = inputs.iter().collect();
            let preload = cfg.preload || cfg.t_low.is_some() || cfg.t_high.is_some();
            if !preload {
                h.cap_start = refs
                    .iter()
                    .filter_map(|i| i.header.cap_start)
                    .min()
                    .or(Some(0));
                h.cap_end = refs
                    .iter()
                    .filter_map(|i| i.header.cap_end)
                    .max()
                    .or(Some(0));
            }
            h.flow_count = Some(n as u32);
            let mut f = w.finish_rewrite(&h)?;
            f.flush()?;
            f.seek(std::io::SeekFrom::End(0))?;
        }
    }
    Ok(if processed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
