//! The validated configuration of a flow-capture run.
//!
//! [`Options`] is flow-capture's command line as plain values (what the
//! binary's argument parser produced, nothing checked yet);
//! [`Config::from_options`] checks every rule flow-tools has (and ours for
//! the new options) and builds the [`Config`] a run needs, or says what is
//! wrong with which option as a [`ConfigError`]. Also here: the parsers
//! for flow-tools' argument syntaxes (`localip/remoteip/port`, flow-tools'
//! lenient IPv4 notation). Everything is testable without clap.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use formats::archive::{FileKind, Schedule, DEFAULT_PERIOD, NESTING};
use formats::ft::ByteOrder;
use formats::time::Zone;

use crate::expire::{parse_size, ExpiryConfig};
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
/// Most rotations per day `-n` takes (one a minute).
pub const MAX_ROTATIONS: u32 = 1439;
/// Rotation periods `--period` takes, seconds.
pub const PERIODS: std::ops::RangeInclusive<u32> = 60..=86_400;

/// What is wrong with the command line; shown once by the binary.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A flow-tools option this collector does not implement.
    #[error("{option} ({feature}) is not supported{hint}")]
    Unsupported {
        /// The option(s), as typed: `-c`, `-t/-T`.
        option: &'static str,
        /// What it does in flow-tools.
        feature: &'static str,
        /// What to do instead (starts with "; "), or "".
        hint: &'static str,
    },
    /// An option's value is out of range or malformed.
    #[error("{option} {given}: expected {expected}")]
    Invalid {
        /// The option, as typed: `-z`, `--period`.
        option: &'static str,
        /// The value given.
        given: String,
        /// What it takes.
        expected: &'static str,
    },
    /// Two options that exclude each other.
    #[error("give {first} or {second}, not both")]
    Conflict {
        /// One option.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// `-b` is neither `big` nor `little` (flow-tools' own message).
    #[error("expecting \"big\" or \"little\" at -b")]
    ByteOrder {
        /// The value given.
        given: String,
    },
    /// An address is neither dotted decimal nor a resolvable host name.
    #[error("{given:?} is not an IPv4 address")]
    Address {
        /// The text given.
        given: String,
    },
    /// A host name did not resolve to an IPv4 address.
    #[error("cannot resolve host name {name:?} to an IPv4 address")]
    Resolve {
        /// The name.
        name: String,
    },
    /// The positional argument is not `localip/remoteip/port[/ttl]`.
    #[error("expected localip/remoteip/port, got {given:?}")]
    Peer {
        /// The text given.
        given: String,
    },
}

fn invalid(option: &'static str, given: impl ToString, expected: &'static str) -> ConfigError {
    ConfigError::Invalid {
        option,
        given: given.to_string(),
        expected,
    }
}

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

