//! flow-send: plays stored flows back to a collector as NetFlow v5
//! datagrams over UDP.
//!
//! [`Packetizer`] turns records back into datagrams: the records of one
//! exporter and engine that carry identical header times (they came in one
//! datagram) are grouped, up to 30, and numbered with that exporter's and
//! engine's own flow sequence. [`run`] reads ft files, ft streams or native
//! files, sends every datagram from a UDP socket bound to the exporter's
//! loopback address (so a collector sees several exporters), flat out or
//! paced, and returns a [`Summary`]. [`run_replay_hex`] sends the golden
//! hex dumps byte for byte.
//!
//! Only loopback destinations are allowed unless the caller explicitly
//! allows remote ones ([`Config::allow_remote`]).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use formats::ft::{FtError, FtReader};
use formats::native::NativeFile;
use formats::v5::{self, Header, WireRecord, MAX_RECORDS};
use formats::{Detected, Record};

use crate::Error;

// ------------------------------------------------------------- destination

/// Parses the destination: `host:port`, `host/port`, or flow-tools'
/// `localip/remoteip/port` (the local address, unless `0`, becomes the
/// source of every datagram; returned as the second value).
pub fn parse_destination(s: &str) -> Result<(SocketAddrV4, Option<Ipv4Addr>), Error> {
    let bad = |why: &str| Error::BadDestination {
        given: s.to_string(),
        why: why.to_string(),
    };
    let parts: Vec<&str> = s.split('/').collect();
    let (local, host, port): (Option<&str>, &str, &str) = match parts.as_slice() {
        [hp] => match hp.rsplit_once(':') {
            Some((h, p)) => (None, h, p),
            None => {
                return Err(bad(
                    "expected host:port, host/port or localip/remoteip/port",
                ))
            }
        },
        [h, p] => (None, h, p),
        [l, h, p] => (Some(l), h, p),
        _ => {
            return Err(bad(
                "expected host:port, host/port or localip/remoteip/port",
            ))
        }
    };
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port is not a number 1..65535"))?;
    if port == 0 {
        return Err(bad("port 0"));
    }
    let local = match local {
        None | Some("0") | Some("0.0.0.0") | Some("") => None,
        Some(l) => Some(
            l.parse::<Ipv4Addr>()
                .map_err(|_| bad("the local address is not IPv4"))?,
        ),
    };
    let addr = match host.parse::<Ipv4Addr>() {
        Ok(a) => a,
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|e| bad(&format!("cannot resolve '{host}': {e}")))?
            .find_map(|a| match a {
                SocketAddr::V4(v4) => Some(*v4.ip()),
                SocketAddr::V6(_) => None,
            })
            .ok_or_else(|| bad(&format!("'{host}' has no IPv4 address")))?,
    };
    Ok((SocketAddrV4::new(addr, port), local))
}

