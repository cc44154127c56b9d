//! flow-graph end to end: the built binary on the flow-tools golden
//! inputs and on made-up edge cases. SVGs are checked by structure
//! (metadata, bands, labels) against goldens in testdata/golden/graph,
//! and their totals against flow-stat -f 0 over the same window; never
//! pixel by pixel.

mod util;

use std::path::Path;

use util::*;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn by_proto_on_the_golden_capture_matches_flow_stat_totals() {
    let d = tmp();
    let main = golden_input("main");
    let m = main.to_string_lossy();
    run_ok(d.path(), &[&m, "--by", "proto", "-o", "proto.svg"]);
    let svg = read(&d.path().join("proto.svg"));
    assert_eq!(svg_totals(&svg), flow_stat_totals(&[&main], None, None));
    // Every band is a polygon in its legend colour, with a legend label.
    let series = tags(&svg, "fg:series");
    let fills: Vec<_> = tags(&svg, "polygon")
        .into_iter()
        .filter_map(|t| attr(t, "fill"))
        .map(str::to_ascii_lowercase)
        .collect();
    let labels = texts(&svg);
    assert!(series.len() >= 3);
    let mut flows = 0;
    for s in &series {
        let color = attr(s, "color").unwrap();
        assert!(fills.iter().any(|f| f == color), "{color} not drawn");
        assert!(labels.iter().any(|l| l == attr(s, "label").unwrap()));
        flows += attr(s, "flows").unwrap().parse::<u64>().unwrap();
    }
    assert_eq!(flows, svg_totals(&svg).0);
    golden("main_by_proto.txt", &structure(&svg));
}

#[test]
fn by_port_in_a_window_matches_flow_stat_for_that_window() {
    let d = tmp();
    let small = golden_input("small.ft");
    let s = small.to_string_lossy();
    let (since, until) = ("2005-07-06 16:48", "2005-07-06 16:53");
    run_ok(
        d.path(),
        &[
            &s, "--since", since, "--until", until, "--by", "port", "--top", "5", "-o", "port.svg",
        ],
    );
    let svg = read(&d.path().join("port.svg"));
    let totals = flow_stat_totals(&[&small], Some(since), Some(until));
    assert!(totals.0 > 0);
    assert_eq!(svg_totals(&svg), totals);
    let g = tags(&svg, "fg:graph")[0].to_string();
    assert_eq!(attr(&g, "start"), Some("1120668480"));
    assert_eq!(attr(&g, "end"), Some("1120668780"));
    // Four ports in this window, and "other" (here mostly GRE and ESP).
    let series = tags(&svg, "fg:series");
    assert_eq!(series.len(), 5);
    assert_eq!(attr(series[4], "label"), Some("other"));
    golden("small_by_port_window.txt", &structure(&svg));
}

#[test]
fn by_definition_from_the_golden_filter_cfg() {
    let d = tmp();
    let main = golden_input("main");
    let cfg = golden_input("cfg/filter.cfg");
    run_ok(
        d.path(),
        &[
            &main.to_string_lossy(),
            "--filter-file",
            &cfg.to_string_lossy(),
            "--by",
            "definition",
            "--definitions",
            "inboundmail,outboundmail,redflags,web",
            "-o",
            "defs.svg",
        ],
    );
    let svg = read(&d.path().join("defs.svg"));
    let labels: Vec<_> = tags(&svg, "fg:series")
        .iter()
        .map(|t| attr(t, "label").unwrap().to_string())
        .collect();
    for l in &labels {
        assert!(["inboundmail", "outboundmail", "redflags", "web", "other"].contains(&l.as_str()));
    }
    assert!(labels.contains(&"other".to_string()));
    assert_eq!(svg_totals(&svg), flow_stat_totals(&[&main], None, None));
    golden("main_by_definition.txt", &structure(&svg));
}