/// flow-capture's options as plain values, before any check. Field names
/// follow the options' meanings; [`Options::default`] is what the command
/// line gives when an option is absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `localip/remoteip/port[/ttl]` (absent: `0/0/9991`).
    pub peer: Option<String>,
    /// `-w`: working directory.
    pub workdir: PathBuf,
    /// `-b`: ft byte order, `big` or `little` (absent: the host's).
    pub byte_order: Option<String>,
    /// `-c`: TCP clients (not supported above 0).
    pub clients: Option<u32>,
    /// `-C`: comment stored in each file.
    pub comment: Option<String>,
    /// `-d`: debug level (> 0: expiry only logs).
    pub debug: u32,
    /// `-e`: most files kept (0: no limit).
    pub max_files: u64,
    /// `-E`: most bytes kept, with a suffix b, K, M, G.
    pub max_bytes: Option<String>,
    /// `-f`: filter file (absent: `filter.cfg`).
    pub filter_file: Option<PathBuf>,
    /// `-F`: filter definition.
    pub filter_name: Option<String>,
    /// `-n`: rotations per day.
    pub rotations: Option<u32>,
    /// `-N`: nesting level.
    pub nesting: i8,
    /// `-p`: pidfile base (`-` or empty: none).
    pub pidfile: Option<String>,
    /// `-R`: program run with each finished file.
    pub post_rotate: Option<PathBuf>,
    /// `-S`: minutes between STAT lines (0: none).
    pub stat_minutes: u32,
    /// `-t`: tag file (not supported).
    pub tag_file: Option<String>,
    /// `-T`: tag definition (not supported).
    pub tag_name: Option<String>,
    /// `-u`: keep the inherited umask.
    pub keep_umask: bool,
    /// `-v`: filter variables, `VAR=value`.
    pub vars: Vec<String>,
    /// `-V`: stored export version (only 5).
    pub version: Option<String>,
    /// `-x`: xlate file (not supported).
    pub xlate_file: Option<String>,
    /// `-X`: xlate definition (not supported).
    pub xlate_name: Option<String>,
    /// `-z`: compression level.
    pub level: Option<i32>,
    /// `--format`: `native` or `ft`.
    pub format: String,
    /// `--allow`: further accepted exporter networks.
    pub allow: Vec<String>,
    /// `--period`: rotation period in seconds (instead of `-n`).
    pub period: Option<u32>,
    /// `--rcvbuf`: receive buffer, with a suffix K, M, G.
    pub rcvbuf: Option<String>,
    /// `--queue`: most flows queued for the writer.
    pub queue: usize,
    /// Name of this host for the headers (absent: the system's).
    pub hostname: Option<String>,
    /// Zone of the slots and names (flow-capture: the process's).
    pub zone: Zone,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            peer: None,
            workdir: PathBuf::from("./flows"),
            byte_order: None,
            clients: None,
            comment: None,
            debug: 0,
            max_files: 0,
            max_bytes: None,
            filter_file: None,
            filter_name: None,
            rotations: None,
            nesting: 3,
            pidfile: None,
            post_rotate: None,
            stat_minutes: 0,
            tag_file: None,
            tag_name: None,
            keep_umask: false,
            vars: Vec::new(),
            version: None,
            xlate_file: None,
            xlate_name: None,
            level: None,
            format: "native".into(),
            allow: Vec::new(),
            period: None,
            rcvbuf: None,
            queue: DEFAULT_QUEUE,
            hostname: None,
            zone: Zone::Local,
        }
    }
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

