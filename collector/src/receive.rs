//! The receive path: socket set-up, batch receive, and [`Ingest`], which
//! turns datagrams into a [`Batch`] (decode, allowlist, sequence
//! accounting, filter, counters, rate-limited log lines).
//!
//! Nothing here blocks or writes files: the socket task calls
//! [`MultiRecv::recv`] (`recvmmsg` on Linux: up to [`VLEN`] datagrams per
//! system call, each with its local destination address from
//! `IP_PKTINFO`), feeds each datagram to [`Ingest::datagram`], and hands
//! [`Ingest::take_batch`] to the writer thread. No datagram can make it
//! panic: every length is checked by `formats::v5::decode` first.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

use formats::v5;
use formats::Record;
use socket2::{Domain, Protocol, Socket, Type};

use crate::exporters::{Exporters, Lookup, SeqOutcome};
use crate::log::{self, RateLimit};
use crate::sink::{Batch, Counters};

/// Datagrams received per `recvmmsg` call.
pub const VLEN: usize = 64;
/// Receive buffer per datagram: more than the largest v5 datagram, so an
/// oversized one is seen (and counted) rather than silently cut.
pub const DGRAM_BUF: usize = 2048;

/// An IPv4 network in CIDR form, host order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// Network address.
    pub addr: u32,
    /// Prefix length, 0..=32.
    pub len: u8,
}

impl Cidr {
    /// Parses `A.B.C.D` or `A.B.C.D/N`.
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, l.parse::<u8>().ok().filter(|&l| l <= 32)?),
            None => (s, 32),
        };
        let addr: Ipv4Addr = a.parse().ok()?;
        Some(Cidr {
            addr: u32::from(addr),
            len: l,
        })
    }

    fn mask(self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - self.len as u32)
        }
    }

    /// True when `a` is inside the network.
    pub fn contains(self, a: u32) -> bool {
        (a ^ self.addr) & self.mask() == 0
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.addr), self.len)
    }
}

/// Which exporters are accepted: everyone when empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowlist(pub Vec<Cidr>);

impl Allowlist {
    /// True when datagrams from `a` are accepted.
    pub fn allows(&self, a: u32) -> bool {
        self.0.is_empty() || self.0.iter().any(|c| c.contains(a))
    }
}

/// A predicate deciding which flows are stored (`-f`/`-F`).
pub type FlowFilter = Box<dyn Fn(&Record) -> bool + Send>;

/// Running totals of the receive path, for `STAT` lines and shutdown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestTotals {
    /// Datagrams received, valid or not.
    pub datagrams: u64,
    /// Valid datagrams.
    pub valid: u64,
    /// Flows decoded.
    pub flows: u64,
    /// Malformed datagrams.
    pub corrupt: u64,
    /// Datagrams from sources not in the allowlist.
    pub rejected: u64,
    /// Flows the filter did not keep.
    pub filtered: u64,
    /// Flows dropped because the writer was behind.
    pub dropped_queue: u64,
    /// Datagrams the kernel dropped because the socket's receive buffer
    /// was full (from `SO_RXQ_OVFL`; Linux only).
    pub dropped_socket: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cause {
    TooShort,
    BadVersion,
    BadCount,
    Length,
    Oversize,
    Rejected,
    SeqLost,
    SeqReset,
    Dropped,
    SocketFull,
}
const CAUSES: usize = 10;

/// Datagram processing state of the receive task.
pub struct Ingest {
    allow: Allowlist,
    exporters: Exporters,
    filter: Option<FlowFilter>,
    batch: Vec<Record>,
    pending: Counters,
    totals: IngestTotals,
    limits: Vec<RateLimit>,
    startup: i64,
    exporters_logged: u32,
    /// The kernel's drop counter for the socket when last seen.
    kernel_drops: u32,
    /// Local address used when the kernel does not say (no IP_PKTINFO).
    pub default_dst: u32,
}