#[test]
fn a_filter_and_an_expression_restrict_the_flows_and_name_themselves() {
    let d = tmp();
    let main = golden_input("main");
    let cfg = golden_input("cfg/filter.cfg");
    run_ok(
        d.path(),
        &[
            &main.to_string_lossy(),
            "--filter-file",
            &cfg.to_string_lossy(),
            "--filter",
            "allmail",
            "-e",
            "6 eq $protocol",
            "--by",
            "dst",
            "--top",
            "3",
            "--metric",
            "packets",
            "-o",
            "mail.svg",
        ],
    );
    let svg = read(&d.path().join("mail.svg"));
    let g = tags(&svg, "fg:graph")[0].to_string();
    assert_eq!(
        attr(&g, "filter"),
        Some("filter.cfg: allmail and -e &apos;6 eq $protocol&apos;")
    );
    assert_eq!(attr(&g, "metric"), Some("packets"));
    let (flows, _, _) = svg_totals(&svg);
    assert!(flows > 0 && flows < flow_stat_totals(&[&main], None, None).0);
    assert!(texts(&svg).iter().any(|t| t.ends_with("pkt/s")));
    golden("main_mail_by_dst_packets.txt", &structure(&svg));
}

#[test]
fn src_exporter_and_flows_metric() {
    let d = tmp();
    let main = golden_input("main");
    let m = main.to_string_lossy();
    for by in ["src", "exporter"] {
        let out = format!("{by}.svg");
        run_ok(
            d.path(),
            &[
                &m, "--by", by, "--top", "3", "--metric", "flows", "-o", &out,
            ],
        );
        let svg = read(&d.path().join(&out));
        assert_eq!(svg_totals(&svg), flow_stat_totals(&[&main], None, None));
        let n = tags(&svg, "fg:series").len();
        assert!((2..=4).contains(&n), "{by}: {n} bands");
        assert!(texts(&svg).iter().any(|t| t.ends_with("flows/s")));
    }
}

#[test]
fn an_empty_window_says_so() {
    let d = tmp();
    let small = golden_input("small.ft");
    run_ok(
        d.path(),
        &[
            &small.to_string_lossy(),
            "--since",
            "2030-01-01 00:00",
            "--until",
            "2030-01-02 00:00",
            "-o",
            "empty.svg",
            "--html",
            "empty.html",
        ],
    );
    let svg = read(&d.path().join("empty.svg"));
    assert_eq!(svg_totals(&svg), (0, 0, 0));
    assert!(texts(&svg).iter().any(|t| t == "No flows in this window"));
    assert!(tags(&svg, "fg:series").is_empty());
    golden("empty_window.txt", &structure(&svg));
    let html = read(&d.path().join("empty.html"));
    assert!(html.contains("No flows in this window"));
    assert!(html.contains("No flows."));
    // And with no window at all: a picture with a message, not an error.
    let f = d.path().join("none.ft");
    write_ft(&f, &[]);
    run_ok(d.path(), &[&f.to_string_lossy(), "-o", "none.png"]);
    let (w, h, ink) = png_facts(&std::fs::read(d.path().join("none.png")).unwrap());
    assert_eq!((w, h), (1000, 480));
    assert!(
        ink > 0.005,
        "a message and a frame, not a blank image ({ink})"
    );
}

#[test]
fn a_single_flow() {
    let d = tmp();
    let f = d.path().join("one.ft");
    write_ft(&f, &[flow(1_795_305_600, 0, 6, 443, 123_456, 100)]);
    run_ok(d.path(), &[&f.to_string_lossy(), "-o", "one.svg"]);
    let svg = read(&d.path().join("one.svg"));
    assert_eq!(svg_totals(&svg), (1, 123_456, 100));
    assert_eq!(tags(&svg, "fg:series").len(), 1);
    golden("single_flow.txt", &structure(&svg));
    run_ok(
        d.path(),
        &[&f.to_string_lossy(), "-o", "one.png", "--by", "src"],
    );
    let (_, _, ink) = png_facts(&std::fs::read(d.path().join("one.png")).unwrap());
    assert!(ink > 0.05, "{ink}");
}

