//! flow-nat-lookup: which inside host used a public `address[:port]` at a
//! given time, from the NAT rows flow-import stored with the flows.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Answer "which inside host was behind `PUBLIC_IP[:PORT]` at TIME" from
/// directories written by flow-import (conntrack / ulogd input).
#[derive(Parser, Debug)]
#[command(name = "flow-nat-lookup", version)]
struct Args {
    /// Public address, optionally with a port: 203.0.113.10:51234.
    public: String,
    /// Time: RFC 3339 (2024-02-22T12:03:00Z) or any date form of the suite
    /// ("2024-02-22 12:03:00 UTC", "@1708603380", "10 minutes ago"); local
    /// time (TZ) unless a zone is given.
    #[arg(long)]
    at: String,
    /// Also match connections within this many seconds of TIME.
    #[arg(long, default_value_t = 0)]
    slack: u32,
    /// Directories or files written by flow-import.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let (ip, port) = match a.public.split_once(':') {
        Some((ip, p)) => (ip, p.parse::<u16>().ok()),
        None => (a.public.as_str(), None),
    };
    let Ok(ip) = ip.parse::<Ipv4Addr>() else {
        eprintln!("flow-nat-lookup: {:?} is not IPv4[:port]", a.public);
        return ExitCode::from(2);
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let zone = filterlang::date::Zone::Local;
    let at = match filterlang::date::parse_date_micros(&a.at, now, zone) {
        Ok(t) => t.div_euclid(1000),
        Err(e) => {
            eprintln!("flow-nat-lookup: --at: {e}");
            return ExitCode::from(2);
        }
    };
    let mut found = 0;
    for d in &a.dirs {
        match import::lookup::lookup(d, ip, port, at, a.slack as i64 * 1000) {
            Ok(rows) => {
                for (r, (iip, iport)) in rows {
                    found += 1;
                    println!(
                        "{iip}:{iport}\tproto {}\t{}:{} -> {}:{}\tfrom {} to {}\texporter {}",
                        r.protocol,
                        r.orig.0,
                        r.orig.1,
                        r.orig.2,
                        r.orig.3,
                        import::summary::utc_text(r.first_ms * 1000),
                        import::summary::utc_text(r.last_ms * 1000),
                        r.exporter
                    );
                }
            }
            Err(e) => {
                eprintln!("flow-nat-lookup: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if found == 0 {
        eprintln!(
            "flow-nat-lookup: no translation of {} at {}",
            a.public, a.at
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
