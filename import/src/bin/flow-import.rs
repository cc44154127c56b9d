//! flow-import: host connection logs into flow files (see the `import` crate).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use import::{Anchor, Config, Error, Format, NatMode, Output};

/// Import iptables/nftables LOG lines, ulogd2 conntrack logs, `conntrack -E`
/// output or anetcon logs as NetFlow v5 flows.
#[derive(Parser, Debug)]
#[command(name = "flow-import", version)]
struct Args {
    /// Input format: iptables, ulogd-text, ulogd-json, conntrack, anetcon or auto.
    #[arg(short = 'f', long, default_value = "auto")]
    format: Format,
    /// Output: a directory (5-minute native files, flow-capture layout) or - for an ft stream on stdout.
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// Exporter address for hosts not in --exporter-map and for nameless inputs (ulogd JSON, conntrack).
    #[arg(long, value_name = "IP")]
    exporter: Option<Ipv4Addr>,
    /// Host name to exporter address: host=IP[,host=IP...] (repeatable).
    #[arg(long, value_name = "HOST=IP,...")]
    exporter_map: Vec<String>,
    /// Zone of zone-less stamps: UTC, local (honours TZ) or an offset like +02:00.
    #[arg(long, default_value = "UTC")]
    tz: formats::time::Zone,
    /// Year-less stamps: the last line falls in this year (default: from the file's mtime).
    #[arg(long, conflicts_with = "anchor")]
    year: Option<i32>,
    /// Year-less stamps: resolve against this time instead of the file's mtime (RFC 3339,
    /// "2025-01-01 00:20:00", "@SECONDS", "2 days ago"...; zone-less times are in --tz).
    #[arg(long, value_name = "TIME")]
    anchor: Option<String>,
    /// Boot time for uptime-only stamps (plain dmesg, journalctl -o short-monotonic); any
    /// --anchor form, a fraction of a second kept.
    #[arg(long, value_name = "TIME")]
    boot_time: Option<String>,
    /// Records per connection: both (orig + reply direction), orig or reply.
    #[arg(long, default_value = "both")]
    nat: NatMode,
    /// Write IPv6 records (which v5 cannot hold) to FILE as tab-separated text.
    #[arg(long, value_name = "FILE")]
    ipv6_out: Option<PathBuf>,
    /// List every malformed line (file:line: reason: excerpt) in FILE.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,
    /// anetcon namespace.hash file (maps namespace hashes to names).
    #[arg(long, value_name = "FILE")]
    namespace_hash: Option<PathBuf>,
    /// Keep exact duplicate lines.
    #[arg(long)]
    no_dedupe: bool,
    /// Directory nesting of output files, 0..=3 (YYYY/YYYY-MM/YYYY-MM-DD).
    #[arg(short = 'N', long, default_value_t = 3)]
    nesting: u8,
    /// Input files, or - for stdin (.gz is decompressed).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

/// A time argument (µs since the epoch), read by the suite's one date
/// parser; zone-less forms are in `--tz`.
fn time_arg(what: &'static str, s: &str, zone: formats::time::Zone) -> Result<i64, Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    filterlang::date::parse_date_micros(s, now, zone).map_err(|source| Error::Date {
        option: what,
        source: Box::new(source),
    })
}

fn map_err(item: &str) -> Error {
    Error::Invalid {
        option: "--exporter-map",
        given: item.to_string(),
        expected: "host=IP with an IPv4 address",
    }
}

fn config(a: Args) -> Result<Config, Error> {
    let output = if a.output.as_os_str() == "-" {
        Output::Stdout
    } else {
        Output::Dir(a.output)
    };
    let mut c = Config::new(a.inputs, output);
    c.format = a.format;
    c.exporter_default = a.exporter;
    for item in a
        .exporter_map
        .iter()
        .flat_map(|m| m.split(','))
        .filter(|s| !s.is_empty())
    {
        let (h, ip) = item.split_once('=').ok_or_else(|| map_err(item))?;
        let ip = ip.parse().map_err(|_| map_err(item))?;
        c.exporter_map.push((h.to_string(), ip));
    }
    c.tz = a.tz;
    if let Some(y) = a.year {
        c.anchor = Anchor::Year(y);
    }
    if let Some(t) = &a.anchor {
        c.anchor = Anchor::At(time_arg("--anchor", t, a.tz)?);
    }
    if let Some(t) = &a.boot_time {
        c.boot_time_us = Some(time_arg("--boot-time", t, a.tz)?);
    }
    c.nat = a.nat;
    c.ipv6_out = a.ipv6_out;
    c.errors_out = a.errors;
    c.namespace_hash = a.namespace_hash;
    c.dedupe = !a.no_dedupe;
    if a.nesting > 3 {
        return Err(Error::Invalid {
            option: "--nesting",
            given: a.nesting.to_string(),
            expected: "0..=3",
        });
    }
    c.nesting = a.nesting;
    Ok(c)
}

fn main() -> ExitCode {
    let result = config(Args::parse()).and_then(|c| import::run(&c));
    match result {
        Ok(report) => {
            eprint!("{report}");
            if report.records_imported() > 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!("flow-import: nothing was imported");
                ExitCode::from(1)
            }
        }
        Err(Error::BrokenPipe) => ExitCode::SUCCESS,
        Err(e @ Error::NotFormat { .. }) => {
            eprintln!(
                "flow-import: {e}\nflow-import: nothing was written; choose another --format"
            );
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("flow-import: {e}");
            ExitCode::from(1)
        }
    }
}
