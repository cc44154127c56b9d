//! The one mapping table between [`Record`] fields and exported column
//! names. Column names use flow-tools' v5 spellings (`srcaddr`, `dpkts`,
//! `prot`) because that is what people's scripts and queries already say;
//! Rust code uses the full words of [`Record`]. Every format takes its
//! column list from [`COLUMNS`] (plus, in Parquet, the address strings of
//! [`ADDR_STRING_COLUMNS`]).

use formats::Record;

/// The value type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Unsigned 32-bit counter or time stamp.
    U32,
    /// Unsigned 16-bit value (ports, interfaces, AS numbers).
    U16,
    /// Unsigned 8-bit value (protocol, flags, masks, engine).
    U8,
    /// IPv4 address: uint32 in Parquet, a dotted quad in text.
    Addr,
    /// Milliseconds since the epoch: timestamp[ms, UTC] in Parquet,
    /// RFC 3339 UTC in text.
    TimeMs,
}

/// Which record value a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// [`Record::unix_secs`]
    UnixSecs,
    /// [`Record::unix_nsecs`]
    UnixNsecs,
    /// [`Record::sys_uptime_ms`]
    SysUptime,
    /// [`Record::exporter`]
    Exporter,
    /// [`Record::src_addr`]
    SrcAddr,
    /// [`Record::dst_addr`]
    DstAddr,
    /// [`Record::next_hop`]
    NextHop,
    /// [`Record::input_if`]
    InputIf,
    /// [`Record::output_if`]
    OutputIf,
    /// [`Record::packets`]
    Packets,
    /// [`Record::octets`]
    Octets,
    /// [`Record::first_uptime_ms`]
    First,
    /// [`Record::last_uptime_ms`]
    Last,
    /// [`Record::src_port`]
    SrcPort,
    /// [`Record::dst_port`]
    DstPort,
    /// [`Record::protocol`]
    Protocol,
    /// [`Record::tos`]
    Tos,
    /// [`Record::tcp_flags`]
    TcpFlags,
    /// [`Record::engine_type`]
    EngineType,
    /// [`Record::engine_id`]
    EngineId,
    /// [`Record::src_mask`]
    SrcMask,
    /// [`Record::dst_mask`]
    DstMask,
    /// [`Record::src_as`]
    SrcAs,
    /// [`Record::dst_as`]
    DstAs,
    /// [`Record::start_ms`] (derived, wrap-correct)
    Start,
    /// [`Record::end_ms`] (derived, wrap-correct)
    End,
}

impl Field {
    /// The field's value as an unsigned 32-bit number (addresses as their
    /// numeric value). Not meaningful for [`Field::Start`]/[`Field::End`]:
    /// use [`Field::time_ms`].
    #[inline]
    pub fn u32(self, r: &Record) -> u32 {
        match self {
            Field::UnixSecs => r.unix_secs,
            Field::UnixNsecs => r.unix_nsecs,
            Field::SysUptime => r.sys_uptime_ms,
            Field::Exporter => r.exporter,
            Field::SrcAddr => r.src_addr,
            Field::DstAddr => r.dst_addr,
            Field::NextHop => r.next_hop,
            Field::InputIf => r.input_if.into(),
            Field::OutputIf => r.output_if.into(),
            Field::Packets => r.packets,
            Field::Octets => r.octets,
            Field::First => r.first_uptime_ms,
            Field::Last => r.last_uptime_ms,
            Field::SrcPort => r.src_port.into(),
            Field::DstPort => r.dst_port.into(),
            Field::Protocol => r.protocol.into(),
            Field::Tos => r.tos.into(),
            Field::TcpFlags => r.tcp_flags.into(),
            Field::EngineType => r.engine_type.into(),
            Field::EngineId => r.engine_id.into(),
            Field::SrcMask => r.src_mask.into(),
            Field::DstMask => r.dst_mask.into(),
            Field::SrcAs => r.src_as.into(),
            Field::DstAs => r.dst_as.into(),
            Field::Start | Field::End => 0,
        }
    }

    /// The derived absolute time of [`Field::Start`]/[`Field::End`] in ms.
    #[inline]
    pub fn time_ms(self, r: &Record) -> i64 {
        match self {
            Field::Start => r.start_ms(),
            Field::End => r.end_ms(),
            _ => 0,
        }
    }
}

