//! The `-p` header block of flow-print and flow-stat (flow-tools'
//! `ftio_header_print`, spec §6.2): one comment line per header field that
//! is present, in a fixed order, times in local time.

use std::io::{self, Write};

use formats::ft::{ByteOrder, FtHeader, FLAG_DONE, FLAG_PRELOADED, FLAG_STREAMING, FLAG_XLATE};

use crate::timefmt::{header_time_in, Zone};

/// Writes the header block of `h`, every line starting with
/// `comment_char`, times in the process's local zone.
pub fn write_header_block(out: &mut dyn Write, h: &FtHeader, comment_char: char) -> io::Result<()> {
    write_header_block_in(out, h, comment_char, Zone::Local)
}

/// [`write_header_block`] with times rendered in `zone`.
pub fn write_header_block_in(
    out: &mut dyn Write,
    h: &FtHeader,
    comment_char: char,
    zone: Zone,
) -> io::Result<()> {
    write_block(out, None, h, &[], comment_char, zone)
}

/// flow-header's report on one input: the header block, preceded by a
/// `file:` line when `name` is given, with one `exporter IP address:` line
/// per address in `exporters` (the exporters a native file lists) after the
/// header's own exporter line. Times are local.
pub fn write_input_header(
    out: &mut dyn Write,
    name: Option<&str>,
    h: &FtHeader,
    exporters: &[u32],
    comment_char: char,
) -> io::Result<()> {
    write_block(out, name, h, exporters, comment_char, Zone::Local)
}

fn write_block(
    out: &mut dyn Write,
    name: Option<&str>,
    h: &FtHeader,
    exporters: &[u32],
    comment_char: char,
    zone: Zone,
) -> io::Result<()> {
    let c = comment_char;
    let flags = h.flags();
    let streaming = flags & FLAG_STREAMING != 0;
    // "streaming2": streamed without counters filled in beforehand.
    let streaming2 = streaming && flags & FLAG_PRELOADED == 0;
    let finished = flags & (FLAG_DONE | FLAG_PRELOADED) != 0;

    let mut s = String::with_capacity(1024);
    s.push(c);
    s.push('\n');
    let mut line = |label: &str, value: &dyn std::fmt::Display| {
        use std::fmt::Write as _;
        let _ = writeln!(s, "{c} {label:<22}{value}");
    };

    if let Some(name) = name {
        line("file:", &name);
    }
    let mode = if streaming { "streaming" } else { "normal" };
    line("mode:", &mode);
    if flags & FLAG_XLATE != 0 {
        line("translated:", &"yes");
    }
    if !streaming {
        if let Some(host) = &h.hostname {
            line("capture hostname:", host);
        }
        if let Some(ip) = h.exporter_ip {
            line("exporter IP address:", &std::net::Ipv4Addr::from(ip));
        }
        for &ip in exporters {
            line("exporter IP address:", &std::net::Ipv4Addr::from(ip));
        }
    }
    if !streaming2 {
        if let Some(start) = h.cap_start {
            line("capture start:", &header_time_in(zone, start as i64));
        }
        if finished {
            if let Some(end) = h.cap_end {
                line("capture end:", &header_time_in(zone, end as i64));
                if let Some(start) = h.cap_start {
                    line(
                        "capture period:",
                        &format_args!("{} seconds", end.wrapping_sub(start)),
                    );
                }
            }
        }
    }
    line("compress:", &if h.compressed() { "on" } else { "off" });
    line(
        "byte order:",
        &match h.byte_order {
            ByteOrder::Little => "little",
            ByteOrder::Big => "big",
        },
    );
    line("stream version:", &h.stream_version);
    if let Some(ver) = h.export_version {
        line("export version:", &ver);
        if let (8, Some(method)) = (ver, h.agg_method) {
            if let Some(agg_ver) = h.agg_version {
                line("export agg_version:", &agg_ver);
            }
            line(
                "export agg_method:",
                &format_args!("{method} ({})", agg_method_name(method)),
            );
        }
    }
    if !streaming2 {
        let counters = [
            ("lost flows:", h.flow_lost),
            ("misordered flows:", h.flow_misordered),
            ("corrupt packets:", h.pkt_corrupt),
            ("sequencer resets:", h.seq_reset),
        ];
        for (label, value) in counters {
            if let Some(v) = value {
                line(label, &v);
            }
        }
    }
    if let Some(comments) = &h.comments {
        line("comments:", comments);
    }
    if !streaming2 {
        if finished {
            if let Some(n) = h.flow_count {
                line("capture flows:", &n);
            }
        } else {
            use std::fmt::Write as _;
            let _ = writeln!(s, "{c} note, incomplete flow file");
        }
    }
    s.push(c);
    s.push('\n');
    out.write_all(s.as_bytes())
}