/// Parses `--from`: a comma-separated list of IPv4 source addresses.
pub fn parse_sources(s: &str) -> Result<Vec<Ipv4Addr>, Error> {
    let v = s
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse::<Ipv4Addr>()
                .map_err(|_| Error::BadSource(a.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if v.is_empty() {
        return Err(Error::BadSource(s.to_string()));
    }
    Ok(v)
}

// -------------------------------------------------------------- packetizer

/// Identifies a sequence-number space: exporter, engine type, engine id.
pub type StreamKey = (u32, u8, u8);

#[derive(Debug)]
struct Pending {
    header: Header,
    records: Vec<WireRecord>,
}

/// Groups records into v5 datagrams and numbers them (see the module docs).
#[derive(Debug)]
pub struct Packetizer {
    index: HashMap<StreamKey, usize>,
    streams: Vec<(StreamKey, Pending)>,
    seq_start: u32,
    /// Last export second at which stale datagrams were flushed.
    swept_secs: u32,
    buf: Vec<u8>,
}

/// A pending datagram older than this many seconds (export time) than the
/// current record is sent even though it is not full, as an exporter
/// flushes partial datagrams.
const STALE_SECS: u32 = 2;

impl Packetizer {
    /// A packetizer whose every stream's first sequence number is `seq_start`.
    pub fn new(seq_start: u32) -> Self {
        Packetizer {
            index: HashMap::new(),
            streams: Vec::new(),
            seq_start,
            swept_secs: 0,
            buf: Vec::with_capacity(v5::MAX_DATAGRAM_LEN),
        }
    }

    /// Adds one record; calls `emit(key, datagram bytes, flows)` for every
    /// datagram this completes.
    pub fn push<E>(&mut self, r: &Record, emit: &mut E) -> Result<(), Error>
    where
        E: FnMut(StreamKey, &[u8], usize) -> Result<(), Error>,
    {
        let key = (r.exporter, r.engine_type, r.engine_id);
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.streams.len();
                self.index.insert(key, i);
                let header = Header {
                    flow_sequence: self.seq_start,
                    ..Header::default()
                };
                self.streams.push((
                    key,
                    Pending {
                        header,
                        records: Vec::with_capacity(MAX_RECORDS),
                    },
                ));
                i
            }
        };
        {
            let (_, p) = &mut self.streams[i];
            let same = p.header.unix_secs == r.unix_secs
                && p.header.unix_nsecs == r.unix_nsecs
                && p.header.sys_uptime_ms == r.sys_uptime_ms;
            if !p.records.is_empty() && !same {
                Self::emit_one(&mut self.buf, key, p, emit)?;
            }
            if p.records.is_empty() {
                p.header.unix_secs = r.unix_secs;
                p.header.unix_nsecs = r.unix_nsecs;
                p.header.sys_uptime_ms = r.sys_uptime_ms;
                p.header.engine_type = r.engine_type;
                p.header.engine_id = r.engine_id;
            }
            p.records.push(v5::from_record(r));
            if p.records.len() == MAX_RECORDS {
                Self::emit_one(&mut self.buf, key, p, emit)?;
            }
        }
        if r.unix_secs > self.swept_secs.saturating_add(STALE_SECS) {
            self.swept_secs = r.unix_secs;
            let limit = r.unix_secs - STALE_SECS;
            for (k, p) in self.streams.iter_mut() {
                if !p.records.is_empty() && p.header.unix_secs < limit {
                    Self::emit_one(&mut self.buf, *k, p, emit)?;
                }
            }
        }
        Ok(())
    }

    /// Emits every pending (partial) datagram, in order of first appearance.
    pub fn finish<E>(&mut self, emit: &mut E) -> Result<(), Error>
    where
        E: FnMut(StreamKey, &[u8], usize) -> Result<(), Error>,
    {
        for (k, p) in self.streams.iter_mut() {
            if !p.records.is_empty() {
                Self::emit_one(&mut self.buf, *k, p, emit)?;
            }
        }
        Ok(())
    }

    fn emit_one<E>(
        buf: &mut Vec<u8>,
        key: StreamKey,
        p: &mut Pending,
        emit: &mut E,
    ) -> Result<(), Error>
    where
        E: FnMut(StreamKey, &[u8], usize) -> Result<(), Error>,
    {
        let n = p.records.len();
        // 1..=30 records by construction, so encoding cannot fail
        if v5::encode_into(&p.header, &p.records, buf).is_ok() {
            emit(key, buf, n)?;
        }
        p.header.flow_sequence = p.header.flow_sequence.wrapping_add(n as u32);
        p.records.clear();
        Ok(())
    }
}

// ----------------------------------------------------------------- sockets

/// Where datagrams come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sources {
    /// Each exporter that is a 127.x.y.z address sends from that address;
    /// others from an address the OS picks.
    Auto,
    /// Exporters, in order of first appearance, map onto these addresses
    /// (cycling when there are more exporters).
    List(Vec<Ipv4Addr>),
}

/// Sends datagrams from per-source sockets to one destination, paced.
struct Sender {
    dest: SocketAddrV4,
    sources: Sources,
    /// Exporter -> socket index.
    by_exporter: HashMap<u32, usize>,
    /// Source address -> socket index.
    by_source: HashMap<Ipv4Addr, usize>,
    sockets: Vec<(Ipv4Addr, UdpSocket)>,
    exporters_seen: usize,
    pace: Option<f64>,
    interval: Option<Duration>,
    started: Instant,
    summary: Summary,
}

