//! The validated configuration of a flow-capture run, and the parsers for
//! flow-tools' argument syntaxes (`localip/remoteip/port`, `-E` sizes,
//! flow-tools' lenient IPv4 notation). The binary maps its command line
//! onto [`Config`]; everything here is testable without clap.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use crate::receive::{Allowlist, Cidr};
use crate::sink::SinkConfig;

/// flow-tools' default port (`FT_PORT`).
pub const DEFAULT_PORT: u16 = 9991;
/// Default receive buffer requested from the kernel.
pub const DEFAULT_RCVBUF: usize = 32 << 20;
/// Default number of flows queued between the socket task and the writer
/// (64 bytes each: 16 MiB).
pub const DEFAULT_QUEUE: usize = 1 << 18;
/// A batch is handed over once it holds this many flows.
pub const BATCH_FLOWS: usize = 4096;

/// A configuration error, shown once by the binary.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The `-f`/`-F` filter settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterSpec {
    /// filter.cfg path.
    pub file: PathBuf,
    /// Active definition.
    pub definition: String,
    /// `-v VAR=value` variables.
    pub vars: Vec<(String, String)>,
}

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to bind (0.0.0.0 = any).
    pub local: Ipv4Addr,
    /// flow-tools' remoteip: the only exporter accepted, unless 0; a
    /// multicast address is joined instead.
    pub remote: Ipv4Addr,
    /// UDP port.
    pub port: u16,
    /// Accepted exporters (empty = all).
    pub allow: Allowlist,
    /// Receive buffer to ask for, bytes.
    pub rcvbuf: usize,
    /// Most flows queued towards the writer (bounds memory).
    pub queue: usize,
    /// STAT line interval in seconds (0 = off).
    pub stat_interval_secs: u64,
    /// Pidfile base (`<base>.<port>` is written).
    pub pidfile: Option<PathBuf>,
    /// Keep the inherited umask (`-u`); else 022.
    pub keep_umask: bool,
    /// Flow filter.
    pub filter: Option<FilterSpec>,
    /// The writer's settings.
    pub sink: SinkConfig,
}

/// flow-tools' `scan_ip`: a host name (if it has a letter and resolves),
/// else dotted decimal where missing trailing octets are 0 (`10.1` is
/// 10.1.0.0). Unlike flow-tools, non-digits are an error, not garbage.
pub fn scan_ip(s: &str) -> Result<Ipv4Addr, ConfigError> {
    let s = s.trim();
    if s.bytes().any(|b| b.is_ascii_alphabetic()) {
        use std::net::ToSocketAddrs;
        if let Ok(addrs) = (s, 0).to_socket_addrs() {
            for a in addrs {
                if let std::net::SocketAddr::V4(v4) = a {
                    return Ok(*v4.ip());
                }
            }
        }
        return Err(ConfigError(format!(
            "cannot resolve host name {s:?} to an IPv4 address"
        )));
    }
    let parts: Vec<&str> = s.split('.').collect();
    if s.is_empty() || parts.len() > 4 {
        return Err(ConfigError(format!("{s:?} is not an IPv4 address")));
    }
    let mut o = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        let v: u32 = p
            .parse()
            .map_err(|_| ConfigError(format!("{s:?} is not an IPv4 address")))?;
        o[i] = (v % 256) as u8;
    }
    Ok(Ipv4Addr::from(o))
}

/// Parses `localip/remoteip/port[/ttl]`; a missing or 0 port is 9991.
pub fn parse_peer(s: &str) -> Result<(Ipv4Addr, Ipv4Addr, u16), ConfigError> {
    let parts: Vec<&str> = s.split('/').collect();
    if parts.len() > 4 || parts.is_empty() {
        return Err(ConfigError(format!(
            "expected localip/remoteip/port, got {s:?}"
        )));
    }
    let local = scan_ip(parts[0])?;
    let remote = match parts.get(1) {
        Some(r) if !r.is_empty() => scan_ip(r)?,
        _ => Ipv4Addr::UNSPECIFIED,
    };
    let port = match parts.get(2) {
        Some(p) if !p.is_empty() => p
            .parse::<u16>()
            .map_err(|_| ConfigError(format!("port {p:?} is not a number in 0..65535")))?,
        _ => 0,
    };
    Ok((local, remote, if port == 0 { DEFAULT_PORT } else { port }))
}

/// The allowlist from the remoteip (unless 0 or multicast) and `--allow`.
pub fn allowlist(remote: Ipv4Addr, allow: &[String]) -> Result<Allowlist, ConfigError> {
    let mut v = Vec::new();
    if !remote.is_unspecified() && !remote.is_multicast() {
        v.push(Cidr {
            addr: u32::from(remote),
            len: 32,
        });
    }
    for a in allow {
        v.push(
            Cidr::parse(a).ok_or_else(|| {
                ConfigError(format!("--allow {a:?}: expected A.B.C.D or A.B.C.D/N"))
            })?,
        );
    }
    Ok(Allowlist(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_like_flow_tools() {
        assert_eq!(
            parse_peer("0/0/9995").unwrap(),
            (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED, 9995)
        );
        assert_eq!(
            parse_peer("127.0.0.1/10.1/0").unwrap(),
            (
                Ipv4Addr::new(127, 0, 0, 1),
                Ipv4Addr::new(10, 1, 0, 0),
                9991
            )
        );
        assert_eq!(parse_peer("10.0.0.1/10.0.0.2/2055/1").unwrap().2, 2055);
        assert!(parse_peer("0/0/99999").is_err());
        assert!(parse_peer("1.2.3.x/0/1").is_err());
    }

    #[test]
    fn allowlist_takes_remoteip_and_cidrs() {
        let a = allowlist(Ipv4Addr::new(127, 0, 0, 2), &["10.0.0.0/8".into()]).unwrap();
        assert!(a.allows(u32::from(Ipv4Addr::new(127, 0, 0, 2))));
        assert!(a.allows(u32::from(Ipv4Addr::new(10, 9, 9, 9))));
        assert!(!a.allows(u32::from(Ipv4Addr::new(127, 0, 0, 3))));
        assert!(allowlist(Ipv4Addr::UNSPECIFIED, &[]).unwrap().allows(7));
        assert!(allowlist(Ipv4Addr::UNSPECIFIED, &["bad".into()]).is_err());
    }
}
