//! The small reports: 13/14 (plot data: one pair of lines per flow) and
//! 15 (short summary).
//!
//! Formats 13 and 14 print every flow, so their accumulator keeps
//! (First, Last, value) per flow, 12 bytes each, in input order; merging
//! appends the later part. The extremes are computed at write time by the
//! same sequential walk as flow-tools, which matters for format 14: there
//! flow-tools compares the flow's *octets* against the running packet
//! extremes and stores its *packets* (`if (octets > ymax) ymax = packets`).
//! We reproduce that (it is deterministic) rather than fix it.

use std::fmt::Write as _;
use std::io::{self, Write};

use formats::Record;

use super::Counters;

/// Format 13 (octets) or 14 (packets) plot data.
#[derive(Clone, Debug, Default)]
pub(crate) struct Plot {
    packets: bool,
    /// (First, Last, octets, packets) per flow, in input order.
    points: Vec<(u32, u32, u32, u32)>,
}

impl Plot {
    pub(crate) fn new(packets: bool) -> Self {
        Plot {
            packets,
            points: Vec::new(),
        }
    }

    pub(crate) fn add_batch(&mut self, recs: &[Record]) {
        self.points.extend(
            recs.iter()
                .map(|r| (r.first_uptime_ms, r.last_uptime_ms, r.octets, r.packets)),
        );
    }

    pub(crate) fn merge(&mut self, later: Plot) {
        self.points.extend(later.points);
    }

    pub(crate) fn write(&self, cc: char, out: &mut dyn Write) -> io::Result<()> {
        let mut s = String::with_capacity(64 * 1024);
        if self.packets {
            let _ = write!(
                s,
                "{cc}\n{cc} start     packets\n{cc} end       packets\n{cc}\n"
            );
        } else {
            let _ = write!(
                s,
                "{cc}\n{cc} start      octets\n{cc} end        octets\n{cc}\n"
            );
        }
        let (mut xmin, mut ymin) = (0xFFFF_FFFFu64, 0xFFFF_FFFFu64);
        let (mut xmax, mut ymax) = (0u64, 0u64);
        for &(first, last, octets, packets) in &self.points {
            xmax = xmax.max(last as u64);
            xmin = xmin.min(first as u64);
            if self.packets {
                if octets as u64 > ymax {
                    ymax = packets as u64;
                }
                if (octets as u64) < ymin {
                    ymin = packets as u64;
                }
                let _ = write!(
                    s,
                    "{first:<10}    {packets:<10}\n{last:<10}    {packets:<10}\n\n"
                );
            } else {
                ymax = ymax.max(octets as u64);
                ymin = ymin.min(octets as u64);
                let _ = write!(
                    s,
                    "{first:<10}   {octets:<10}\n{last:<10}   {octets:<10}\n\n"
                );
            }
            if s.len() > 60 * 1024 {
                out.write_all(s.as_bytes())?;
                s.clear();
            }
        }
        let _ = writeln!(
            s,
            "{cc} xmin={xmin:<10}   ymin={ymin:<10}   xmax={xmax:<10}   ymax={ymax:<10}"
        );
        out.write_all(s.as_bytes())
    }
}

/// Format 15: octets, packets (each padded to 20, no separator) and
/// `%3.3f` megabytes (octets / 10^6 in double).
pub(crate) fn write_short(total: &Counters, cc: char, out: &mut dyn Write) -> io::Result<()> {
    let mbytes = total.octets as f64 / 1_000_000.0;
    let mut s = String::with_capacity(128);
    let _ = write!(
        s,
        "{cc}\n{cc} Octets            Packets             MBytes\n{cc}\n"
    );
    let _ = write!(s, "{:<20}{:<20}", total.octets, total.packets);
    super::cfmt::fixed(&mut s, mbytes, 3, 3, false);
    s.push('\n');
    out.write_all(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(first: u32, last: u32, octets: u32, packets: u32) -> Record {
        Record {
            first_uptime_ms: first,
            last_uptime_ms: last,
            octets,
            packets,
            ..Record::default()
        }
    }

    fn text(p: &Plot) -> String {
        let mut v = Vec::new();
        p.write('#', &mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn octets_plot_layout() {
        let mut p = Plot::new(false);
        p.add_batch(&[rec(100, 250, 4000, 3)]);
        assert_eq!(
            text(&p),
            "#\n# start      octets\n# end        octets\n#\n\
             100          4000      \n250          4000      \n\n\
             # xmin=100          ymin=4000         xmax=250          ymax=4000      \n"
        );
    }

    #[test]
    fn packets_plot_keeps_flow_tools_octets_comparison() {
        let mut p = Plot::new(true);
        p.add_batch(&[rec(5, 6, 1000, 2), rec(7, 9, 10, 50)]);
        let t = text(&p);
        assert!(t.starts_with(
            "#\n# start     packets\n# end       packets\n#\n5             2         \n"
        ));
        // First flow: octets 1000 > 0 and < 0xFFFFFFFF -> ymax = ymin = 2.
        // Second: octets 10 > 2 -> ymax = 50; 10 < 2 is false.
        assert!(t.ends_with(
            "# xmin=5            ymin=2            xmax=9            ymax=50        \n"
        ));
    }

    #[test]
    fn merge_appends_in_order() {
        let mut a = Plot::new(false);
        a.add_batch(&[rec(1, 2, 3, 1)]);
        let mut b = Plot::new(false);
        b.add_batch(&[rec(4, 5, 6, 1)]);
        a.merge(b);
        let t = text(&a);
        assert!(t.find("1         ").unwrap() < t.find("4         ").unwrap());
    }

    #[test]
    fn short_summary_layout() {
        let c = Counters {
            flows: 2,
            octets: 3523906761,
            packets: 2558485,
            duration: 0,
        };
        let mut v = Vec::new();
        write_short(&c, '#', &mut v).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "#\n# Octets            Packets             MBytes\n#\n\
             3523906761          2558485             3523.907\n"
        );
    }
}