/// What was sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Datagrams sent.
    pub datagrams: u64,
    /// Flow records in them.
    pub flows: u64,
    /// Distinct source addresses used.
    pub sources: usize,
    /// Datagrams the OS reported as refused (nobody listening), not resent.
    pub refused: u64,
    /// Wall time spent.
    pub elapsed: Duration,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        write!(
            f,
            "sent {} datagrams, {} flows from {} source address{} in {:.3} s ({:.0} flows/s)",
            self.datagrams,
            self.flows,
            self.sources,
            if self.sources == 1 { "" } else { "es" },
            secs,
            if secs > 0.0 {
                self.flows as f64 / secs
            } else {
                0.0
            }
        )?;
        if self.refused > 0 {
            write!(
                f,
                "; {} refused (is the collector listening?)",
                self.refused
            )?;
        }
        Ok(())
    }
}

impl Sender {
    fn new(cfg: &Config) -> Result<Sender, Error> {
        check_destination(cfg.dest, cfg.allow_remote)?;
        if let Some(r) = cfg.rate {
            if !(r.is_finite() && r >= 0.001) {
                return Err(Error::BadOption {
                    what: "--rate",
                    got: r,
                    why: "flows per second must be at least 0.001",
                });
            }
        }
        Ok(Sender {
            dest: cfg.dest,
            sources: cfg.sources.clone(),
            by_exporter: HashMap::new(),
            by_source: HashMap::new(),
            sockets: Vec::new(),
            exporters_seen: 0,
            pace: cfg.rate,
            interval: cfg.interval,
            started: Instant::now(),
            summary: Summary::default(),
        })
    }

    fn source_for(&mut self, exporter: u32) -> Ipv4Addr {
        let ip = Ipv4Addr::from(exporter);
        match &self.sources {
            Sources::Auto if ip.is_loopback() => ip,
            Sources::Auto => Ipv4Addr::UNSPECIFIED,
            Sources::List(list) => {
                let a = list[self.exporters_seen % list.len()];
                self.exporters_seen += 1;
                a
            }
        }
    }

    fn socket_index(&mut self, exporter: u32) -> Result<usize, Error> {
        if let Some(&i) = self.by_exporter.get(&exporter) {
            return Ok(i);
        }
        let src = self.source_for(exporter);
        let i = match self.by_source.get(&src) {
            Some(&i) => i,
            None => {
                let s = open_socket(src, self.dest)?;
                self.sockets.push((src, s));
                self.by_source.insert(src, self.sockets.len() - 1);
                self.sockets.len() - 1
            }
        };
        self.by_exporter.insert(exporter, i);
        Ok(i)
    }

    /// Sends one datagram from the socket of `exporter`.
    fn send(&mut self, exporter: u32, bytes: &[u8], flows: usize) -> Result<(), Error> {
        let i = self.socket_index(exporter)?;
        self.wait(flows);
        let (src, sock) = &self.sockets[i];
        let mut tries = 0;
        loop {
            match sock.send(bytes) {
                Ok(_) => {
                    self.summary.datagrams += 1;
                    self.summary.flows += flows as u64;
                    return Ok(());
                }
                // an ICMP port unreachable for an earlier datagram is
                // reported on this call, and this datagram was not sent
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused && tries < 1 => tries += 1,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    self.summary.refused += 1;
                    return Ok(());
                }
                // the send buffer is full (ENOBUFS): give the kernel a moment
                Err(e)
                    if (e.raw_os_error() == Some(libc::ENOBUFS)
                        || e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::Interrupted)
                        && tries < 1000 =>
                {
                    tries += 1;
                    std::thread::sleep(Duration::from_micros(50));
                }
                Err(e) => {
                    return Err(Error::Send {
                        from: *src,
                        to: self.dest,
                        source: e,
                    })
                }
            }
        }
    }

    /// Sleeps until `flows` more may go out at the configured pace.
    fn wait(&self, flows: usize) {
        let mut due = Duration::ZERO;
        if let Some(rate) = self.pace {
            let secs = (self.summary.flows + flows as u64) as f64 / rate;
            due = Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
        }
        if let Some(iv) = self.interval {
            due = due.max(iv.saturating_mul(self.summary.datagrams.min(u32::MAX as u64) as u32));
        }
        let now = self.started.elapsed();
        if due > now {
            std::thread::sleep(due - now);
        }
    }

    fn finish(mut self) -> Summary {
        self.summary.sources = self.sockets.len();
        self.summary.elapsed = self.started.elapsed();
        self.summary
    }
}