/// One exported column.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// The name in headers, JSON keys and the Parquet schema.
    pub name: &'static str,
    /// The record value.
    pub field: Field,
    /// The value type.
    pub kind: Kind,
    /// What it means (for `--help`-style listings and the docs).
    pub doc: &'static str,
}

const fn col(name: &'static str, field: Field, kind: Kind, doc: &'static str) -> Column {
    Column {
        name,
        field,
        kind,
        doc,
    }
}

/// Every column of CSV, JSON lines and Parquet, in order: the flow-tools
/// v5 fields, then the derived start and end.
pub const COLUMNS: [Column; 26] = [
    col(
        "unix_secs",
        Field::UnixSecs,
        Kind::U32,
        "export datagram time, seconds since the epoch",
    ),
    col(
        "unix_nsecs",
        Field::UnixNsecs,
        Kind::U32,
        "export datagram time, residual nanoseconds",
    ),
    col(
        "sysuptime",
        Field::SysUptime,
        Kind::U32,
        "exporter uptime at export, ms",
    ),
    col("exaddr", Field::Exporter, Kind::Addr, "exporter address"),
    col("srcaddr", Field::SrcAddr, Kind::Addr, "source address"),
    col("dstaddr", Field::DstAddr, Kind::Addr, "destination address"),
    col(
        "nexthop",
        Field::NextHop,
        Kind::Addr,
        "next-hop router address",
    ),
    col(
        "input",
        Field::InputIf,
        Kind::U16,
        "SNMP index of the input interface",
    ),
    col(
        "output",
        Field::OutputIf,
        Kind::U16,
        "SNMP index of the output interface",
    ),
    col("dpkts", Field::Packets, Kind::U32, "packets in the flow"),
    col(
        "doctets",
        Field::Octets,
        Kind::U32,
        "layer-3 bytes in the flow",
    ),
    col(
        "first",
        Field::First,
        Kind::U32,
        "exporter uptime at the first packet, ms",
    ),
    col(
        "last",
        Field::Last,
        Kind::U32,
        "exporter uptime at the last packet, ms",
    ),
    col("srcport", Field::SrcPort, Kind::U16, "source port"),
    col(
        "dstport",
        Field::DstPort,
        Kind::U16,
        "destination port (ICMP: type*256+code)",
    ),
    col("prot", Field::Protocol, Kind::U8, "IP protocol number"),
    col("tos", Field::Tos, Kind::U8, "IP type of service"),
    col(
        "tcp_flags",
        Field::TcpFlags,
        Kind::U8,
        "OR of the TCP flags seen",
    ),
    col(
        "engine_type",
        Field::EngineType,
        Kind::U8,
        "flow-switching engine type",
    ),
    col(
        "engine_id",
        Field::EngineId,
        Kind::U8,
        "flow-switching engine slot",
    ),
    col("src_mask", Field::SrcMask, Kind::U8, "source prefix length"),
    col(
        "dst_mask",
        Field::DstMask,
        Kind::U8,
        "destination prefix length",
    ),
    col("src_as", Field::SrcAs, Kind::U16, "source AS"),
    col("dst_as", Field::DstAs, Kind::U16, "destination AS"),
    col(
        "start",
        Field::Start,
        Kind::TimeMs,
        "flow start, UTC (derived, correct across uptime wraps)",
    ),
    col("end", Field::End, Kind::TimeMs, "flow end, UTC (derived)"),
];

/// Parquet's optional dotted-quad columns (`--addr-strings` adds them):
/// engines that filter on `srcaddr_str = '10.1.2.3'` need no UDF.
pub const ADDR_STRING_COLUMNS: [Column; 4] = [
    col(
        "exaddr_str",
        Field::Exporter,
        Kind::Addr,
        "exporter address, dotted quad",
    ),
    col(
        "srcaddr_str",
        Field::SrcAddr,
        Kind::Addr,
        "source address, dotted quad",
    ),
    col(
        "dstaddr_str",
        Field::DstAddr,
        Kind::Addr,
        "destination address, dotted quad",
    ),
    col(
        "nexthop_str",
        Field::NextHop,
        Kind::Addr,
        "next-hop address, dotted quad",
    ),
];

/// The CSV header line (without the newline).
pub fn csv_header() -> String {
    COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>().join(",")
}