impl Config {
    /// Checks `o` and builds the run's configuration.
    pub fn from_options(o: Options) -> Result<Config, ConfigError> {
        if o.clients.unwrap_or(0) > 0 {
            return Err(ConfigError::Unsupported {
                option: "-c",
                feature: "live TCP clients",
                hint: "; read the tmp- file or use flow-send instead",
            });
        }
        for (given, option, feature) in [
            (
                o.tag_file.is_some() || o.tag_name.is_some(),
                "-t/-T",
                "tagging",
            ),
            (
                o.xlate_file.is_some() || o.xlate_name.is_some(),
                "-x/-X",
                "xlate",
            ),
        ] {
            if given {
                return Err(ConfigError::Unsupported {
                    option,
                    feature,
                    hint: "",
                });
            }
        }
        if let Some(v) = o.version.as_deref().filter(|v| v.trim() != "5") {
            return Err(invalid("-V", v, "5 (only NetFlow version 5 is stored)"));
        }
        let (local, remote, port) = parse_peer(o.peer.as_deref().unwrap_or("0/0/9991"))?;
        let allow = allowlist(remote, &o.allow)?;
        let kind = match o.format.as_str() {
            "native" => FileKind::Native,
            "ft" => FileKind::Ft,
            f => return Err(invalid("--format", f, "native or ft")),
        };
        let byte_order = match o.byte_order.as_deref() {
            None => ByteOrder::host(),
            Some("big") => ByteOrder::Big,
            Some("little") => ByteOrder::Little,
            Some(b) => return Err(ConfigError::ByteOrder { given: b.into() }),
        };
        let period = match (o.rotations, o.period) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Conflict {
                    first: "-n",
                    second: "--period",
                })
            }
            (Some(n), None) if n > MAX_ROTATIONS => {
                return Err(invalid(
                    "-n",
                    n,
                    "at most 1439 (rotations limited to every 1 minute)",
                ))
            }
            (Some(n), None) => Schedule::period_for_rotations(n),
            (None, Some(p)) if !PERIODS.contains(&p) => {
                return Err(invalid("--period", p, "between 60 and 86400 seconds"))
            }
            (None, Some(p)) => p,
            (None, None) => DEFAULT_PERIOD,
        };
        if !NESTING.contains(&o.nesting) {
            return Err(invalid("-N", o.nesting, "-3 <= nesting level <= 3"));
        }
        let level = match (kind, o.level) {
            (_, None) => None,
            (FileKind::Ft, Some(l)) if (0..=9).contains(&l) => Some(l),
            (FileKind::Native, Some(0)) => Some(1),
            (FileKind::Native, Some(l)) if (1..=9).contains(&l) => Some(l),
            (_, Some(l)) => return Err(invalid("-z", l, "a compression level between 0 and 9")),
        };
        let max_bytes = match &o.max_bytes {
            None => 0,
            Some(s) => parse_size(s).ok_or_else(|| invalid("-E", s, "a size like 500M or 2G"))?,
        };
        if o.stat_minutes > 60 {
            return Err(invalid("-S", o.stat_minutes, "minutes between 0 and 60"));
        }
        let rcvbuf = match &o.rcvbuf {
            None => DEFAULT_RCVBUF,
            Some(s) => parse_size(s)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| invalid("--rcvbuf", s, "a size like 32M"))?,
        };
        let filter = match o.filter_name {
            None => None,
            Some(definition) => Some(FilterSpec {
                file: o.filter_file.unwrap_or_else(|| PathBuf::from("filter.cfg")),
                definition,
                vars: o
                    .vars
                    .iter()
                    .map(|v| match v.split_once('=') {
                        Some((k, val)) => Ok((k.to_string(), val.to_string())),
                        None => Err(invalid("-v", v, "VAR=value")),
                    })
                    .collect::<Result<_, _>>()?,
            }),
        };
        let mut sink = SinkConfig::new(o.workdir);
        sink.kind = kind;
        sink.schedule = Schedule::new(period, o.zone);
        sink.nesting = o.nesting;
        sink.level = level;
        sink.byte_order = byte_order;
        sink.hostname = o.hostname.unwrap_or_else(hostname);
        sink.comment = o.comment.unwrap_or_default();
        sink.post_rotate = o.post_rotate;
        sink.expiry = ExpiryConfig {
            max_files: o.max_files,
            max_bytes,
            dry_run: o.debug > 0,
        };
        Ok(Config {
            local,
            remote,
            port,
            allow,
            rcvbuf,
            queue: o.queue.max(1),
            stat_interval_secs: u64::from(o.stat_minutes) * 60,
            pidfile: o
                .pidfile
                .filter(|p| !p.is_empty() && p != "-")
                .map(PathBuf::from),
            keep_umask: o.keep_umask,
            filter,
            sink,
        })
    }
}

/// This host's name (`gethostname`), or "" if the system will not say.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
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
        return Err(ConfigError::Resolve { name: s.into() });
    }
    let bad = || ConfigError::Address { given: s.into() };
    let parts: Vec<&str> = s.split('.').collect();
    if s.is_empty() || parts.len() > 4 {
        return Err(bad());
    }
    let mut o = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        let v: u32 = p.parse().map_err(|_| bad())?;
        o[i] = (v % 256) as u8;
    }
    Ok(Ipv4Addr::from(o))
}