/// Refuses non-loopback destinations unless `allow_remote`.
pub fn check_destination(dest: SocketAddrV4, allow_remote: bool) -> Result<(), Error> {
    if !allow_remote && !dest.ip().is_loopback() {
        return Err(Error::NotLoopback { dest });
    }
    Ok(())
}

/// A UDP socket bound to `src` (port 0), connected to `dest`, with a large
/// send buffer.
fn open_socket(src: Ipv4Addr, dest: SocketAddrV4) -> Result<UdpSocket, Error> {
    let bind_err = |e| Error::Bind {
        addr: src,
        source: e,
    };
    let s = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .map_err(bind_err)?;
    // best effort: a bigger buffer only smooths bursts
    let _ = s.set_send_buffer_size(4 << 20);
    s.bind(&SocketAddrV4::new(src, 0).into())
        .map_err(bind_err)?;
    let s: UdpSocket = s.into();
    s.connect(dest).map_err(|e| Error::Send {
        from: src,
        to: dest,
        source: e,
    })?;
    Ok(s)
}

// -------------------------------------------------------------------- run

/// flow-send's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Input files; empty means standard input (`-` also names it).
    pub inputs: Vec<PathBuf>,
    /// Where to send.
    pub dest: SocketAddrV4,
    /// Which source addresses to send from.
    pub sources: Sources,
    /// Allow a destination that is not a loopback address.
    pub allow_remote: bool,
    /// Flows per second; `None` sends flat out.
    pub rate: Option<f64>,
    /// Minimum time between datagrams.
    pub interval: Option<Duration>,
    /// First sequence number of every exporter and engine.
    pub seq_start: u32,
}

/// Sends every flow of the inputs; warnings (truncation, corrupt blocks)
/// are passed to `warn`.
pub fn run(cfg: &Config, warn: &mut dyn FnMut(String)) -> Result<Summary, Error> {
    let mut sender = Sender::new(cfg)?;
    let mut pk = Packetizer::new(cfg.seq_start);
    let mut emit = |key: StreamKey, bytes: &[u8], n: usize| sender.send(key.0, bytes, n);
    let stdin = [PathBuf::from("-")];
    let inputs = if cfg.inputs.is_empty() {
        &stdin[..]
    } else {
        &cfg.inputs[..]
    };
    for path in inputs {
        for_each_record(path, warn, &mut |r| pk.push(r, &mut emit))?;
    }
    pk.finish(&mut emit)?;
    Ok(sender.finish())
}

/// Calls `f` on every record of one input (`-` is standard input).
pub fn for_each_record(
    path: &Path,
    warn: &mut dyn FnMut(String),
    f: &mut dyn FnMut(&Record) -> Result<(), Error>,
) -> Result<(), Error> {
    let name = path.display().to_string();
    let io_err = |e| Error::Input {
        path: name.clone(),
        source: e,
    };
    let mut input: Box<dyn Read> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(path).map_err(io_err)?)
    };
    let mut prefix = [0u8; 8];
    let mut got = 0;
    while got < prefix.len() {
        match input.read(&mut prefix[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(e)),
        }
    }
    let prefix = &prefix[..got];
    match formats::detect(prefix) {
        Detected::Ft => {
            let mut r = FtReader::new(io::Cursor::new(prefix.to_vec()).chain(input))
                .map_err(|e| ft_err(&name, e))?;
            let mut batch = Vec::with_capacity(4096);
            loop {
                batch.clear();
                if r.read_batch(&mut batch, 4096)
                    .map_err(|e| ft_err(&name, e))?
                    == 0
                {
                    break;
                }
                for rec in &batch {
                    f(rec)?;
                }
            }
            if let Some(w) = r.warning() {
                warn(format!("{name}: {w}"));
            }
        }
        Detected::Native => {
            let mut bytes = prefix.to_vec();
            input.read_to_end(&mut bytes).map_err(io_err)?;
            let file = NativeFile::open(bytes).map_err(|e| Error::Native {
                path: name.clone(),
                source: e,
            })?;
            for w in file.warnings() {
                warn(format!("{name}: {w}"));
            }
            let mut batch = Vec::new();
            for b in file.blocks() {
                batch.clear();
                match file.decode_block(b, &mut batch) {
                    Ok(()) => {
                        for rec in &batch {
                            f(rec)?;
                        }
                    }
                    Err(e) => warn(format!("{name}: {e}")),
                }
            }
        }
        Detected::Unknown => return Err(Error::UnknownFormat { path: name }),
    }
    Ok(())
}

