//! flow-capture: receive NetFlow v5 and store it in rotating flow files.
//!
//! The command line is flow-tools' (`flow-capture [options] -w workdir
//! localip/remoteip/port`) plus long options for what is new; with no
//! arguments at all it listens on 0.0.0.0:9991 and writes under ./flows.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use collector::capture::{self, FilterLoader};
use collector::config::{self, Config, ConfigError, FilterSpec};
use collector::expire::{parse_size, ExpiryConfig};
use collector::rotate::{FileKind, Schedule, Zone, DEFAULT_PERIOD};
use collector::sink::SinkConfig;
use formats::ft::ByteOrder;

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
    /// localip/remoteip/port[/ttl]
    peer: Option<String>,
    /// Working directory (files and nesting directories go here)
    #[arg(short = 'w', value_name = "DIR", default_value = "./flows")]
    workdir: PathBuf,
    /// ft file byte order: big or little
    #[arg(short = 'b', value_name = "ORDER")]
    byte_order: Option<String>,
    /// TCP clients (flow-tools -c; not supported)
    #[arg(short = 'c', value_name = "N")]
    clients: Option<u32>,
    /// Comment stored in each file header
    #[arg(short = 'C', value_name = "COMMENT")]
    comment: Option<String>,
    /// Debug level (> 0: expiry only logs what it would remove)
    #[arg(short = 'd', value_name = "N", default_value_t = 0)]
    debug: u32,
    /// Stay in the foreground (the default; accepted for flow-tools scripts)
    #[arg(short = 'D')]
    foreground: bool,
    /// Expire: keep at most N files (0 = no limit)
    #[arg(short = 'e', value_name = "N", default_value_t = 0)]
    max_files: u64,
    /// Expire: keep at most SIZE bytes (suffix b, K, M, G)
    #[arg(short = 'E', value_name = "SIZE")]
    max_bytes: Option<String>,
    /// Filter file (filter.cfg)
    #[arg(short = 'f', value_name = "FILE")]
    filter_file: Option<PathBuf>,
    /// Filter definition applied to each flow before storing
    #[arg(short = 'F', value_name = "NAME")]
    filter_name: Option<String>,
    /// Rotations per day (period 86400/(N+1) s from local midnight);
    /// default: 5-minute files
    #[arg(short = 'n', value_name = "N")]
    rotations: Option<u32>,
    /// Directory nesting, -3..3 (3 = YYYY/YYYY-MM/YYYY-MM-DD)
    #[arg(
        short = 'N',
        value_name = "LEVEL",
        default_value_t = 3,
        allow_negative_numbers = true
    )]
    nesting: i8,
    /// Pidfile base name; `<FILE>.<port>` is written ("-" = none)
    #[arg(short = 'p', value_name = "FILE")]
    pidfile: Option<String>,
    /// Program run with each finished file's path
    #[arg(short = 'R', value_name = "PROGRAM")]
    post_rotate: Option<PathBuf>,
    /// Log STAT lines every MIN minutes (0 = off)
    #[arg(short = 'S', value_name = "MIN", default_value_t = 0)]
    stat_minutes: u32,
    /// Tag file (flow-tools -t; not supported)
    #[arg(short = 't', value_name = "FILE")]
    tag_file: Option<String>,
    /// Tag definition (flow-tools -T; not supported)
    #[arg(short = 'T', value_name = "NAME")]
    tag_name: Option<String>,
    /// Keep the inherited umask (else 022)
    #[arg(short = 'u')]
    keep_umask: bool,
    /// Filter variable VAR=value (repeatable)
    #[arg(short = 'v', value_name = "VAR=VALUE")]
    vars: Vec<String>,
    /// Stored export version (only 5)
    #[arg(short = 'V', value_name = "VERSION")]
    version: Option<String>,
    /// Xlate file (flow-tools -x; not supported)
    #[arg(short = 'x', value_name = "FILE")]
    xlate_file: Option<String>,
    /// Xlate definition (flow-tools -X; not supported)
    #[arg(short = 'X', value_name = "NAME")]
    xlate_name: Option<String>,
    /// Compression level: zstd 1..9 for native files (default 1; 0 = 1),
    /// zlib 0..9 for ft files (default 6; 0 = none)
    #[arg(short = 'z', value_name = "LEVEL")]
    level: Option<i32>,
    /// File format: native (default) or ft (readable by flow-tools)
    #[arg(long, value_name = "FORMAT", default_value = "native")]
    format: String,
    /// Also accept exporters in this network (repeatable)
    #[arg(long, value_name = "CIDR")]
    allow: Vec<String>,
    /// Rotation period in seconds (instead of -n), 60..86400
    #[arg(long, value_name = "SECONDS")]
    period: Option<u32>,
    /// Socket receive buffer to ask the kernel for, bytes (suffix K, M, G)
    #[arg(long, value_name = "SIZE")]
    rcvbuf: Option<String>,
    /// Most flows queued for the writer (64 bytes each; bounds memory)
    #[arg(long, value_name = "N", default_value_t = config::DEFAULT_QUEUE)]
    queue: usize,
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn build(a: Args) -> Result<Config, ConfigError> {
    let err = |s: &str| Err(ConfigError(s.to_string()));
    if a.clients.unwrap_or(0) > 0 {
        return err(
            "-c (live TCP clients) is not supported; read the tmp- file or use flow-send instead",
        );
    }
    if a.tag_file.is_some() || a.tag_name.is_some() {
        return err("-t/-T (tagging) is not supported");
    }
    if a.xlate_file.is_some() || a.xlate_name.is_some() {
        return err("-x/-X (xlate) is not supported");
    }
    if let Some(v) = &a.version {
        if v.trim() != "5" {
            return Err(ConfigError(format!(
                "-V {v}: only NetFlow version 5 is stored"
            )));
        }
    }
    let (local, remote, port) = config::parse_peer(a.peer.as_deref().unwrap_or("0/0/9991"))?;
    let allow = config::allowlist(remote, &a.allow)?;
    let kind = match a.format.as_str() {
        "native" => FileKind::Native,
        "ft" => FileKind::Ft,
        f => return Err(ConfigError(format!("--format {f}: expected native or ft"))),
    };
    let byte_order = match a.byte_order.as_deref() {
        None => ByteOrder::host(),
        Some("big") => ByteOrder::Big,
        Some("little") => ByteOrder::Little,
        Some(_) => return err("expecting \"big\" or \"little\" at -b"),
    };
    let period = match (a.rotations, a.period) {
        (Some(_), Some(_)) => return err("give -n or --period, not both"),
        (Some(n), None) => {
            if n > 1439 {
                return err("-n: rotations limited to every 1 minute (at most 1439)");
            }
            Schedule::period_for_rotations(n)
        }
        (None, Some(p)) => {
            if !(60..=86_400).contains(&p) {
                return err("--period: between 60 and 86400 seconds");
            }
            p
        }
        (None, None) => DEFAULT_PERIOD,
    };
    if !(-3..=3).contains(&a.nesting) {
        return err("-N: -3 <= nesting level <= 3");
    }
    let level = match (kind, a.level) {
        (_, None) => None,
        (FileKind::Ft, Some(l)) if (0..=9).contains(&l) => Some(l),
        (FileKind::Native, Some(0)) => Some(1),
        (FileKind::Native, Some(l)) if (1..=9).contains(&l) => Some(l),
        _ => return err("-z: compression level must be between 0 and 9"),
    };
    let max_bytes = match &a.max_bytes {
        None => 0,
        Some(s) => parse_size(s)
            .ok_or_else(|| ConfigError(format!("-E {s}: expected a size like 500M or 2G")))?,
    };
    if a.stat_minutes > 60 {
        return err("-S: minutes between 0 and 60");
    }
    let rcvbuf = match &a.rcvbuf {
        None => config::DEFAULT_RCVBUF,
        Some(s) => parse_size(s)
            .ok_or_else(|| ConfigError(format!("--rcvbuf {s}: expected a size like 32M")))?
            as usize,
    };
    let filter = match (a.filter_file, a.filter_name) {
        (_, None) => None,
        (file, Some(name)) => {
            let mut vars = Vec::new();
            for v in &a.vars {
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| ConfigError(format!("-v {v}: expected VAR=value")))?;
                vars.push((k.to_string(), val.to_string()));
            }
            Some(FilterSpec {
                file: file.unwrap_or_else(|| PathBuf::from("filter.cfg")),
                definition: name,
                vars,
            })
        }
    };
    let mut sink = SinkConfig::new(a.workdir);
    sink.kind = kind;
    sink.schedule = Schedule {
        period,
        zone: Zone::Local,
    };
    sink.nesting = a.nesting;
    sink.level = level;
    sink.byte_order = byte_order;
    sink.hostname = hostname();
    sink.comment = a.comment.unwrap_or_default();
    sink.post_rotate = a.post_rotate;
    sink.expiry = ExpiryConfig {
        max_files: a.max_files,
        max_bytes,
        dry_run: a.debug > 0,
    };
    let _ = a.foreground;
    Ok(Config {
        local,
        remote,
        port,
        allow,
        rcvbuf,
        queue: a.queue.max(1),
        stat_interval_secs: a.stat_minutes as u64 * 60,
        pidfile: a
            .pidfile
            .filter(|p| !p.is_empty() && p != "-")
            .map(PathBuf::from),
        keep_umask: a.keep_umask,
        filter,
        sink,
    })
}

fn load_filter(cfg: &Config) -> Result<Option<collector::receive::FlowFilter>, String> {
    match &cfg.filter {
        None => Ok(None),
        Some(spec) => collector::filter::load(spec).map(Some),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = match build(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("flow-capture: {e}");
            return ExitCode::from(1);
        }
    };
    let loader: &FilterLoader = &load_filter;
    match capture::run(cfg, loader) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flow-capture: {e}");
            ExitCode::from(1)
        }
    }
}
