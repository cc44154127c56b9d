//! Format 0, "Overall Summary" (spec §7.3): totals, raw First/Last and
//! unix_secs extremes, four histograms, and averages computed in
//! single-precision float exactly as flow-tools' C does.
//!
//! Everything accumulated is a sum, a count, a minimum or a maximum, so
//! partial summaries merge exactly.

use std::fmt::Write as _;
use std::io::{self, Write};

use formats::Record;

use super::cfmt;

/// Upper bounds of the packet-size buckets (octets/packets); larger sizes
/// are counted nowhere.
const PSIZE: [u32; 26] = [
    32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 480, 512, 544, 576, 1024,
    1536, 2048, 2560, 3072, 3584, 4096, 4608,
];
/// Upper bounds of the packets-per-flow buckets; the 26th is "> 900".
const FPSIZE: [u32; 25] = [
    1, 2, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 60, 100, 200, 300, 400, 500, 600, 700,
    800, 900,
];
/// Upper bounds of the octets-per-flow buckets; the 26th is "> 15872".
const FOSIZE: [u32; 25] = [
    32, 64, 128, 256, 512, 1280, 2048, 2816, 3584, 4352, 5120, 5888, 6656, 7424, 8192, 8960, 9728,
    10496, 11264, 12032, 12800, 13568, 14336, 15104, 15872,
];
/// Upper bounds of the flow-time buckets (ms); the 26th is "> 30000".
const FTIME: [u32; 25] = [
    10, 50, 100, 200, 500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000,
    14000, 16000, 18000, 20000, 22000, 24000, 26000, 28000, 30000,
];

/// Index of the first bucket whose bound is >= v (== bounds.len() when
/// above all of them): the number of bounds below `v`, counted without
/// branches (the bounds are sorted).
#[inline]
fn bucket(bounds: &[u32], v: u32) -> usize {
    bounds.iter().map(|&b| usize::from(b < v)).sum()
}

/// The format 0 accumulator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) nflows: u64,
    noctets: u64,
    npackets: u64,
    /// Sum of (Last - First) mod 2^32.
    time: u64,
    /// Minimum raw First (starts at 0xFFFFFFFF, as in flow-tools).
    start: u64,
    /// Maximum raw Last.
    end: u64,
    /// Minimum unix_secs.
    time_start: u32,
    /// Maximum unix_secs.
    time_end: u32,
    psize: [u64; 27],
    fpsize: [u64; 26],
    fosize: [u64; 26],
    ftime: [u64; 26],
    /// Flows skipped because dPkts = 0.
    pub(crate) bogus: u64,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            nflows: 0,
            noctets: 0,
            npackets: 0,
            time: 0,
            start: 0xFFFF_FFFF,
            end: 0,
            time_start: u32::MAX,
            time_end: 0,
            psize: [0; 27],
            fpsize: [0; 26],
            fosize: [0; 26],
            ftime: [0; 26],
            bogus: 0,
        }
    }
}

impl Summary {
    pub(crate) fn add_batch(&mut self, recs: &[Record]) {
        for r in recs {
            if r.packets == 0 {
                self.bogus += 1;
                continue;
            }
            self.nflows += 1;
            self.noctets += r.octets as u64;
            self.npackets += r.packets as u64;
            self.time_start = self.time_start.min(r.unix_secs);
            self.time_end = self.time_end.max(r.unix_secs);
            self.start = self.start.min(r.first_uptime_ms as u64);
            self.end = self.end.max(r.last_uptime_ms as u64);
            // Slot 26 collects sizes above 4608, which are never printed.
            self.psize[bucket(&PSIZE, r.octets / r.packets)] += 1;
            self.fpsize[bucket(&FPSIZE, r.packets)] += 1;
            self.fosize[bucket(&FOSIZE, r.octets)] += 1;
            let d = r.duration_ms();
            self.time += d as u64;
            self.ftime[bucket(&FTIME, d)] += 1;
        }
    }

    pub(crate) fn merge(&mut self, o: &Summary) {
        self.nflows += o.nflows;
        self.noctets += o.noctets;
        self.npackets += o.npackets;
        self.time += o.time;
        self.start = self.start.min(o.start);
        self.end = self.end.max(o.end);
        self.time_start = self.time_start.min(o.time_start);
        self.time_end = self.time_end.max(o.time_end);
        for (a, b) in self.psize.iter_mut().zip(o.psize.iter()) {
            *a += b;
        }
        for (a, b) in self.fpsize.iter_mut().zip(o.fpsize.iter()) {
            *a += b;
        }
        for (a, b) in self.fosize.iter_mut().zip(o.fosize.iter()) {
            *a += b;
        }
        for (a, b) in self.ftime.iter_mut().zip(o.ftime.iter()) {
            *a += b;
        }
        self.bogus += o.bogus;
    }