#[test]
fn flows_spanning_the_whole_window_are_spread_and_clipped() {
    let d = tmp();
    let f = d.path().join("long.ft");
    // Two flows that start at the window's start and last 2 hours; the
    // window is 1 hour: half of each is outside.
    let t0 = 1_795_305_600;
    write_ft(
        &f,
        &[
            flow(t0, 7_200_000, 6, 22, 7_200_000, 1000),
            flow(t0, 7_200_000, 17, 53, 3_600_000, 10),
        ],
    );
    run_ok(
        d.path(),
        &[
            &f.to_string_lossy(),
            "--since",
            "2026-11-22 00:00",
            "--until",
            "2026-11-22 01:00",
            "--step",
            "5m",
            "-o",
            "long.svg",
        ],
    );
    let svg = read(&d.path().join("long.svg"));
    let g = tags(&svg, "fg:graph")[0].to_string();
    assert_eq!(attr(&g, "bins"), Some("12"));
    assert_eq!(attr(&g, "outside"), Some("5400000"));
    // Flat bands: 3.6e6 octets/h inside for tcp = 8000 b/s; udp 4000 b/s.
    assert!(texts(&svg).iter().any(|t| t.contains("kb/s")));
    golden("spanning_window.txt", &structure(&svg));
}

#[test]
fn stdin_stream_gives_the_same_chart_as_the_file() {
    let d = tmp();
    let small = golden_input("small.ft");
    run_ok(d.path(), &[&small.to_string_lossy(), "-o", "file.svg"]);
    let bytes = std::fs::read(&small).unwrap();
    let o = run(d.path(), &["-o", "pipe.svg"], Some(&bytes));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = read(&d.path().join("file.svg"));
    let b = read(&d.path().join("pipe.svg"));
    assert_eq!(structure(&a), structure(&b));
}

#[test]
fn thread_count_does_not_change_the_chart() {
    let d = tmp();
    let main = golden_input("main");
    let m = main.to_string_lossy();
    run_ok(
        d.path(),
        &[&m, "--by", "dst", "--threads", "1", "-o", "a.svg"],
    );
    run_ok(
        d.path(),
        &[&m, "--by", "dst", "--threads", "3", "-o", "b.svg"],
    );
    let meta = |p: &str| {
        let s = read(&d.path().join(p));
        let mut t: Vec<String> = tags(&s, "fg:series")
            .iter()
            .map(|t| t.to_string())
            .collect();
        t.extend(tags(&s, "fg:graph").iter().map(|t| t.to_string()));
        t
    };
    assert_eq!(meta("a.svg"), meta("b.svg"));
}

#[test]
fn png_has_the_requested_size_and_ink() {
    let d = tmp();
    let main = golden_input("main");
    run_ok(
        d.path(),
        &[
            &main.to_string_lossy(),
            "--by",
            "port",
            "-o",
            "p.PNG",
            "--width",
            "640",
            "--height",
            "300",
        ],
    );
    let (w, h, ink) = png_facts(&std::fs::read(d.path().join("p.PNG")).unwrap());
    assert_eq!((w, h), (640, 300));
    assert!(ink > 0.1, "{ink}");
}