/// The name flow-tools gives a v8 aggregation method.
fn agg_method_name(method: u8) -> &'static str {
    match method {
        1 => "AS",
        2 => "Protocol Port",
        3 => "Source Prefix",
        4 => "Destination Prefix",
        5 => "Prefix",
        6 => "Destination",
        7 => "Source Destination",
        8 => "Full Flow",
        9 => "ToS AS",
        10 => "ToS Proto Port",
        11 => "ToS Source Prefix",
        12 => "ToS Destination Prefix",
        13 => "ToS Prefix",
        14 => "ToS Prefix Port",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use formats::ft::FLAG_COMPRESS;

    fn utc() -> Zone {
        Zone::UTC
    }

    fn render(h: &FtHeader, c: char) -> String {
        let mut out = Vec::new();
        write_header_block_in(&mut out, h, c, utc()).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn capture_header() -> FtHeader {
        FtHeader {
            stream_version: 3,
            export_version: Some(5),
            hostname: Some("vm".into()),
            cap_start: Some(1_795_313_960),
            cap_end: Some(1_795_313_961),
            flags: Some(FLAG_DONE),
            flow_count: Some(296),
            flow_lost: Some(0),
            pkt_corrupt: Some(0),
            seq_reset: Some(0),
            comments: Some("golden small capture".into()),
            ..FtHeader::default()
        }
    }

    #[test]
    fn finished_capture_file() {
        let want = "#\n\
# mode:                 normal\n\
# capture hostname:     vm\n\
# capture start:        Sun, 22 Nov 2026 02:19:20 +0000\n\
# capture end:          Sun, 22 Nov 2026 02:19:21 +0000\n\
# capture period:       1 seconds\n\
# compress:             off\n\
# byte order:           little\n\
# stream version:       3\n\
# export version:       5\n\
# lost flows:           0\n\
# corrupt packets:      0\n\
# sequencer resets:     0\n\
# comments:             golden small capture\n\
# capture flows:        296\n\
#\n";
        assert_eq!(render(&capture_header(), '#'), want);
    }

    #[test]
    fn incomplete_file_and_comment_char() {
        let mut h = capture_header();
        h.flags = Some(FLAG_COMPRESS);
        h.comments = None;
        let got = render(&h, '%');
        assert!(got.starts_with("%\n% mode:                 normal\n"));
        assert!(!got.contains("capture end"));
        assert!(!got.contains("capture flows"));
        assert!(got.contains("% compress:             on\n"));
        assert!(got.ends_with("% note, incomplete flow file\n%\n"));
    }

    #[test]
    fn streaming_hides_capture_fields() {
        let mut h = capture_header();
        h.flags = Some(FLAG_STREAMING);
        h.exporter_ip = Some(0x7f00_0002);
        let got = render(&h, '#');
        assert_eq!(
            got,
            "#\n# mode:                 streaming\n# compress:             off\n\
# byte order:           little\n# stream version:       3\n\
# export version:       5\n# comments:             golden small capture\n#\n"
        );
    }

    #[test]
    fn preloaded_stream_shows_counters_and_exporter_only_when_not_streaming() {
        let mut h = capture_header();
        h.flags = Some(FLAG_STREAMING | FLAG_PRELOADED);
        h.exporter_ip = Some(0x7f00_0002);
        let got = render(&h, '#');
        assert!(!got.contains("hostname"));
        assert!(!got.contains("exporter IP"));
        assert!(got.contains("# capture period:       1 seconds\n"));
        assert!(got.contains("# capture flows:        296\n"));
        h.flags = Some(FLAG_DONE | FLAG_XLATE);
        let got = render(&h, '#');
        assert!(got.contains("# translated:           yes\n"));
        assert!(got.contains("# exporter IP address:  127.0.0.2\n"));
    }

    #[test]
    fn v8_aggregation_lines() {
        let mut h = capture_header();
        h.export_version = Some(8);
        h.agg_version = Some(2);
        h.agg_method = Some(3);
        let got = render(&h, '#');
        assert!(got.contains(
            "# export version:       8\n# export agg_version:   2\n\
# export agg_method:    3 (Source Prefix)\n"
        ));
    }

    #[test]
    fn input_header_names_the_file_and_lists_exporters() {
        let mut out = Vec::new();
        let h = capture_header();
        write_block(
            &mut out,
            Some("ft-v05.x"),
            &h,
            &[0x7f00_0002, 0x7f00_0003],
            '#',
            utc(),
        )
        .unwrap();
        let got = String::from_utf8(out).unwrap();
        assert!(got.starts_with(
            "#\n# file:                 ft-v05.x\n# mode:                 normal\n\
# capture hostname:     vm\n# exporter IP address:  127.0.0.2\n\
# exporter IP address:  127.0.0.3\n# capture start:"
        ));
    }
}