impl Ingest {
    /// A new state; `startup` is the unix time the collector started.
    pub fn new(allow: Allowlist, filter: Option<FlowFilter>, startup: i64) -> Self {
        let limits = (0..CAUSES)
            .map(|i| {
                if i == Cause::SeqLost as usize || i == Cause::SeqReset as usize {
                    RateLimit::new(1000)
                } else {
                    RateLimit::new(10_000)
                }
            })
            .collect();
        Ingest {
            allow,
            exporters: Exporters::new(),
            filter,
            batch: Vec::with_capacity(8192),
            pending: Counters::default(),
            totals: IngestTotals::default(),
            limits,
            startup,
            exporters_logged: 0,
            kernel_drops: 0,
            default_dst: 0,
        }
    }

    /// Replaces the filter (SIGHUP reload).
    pub fn set_filter(&mut self, filter: Option<FlowFilter>) {
        self.filter = filter;
    }

    /// Totals so far.
    pub fn totals(&self) -> IngestTotals {
        self.totals
    }

    /// Exporters seen.
    pub fn exporters(&self) -> &Exporters {
        &self.exporters
    }

    /// Flows waiting in the current batch.
    pub fn batch_len(&self) -> usize {
        self.batch.len()
    }

    /// True when the current batch holds records or counters.
    pub fn has_pending(&self) -> bool {
        !self.batch.is_empty() || !self.pending.is_zero()
    }

    fn corrupt(
        &mut self,
        cause: Cause,
        now_ms: i64,
        (src, dst): (u32, u32),
        text: impl FnOnce() -> String,
    ) {
        self.totals.corrupt += 1;
        self.pending.corrupt += 1;
        if let Lookup::Known(e) = self.exporters.lookup((src, dst), now_ms / 1000) {
            e.stats.corrupt += 1;
        }
        self.limits[cause as usize].log(now_ms, || {
            format!("corrupt datagram from {}: {}", Ipv4Addr::from(src), text())
        });
    }

