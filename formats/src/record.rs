//! The one flow type, [`Record`]: every field of the flow-tools v5 record.
//!
//! Addresses are kept as `u32` in host order (the numeric value of the
//! dotted quad), which is what filters compare and what the byte layouts
//! store; use [`Record::src_ip`] and friends for [`Ipv4Addr`] views.
//! Times are the raw exporter values; the absolute times are derived on
//! demand (see [`Record::start_ms`]).

use std::net::Ipv4Addr;

/// One NetFlow v5 flow as flow-tools stores it (spec §1.7), plus nothing else.
///
/// The header fields (`unix_secs`, `unix_nsecs`, `sys_uptime_ms`,
/// `engine_type`, `engine_id`) are copied from the export datagram that
/// carried the flow; `exporter` is the datagram's UDP source address.
/// ft -> Record -> ft is lossless (the stored pad byte is always zero).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Record {
    /// Export datagram: seconds since the Unix epoch.
    pub unix_secs: u32,
    /// Export datagram: residual nanoseconds.
    pub unix_nsecs: u32,
    /// Export datagram: milliseconds since the exporter booted.
    pub sys_uptime_ms: u32,
    /// Address of the exporter (the datagram's source).
    pub exporter: u32,
    /// Source address.
    pub src_addr: u32,
    /// Destination address.
    pub dst_addr: u32,
    /// Next-hop router address.
    pub next_hop: u32,
    /// SNMP index of the input interface.
    pub input_if: u16,
    /// SNMP index of the output interface.
    pub output_if: u16,
    /// Packets in the flow ("dPkts").
    pub packets: u32,
    /// Layer-3 bytes in the flow ("dOctets").
    pub octets: u32,
    /// sysUpTime (ms) at the flow's first packet ("First").
    pub first_uptime_ms: u32,
    /// sysUpTime (ms) at the flow's last packet ("Last").
    pub last_uptime_ms: u32,
    /// Source port (or 0).
    pub src_port: u16,
    /// Destination port (or ICMP type/code).
    pub dst_port: u16,
    /// IP protocol number ("prot").
    pub protocol: u8,
    /// IP type of service.
    pub tos: u8,
    /// Cumulative OR of TCP flags.
    pub tcp_flags: u8,
    /// Export datagram: type of flow-switching engine.
    pub engine_type: u8,
    /// Export datagram: slot number of the flow-switching engine.
    pub engine_id: u8,
    /// Source address prefix length.
    pub src_mask: u8,
    /// Destination address prefix length.
    pub dst_mask: u8,
    /// Source autonomous system.
    pub src_as: u16,
    /// Destination autonomous system.
    pub dst_as: u16,
}

impl Record {
    /// Source address as an [`Ipv4Addr`].
    pub fn src_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.src_addr)
    }
    /// Destination address as an [`Ipv4Addr`].
    pub fn dst_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.dst_addr)
    }
    /// Next hop as an [`Ipv4Addr`].
    pub fn next_hop_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.next_hop)
    }
    /// Exporter as an [`Ipv4Addr`].
    pub fn exporter_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.exporter)
    }

    /// Export time of the datagram in milliseconds since the epoch
    /// (`unix_secs * 1000 + unix_nsecs / 1e6`).
    #[inline]
    pub fn export_ms(&self) -> i64 {
        self.unix_secs as i64 * 1000 + (self.unix_nsecs / 1_000_000) as i64
    }

    /// Absolute time (ms since the epoch) of an uptime stamp `t` taken on
    /// this flow's exporter, correct across a 32-bit sysUpTime wrap.
    ///
    /// The flow event happened `(sysUpTime - t) mod 2^32` ms before the
    /// export; that difference is read as a signed 32-bit value so that a
    /// stamp slightly after the header's uptime (clock jitter) stays near
    /// the export time instead of jumping 49.7 days.
    #[inline]
    pub fn uptime_to_ms(&self, t: u32) -> i64 {
        let behind = self.sys_uptime_ms.wrapping_sub(t) as i32 as i64;
        self.export_ms() - behind
    }

    /// Absolute start time in ms since the epoch (wrap-correct).
    #[inline]
    pub fn start_ms(&self) -> i64 {
        self.uptime_to_ms(self.first_uptime_ms)
    }

    /// Absolute end time in ms since the epoch (wrap-correct).
    #[inline]
    pub fn end_ms(&self) -> i64 {
        self.uptime_to_ms(self.last_uptime_ms)
    }

    /// Absolute time the way flow-tools 0.68.5 computes it (`ftltime`):
    /// unsigned 64-bit arithmetic with no wrap correction, so a flow that
    /// started before its exporter's uptime wrapped lands 2^32 ms in the
    /// future. Kept only to document and test the difference.
    #[inline]
    pub fn flowtools_time_ms(&self, t: u32) -> u64 {
        (self.unix_secs as u64 * 1000 + (self.unix_nsecs / 1_000_000) as u64)
            .wrapping_sub(self.sys_uptime_ms as u64)
            .wrapping_add(t as u64)
    }

    /// Flow duration in ms: `(Last - First) mod 2^32`, as flow-tools uses it.
    #[inline]
    pub fn duration_ms(&self) -> u32 {
        self.last_uptime_ms.wrapping_sub(self.first_uptime_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(uptime: u32, first: u32, last: u32) -> Record {
        Record {
            unix_secs: 1_120_668_900,
            unix_nsecs: 250_000_000,
            sys_uptime_ms: uptime,
            first_uptime_ms: first,
            last_uptime_ms: last,
            ..Record::default()
        }
    }

    #[test]
    fn start_and_end_without_wrap_match_flowtools() {
        let r = rec(100_000, 40_000, 90_000);
        assert_eq!(r.start_ms(), 1_120_668_900_250 - 60_000);
        assert_eq!(r.end_ms(), 1_120_668_900_250 - 10_000);
        assert_eq!(r.start_ms() as u64, r.flowtools_time_ms(r.first_uptime_ms));
        assert_eq!(r.duration_ms(), 50_000);
    }

    #[test]
    fn start_across_uptime_wrap_is_in_the_past_not_49_days_ahead() {
        // First taken 5 s before the wrap, datagram sent 3 s after it.
        let r = rec(3_000, u32::MAX - 4_999, 1_000);
        assert_eq!(r.start_ms(), r.export_ms() - 8_000);
        assert_eq!(r.end_ms(), r.export_ms() - 2_000);
        assert_eq!(r.duration_ms(), 6_000);
        let ft = r.flowtools_time_ms(r.first_uptime_ms) as i64;
        assert_eq!(ft - r.start_ms(), 1 << 32);
    }

    #[test]
    fn stamp_slightly_after_header_uptime_stays_near_export_time() {
        let r = rec(10_000, 9_000, 10_005);
        assert_eq!(r.end_ms(), r.export_ms() + 5);
    }
}
