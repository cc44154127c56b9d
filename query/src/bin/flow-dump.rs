//! flow-dump: flowdumper's view of flows — one `FLOW` block per record —
//! with flowdumper-style `-e` expressions, and `-s` per-file summaries.
//!
//! `flow-dump [-s] [-e EXPR] [--since T] [--until T] [--filter-file F --filter DEF] [FILE|DIR|-]...`

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use flowio::input::RecordSource;
use flowio::{cli, select};
use query::dump::{self, Summary};
use query::Error;

use flowio::args as common;

#[derive(Parser, Debug)]
#[command(
    name = "flow-dump",
    about = "Print flows one block per flow (flowdumper style), or summarise files",
    disable_version_flag = true
)]
struct Args {
    /// One summary line per input (flows, octets, packets, time span).
    #[arg(short = 's', long = "summary")]
    summary: bool,
    /// Selection and time window.
    #[command(flatten)]
    scan: common::ScanArgs,
    /// Flow files, directories, or - for stdin (default: stdin).
    inputs: Vec<String>,
}

/// Reads every batch of `src`, summing it and handing it to `each`.
fn consume(
    src: &mut dyn RecordSource,
    mut each: impl FnMut(&[formats::Record]) -> std::io::Result<()>,
) -> Result<Summary, Error> {
    let mut batch = Vec::with_capacity(flowio::input::BATCH);
    let mut summary = Summary::default();
    loop {
        batch.clear();
        if src.next_batch(&mut batch)? == 0 {
            return Ok(summary);
        }
        summary.add(&batch);
        each(&batch)?;
    }
}

fn summarize(src: &mut dyn RecordSource) -> Result<Summary, Error> {
    consume(src, |_| Ok(()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::main_wrapper(|| -> Result<ExitCode, query::Error> {
        let mut out = cli::stdout();
        let inputs: Vec<String> = args.inputs.iter().filter(|a| *a != "-").cloned().collect();
        if args.summary && !inputs.is_empty() {
            // one line per file: each input is its own scan
            let mut any = false;
            for inp in &inputs {
                let mut o = args.scan.options(vec![inp.clone()]);
                o.include_tmp = true;
                let prepared = match select::prepare(&o) {
                    Ok(p) => p,
                    Err(e) => {
                        cli::warn(format!("{inp}: {e}"));
                        continue;
                    }
                };
                for one in prepared.inputs {
                    let name = one.display.clone();
                    let p = select::Prepared {
                        header: one.header.clone(),
                        inputs: vec![one],
                        window: prepared.window,
                        selection: prepared.selection.clone(),
                        warnings: prepared.warnings.clone(),
                        progress: false,
                    };
                    let s = summarize(&mut select::ChainSource::new(p))?;
                    writeln!(out, "{}", s.line(&name))?;
                    any = true;
                }
            }
            out.flush()?;
            return Ok(if any {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        let mut src = select::open_source(&args.scan.options(inputs))?;
        if args.summary {
            let s = summarize(src.as_mut())?;
            writeln!(out, "{}", s.line("-"))?;
        } else {
            consume(src.as_mut(), |batch| {
                batch.iter().try_for_each(|r| dump::write_flow(&mut out, r))
            })?;
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
