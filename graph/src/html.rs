//! The one-page HTML report: the charts inline (SVG, a wide and a narrow
//! rendering picked by a CSS media query, so a phone gets legible
//! labels), an HTML legend per chart, the flow-stat summary (format 0)
//! and the top-10 tables of formats 5, 9 and 10.
//!
//! The flow-stat reports are rendered by `query::stat` itself (the same
//! bytes `flow-stat` prints) and then laid out as tables. The page is
//! self-contained: no scripts, no fonts, no fetches.

use formats::ft::FtHeader;
use query::stat::{self, Counters, Report, StatConfig};

use crate::aggregate::Metric;
use crate::axis;
use crate::draw::{color_of, hex, share_text, xml_escape as esc};
use crate::Error;

/// One chart of the page.
pub struct PageChart {
    /// Heading.
    pub heading: String,
    /// SVG for wide screens.
    pub wide_svg: String,
    /// SVG for narrow screens.
    pub narrow_svg: String,
    /// Legend rows: label, other?, totals.
    pub legend: Vec<(String, bool, Counters)>,
}

/// Everything on the page.
pub struct Page<'a> {
    /// `<h1>`.
    pub title: String,
    /// Lines under the title (window, filter, inputs).
    pub facts: Vec<(String, String)>,
    /// The charts.
    pub charts: Vec<PageChart>,
    /// What the legends' shares measure.
    pub metric: Metric,
    /// Totals of the flows drawn.
    pub totals: Counters,
    /// Seconds the window covers (for the average rate), if known.
    pub window_secs: Option<f64>,
    /// flow-stat reports 0, 5, 9, 10 (see [`crate::aggregate::report_configs`]).
    pub reports: Vec<(StatConfig, Report)>,
    /// The stream header (only read by `-p`-style reports; none here).
    pub header: &'a FtHeader,
    /// The command line, for the footer.
    pub command: String,
}

