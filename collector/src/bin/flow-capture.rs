//! flow-capture: receive NetFlow v5 and store it in rotating flow files.
//!
//! The command line is flow-tools' (`flow-capture [options] -w workdir
//! localip/remoteip/port`) plus long options for what is new; with no
//! arguments at all it listens on 0.0.0.0:9991 and writes under ./flows.
//! This file only maps the command line onto `collector::config::Options`;
//! the checks are `Config::from_options`'s, the run `capture::run`'s.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use collector::capture::{self, CaptureError, Controls};
use collector::clock::SystemClock;
use collector::config::{Config, Options, DEFAULT_QUEUE};

#[derive(Parser, Debug)]
#[command(
    name = "flow-capture",
    disable_version_flag = true,
    about = "Receive NetFlow v5 datagrams and store them in rotating flow files",
    after_help = "Positional argument: localip/remoteip/port (default 0/0/9991). \
localip 0 = any address; remoteip 0 = any exporter, else the only exporter \
accepted (a multicast group is joined instead)."
)]
struct Args {
    #[arg(help = "localip/remoteip/port[/ttl] (default 0/0/9991)")]
    peer: Option<String>,
    #[arg(short = 'w', default_value = "./flows", help = "Working directory")]
    workdir: PathBuf,
    #[arg(short = 'b', help = "ft file byte order: big or little")]
    byte_order: Option<String>,
    #[arg(short = 'c', help = "TCP clients (flow-tools -c; not supported)")]
    clients: Option<u32>,
    #[arg(short = 'C', help = "Comment stored in each file header")]
    comment: Option<String>,
    #[arg(short = 'd', default_value_t = 0, help = "> 0: expiry only logs")]
    debug: u32,
    #[arg(short = 'D', help = "Stay in the foreground (always: accepted)")]
    foreground: bool,
    #[arg(short = 'e', default_value_t = 0, help = "Expire: keep N files")]
    max_files: u64,
    #[arg(short = 'E', help = "Expire: keep at most SIZE bytes (b, K, M, G)")]
    max_bytes: Option<String>,
    #[arg(short = 'f', help = "Filter file (filter.cfg)")]
    filter_file: Option<PathBuf>,
    #[arg(short = 'F', help = "Filter definition applied before storing")]
    filter_name: Option<String>,
    #[arg(short = 'n', help = "Rotations per day (default: 5-minute files)")]
    rotations: Option<u32>,
    /// Directory nesting, -3..3 (3 = YYYY/YYYY-MM/YYYY-MM-DD)
    #[arg(short = 'N', default_value_t = 3, allow_negative_numbers = true)]
    nesting: i8,
    #[arg(short = 'p', help = "Pidfile base; BASE.port is written (-: none)")]
    pidfile: Option<String>,
    #[arg(short = 'R', help = "Program run with each finished file")]
    post_rotate: Option<PathBuf>,
    #[arg(short = 'S', default_value_t = 0, help = "STAT lines every N minutes")]
    stat_minutes: u32,
    #[arg(short = 't', help = "Tag file (flow-tools -t; not supported)")]
    tag_file: Option<String>,
    #[arg(short = 'T', help = "Tag definition (flow-tools -T; not supported)")]
    tag_name: Option<String>,
    #[arg(short = 'u', help = "Keep the inherited umask (else 022)")]
    keep_umask: bool,
    #[arg(short = 'v', help = "Filter variable VAR=value (repeatable)")]
    vars: Vec<String>,
    #[arg(short = 'V', help = "Stored export version (only 5)")]
    version: Option<String>,
    #[arg(short = 'x', help = "Xlate file (flow-tools -x; not supported)")]
    xlate_file: Option<String>,
    #[arg(short = 'X', help = "Xlate definition (flow-tools -X; not supported)")]
    xlate_name: Option<String>,
    #[arg(short = 'z', help = "Compression: zstd 1..9 native, zlib 0..9 ft")]
    level: Option<i32>,
    #[arg(long, default_value = "native", help = "File format: native or ft")]
    format: String,
    #[arg(long, help = "Also accept exporters in this CIDR (repeatable)")]
    allow: Vec<String>,
    #[arg(long, help = "Rotation period in seconds (instead of -n)")]
    period: Option<u32>,
    #[arg(long, help = "Socket receive buffer to ask for (K, M, G)")]
    rcvbuf: Option<String>,
    #[arg(long, default_value_t = DEFAULT_QUEUE, help = "Most flows queued")]
    queue: usize,
}

/// `Options { field: args.field, ... }` for the fields named, the rest
/// defaulted: the options keep their names from the command line to the
/// library.
macro_rules! options_from {
    ($a:ident: $($f:ident),* $(,)?) => { Options { $($f: $a.$f,)* ..Options::default() } };
}

fn options(a: Args) -> Options {
    let _ = a.foreground; // -D: always in the foreground
    options_from!(a: peer, workdir, byte_order, clients, comment, debug, max_files, max_bytes,
        filter_file, filter_name, rotations, nesting, pidfile, post_rotate, stat_minutes, tag_file,
        tag_name, keep_umask, vars, version, xlate_file, xlate_name, level, format, allow, period,
        rcvbuf, queue)
}

fn start(a: Args) -> Result<capture::Summary, CaptureError> {
    let cfg = Config::from_options(options(a))?;
    let controls = Controls::from_signals()?;
    let socket = capture::bind(&cfg)?;
    capture::run(socket, cfg, controls, SystemClock)
}

fn main() -> ExitCode {
    collector::log::StderrLogger::install();
    match start(Args::parse()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flow-capture: {e}");
            ExitCode::from(1)
        }
    }
}
