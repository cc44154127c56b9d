//! NAT attribution (spec §6.8): "which inside host used public `IP:port` at
//! time T?". flow-import stores one row per translated connection
//! (conntrack/ulogd input) in the header metadata of the file holding the
//! connection's records (key [`crate::write::META_NAT`]); [`lookup`] scans
//! a directory of imported files for rows matching a public address, an
//! optional port and a time.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use formats::native::NativeFile;

use crate::write::META_NAT;
use crate::Error;

/// One translated connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatRow {
    /// Start, ms since the epoch.
    pub first_ms: i64,
    /// End, ms since the epoch.
    pub last_ms: i64,
    /// Exporter (the NAT box).
    pub exporter: Ipv4Addr,
    /// IP protocol.
    pub protocol: u8,
    /// Orig tuple (inside view): src, sport, dst, dport.
    pub orig: (Ipv4Addr, u16, Ipv4Addr, u16),
    /// Reply tuple (outside view): src, sport, dst, dport.
    pub reply: (Ipv4Addr, u16, Ipv4Addr, u16),
    /// conntrack id, when known.
    pub ct_id: Option<u64>,
    /// Connection mark.
    pub mark: u32,
}

impl NatRow {
    /// Parses a stored row (tab-separated; see the engine's writer).
    pub fn parse(s: &str) -> Option<NatRow> {
        let f: Vec<&str> = s.split('\t').collect();
        if f.len() != 14 {
            return None;
        }
        let ip = |i: usize| f[i].parse::<Ipv4Addr>().ok();
        let port = |i: usize| f[i].parse::<u16>().ok();
        Some(NatRow {
            first_ms: f[0].parse().ok()?,
            last_ms: f[1].parse().ok()?,
            exporter: ip(2)?,
            protocol: f[3].parse().ok()?,
            orig: (ip(4)?, port(5)?, ip(6)?, port(7)?),
            reply: (ip(8)?, port(9)?, ip(10)?, port(11)?),
            ct_id: f[12].parse().ok(),
            mark: f[13].parse().ok()?,
        })
    }

    /// If this connection used `addr`/`port` as its public side, the
    /// inside host (address, port) behind it: SNAT (reply destination is
    /// the public address) -> orig source; DNAT (orig destination is the
    /// public address) -> reply source.
    pub fn inside_for(&self, addr: Ipv4Addr, port: Option<u16>) -> Option<(Ipv4Addr, u16)> {
        let pm = |p: u16| port.is_none_or(|q| q == p);
        if self.reply.2 == addr && pm(self.reply.3) && self.reply.2 != self.orig.0 {
            return Some((self.orig.0, self.orig.1));
        }
        if self.orig.2 == addr && pm(self.orig.3) && self.reply.0 != self.orig.2 {
            return Some((self.reply.0, self.reply.1));
        }
        None
    }
}

/// A matching row and the inside (address, port) behind the public side.
pub type Match = (NatRow, (Ipv4Addr, u16));

fn files_under(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) && depth < 8 {
            files_under(&p, out, depth + 1);
        } else if !e.file_name().to_string_lossy().starts_with("tmp") {
            out.push(p);
        }
    }
}

/// All NAT rows active at `at_ms` (± `slack_ms`) in which `addr`/`port` is
/// the public side, with the inside (address, port), from every native
/// file under `dir` (or `dir` itself if it is a file). Files that are not
/// native flow files are skipped.
pub fn lookup(
    dir: &Path,
    addr: Ipv4Addr,
    port: Option<u16>,
    at_ms: i64,
    slack_ms: i64,
) -> Result<Vec<Match>, Error> {
    let mut files = Vec::new();
    if dir.is_file() {
        files.push(dir.to_path_buf());
    } else {
        files_under(dir, &mut files, 0);
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        let Ok(nf) = NativeFile::open(bytes) else {
            continue;
        };
        let h = nf.header();
        if h.cap_end != 0 && (h.cap_end as i64 + 1) * 1000 < at_ms - slack_ms {
            continue;
        }
        for (k, v) in &h.metadata {
            if k != META_NAT {
                continue;
            }
            let Some(row) = NatRow::parse(v) else {
                continue;
            };
            if row.first_ms - slack_ms > at_ms || row.last_ms + slack_ms < at_ms {
                continue;
            }
            if let Some(inside) = row.inside_for(addr, port) {
                out.push((row, inside));
            }
        }
    }
    out.sort_by_key(|(r, _)| (r.first_ms, r.last_ms));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snat_and_dnat_rows() {
        let r = NatRow::parse("1000\t2000\t10.0.0.1\t6\t192.168.1.5\t4000\t198.51.100.9\t443\t198.51.100.9\t443\t203.0.113.10\t51234\t7\t0").unwrap();
        let public: Ipv4Addr = "203.0.113.10".parse().unwrap();
        assert_eq!(
            r.inside_for(public, Some(51234)),
            Some(("192.168.1.5".parse().unwrap(), 4000))
        );
        assert_eq!(r.inside_for(public, Some(1)), None);
        let d = NatRow::parse("1000\t2000\t10.0.0.1\t6\t203.0.113.77\t37488\t203.0.113.10\t2222\t192.168.50.20\t22\t203.0.113.77\t37488\t-\t0").unwrap();
        assert_eq!(
            d.inside_for(public, Some(2222)),
            Some(("192.168.50.20".parse().unwrap(), 22))
        );
        assert!(NatRow::parse("garbage").is_none());
    }
}