    /// Writes the summary body; nothing when no flow was counted.
    pub(crate) fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.nflows == 0 {
            return Ok(());
        }
        let n = self.nflows as f32;
        // All in C float arithmetic: u64 -> float conversions round to
        // nearest, divisions are single precision.
        let aflowtime = self.time as f32 / n;
        let aps = self.noctets as f32 / self.npackets as f32;
        let afs = self.noctets as f32 / n;
        let apf = self.npackets as f32 / n;
        let span = self.end.wrapping_sub(self.start);
        let span_s = (span / 1000) as f32;
        let fps = n / span_s;
        let kbits = self.noctets.wrapping_mul(8) as f32 / 1000.0f32;
        let aos = kbits / span_s;
        let time_real = self.time_end.wrapping_sub(self.time_start);
        let (fps_real, aos_real) = if time_real != 0 {
            (n / time_real as f32, kbits / time_real as f32)
        } else {
            (0.0, 0.0)
        };

        let mut s = String::with_capacity(4096);
        let _ = writeln!(s, "Total Flows                     : {}", self.nflows);
        let _ = writeln!(s, "Total Octets                    : {}", self.noctets);
        let _ = writeln!(s, "Total Packets                   : {}", self.npackets);
        let _ = writeln!(s, "Total Time (1/1000 secs) (flows): {}", self.time);
        let _ = writeln!(s, "Duration of data  (realtime)    : {time_real}");
        let _ = writeln!(s, "Duration of data (1/1000 secs)  : {span}");
        for (label, v) in [
            ("Average flow time (1/1000 secs) : ", aflowtime),
            ("Average packet size (octets)    : ", aps),
            ("Average flow size (octets)      : ", afs),
            ("Average packets per flow        : ", apf),
            ("Average flows / second (flow)   : ", fps),
            ("Average flows / second (real)   : ", fps_real),
            ("Average Kbits / second (flow)   : ", aos),
            ("Average Kbits / second (real)   : ", aos_real),
        ] {
            s.push_str(label);
            cfmt::fixed(&mut s, v as f64, 4, 4, false);
            s.push('\n');
        }
        s.push_str("\n\n");

        s.push_str("IP packet size distribution:\n");
        s.push_str(
            "   1-32   64   96  128  160  192  224  256  288  320  352  384  416  448  480\n   ",
        );
        self.cells(&mut s, &self.psize[0..15], 15);
        s.push_str("\n\n    512  544  576 1024 1536 2048 2560 3072 3584 4096 4608\n   ");
        self.cells(&mut s, &self.psize[15..26], 11);
        s.push_str("\n\n");

        s.push_str("Packets per flow distribution:\n");
        s.push_str(
            "      1    2    4    8   12   16   20   24   28   32   36   40   44   48   52\n   ",
        );
        self.cells(&mut s, &self.fpsize[0..15], 15);
        s.push_str("\n\n     60  100  200  300  400  500  600  700  800  900 >900\n   ");
        self.cells(&mut s, &self.fpsize[15..26], 11);
        s.push_str("\n\n");

        s.push_str("Octets per flow distribution:\n");
        s.push_str(
            "     32   64  128  256  512 1280 2048 2816 3584 4352 5120 5888 6656 7424 8192\n   ",
        );
        self.cells(&mut s, &self.fosize[0..15], 15);
        s.push_str("\n\n   8960 9728 10496 11264 12032 12800 13568 14336 15104 15872 >15872\n   ");
        self.cells(&mut s, &self.fosize[15..26], 1);
        s.push_str("\n\n");

        s.push_str("Flow time distribution:\n");
        s.push_str(
            "    10    50  100  200  500 1000 2000 3000 4000 5000 6000 7000 8000 9000 10000\n   ",
        );
        self.cells(&mut s, &self.ftime[0..15], 13);
        s.push_str("\n\n  12000 14000 16000 18000 20000 22000 24000 26000 28000 30000 >30000\n   ");
        self.cells(&mut s, &self.ftime[15..26], 0);
        s.push_str("\n\n");
        out.write_all(s.as_bytes())
    }

    /// Histogram cells: the first `narrow` counts as narrow cells, the
    /// rest as wide cells.
    fn cells(&self, s: &mut String, counts: &[u64], narrow: usize) {
        for (i, &c) in counts.iter().enumerate() {
            cell(s, c, self.nflows, i >= narrow);
        }
    }
}

/// One histogram cell: `(float)count / nflows` printed as `%-3.3f` with its
/// first character dropped (so 1.000 prints as `.000`), then one space, or
/// two for a wide cell.
pub(crate) fn cell(s: &mut String, count: u64, nflows: u64, wide: bool) {
    let v = count as f32 / nflows as f32;
    let text = cfmt::fixed_string(v as f64, 3, 3, true);
    s.push_str(text.get(1..).unwrap_or(""));
    s.push_str(if wide { "  " } else { " " });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_take_the_first_bound_at_or_above_the_value() {
        assert_eq!(bucket(&PSIZE, 0), 0);
        assert_eq!(bucket(&PSIZE, 32), 0);
        assert_eq!(bucket(&PSIZE, 33), 1);
        assert_eq!(bucket(&PSIZE, 4608), 25);
        assert_eq!(bucket(&PSIZE, 4609), 26);
        assert_eq!(bucket(&FPSIZE, 901), 25);
        assert_eq!(bucket(&FTIME, 30001), 25);
    }

    #[test]
    fn cells_drop_the_leading_digit_even_for_one() {
        let mut s = String::new();
        cell(&mut s, 1, 1, false);
        cell(&mut s, 1, 8, true);
        cell(&mut s, 2, 295, false);
        assert_eq!(s, ".000 .125  .007 ");
    }
}
