//! flow-send: plays flows back to a collector as NetFlow v5 datagrams over
//! UDP (see `testbed::send`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use testbed::send::{self, Config, Sources};
use testbed::Error;

/// Sends flows (ft files or stream, native files) to a NetFlow v5 collector.
///
/// Each exporter's datagrams come from a UDP socket bound to the exporter's
/// own 127.x.y.z address, so the collector sees several exporters. Only
/// loopback destinations are accepted unless --allow-remote is given.
#[derive(Debug, Parser)]
#[command(name = "flow-send", version)]
struct Args {
    /// Destination: host:port, host/port, or localip/remoteip/port.
    dest: String,
    /// Input files (ft or native); none or '-' reads an ft stream on stdin.
    files: Vec<PathBuf>,
    /// Source addresses: exporters, in order of first appearance, are mapped
    /// onto this comma-separated list (default: each 127.x.y.z exporter
    /// sends from its own address).
    #[arg(long)]
    from: Option<String>,
    /// Allow a destination that is not a loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Flows per second (default: flat out).
    #[arg(long)]
    rate: Option<f64>,
    /// Minimum microseconds between datagrams.
    #[arg(long)]
    interval_us: Option<u64>,
    /// First flow sequence number of every exporter and engine.
    #[arg(long, default_value_t = 0)]
    seq_start: u32,
    /// Send the datagrams of a golden hex dump byte for byte instead
    /// (lines: `<batch> <exporter-ip> <payload-hex>`).
    #[arg(long, value_name = "FILE")]
    replay_hex: Option<PathBuf>,
    /// With --replay-hex: only the lines of this batch (first, second, ...);
    /// 'all' for every line.
    #[arg(long, default_value = "all")]
    batch: String,
    /// Print nothing on success.
    #[arg(short, long)]
    quiet: bool,
}

fn config(a: &Args) -> Result<Config, Error> {
    let (dest, local) = send::parse_destination(&a.dest)?;
    let sources = match (&a.from, local) {
        (Some(list), _) => Sources::List(send::parse_sources(list)?),
        (None, Some(l)) => Sources::List(vec![l]),
        (None, None) => Sources::Auto,
    };
    Ok(Config {
        inputs: a.files.clone(),
        dest,
        sources,
        allow_remote: a.allow_remote,
        rate: a.rate,
        interval: a.interval_us.map(Duration::from_micros),
        seq_start: a.seq_start,
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let warn = |m: String| eprintln!("flow-send: {m}");
    let result = config(&args).and_then(|cfg| match &args.replay_hex {
        Some(dump) => {
            let batch = (args.batch != "all").then_some(args.batch.as_str());
            send::run_replay_hex(&cfg, dump, batch)
        }
        None => send::run(&cfg, &mut |m| warn(m)),
    });
    match result {
        Ok(summary) => {
            if !args.quiet {
                warn(summary.to_string());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            warn(e.to_string());
            ExitCode::from(1)
        }
    }
}