/// Parses `localip/remoteip/port[/ttl]`; a missing or 0 port is 9991.
pub fn parse_peer(s: &str) -> Result<(Ipv4Addr, Ipv4Addr, u16), ConfigError> {
    let parts: Vec<&str> = s.split('/').collect();
    if parts.len() > 4 {
        return Err(ConfigError::Peer { given: s.into() });
    }
    let local = scan_ip(parts[0])?;
    let remote = match parts.get(1) {
        Some(r) if !r.is_empty() => scan_ip(r)?,
        _ => Ipv4Addr::UNSPECIFIED,
    };
    let port = match parts.get(2) {
        Some(p) if !p.is_empty() => p
            .parse::<u16>()
            .map_err(|_| invalid("port", p, "a number in 0..65535"))?,
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
        v.push(Cidr::parse(a).ok_or_else(|| invalid("--allow", a, "A.B.C.D or A.B.C.D/N"))?);
    }
    Ok(Allowlist(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            hostname: Some("h".into()),
            ..Options::default()
        }
    }

    fn refused(o: Options) -> ConfigError {
        match Config::from_options(o) {
            Ok(c) => panic!("accepted: {c:?}"),
            Err(e) => e,
        }
    }

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
        assert_eq!(
            parse_peer("0/0/99999").unwrap_err().to_string(),
            "port 99999: expected a number in 0..65535"
        );
        assert_eq!(
            parse_peer("1.2.3.x/0/1").unwrap_err(),
            ConfigError::Resolve {
                name: "1.2.3.x".into()
            }
        );
        assert_eq!(
            parse_peer("1.2.3.4.5/0/1").unwrap_err(),
            ConfigError::Address {
                given: "1.2.3.4.5".into()
            }
        );
        assert!(matches!(
            parse_peer("0/0/1/2/3"),
            Err(ConfigError::Peer { .. })
        ));
    }

    #[test]
    fn allowlist_takes_remoteip_and_cidrs() {
        let a = allowlist(Ipv4Addr::new(127, 0, 0, 2), &["10.0.0.0/8".into()]).unwrap();
        assert!(a.allows(u32::from(Ipv4Addr::new(127, 0, 0, 2))));
        assert!(a.allows(u32::from(Ipv4Addr::new(10, 9, 9, 9))));
        assert!(!a.allows(u32::from(Ipv4Addr::new(127, 0, 0, 3))));
        assert!(allowlist(Ipv4Addr::UNSPECIFIED, &[]).unwrap().allows(7));
        assert!(allowlist(Ipv4Addr::new(239, 1, 1, 1), &[])
            .unwrap()
            .0
            .is_empty());
        let e = allowlist(Ipv4Addr::UNSPECIFIED, &["bad".into()]).unwrap_err();
        assert_eq!(e.to_string(), "--allow bad: expected A.B.C.D or A.B.C.D/N");
    }

    #[test]
    fn defaults_are_flow_captures() {
        let c = Config::from_options(opts()).unwrap();
        assert_eq!(
            (c.local, c.remote, c.port),
            (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED, 9991)
        );
        assert_eq!(c.sink.workdir, PathBuf::from("./flows"));
        assert_eq!(c.sink.kind, FileKind::Native);
        assert_eq!(c.sink.schedule, Schedule::new(300, Zone::Local));
        assert_eq!((c.sink.nesting, c.sink.level), (3, None));
        assert_eq!(c.sink.byte_order, ByteOrder::host());
        assert_eq!(c.sink.hostname, "h");
        assert_eq!(
            (c.rcvbuf, c.queue, c.stat_interval_secs),
            (DEFAULT_RCVBUF, DEFAULT_QUEUE, 0)
        );
        assert_eq!(c.sink.expiry, ExpiryConfig::default());
        assert!(c.filter.is_none() && c.pidfile.is_none() && !c.keep_umask);
    }

    #[test]
    fn unsupported_flow_tools_options_are_refused() {
        for (o, text) in [
            (
                Options {
                    clients: Some(2),
                    ..opts()
                },
                "-c (live TCP clients) is not supported; read the tmp- file or use flow-send instead",
            ),
            (
                Options {
                    tag_name: Some("t".into()),
                    ..opts()
                },
                "-t/-T (tagging) is not supported",
            ),
            (
                Options {
                    xlate_file: Some("x".into()),
                    ..opts()
                },
                "-x/-X (xlate) is not supported",
            ),
        ] {
            assert_eq!(refused(o).to_string(), text);
        }
        let c = Config::from_options(Options {
            clients: Some(0),
            ..opts()
        });
        assert!(c.is_ok(), "-c 0 is flow-tools' default");
    }

    #[test]
    fn only_version_5_is_stored() {
        let e = refused(Options {
            version: Some("9".into()),
            ..opts()
        });
        assert_eq!(
            e.to_string(),
            "-V 9: expected 5 (only NetFlow version 5 is stored)"
        );
        assert!(Config::from_options(Options {
            version: Some(" 5".into()),
            ..opts()
        })
        .is_ok());
    }

    #[test]
    fn the_peer_sets_addresses_and_the_allowlist() {
        let c = Config::from_options(Options {
            peer: Some("127.0.0.1/127.0.0.2/2055".into()),
            allow: vec!["10.0.0.0/8".into()],
            ..opts()
        })
        .unwrap();
        assert_eq!((c.local, c.port), (Ipv4Addr::LOCALHOST, 2055));
        assert_eq!(c.allow.0.len(), 2);
        let e = refused(Options {
            peer: Some("0/0/70000".into()),
            ..opts()
        });
        assert!(e.to_string().contains("port"), "{e}");
        let e = refused(Options {
            allow: vec!["10.0.0.0/40".into()],
            ..opts()
        });
        assert!(e.to_string().starts_with("--allow"), "{e}");
    }

    #[test]
    fn format_and_byte_order() {
        let c = Config::from_options(Options {
            format: "ft".into(),
            byte_order: Some("big".into()),
            ..opts()
        })
        .unwrap();
        assert_eq!(
            (c.sink.kind, c.sink.byte_order),
            (FileKind::Ft, ByteOrder::Big)
        );
        let e = refused(Options {
            format: "csv".into(),
            ..opts()
        });
        assert_eq!(e.to_string(), "--format csv: expected native or ft");
        let e = refused(Options {
            byte_order: Some("middle".into()),
            ..opts()
        });
        assert_eq!(e.to_string(), "expecting \"big\" or \"little\" at -b");
    }

    #[test]
    fn rotations_and_periods() {
        let period = |rotations, period| {
            Config::from_options(Options {
                rotations,
                period,
                ..opts()
            })
            .map(|c| c.sink.schedule.period)
        };
        assert_eq!(period(Some(95), None), Ok(900));
        assert_eq!(period(Some(0), None), Ok(86_400));
        assert_eq!(period(Some(1439), None), Ok(60));
        assert!(period(Some(1440), None)
            .unwrap_err()
            .to_string()
            .contains("rotations limited"));
        assert_eq!(period(None, Some(60)), Ok(60));
        assert_eq!(period(None, Some(86_400)), Ok(86_400));
        for bad in [59, 86_401] {
            assert!(period(None, Some(bad))
                .unwrap_err()
                .to_string()
                .contains("between 60 and 86400 seconds"));
        }
        assert_eq!(
            period(Some(1), Some(600)),
            Err(ConfigError::Conflict {
                first: "-n",
                second: "--period"
            })
        );
    }

    #[test]
    fn nesting_levels_are_minus_three_to_three() {
        for n in -3..=3 {
            assert!(Config::from_options(Options {
                nesting: n,
                ..opts()
            })
            .is_ok());
        }
        for n in [-4, 4] {
            let e = refused(Options {
                nesting: n,
                ..opts()
            });
            assert!(e.to_string().contains("nesting level"), "{e}");
        }
    }

    #[test]
    fn compression_levels_depend_on_the_format() {
        let level = |format: &str, level| {
            Config::from_options(Options {
                format: format.into(),
                level: Some(level),
                ..opts()
            })
            .map(|c| c.sink.level)
        };
        assert_eq!(level("native", 0), Ok(Some(1)), "native has no level 0");
        assert_eq!(level("native", 9), Ok(Some(9)));
        assert_eq!(level("ft", 0), Ok(Some(0)));
        for (f, l) in [("native", 10), ("ft", -1), ("ft", 12)] {
            assert!(level(f, l)
                .unwrap_err()
                .to_string()
                .contains("compression level"));
        }
    }

    #[test]
    fn sizes_stat_minutes_and_expiry() {
        let c = Config::from_options(Options {
            max_bytes: Some("70K".into()),
            max_files: 4,
            debug: 1,
            rcvbuf: Some("8M".into()),
            stat_minutes: 60,
            ..opts()
        })
        .unwrap();
        assert_eq!(
            c.sink.expiry,
            ExpiryConfig {
                max_files: 4,
                max_bytes: 70 * 1024,
                dry_run: true
            }
        );
        assert_eq!((c.rcvbuf, c.stat_interval_secs), (8 << 20, 3600));
        let e = refused(Options {
            max_bytes: Some("lots".into()),
            ..opts()
        });
        assert_eq!(e.to_string(), "-E lots: expected a size like 500M or 2G");
        let e = refused(Options {
            rcvbuf: Some("x".into()),
            ..opts()
        });
        assert_eq!(e.to_string(), "--rcvbuf x: expected a size like 32M");
        let e = refused(Options {
            stat_minutes: 61,
            ..opts()
        });
        assert_eq!(e.to_string(), "-S 61: expected minutes between 0 and 60");
    }

    #[test]
    fn filters_need_a_definition_and_take_variables() {
        let c = Config::from_options(Options {
            filter_file: Some("f.cfg".into()),
            ..opts()
        })
        .unwrap();
        assert!(c.filter.is_none(), "-f alone selects nothing");
        let c = Config::from_options(Options {
            filter_name: Some("allmail".into()),
            vars: vec!["PORT=25".into(), "X=a=b".into()],
            ..opts()
        })
        .unwrap();
        assert_eq!(
            c.filter,
            Some(FilterSpec {
                file: "filter.cfg".into(),
                definition: "allmail".into(),
                vars: vec![("PORT".into(), "25".into()), ("X".into(), "a=b".into())],
            })
        );
        let e = refused(Options {
            filter_name: Some("allmail".into()),
            vars: vec!["PORT".into()],
            ..opts()
        });
        assert_eq!(e.to_string(), "-v PORT: expected VAR=value");
    }

    #[test]
    fn pidfile_queue_umask_and_comment() {
        let c = Config::from_options(Options {
            pidfile: Some("-".into()),
            queue: 0,
            keep_umask: true,
            comment: Some("edge".into()),
            post_rotate: Some("/bin/true".into()),
            zone: Zone::UTC,
            ..opts()
        })
        .unwrap();
        assert_eq!(c.pidfile, None);
        assert_eq!(c.queue, 1);
        assert!(c.keep_umask);
        assert_eq!(c.sink.comment, "edge");
        assert_eq!(c.sink.post_rotate, Some(PathBuf::from("/bin/true")));
        assert_eq!(c.sink.schedule.zone, Zone::UTC);
        let c = Config::from_options(Options {
            pidfile: Some("/run/flow-capture.pid".into()),
            ..opts()
        })
        .unwrap();
        assert_eq!(c.pidfile, Some(PathBuf::from("/run/flow-capture.pid")));
    }
}