#[test]
fn html_report_is_self_contained_and_agrees_with_flow_stat() {
    let d = tmp();
    let main = golden_input("main");
    run_ok(d.path(), &[&main.to_string_lossy(), "--html", "r.html"]);
    let html = read(&d.path().join("r.html"));
    // Four charts (proto, port, src, dst), each wide and narrow.
    assert_eq!(html.matches("<svg ").count(), 8);
    for h in [
        "Bits per second by protocol",
        "Bits per second by service port",
        "Bits per second by source address",
        "Bits per second by destination address",
        "Summary <small>(flow-stat -f 0)</small>",
        "Top destination ports (flow-stat -f 5)",
        "Top sources (flow-stat -f 9)",
        "Top source/destination pairs (flow-stat -f 10)",
    ] {
        assert!(html.contains(h), "missing {h}");
    }
    let (flows, octets, packets) = flow_stat_totals(&[&main], None, None);
    let sep = |n: u64| {
        let d = n.to_string();
        d.chars()
            .enumerate()
            .flat_map(|(i, c)| {
                let thin = i > 0 && (d.len() - i) % 3 == 0;
                thin.then_some('\u{202f}')
                    .into_iter()
                    .chain(std::iter::once(c))
            })
            .collect::<String>()
    };
    for (k, v) in [
        ("Total Flows", flows),
        ("Total Octets", octets),
        ("Total Packets", packets),
    ] {
        assert!(
            html.contains(&format!("<td class=\"key\">{k}</td><td>{}</td>", sep(v))),
            "{k}"
        );
    }
    // The top tables have at most ten rows each.
    let tables: Vec<&str> = html.split("<h2>Top ").skip(1).collect();
    assert_eq!(tables.len(), 3);
    for t in tables {
        let body = &t[..t.find("</table>").unwrap()];
        let rows = body.matches("<tr>").count() - 1;
        assert!((1..=10).contains(&rows), "{rows}");
    }
    // Nothing is fetched: no scripts, stylesheets, images or links.
    for bad in [
        "<script", "<link", "<img", "src=", "href=", "url(", "@import",
    ] {
        assert!(!html.contains(bad), "{bad}");
    }
    assert!(html.contains("name=\"viewport\""));
}

#[test]
fn bad_command_lines_fail_with_a_reason() {
    let d = tmp();
    let small = golden_input("small.ft");
    let s = small.to_string_lossy();
    let e = run_err(d.path(), &[&s, "-o", "x.jpg"]);
    assert!(
        e.starts_with("flow-graph: -o x.jpg: the file name must end in .svg or .png"),
        "{e}"
    );
    let e = run_err(d.path(), &[&s, "--by", "colour", "-o", "x.svg"]);
    assert!(e.contains("--by colour: expected proto, port"), "{e}");
    let e = run_err(d.path(), &[&s, "--by", "definition", "-o", "x.svg"]);
    assert!(e.contains("--by definition needs --filter-file"), "{e}");
    let e = run_err(d.path(), &[&s]);
    assert!(e.contains("nothing to write"), "{e}");
    let e = run_err(d.path(), &[&s, "--step", "0", "-o", "x.svg"]);
    assert!(e.contains("--step 0"), "{e}");
    let e = run_err(
        d.path(),
        &[
            &s,
            "--step",
            "1s",
            "--since",
            "2005-01-01",
            "--until",
            "2005-12-01",
            "-o",
            "x.svg",
        ],
    );
    assert!(e.contains("bins (at most 20000)"), "{e}");
    let e = run_err(d.path(), &["/nonexistent/flows", "-o", "x.svg"]);
    assert!(e.contains("/nonexistent/flows: cannot open"), "{e}");
    let e = run_err(d.path(), &[&s, "-o", "/nonexistent/dir/x.svg"]);
    assert!(e.contains("/nonexistent/dir/x.svg: cannot write"), "{e}");
    let e = run_err(
        d.path(),
        &[
            &s,
            "--since",
            "2005-07-07",
            "--until",
            "2005-07-06",
            "-o",
            "x.svg",
        ],
    );
    assert!(e.contains("--until must be later than --since"), "{e}");
}

#[test]
fn garbage_input_is_a_warning_not_a_crash() {
    let d = tmp();
    let bad = d.path().join("garbage.ft");
    std::fs::write(&bad, b"\xcf\x10\x01\x03this is not a flow file at all").unwrap();
    let small = golden_input("small.ft");
    let o = run(
        d.path(),
        &[
            &bad.to_string_lossy(),
            &small.to_string_lossy(),
            "-o",
            "x.svg",
        ],
        None,
    );
    assert!(o.status.success());
    assert!(!o.stderr.is_empty());
    // Garbage on stdin is an error with a reason.
    let o = run(d.path(), &["-o", "y.svg"], Some(b"garbage garbage garbage"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("flow-graph: "));
}