const CSS: &str = r#"
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1f2328;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1080px;margin:0 auto;padding:14px}
h1{font-size:1.45rem;margin:.3rem 0 .4rem}
h2{font-size:1.1rem;margin:0 0 .6rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0;color:#444;font-size:.9rem}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:14px 0}
.card{background:#fff;border-radius:8px;padding:10px 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card span{display:block;color:#555;font-size:.8rem}
.card b{font-size:1.25rem}
section{background:#fff;border-radius:8px;padding:14px;margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.chart svg{display:block;width:100%;height:auto}
.chart .narrow{display:none}
@media (max-width:640px){.chart .wide{display:none}.chart .narrow{display:block}main{padding:8px}section{padding:10px}}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:.6rem 0 0;padding:0;list-style:none;font-size:.85rem}
.legend li{display:flex;align-items:center;gap:6px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px}
.legend small{color:#666}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.88rem;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid #eceef1;text-align:right;white-space:nowrap}
th{font-weight:600;color:#444;border-bottom:2px solid #d9dce1}
th:first-child,td:first-child,td.key{text-align:left}
.tables{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,470px),1fr));gap:0 14px}
.tables section{margin:0 0 14px}
details pre{font-size:.72rem;overflow-x:auto;margin:.5rem 0 0}
footer{color:#666;font-size:.8rem;margin:18px 0;overflow-wrap:anywhere}
.empty{color:#666;font-style:italic}
"#;

/// The report text of one flow-stat report (its body: the lines after
/// the `# Args:` header block).
/// `max_rows`: keep only the first that many data lines (a top-N table of
/// a report that may have millions of rows is never held as text).
fn report_text(
    cfg: &StatConfig,
    header: &FtHeader,
    report: Report,
    max_rows: Option<usize>,
) -> Result<String, Error> {
    let mut out = FirstRows {
        text: Vec::new(),
        max_rows: max_rows.unwrap_or(usize::MAX),
        rows: 0,
        at_line_start: true,
        keep_line: true,
    };
    let mut err = Vec::new();
    stat::write_report_owned(cfg, header, report, &mut out, &mut err).map_err(|source| {
        Error::Render {
            format: cfg.format,
            source,
        }
    })?;
    Ok(String::from_utf8_lossy(&out.text).into_owned())
}

/// A sink that keeps every comment line (`#...`) and the first
/// `max_rows` other lines of a report, and drops the rest.
struct FirstRows {
    text: Vec<u8>,
    max_rows: usize,
    rows: usize,
    at_line_start: bool,
    keep_line: bool,
}

impl std::io::Write for FirstRows {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            if self.at_line_start {
                self.keep_line = b == b'#' || b == b'\n' || self.rows < self.max_rows;
                if b != b'#' && b != b'\n' {
                    self.rows += 1;
                }
            }
            if self.keep_line {
                self.text.push(b);
            }
            self.at_line_start = b == b'\n';
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The data rows of a table report (comment lines dropped).
fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect()
}

/// Format 0 split into its `Key : value` lines and the distributions.
fn summary_parts(text: &str) -> (Vec<(&str, &str)>, String) {
    let mut pairs = Vec::new();
    let mut rest = String::new();
    let mut in_pairs = true;
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        if in_pairs {
            if let Some((k, v)) = l.split_once(':') {
                pairs.push((k.trim_end(), v.trim()));
                continue;
            }
            if l.trim().is_empty() && pairs.is_empty() {
                continue;
            }
            in_pairs = false;
        }
        rest.push_str(l);
        rest.push('\n');
    }
    (pairs, rest.trim_matches('\n').to_string())
}

fn number(s: &str) -> String {
    match s.parse::<u64>() {
        Ok(n) => {
            let d = n.to_string();
            let mut o = String::new();
            for (i, c) in d.chars().enumerate() {
                if i > 0 && (d.len() - i) % 3 == 0 {
                    o.push('\u{202f}');
                }
                o.push(c);
            }
            o
        }
        Err(_) => esc(s),
    }
}

/// Renders the page.
/// Consumes the page: its reports are written by the path that frees each
/// hash table as it is printed, instead of copying it first.
pub fn render(p: Page<'_>) -> Result<String, Error> {
    let mut h = String::with_capacity(256 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let window = p
        .facts
        .first()
        .map(|(_, v)| format!(", {v}"))
        .unwrap_or_default();
    h.push_str(&format!(
        "<title>{}{}</title>\n",
        esc(&p.title),
        esc(&window)
    ));
    h.push_str(&format!("<style>{CSS}</style>\n</head>\n<body>\n<main>\n"));
    h.push_str(&format!(
        "<h1>{}</h1>\n<dl class=\"facts\">\n",
        esc(&p.title)
    ));
    for (k, v) in &p.facts {
        h.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", esc(k), esc(v)));
    }
    h.push_str("</dl>\n");

    // Headline numbers.
    let t = &p.totals;
    let mut cards = vec![
        ("Flows", axis::count_text(t.flows)),
        ("Octets", axis::bytes_text(t.octets)),
        ("Packets", axis::count_text(t.packets)),
    ];
    if let Some(secs) = p.window_secs.filter(|s| *s > 0.0) {
        let bits = t.octets as f64 * 8.0 / secs;
        cards.push((
            "Average rate",
            format!("{}b/s", spaced(axis::si(bits, bits))),
        ));
    }
    h.push_str("<div class=\"cards\">\n");
    for (k, v) in cards {
        h.push_str(&format!(
            "<div class=\"card\"><span>{k}</span><b>{}</b></div>\n",
            esc(&v)
        ));
    }
    h.push_str("</div>\n");

    // Charts.
    let total = p.metric.of(&p.totals).max(1) as f64;
    for c in &p.charts {
        h.push_str(&format!(
            "<section class=\"chart\">\n<h2>{}</h2>\n<div class=\"wide\">{}</div>\n<div class=\"narrow\">{}</div>\n",
            esc(&c.heading),
            strip_prolog(&c.wide_svg),
            strip_prolog(&c.narrow_svg)
        ));
        if !c.legend.is_empty() {
            h.push_str("<ul class=\"legend\">\n");
            for (i, (label, other, totals)) in c.legend.iter().enumerate() {
                let share = 100.0 * p.metric.of(totals) as f64 / total;
                h.push_str(&format!(
                    "<li><i style=\"background:{}\"></i>{} <small>{}</small></li>\n",
                    hex(color_of(i, *other)),
                    esc(label),
                    share_text(share)
                ));
            }
            h.push_str("</ul>\n");
        }
        h.push_str("</section>\n");
    }

    // The flow-stat reports.
    let mut tables = String::new();
    for (cfg, report) in p.reports {
        // Formats 5, 9 and 10 become top-10 tables.
        let max_rows = (cfg.format != 0).then_some(10);
        let text = report_text(&cfg, p.header, report, max_rows)?;
        match cfg.format {
            0 => {
                let (pairs, rest) = summary_parts(&text);
                h.push_str("<section>\n<h2>Summary <small>(flow-stat -f 0)</small></h2>\n");
                if pairs.is_empty() {
                    h.push_str("<p class=\"empty\">No flows.</p>\n");
                } else {
                    h.push_str("<div class=\"scroll\"><table>\n");
                    for (k, v) in pairs {
                        h.push_str(&format!(
                            "<tr><td class=\"key\">{}</td><td>{}</td></tr>\n",
                            esc(k),
                            number(v)
                        ));
                    }
                    h.push_str("</table></div>\n");
                }
                if !rest.is_empty() {
                    h.push_str(&format!(
                        "<details><summary>Distributions</summary><pre>{}</pre></details>\n",
                        esc(&rest)
                    ));
                }
                h.push_str("</section>\n");
            }
            f => {
                let (heading, keys): (&str, &[&str]) = match f {
                    5 => ("Top destination ports (flow-stat -f 5)", &["Port"]),
                    9 => ("Top sources (flow-stat -f 9)", &["Source"]),
                    _ => (
                        "Top source/destination pairs (flow-stat -f 10)",
                        &["Source", "Destination"],
                    ),
                };
                tables.push_str(&top_table(heading, keys, &text, p.totals.octets));
            }
        }
    }
    if !tables.is_empty() {
        h.push_str("<div class=\"tables\">\n");
        h.push_str(&tables);
        h.push_str("</div>\n");
    }
    h.push_str(&format!(
        "<footer>Made by <code>{}</code></footer>\n</main>\n</body>\n</html>\n",
        esc(&p.command)
    ));
    Ok(h)
}

/// "1.5 M" -> "1.5 M" (a space before a prefix, none before the unit).
fn spaced(s: String) -> String {
    if s.ends_with(['k', 'M', 'G', 'T']) {
        s
    } else {
        format!("{s} ")
    }
}

fn strip_prolog(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

fn top_table(heading: &str, keys: &[&str], text: &str, total_octets: u64) -> String {
    let mut t = format!("<section>\n<h2>{}</h2>\n", esc(heading));
    let rows = rows(text);
    if rows.is_empty() {
        t.push_str("<p class=\"empty\">No flows.</p>\n</section>\n");
        return t;
    }
    t.push_str("<div class=\"scroll\"><table>\n<tr>");
    for k in keys {
        t.push_str(&format!("<th>{k}</th>"));
    }
    t.push_str("<th>Flows</th><th>Octets</th><th>Packets</th><th>Share</th></tr>\n");
    for r in rows.iter().take(10) {
        if r.len() < keys.len() + 3 {
            continue;
        }
        t.push_str("<tr>");
        for k in &r[..keys.len()] {
            t.push_str(&format!("<td class=\"key\">{}</td>", esc(k)));
        }
        let vals = &r[keys.len()..];
        let octets: u64 = vals[1].parse().unwrap_or(0);
        t.push_str(&format!(
            "<td>{}</td><td title=\"{}\">{}</td><td>{}</td><td>{:.1}%</td></tr>\n",
            number(vals[0]),
            esc(vals[1]),
            esc(&axis::bytes_text(octets)),
            number(vals[2]),
            100.0 * octets as f64 / total_octets.max(1) as f64
        ));
    }
    t.push_str("</table></div>\n</section>\n");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_split_into_pairs_and_distributions() {
        let text = "# x\n#\nTotal Flows                     : 295\nTotal Time (1/1000 secs) (flows): 35\n\n\nIP packet size distribution:\n   1-32   64\n";
        let (pairs, rest) = summary_parts(text);
        assert_eq!(
            pairs,
            vec![
                ("Total Flows", "295"),
                ("Total Time (1/1000 secs) (flows)", "35")
            ]
        );
        assert_eq!(rest, "IP packet size distribution:\n   1-32   64");
    }

    #[test]
    fn numbers_get_thin_separators() {
        assert_eq!(number("3523906761"), "3\u{202f}523\u{202f}906\u{202f}761");
        assert_eq!(number("295"), "295");
        assert_eq!(number("1.5"), "1.5");
    }

    #[test]
    fn top_tables_keep_ten_rows_and_escape() {
        let mut text = String::from("# h\n#\n");
        for i in 0..12 {
            text.push_str(&format!("<p{i}>  1  100  2\n"));
        }
        let t = top_table("Top", &["Port"], &text, 1000);
        assert_eq!(t.matches("<tr>").count(), 11);
        assert!(t.contains("&lt;p0&gt;") && !t.contains("<p0>"));
        assert!(top_table("Top", &["Port"], "# only\n", 0).contains("No flows."));
    }
}