    /// Processes one datagram of `len` bytes from `src` to local address
    /// `dst` (both host order); `truncated` is set when the datagram did not
    /// fit the receive buffer.
    pub fn datagram(&mut self, buf: &[u8], truncated: bool, src: u32, dst: u32, now_ms: i64) {
        self.totals.datagrams += 1;
        let dst = if dst == 0 { self.default_dst } else { dst };
        if !self.allow.allows(src) {
            self.totals.rejected += 1;
            self.pending.corrupt += 1;
            self.limits[Cause::Rejected as usize].log(now_ms, || {
                format!(
                    "rejected datagram from {}: not an allowed exporter (see the remoteip argument and --allow)",
                    Ipv4Addr::from(src)
                )
            });
            return;
        }
        if truncated {
            let len = buf.len();
            self.corrupt(Cause::Oversize, now_ms, (src, dst), || {
                format!("datagram larger than {len} bytes (no NetFlow v5 datagram is)")
            });
            return;
        }
        let pkt = match v5::decode(buf) {
            Ok(p) => p,
            Err(e) => {
                let cause = match e {
                    v5::V5Error::TooShort { .. } => Cause::TooShort,
                    v5::V5Error::BadVersion { .. } => Cause::BadVersion,
                    v5::V5Error::BadCount { .. } => Cause::BadCount,
                    v5::V5Error::LengthMismatch { .. } => Cause::Length,
                };
                self.corrupt(cause, now_ms, (src, dst), || e.to_string());
                return;
            }
        };
        let h = pkt.header;
        let now = now_ms.div_euclid(1000);
        self.totals.valid += 1;
        self.totals.flows += h.count as u64;
        self.pending.datagrams += 1;
        let outcome = match self.exporters.lookup((src, dst), now) {
            Lookup::Full => {
                self.limits[Cause::SeqReset as usize].log(now_ms, || {
                    format!(
                        "more than {} exporters: sequence numbers of new exporters such as {} are not checked",
                        crate::exporters::MAX_EXPORTERS,
                        Ipv4Addr::from(src)
                    )
                });
                None
            }
            l => {
                let (e, new) = match l {
                    Lookup::New(e) => (e, true),
                    Lookup::Known(e) => (e, false),
                    Lookup::Full => unreachable!("handled above"),
                };
                if new && self.exporters_logged < 1000 {
                    self.exporters_logged += 1;
                    log::line(&format!(
                        "New exporter: time={now} src_ip={} dst_ip={} d_version=5",
                        Ipv4Addr::from(src),
                        Ipv4Addr::from(dst)
                    ));
                }
                e.stats.packets += 1;
                e.stats.flows += h.count as u64;
                let engine = (h.engine_id as u16) << 8 | h.engine_type as u16;
                let o = e
                    .engines
                    .entry(engine)
                    .or_default()
                    .check(h.flow_sequence, h.count);
                match o {
                    SeqOutcome::Lost { lost, .. } => e.stats.lost += lost as u64,
                    SeqOutcome::Reset { .. } => e.stats.resets += 1,
                    _ => {}
                }
                Some(o)
            }
        };
        match outcome {
            Some(SeqOutcome::Lost { expected, lost }) => {
                self.pending.lost += lost as u64;
                self.limits[Cause::SeqLost as usize].log(now_ms, || {
                    format!(
                        "sequence gap: src_ip={} dst_ip={} d_version=5 engine={}/{} expecting={expected} received={} lost={lost}",
                        Ipv4Addr::from(src),
                        Ipv4Addr::from(dst),
                        h.engine_type,
                        h.engine_id,
                        h.flow_sequence
                    )
                });
            }
            Some(SeqOutcome::Reset {
                expected,
                backward,
                distance,
            }) => {
                self.pending.resets += 1;
                self.limits[Cause::SeqReset as usize].log(now_ms, || {
                    let why = if backward {
                        format!("went back by {distance} flows: exporter restarted, or a duplicate or late datagram")
                    } else {
                        format!("jumped ahead by {distance} flows, too far to count as lost flows")
                    };
                    format!(
                        "sequence reset: src_ip={} dst_ip={} d_version=5 engine={}/{} expecting={expected} received={} ({why})",
                        Ipv4Addr::from(src),
                        Ipv4Addr::from(dst),
                        h.engine_type,
                        h.engine_id,
                        h.flow_sequence
                    )
                });
            }
            _ => {}
        }
        let before = self.batch.len();
        pkt.push_records(src, &mut self.batch);
        if let Some(f) = &self.filter {
            let mut kept = before;
            for i in before..self.batch.len() {
                if f(&self.batch[i]) {
                    self.batch[kept] = self.batch[i];
                    kept += 1;
                }
            }
            let dropped = (self.batch.len() - kept) as u64;
            self.batch.truncate(kept);
            if dropped > 0 {
                self.totals.filtered += dropped;
                if let Lookup::Known(e) = self.exporters.lookup((src, dst), now) {
                    e.stats.filter_drops += dropped;
                }
            }
        }
    }

    /// Hands the current batch over, replacing its buffer with `spare`.
    pub fn take_batch(&mut self, spare: Vec<Record>) -> Batch {
        Batch {
            records: std::mem::replace(&mut self.batch, spare),
            counters: std::mem::take(&mut self.pending),
        }
    }

    /// Hands the current batch over in a buffer of its own size, keeping
    /// the large receive buffer (for small batches at low rates).
    pub fn take_small_batch(&mut self) -> Batch {
        let records = self.batch.to_vec();
        self.batch.clear();
        Batch {
            records,
            counters: std::mem::take(&mut self.pending),
        }
    }

    /// Takes in the socket's cumulative drop counter (`SO_RXQ_OVFL`, as
    /// the kernel attached it to a datagram): datagrams lost before they
    /// could be read are counted and logged. Their flows also show up as
    /// lost flows in the exporters' sequence accounting.
    pub fn kernel_drops(&mut self, counter: u32, now_ms: i64) {
        let n = counter.wrapping_sub(self.kernel_drops);
        if n == 0 || n > u32::MAX / 2 {
            return; // nothing new, or an older datagram's counter
        }
        self.kernel_drops = counter;
        self.totals.dropped_socket += n as u64;
        let total = self.totals.dropped_socket;
        self.limits[Cause::SocketFull as usize].log(now_ms, || {
            format!("receive buffer full: the kernel dropped {n} datagrams (total so far: {total}); raise --rcvbuf, or the collector is short of CPU")
        });
    }

