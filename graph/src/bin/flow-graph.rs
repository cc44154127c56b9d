//! flow-graph: stacked traffic time series (SVG, PNG) and a one-page HTML
//! report. Arguments -> [`graph::Config`] -> [`graph::run`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use graph::aggregate::{By, Metric};

use flowio::args as common;

/// Draws traffic as stacked bands over time.
///
/// Reads flow files and directories (native or ft; the classic ft stream
/// on stdin when none is named) and draws one band per protocol, service
/// port, top source or destination, exporter, or filter.cfg definition:
///
///   flow-graph /var/flows --since -24h --by port -o ports.png
///   flow-graph /var/flows --since "2026-11-22 00:00" --until "2026-11-23 00:00" --html day.html
#[derive(Debug, Parser)]
#[command(name = "flow-graph", version, verbatim_doc_comment)]
struct Args {
    /// What a band is: proto, port (the lower of a TCP/UDP flow's ports),
    /// src, dst, exporter, definition (one per filter.cfg definition). May
    /// be repeated or comma-separated; -o draws the first, --html all
    /// (default proto, port, src, dst).
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    by: Vec<String>,
    /// Bands per chart besides "other".
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    /// Bin length: 300, 30s, 5m, 1h, 1d (default: about 400 bins or fewer,
    /// 5m for a day).
    #[arg(long, value_name = "STEP")]
    step: Option<String>,
    /// What the height measures: bits (per second), packets or flows.
    #[arg(long, default_value = "bits", value_name = "METRIC")]
    metric: String,
    /// Write the chart to FILE.svg or FILE.png.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write a one-page HTML report: charts, flow-stat summary and top-10 tables.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Picture width of -o, in pixels.
    #[arg(long, default_value_t = 1000)]
    width: u32,
    /// Picture height of -o, in pixels.
    #[arg(long, default_value_t = 480)]
    height: u32,
    /// With --by definition: the definitions to draw, in order (default:
    /// every one in --filter-file except the --filter one).
    #[arg(long, value_name = "DEF,...", value_delimiter = ',')]
    definitions: Option<Vec<String>>,
    /// Time window, filter, expression, workers.
    #[command(flatten)]
    scan: common::ScanArgs,
    /// Files or directories to read (default: the ft stream on stdin).
    inputs: Vec<String>,
}

fn config(a: Args) -> Result<graph::Config, graph::Error> {
    let mut by = Vec::new();
    for b in &a.by {
        match By::parse(b.trim()) {
            Some(k) => by.push(k),
            None => return Err(graph::Error::BadBy(b.clone())),
        }
    }
    let metric =
        Metric::parse(&a.metric).ok_or_else(|| graph::Error::BadMetric(a.metric.clone()))?;
    let step_secs = a.step.as_deref().map(graph::axis::parse_step).transpose()?;
    let command = std::env::args_os()
        .map(|s| {
            let s = s.to_string_lossy().into_owned();
            if s.contains([' ', '\'', '"']) {
                format!("'{}'", s.replace('\'', "'\\''"))
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut cfg = graph::Config::new(a.scan.options(a.inputs));
    cfg.by = by;
    cfg.top = a.top;
    cfg.step_secs = step_secs;
    cfg.metric = metric;
    cfg.output = a.output;
    cfg.html = a.html;
    cfg.size = (a.width, a.height);
    cfg.definitions = a.definitions;
    cfg.command = command;
    Ok(cfg)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = config(args).and_then(|c| graph::run(&c));
    match result {
        Ok(code) => code,
        Err(e) => {
            flowio::cli::warn(e);
            ExitCode::from(1)
        }
    }
}