fn ft_err(path: &str, e: FtError) -> Error {
    Error::Ft {
        path: path.to_string(),
        source: e,
    }
}

// ---------------------------------------------------------------- hex dumps

/// One datagram of a golden hex dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexDatagram {
    /// The batch label (first column, e.g. `first`).
    pub batch: String,
    /// The exporter it was sent from.
    pub exporter: Ipv4Addr,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// Parses a hex dump: `<batch> <exporter-ip> <udp-payload-hex>` per line,
/// blank lines and `#` comments ignored.
pub fn parse_hex_dump(text: &str, path: &str) -> Result<Vec<HexDatagram>, Error> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: String| Error::HexLine {
            path: path.to_string(),
            line: i + 1,
            why,
        };
        let mut it = line.split_whitespace();
        let (Some(batch), Some(ip), Some(hex)) = (it.next(), it.next(), it.next()) else {
            return Err(bad("expected '<batch> <exporter-ip> <payload-hex>'".into()));
        };
        let exporter: Ipv4Addr = ip
            .parse()
            .map_err(|_| bad(format!("bad exporter address '{ip}'")))?;
        if it.next().is_some() {
            return Err(bad("more than three fields".into()));
        }
        let payload = decode_hex(hex)
            .ok_or_else(|| bad("the payload is not an even number of hex digits".into()))?;
        out.push(HexDatagram {
            batch: batch.to_string(),
            exporter,
            payload,
        });
    }
    Ok(out)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    b.chunks_exact(2)
        .map(|p| Some(nib(p[0])? << 4 | nib(p[1])?))
        .collect()
}