    /// The writer was behind and `b` could not be queued: count its flows
    /// as dropped and keep its counters for the next batch.
    pub fn requeue_counters(&mut self, b: &Batch, now_ms: i64) {
        let n = b.records.len() as u64;
        self.totals.dropped_queue += n;
        self.pending += b.counters;
        self.pending.dropped += n;
        let total = self.totals.dropped_queue;
        self.limits[Cause::Dropped as usize].log(now_ms, || {
            format!("writer is behind: dropped {n} flows (total dropped so far: {total}); they are counted as lost in the file")
        });
    }

    /// One `STAT` line per exporter, in flow-tools' layout (spec §4.4),
    /// plus a line of totals.
    pub fn stat_lines(&self, now: i64) -> Vec<String> {
        let mut v: Vec<String> = self
            .exporters
            .sorted()
            .into_iter()
            .map(|((src, dst), e)| {
                let s = e.stats;
                format!(
                    "STAT: now={now} startup={} src_ip={} dst_ip={} d_ver=5 pkts={} flows={} lost={} reset={} filter_drops={} corrupt={}",
                    self.startup,
                    Ipv4Addr::from(src),
                    Ipv4Addr::from(dst),
                    s.packets,
                    s.flows,
                    s.lost,
                    s.resets,
                    s.filter_drops,
                    s.corrupt
                )
            })
            .collect();
        let t = self.totals;
        v.push(format!(
            "STAT: now={now} startup={} exporters={} datagrams={} flows={} corrupt={} rejected={} filter_drops={} dropped={} socket_drops={}",
            self.startup,
            self.exporters.len(),
            t.datagrams,
            t.flows,
            t.corrupt,
            t.rejected,
            t.filtered,
            t.dropped_queue,
            t.dropped_socket
        ));
        v
    }
}

/// Creates the UDP socket: the receive buffer (asking
/// with `SO_RCVBUFFORCE` first, which root may use past `rmem_max`),
/// `IP_PKTINFO`, multicast membership when `group` is given, non-blocking.
/// Returns the socket and the receive buffer size the kernel granted.
pub fn bind(
    local: Ipv4Addr,
    port: u16,
    rcvbuf: usize,
    group: Option<Ipv4Addr>,
) -> io::Result<(std::net::UdpSocket, usize)> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    // No SO_REUSEADDR for unicast: a second collector on the same port must
    // fail loudly rather than silently share the datagrams.
    if group.is_some() {
        s.set_reuse_address(true)?;
    }
    if rcvbuf > 0 {
        #[cfg(target_os = "linux")]
        {
            let v = rcvbuf.min(i32::MAX as usize) as libc::c_int;
            if set_int_option(&s, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, v).is_err() {
                s.set_recv_buffer_size(rcvbuf)?;
            }
        }
        #[cfg(not(target_os = "linux"))]
        s.set_recv_buffer_size(rcvbuf)?;
    }
    #[cfg(target_os = "linux")]
    {
        // Both are best effort: without them the local address is the
        // bound one and kernel drops go uncounted.
        let _ = set_int_option(&s, libc::IPPROTO_IP, libc::IP_PKTINFO, 1);
        // The kernel's count of datagrams dropped for a full buffer,
        // attached to received datagrams (so drops are never silent).
        let _ = set_int_option(&s, libc::SOL_SOCKET, libc::SO_RXQ_OVFL, 1);
    }
    match group {
        Some(g) => {
            s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into())?;
            s.join_multicast_v4(&g, &local)?;
        }
        None => s.bind(&SocketAddrV4::new(local, port).into())?,
    }
    s.set_nonblocking(true)?;
    let s: std::net::UdpSocket = s.into();
    let granted = granted_rcvbuf(&s);
    Ok((s, granted))
}

/// The receive buffer the kernel granted `sock`, in bytes of datagrams
/// (Linux reports twice the size asked for: it adds its bookkeeping).
pub fn granted_rcvbuf(sock: &std::net::UdpSocket) -> usize {
    let reported = socket2::SockRef::from(sock).recv_buffer_size().unwrap_or(0);
    reported / if cfg!(target_os = "linux") { 2 } else { 1 }
}