/// Sends the datagrams of a hex dump byte for byte, each from its
/// exporter's address (or the `--from` mapping), keeping those whose batch
/// is `batch` (all when `None`).
pub fn run_replay_hex(cfg: &Config, dump: &Path, batch: Option<&str>) -> Result<Summary, Error> {
    let name = dump.display().to_string();
    let mut text = String::new();
    let f = File::open(dump).map_err(|e| Error::Input {
        path: name.clone(),
        source: e,
    })?;
    io::BufReader::new(f)
        .read_to_string(&mut text)
        .map_err(|e| Error::Input {
            path: name.clone(),
            source: e,
        })?;
    let datagrams = parse_hex_dump(&text, &name)?;
    let mut sender = Sender::new(cfg)?;
    let wanted = |d: &&HexDatagram| match batch {
        Some(b) => b == d.batch,
        None => true,
    };
    for d in datagrams.iter().filter(wanted) {
        let flows = v5::decode(&d.payload)
            .map(|p| p.header.count as usize)
            .unwrap_or(0);
        sender.send(u32::from(d.exporter), &d.payload, flows)?;
    }
    Ok(sender.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(exporter: u32, secs: u32, engine_id: u8, i: u32) -> Record {
        Record {
            unix_secs: secs,
            unix_nsecs: 5,
            sys_uptime_ms: secs.wrapping_mul(1000),
            exporter,
            engine_id,
            src_addr: i,
            packets: 1,
            octets: 40,
            ..Record::default()
        }
    }

    fn collect(records: &[Record]) -> Vec<(StreamKey, Vec<u8>, usize)> {
        let mut out = Vec::new();
        let mut pk = Packetizer::new(100);
        let mut emit = |k: StreamKey, b: &[u8], n: usize| {
            out.push((k, b.to_vec(), n));
            Ok(())
        };
        for r in records {
            pk.push(r, &mut emit).unwrap();
        }
        pk.finish(&mut emit).unwrap();
        out
    }

    #[test]
    fn datagrams_group_same_header_times_up_to_30_per_stream() {
        let mut rs = Vec::new();
        for i in 0..70 {
            rs.push(rec(1, 1000, 0, i));
        }
        rs.push(rec(1, 1001, 0, 70));
        rs.push(rec(2, 1001, 0, 71));
        rs.push(rec(1, 1001, 1, 72));
        let d = collect(&rs);
        let sizes: Vec<(StreamKey, usize)> = d.iter().map(|(k, _, n)| (*k, *n)).collect();
        assert_eq!(
            sizes,
            vec![
                ((1, 0, 0), 30),
                ((1, 0, 0), 30),
                ((1, 0, 0), 10),
                ((1, 0, 0), 1),
                ((2, 0, 0), 1),
                ((1, 0, 1), 1)
            ]
        );
        let seqs: Vec<u32> = d
            .iter()
            .map(|(_, b, _)| v5::decode(b).unwrap().header.flow_sequence)
            .collect();
        assert_eq!(seqs, vec![100, 130, 160, 170, 100, 100]);
        // the records come back with the exporter supplied by the receiver
        let mut back = Vec::new();
        for (k, b, _) in &d {
            v5::decode(b).unwrap().push_records(k.0, &mut back);
        }
        let mut want = rs.clone();
        want.sort_by_key(|r| (r.exporter, r.engine_id, r.src_addr));
        back.sort_by_key(|r| (r.exporter, r.engine_id, r.src_addr));
        assert_eq!(back, want);
    }

    #[test]
    fn stale_partial_datagrams_are_flushed() {
        let rs = vec![rec(1, 1000, 0, 0), rec(2, 1000, 0, 1), rec(2, 1010, 0, 2)];
        let d = collect(&rs);
        // exporter 1's lone record goes out when exporter 2 is 10 s ahead
        assert_eq!(d[0].0, (2, 0, 0));
        assert_eq!(d[1].0, (1, 0, 0));
    }

    #[test]
    fn destinations() {
        let (d, l) = parse_destination("127.0.0.1:9995").unwrap();
        assert_eq!(d, "127.0.0.1:9995".parse().unwrap());
        assert_eq!(l, None);
        assert_eq!(parse_destination("127.0.0.1/9995").unwrap().0, d);
        let (d2, l2) = parse_destination("127.0.0.7/127.0.0.1/9995").unwrap();
        assert_eq!(d2, d);
        assert_eq!(l2, Some(Ipv4Addr::new(127, 0, 0, 7)));
        assert_eq!(parse_destination("0/127.0.0.1/9995").unwrap().1, None);
        assert!(parse_destination("127.0.0.1").is_err());
        assert!(parse_destination("127.0.0.1:0").is_err());
        assert!(parse_destination("127.0.0.1:99999").is_err());
        assert!(check_destination("192.0.2.1:9995".parse().unwrap(), false).is_err());
        assert!(check_destination("192.0.2.1:9995".parse().unwrap(), true).is_ok());
        assert!(check_destination(d, false).is_ok());
        assert_eq!(parse_sources("127.0.0.2, 127.0.0.3").unwrap().len(), 2);
        assert!(parse_sources("127.0.0.x").is_err());
    }

    #[test]
    fn hex_dumps() {
        let t = "# c\n\nfirst 127.0.0.2 0005A\n";
        let d = parse_hex_dump(t, "x").unwrap_err();
        assert!(matches!(d, Error::HexLine { line: 3, .. }), "{d}");
        assert!(parse_hex_dump("second 127.0.0.3 \n", "x").is_err());
        let t = "# c\nfirst 127.0.0.2 0005abcd\nsecond 127.0.0.3 00\n";
        let d = parse_hex_dump(t, "x").unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].payload, vec![0, 5, 0xab, 0xcd]);
        assert_eq!(d[1].batch, "second");
        assert!(parse_hex_dump("a 1.2.3.4 0g\n", "x").is_err());
        assert!(parse_hex_dump("a 1.2.3 00\n", "x").is_err());
    }
}