/// `setsockopt` with an `int` value.
#[cfg(target_os = "linux")]
fn set_int_option(
    s: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: setsockopt with a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::setsockopt(
            std::os::unix::io::AsRawFd::as_raw_fd(s),
            level,
            name,
            &v as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Storage for one batch receive.
pub struct MultiRecv {
    bufs: Vec<u8>,
    lens: Vec<usize>,
    truncated: Vec<bool>,
    srcs: Vec<u32>,
    dsts: Vec<u32>,
    #[cfg(target_os = "linux")]
    addrs: Vec<libc::sockaddr_in>,
    #[cfg(target_os = "linux")]
    iovs: Vec<libc::iovec>,
    #[cfg(target_os = "linux")]
    ctrl: Vec<u64>,
    #[cfg(target_os = "linux")]
    hdrs: Vec<libc::mmsghdr>,
    /// The kernel's drop counter attached to the last receive's datagrams
    /// (the latest one), if any.
    pub kernel_drops: Option<u32>,
}

#[cfg(target_os = "linux")]
const CTRL_WORDS: usize = 8; // 64 bytes: an in_pktinfo and a u32 cmsg (56)

impl Default for MultiRecv {
    fn default() -> Self {
        Self::new()
    }
}

impl MultiRecv {
    /// Buffers for [`VLEN`] datagrams.
    pub fn new() -> Self {
        MultiRecv {
            bufs: vec![0u8; VLEN * DGRAM_BUF],
            lens: vec![0; VLEN],
            truncated: vec![false; VLEN],
            srcs: vec![0; VLEN],
            dsts: vec![0; VLEN],
            #[cfg(target_os = "linux")]
            // SAFETY: sockaddr_in, iovec and mmsghdr are plain C structs for
            // which all-zero bytes are a valid value.
            addrs: vec![unsafe { std::mem::zeroed() }; VLEN],
            #[cfg(target_os = "linux")]
            // SAFETY: as above.
            iovs: vec![unsafe { std::mem::zeroed() }; VLEN],
            #[cfg(target_os = "linux")]
            ctrl: vec![0u64; VLEN * CTRL_WORDS],
            #[cfg(target_os = "linux")]
            // SAFETY: as above.
            hdrs: vec![unsafe { std::mem::zeroed() }; VLEN],
            kernel_drops: None,
        }
    }

    /// Datagram `i` of the last receive: bytes, truncated flag, source and
    /// local destination address (0 if unknown), host order.
    pub fn get(&self, i: usize) -> (&[u8], bool, u32, u32) {
        let len = self.lens[i].min(DGRAM_BUF);
        (
            &self.bufs[i * DGRAM_BUF..i * DGRAM_BUF + len],
            self.truncated[i],
            self.srcs[i],
            self.dsts[i],
        )
    }

    /// Receives up to [`VLEN`] datagrams without blocking; returns how many
    /// (`WouldBlock` when none is waiting).
    #[cfg(target_os = "linux")]
    pub fn recv(&mut self, sock: &impl std::os::unix::io::AsRawFd) -> io::Result<usize> {
        let base = self.bufs.as_mut_ptr();
        for i in 0..VLEN {
            self.iovs[i] = libc::iovec {
                // SAFETY: i * DGRAM_BUF is within `bufs` (VLEN * DGRAM_BUF bytes).
                iov_base: unsafe { base.add(i * DGRAM_BUF) } as *mut libc::c_void,
                iov_len: DGRAM_BUF,
            };
            // SAFETY: zeroed msghdr is valid; the pointers set below point
            // into vectors that outlive the recvmmsg call.
            let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
            h.msg_name = &mut self.addrs[i] as *mut libc::sockaddr_in as *mut libc::c_void;
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_iov = &mut self.iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = self.ctrl[i * CTRL_WORDS..].as_mut_ptr() as *mut libc::c_void;
            h.msg_controllen = (CTRL_WORDS * 8) as _;
            self.hdrs[i] = libc::mmsghdr {
                msg_hdr: h,
                msg_len: 0,
            };
        }
        // SAFETY: hdrs holds VLEN initialised mmsghdr whose buffers are live.
        let n = unsafe {
            libc::recvmmsg(
                sock.as_raw_fd(),
                self.hdrs.as_mut_ptr(),
                VLEN as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        self.kernel_drops = None;
        for i in 0..n {
            let h = &self.hdrs[i];
            self.lens[i] = h.msg_len as usize;
            self.truncated[i] = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            self.srcs[i] = u32::from_be(self.addrs[i].sin_addr.s_addr);
            self.dsts[i] = 0;
            // SAFETY: the CMSG macros walk the control buffer the kernel
            // filled, bounded by msg_controllen.
            unsafe {
                let mut c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
                while !c.is_null() {
                    if (*c).cmsg_level == libc::IPPROTO_IP && (*c).cmsg_type == libc::IP_PKTINFO {
                        let pi =
                            std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::in_pktinfo);
                        self.dsts[i] = u32::from_be(pi.ipi_addr.s_addr);
                    } else if (*c).cmsg_level == libc::SOL_SOCKET
                        && (*c).cmsg_type == libc::SO_RXQ_OVFL
                    {
                        let d = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const u32);
                        self.kernel_drops = Some(d);
                    }
                    c = libc::CMSG_NXTHDR(&h.msg_hdr, c);
                }
            }
        }
        Ok(n)
    }

    /// Receives up to [`VLEN`] datagrams without blocking (portable
    /// fallback: one `recv_from` per datagram).
    #[cfg(not(target_os = "linux"))]
    pub fn recv(&mut self, sock: &std::net::UdpSocket) -> io::Result<usize> {
        let mut n = 0;
        while n < VLEN {
            let buf = &mut self.bufs[n * DGRAM_BUF..(n + 1) * DGRAM_BUF];
            match sock.recv_from(buf) {
                Ok((len, std::net::SocketAddr::V4(a))) => {
                    self.lens[n] = len;
                    self.truncated[n] = false;
                    self.srcs[n] = u32::from(*a.ip());
                    self.dsts[n] = 0;
                    n += 1;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && n > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dgram(seq: u32, count: u16) -> Vec<u8> {
        let mut b = vec![0u8; v5::HEADER_LEN + v5::RECORD_LEN * count as usize];
        b[0..2].copy_from_slice(&5u16.to_be_bytes());
        b[2..4].copy_from_slice(&count.to_be_bytes());
        b[16..20].copy_from_slice(&seq.to_be_bytes());
        b
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(c.contains(u32::from(Ipv4Addr::new(10, 1, 200, 3))));
        assert!(!c.contains(u32::from(Ipv4Addr::new(10, 2, 0, 1))));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(12345));
        assert_eq!(Cidr::parse("1.2.3.4").unwrap().len, 32);
        assert_eq!(Cidr::parse("1.2.3.4/33"), None);
        assert_eq!(Cidr::parse("nonsense"), None);
    }

    #[test]
    fn bad_counters_match_flow_tools_golden_bad() {
        // The shape of golden bad.hex: 4 good, 4 malformed, 1 restart.
        let mut g = Ingest::new(Allowlist::default(), None, 0);
        let src = u32::from(Ipv4Addr::new(127, 0, 0, 6));
        for seq in [77, 82, 87, 92] {
            g.datagram(&dgram(seq, 5), false, src, 0, 0);
        }
        let mut short = dgram(77, 5);
        short.truncate(120);
        g.datagram(&short, false, src, 0, 0);
        let mut many = dgram(77, 5);
        many[2..4].copy_from_slice(&31u16.to_be_bytes());
        g.datagram(&many, false, src, 0, 0);
        let mut v9 = dgram(77, 5);
        v9[0..2].copy_from_slice(&9u16.to_be_bytes());
        g.datagram(&v9, false, src, 0, 0);
        g.datagram(&[0, 5, 0], false, src, 0, 0);
        g.datagram(&dgram(5, 1), false, src, 0, 0);
        let b = g.take_batch(Vec::new());
        assert_eq!(b.records.len(), 21);
        assert_eq!(b.counters.corrupt, 4);
        assert_eq!(b.counters.resets, 1);
        assert_eq!(b.counters.lost, 0);
        assert_eq!(b.counters.datagrams, 5);
    }

    #[test]
    fn the_allowlist_rejects_and_counts() {
        let allowed = u32::from(Ipv4Addr::new(127, 0, 0, 2));
        let other = u32::from(Ipv4Addr::new(127, 0, 0, 9));
        let mut g = Ingest::new(Allowlist(vec![Cidr::parse("127.0.0.2").unwrap()]), None, 0);
        g.datagram(&dgram(0, 2), false, allowed, 0, 0);
        g.datagram(&dgram(0, 2), false, other, 0, 0);
        let b = g.take_batch(Vec::new());
        assert_eq!(b.records.len(), 2);
        assert!(b.records.iter().all(|r| r.exporter == allowed));
        assert_eq!(g.totals().rejected, 1);
        assert_eq!(b.counters.corrupt, 1);
    }

    #[test]
    fn the_filter_drops_flows_and_counts_them() {
        let mut g = Ingest::new(
            Allowlist::default(),
            Some(Box::new(|r: &Record| r.octets > 0)),
            0,
        );
        let mut d = dgram(0, 3);
        // octets of the second record
        let off = v5::HEADER_LEN + v5::RECORD_LEN + 20;
        d[off..off + 4].copy_from_slice(&100u32.to_be_bytes());
        g.datagram(&d, false, 1, 0, 0);
        assert_eq!(g.batch_len(), 1);
        assert_eq!(g.totals().filtered, 2);
    }

    #[test]
    fn kernel_drop_counters_are_counted_once() {
        let mut ing = Ingest::new(Allowlist::default(), None, 0);
        ing.kernel_drops(5, 0);
        ing.kernel_drops(5, 0); // the same counter on the next datagram
        ing.kernel_drops(3, 0); // an older datagram's counter
        assert_eq!(ing.totals().dropped_socket, 5);
        ing.kernel_drops(12, 0);
        assert_eq!(ing.totals().dropped_socket, 12);
        // the kernel's u32 counter wraps
        ing.kernel_drops(0x7fff_0000, 0);
        ing.kernel_drops(0xfffe_0000, 0);
        ing.kernel_drops(5, 0);
        let total = (1u64 << 32) + 5;
        assert_eq!(ing.totals().dropped_socket, total);
        let stat = ing.stat_lines(0);
        assert!(stat
            .last()
            .unwrap()
            .ends_with(&format!("socket_drops={total}")));
    }

    /// A full receive buffer: the kernel drops datagrams and says so on the
    /// next one queued (loopback only).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_kernel_reports_its_drops() {
        let (rx, _) = bind(Ipv4Addr::LOCALHOST, 0, 1, None).expect("bind");
        let to = rx.local_addr().expect("addr");
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind sender");
        let payload = [0u8; 1000];
        for _ in 0..200 {
            tx.send_to(&payload, to).expect("send");
        }
        let mut mr = MultiRecv::new();
        let mut got = 0;
        while let Ok(n) = mr.recv(&rx) {
            got += n;
        }
        assert!(got < 200, "a minimal buffer cannot hold 200 datagrams");
        tx.send_to(&payload, to).expect("send");
        let mut drops = None;
        for _ in 0..100 {
            if let Ok(n) = mr.recv(&rx) {
                assert_eq!(n, 1);
                drops = mr.kernel_drops;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(drops, Some(200 - got as u32));
    }

    #[test]
    fn no_datagram_panics() {
        let mut g = Ingest::new(Allowlist::default(), None, 0);
        let mut x: u32 = 12345;
        for len in 0..1600 {
            let mut b = vec![0u8; len % 1500];
            for byte in b.iter_mut() {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *byte = (x >> 16) as u8;
            }
            if b.len() >= 4 && len % 3 == 0 {
                b[0..2].copy_from_slice(&5u16.to_be_bytes());
                let count = ((b.len().saturating_sub(24)) / 48) as u16;
                b[2..4].copy_from_slice(&count.to_be_bytes());
            }
            g.datagram(&b, len % 7 == 0, x, 0, 0);
        }
        let _ = g.take_batch(Vec::new());
    }
}
