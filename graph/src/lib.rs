//! flow-graph: stacked traffic time series drawn from flow files, as SVG,
//! PNG, or a one-page HTML report.
//!
//! The crate owns the pictures, not the flows: inputs, time windows and
//! filters come from the query crate ([`flowio::select`], the parallel
//! [`flowio::input::scan`]), the report tables from its flow-stat code
//! ([`query::stat`]). Its main types are [`Config`] (one validated
//! command line), [`aggregate::Plan`] / [`aggregate::Outcome`] (what is
//! counted, and the bins it gave) and [`draw::View`] (one picture).
//! [`run`] ties them together.
//!
//! Time bins: a flow's octets, packets (and its one flow) are spread over
//! the bins its `[start, end)` covers, in proportion to the overlap, so
//! the area under the bands is the traffic and a long flow does not show
//! up as a spike at its start; the part of a flow that runs past the
//! window's end is clipped (and counted as `outside` in the SVG
//! metadata). Flows with zero packets are left out, as flow-stat's
//! summary does, so the totals equal `flow-stat -f 0` for the same window.
//!
//! Nothing here parses arguments (see `bin/flow-graph.rs`); everything is
//! written to the files named in [`Config`].
#![deny(missing_docs)]

pub mod aggregate;
pub mod axis;
pub mod draw;
pub mod html;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use filterlang::FilterConfig;
use flowio::select::{self, ScanOptions};
use query::timefmt::Zone;

use aggregate::{By, Dimension, Metric, Plan, Source};

/// Errors of flow-graph. Each variant carries what went wrong as values;
/// its text is the message printed after `flow-graph: `.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the input failed.
    #[error("{0}")]
    Read(#[from] flowio::Error),
    /// A report could not be made.
    #[error("{0}")]
    Query(#[from] query::Error),
    /// The filter configuration, a definition or the symbol tables are
    /// unusable.
    #[error("{0}")]
    Filter(#[from] filterlang::FilterError),
    /// Writing an output file failed.
    #[error("{}: cannot write: {}", path.display(), flowio::input::io_reason(source))]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Neither `-o` nor `--html`.
    #[error("nothing to write: give -o FILE.svg|FILE.png and/or --html FILE")]
    NothingToWrite,
    /// `-o` names neither an SVG nor a PNG file.
    #[error("-o {}: the file name must end in .svg or .png", .0.display())]
    BadImageName(PathBuf),
    /// `--by` names no dimension.
    #[error("--by {0}: expected proto, port, src, dst, exporter or definition")]
    BadBy(String),
    /// `--metric` names no metric.
    #[error("--metric {0}: expected bits, packets or flows")]
    BadMetric(String),
    /// `--top 0`.
    #[error("--top must be at least 1")]
    ZeroTop,
    /// `--width`/`--height` out of range.
    #[error("--width must be 200..10000 and --height 150..10000 pixels")]
    BadSize {
        /// `--width`.
        width: u32,
        /// `--height`.
        height: u32,
    },
    /// `--step` is not a number with an optional unit.
    #[error("--step {0}: expected a number with an optional unit s, m, h or d (e.g. 5m)")]
    BadStep(String),
    /// `--step` is shorter than a second or longer than 28 days.
    #[error("--step {0}: must be between 1 second and 28 days")]
    StepOutOfRange(String),
    /// The step cuts the window into more than [`axis::MAX_BINS`] bins.
    #[error(
        "--step {} cuts {} into {bins} bins (at most {}); choose a larger --step or a shorter --since/--until window",
        axis::step_text(*step_secs),
        axis::span_text(*span_ms),
        axis::MAX_BINS
    )]
    TooManyBins {
        /// The step, seconds.
        step_secs: i64,
        /// The window's length, ms.
        span_ms: i64,
        /// The bins it would take.
        bins: i64,
    },
    /// `--until` is not after `--since` (ms since the epoch).
    #[error("--until must be later than --since")]
    EmptyWindow {
        /// `--since`.
        since_ms: i64,
        /// `--until`.
        until_ms: i64,
    },
    /// `--by definition` without a filter configuration.
    #[error("--by definition needs --filter-file FILE (its definitions are the bands)")]
    DefinitionsNeedFilterFile,
    /// The filter configuration leaves no definition to draw.
    #[error("{}: no filter definition to draw", .0.display())]
    NoDefinitions(PathBuf),
    /// A flow-stat report of the HTML page could not be rendered.
    #[error("rendering flow-stat format {format}: {source}")]
    Render {
        /// The flow-stat format.
        format: u32,
        /// The error of the report writer.
        source: std::io::Error,
    },
    /// The font compiled into the binary could not be used.
    #[error("the built-in font could not be loaded")]
    Font,
    /// The plotting library failed.
    #[error("drawing the chart failed: {0}")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The PNG encoder failed.
    #[error("encoding the PNG failed: {0}")]
    Png(#[from] ::png::EncodingError),
}

/// The picture format of `-o`, from its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// `.svg`
    Svg,
    /// `.png`
    Png,
}

impl ImageFormat {
    /// The format a file name asks for.
    pub fn of(path: &Path) -> Result<ImageFormat, Error> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("svg") => Ok(ImageFormat::Svg),
            Some("png") => Ok(ImageFormat::Png),
            _ => Err(Error::BadImageName(path.to_path_buf())),
        }
    }
}

/// One validated flow-graph command line.
#[derive(Clone, Debug)]
pub struct Config {
    /// Inputs, window, filter, expression, workers.
    pub scan: ScanOptions,
    /// One chart per entry; `-o` draws the first. Empty: `proto` for
    /// `-o`, and `proto, port, src, dst` for the HTML report.
    pub by: Vec<By>,
    /// Bands besides "other".
    pub top: usize,
    /// `--step` in seconds; `None`: chosen from the window.
    pub step_secs: Option<i64>,
    /// What the bands measure.
    pub metric: Metric,
    /// `-o FILE.svg|FILE.png`.
    pub output: Option<PathBuf>,
    /// `--html FILE`.
    pub html: Option<PathBuf>,
    /// Picture size of `-o`.
    pub size: (u32, u32),
    /// `--definitions a,b`: the bands of `--by definition` (default:
    /// every definition of `--filter-file` but the `--filter` one).
    pub definitions: Option<Vec<String>>,
    /// Zone of the labels (the process's `TZ` for the tool).
    pub zone: Zone,
    /// The command line as typed, for the HTML footer.
    pub command: String,
}

impl Config {
    /// Defaults for everything but the inputs.
    pub fn new(scan: ScanOptions) -> Config {
        Config {
            scan,
            by: Vec::new(),
            top: 10,
            step_secs: None,
            metric: Metric::Bits,
            output: None,
            html: None,
            size: (1000, 480),
            definitions: None,
            zone: Zone::Local,
            command: "flow-graph".into(),
        }
    }
}

/// The HTML report's charts when `--by` is not given.
pub const HTML_DEFAULT_BY: [By; 4] = [By::Proto, By::Port, By::Src, By::Dst];

/// Wide and narrow chart sizes of the HTML report.
const HTML_WIDE: (u32, u32) = (960, 400);
const HTML_NARROW: (u32, u32) = (480, 380);

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads the definitions that `--by definition` makes bands of.
fn load_definitions(cfg: &Config) -> Result<Vec<(String, filterlang::Filter)>, Error> {
    let Some(path) = cfg.scan.filter_file.as_deref() else {
        return Err(Error::DefinitionsNeedFilterFile);
    };
    let text = select::read_text(path, "filter configuration")?;
    let symbols = filterlang::Symbols::load(cfg.scan.symdir.as_deref())?;
    let name = path.to_string_lossy();
    let (fc, warnings) = FilterConfig::parse(&text, &name, &cfg.scan.vars, &symbols)?;
    for w in warnings {
        let skipped = flowio::Skipped::Nothing;
        cfg.scan.warnings.push(flowio::Warning::new("", w, skipped));
    }
    let explicit = cfg.definitions.is_some();
    let names: Vec<String> = match &cfg.definitions {
        Some(list) => list.clone(),
        None => fc
            .definition_names()
            .filter(|n| {
                cfg.scan
                    .filter
                    .as_deref()
                    .is_none_or(|f| !f.eq_ignore_ascii_case(n))
            })
            .map(str::to_string)
            .collect(),
    };
    let mut defs = Vec::new();
    for n in names {
        match fc.definition(&n) {
            Ok(f) => defs.push((n, f)),
            Err(e) if explicit => return Err(Error::Filter(e)),
            Err(e) => {
                let message = format!("{e}; leaving definition {n} out of the chart");
                let skipped = flowio::Skipped::Nothing;
                cfg.scan
                    .warnings
                    .push(flowio::Warning::new("", message, skipped));
            }
        }
    }
    if defs.is_empty() {
        return Err(Error::NoDefinitions(path.to_path_buf()));
    }
    Ok(defs)
}

/// The filter in words: `filter.cfg: redflags and -e '...'`, or
/// `all flows`.
fn filter_text(scan: &ScanOptions) -> String {
    let mut parts = Vec::new();
    if let (Some(f), Some(d)) = (&scan.filter_file, &scan.filter) {
        let file = f.file_name().map_or_else(
            || f.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        parts.push(format!("{file}: {d}"));
    }
    if let Some(e) = &scan.expr {
        parts.push(format!("-e '{e}'"));
    }
    if parts.is_empty() {
        "all flows".into()
    } else {
        parts.join(" and ")
    }
}

fn metric_title(m: Metric) -> &'static str {
    match m {
        Metric::Bits => "Bits per second",
        Metric::Packets => "Packets per second",
        Metric::Flows => "Flows per second",
    }
}

/// Reads the inputs, draws, writes the files. Warnings go to stderr.
pub fn run(cfg: &Config) -> Result<ExitCode, Error> {
    if cfg.output.is_none() && cfg.html.is_none() {
        return Err(Error::NothingToWrite);
    }
    let image = cfg.output.as_deref().map(ImageFormat::of).transpose()?;
    if cfg.top == 0 {
        return Err(Error::ZeroTop);
    }
    if cfg.size.0 < 200 || cfg.size.1 < 150 || cfg.size.0 > 10_000 || cfg.size.1 > 10_000 {
        return Err(Error::BadSize {
            width: cfg.size.0,
            height: cfg.size.1,
        });
    }
    let mut by = cfg.by.clone();
    if by.is_empty() {
        by = if cfg.html.is_some() {
            HTML_DEFAULT_BY.to_vec()
        } else {
            vec![By::Proto]
        };
    }
    let mut seen = Vec::new();
    by.retain(|b| {
        let new = !seen.contains(b);
        seen.push(*b);
        new
    });
    let definitions = if by.contains(&By::Definition) {
        load_definitions(cfg)?
    } else {
        Vec::new()
    };
    let dims: Vec<Dimension> = by
        .iter()
        .map(|&b| Dimension {
            by: b,
            definitions: if b == By::Definition {
                definitions.clone()
            } else {
                Vec::new()
            },
        })
        .collect();
    let symbols = filterlang::Symbols::load(cfg.scan.symdir.as_deref())?;
    let plan = Plan {
        dims,
        metric: cfg.metric,
        top: cfg.top,
        step_secs: cfg.step_secs,
        zone: cfg.zone,
        reports: cfg.html.is_some(),
        symbols,
    };

    // The input: files on all cores, or the stream on stdin held in memory.
    let (source, header, inputs_text) = if cfg.scan.is_fast_path() {
        let prepared = select::prepare(&cfg.scan)?;
        let header = prepared.header.clone();
        let n = prepared.inputs.len();
        let text = format!(
            "{} ({n} file{})",
            cfg.scan.inputs.join(", "),
            if n == 1 { "" } else { "s" }
        );
        (
            Source::Files {
                prepared,
                threads: cfg.scan.threads,
            },
            header,
            text,
        )
    } else {
        let window = cfg.scan.window()?;
        let mut src = select::open_source(&cfg.scan)?;
        let mut records = Vec::new();
        while src.next_batch(&mut records)? > 0 {}
        let header = src.header().clone();
        (
            Source::Memory {
                records,
                window,
                threads: cfg.scan.threads,
            },
            header,
            "standard input".to_string(),
        )
    };
    let mut out = aggregate::aggregate(&plan, &source)?;
    drop(source);

    let filter = filter_text(&cfg.scan);
    let window_text = match out.range {
        Some(r) => axis::window_text(cfg.zone, r.lo_ms, r.hi_ms),
        None => "no flows".to_string(),
    };
    let step_text = out
        .range
        .map(|r| format!("step {}", axis::step_text(r.step_ms / 1000)))
        .unwrap_or_default();
    let subtitle = [window_text.as_str(), step_text.as_str(), filter.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ");
    let view = |i: usize, size: (u32, u32)| draw::View {
        data: &out.charts[i],
        metric: cfg.metric,
        range: out.range,
        zone: cfg.zone,
        title: format!(
            "{} by {}",
            metric_title(cfg.metric),
            out.charts[i].by.title()
        ),
        subtitle: subtitle.clone(),
        totals: out.totals,
        ignored: out.ignored,
        outside: out.outside,
        filter: filter.clone(),
        size,
        legend: true,
        titles: true,
        text_size: None,
    };

    if let (Some(path), Some(fmt)) = (&cfg.output, image) {
        let v = view(0, cfg.size);
        match fmt {
            ImageFormat::Svg => write_file(path, draw::svg(&v)?.as_bytes())?,
            ImageFormat::Png => write_file(path, &draw::png(&v)?)?,
        }
    }

    if let Some(path) = &cfg.html {
        let mut charts = Vec::new();
        for (i, c) in out.charts.iter().enumerate() {
            let mut wide = view(i, HTML_WIDE);
            wide.legend = false;
            wide.titles = false;
            wide.text_size = Some(13.0);
            let mut narrow = view(i, HTML_NARROW);
            narrow.legend = false;
            narrow.titles = false;
            narrow.text_size = Some(17.0);
            charts.push(html::PageChart {
                heading: wide.title.clone(),
                wide_svg: draw::svg(&wide)?,
                narrow_svg: draw::svg(&narrow)?,
                legend: c
                    .series
                    .iter()
                    .map(|s| (s.label.clone(), s.other, s.totals))
                    .collect(),
            });
        }
        let mut facts = vec![
            ("Window".to_string(), window_text.clone()),
            ("Filter".to_string(), filter.clone()),
            ("Input".to_string(), inputs_text),
        ];
        if let Some(r) = out.range {
            facts.push((
                "Step".to_string(),
                format!(
                    "{} ({} bins); a flow is spread over the bins it spans",
                    axis::step_text(r.step_ms / 1000),
                    r.nbins
                ),
            ));
        }
        if out.ignored > 0 {
            facts.push((
                "Ignored".to_string(),
                format!("{} flows with 0 packets", out.ignored),
            ));
        }
        let page = html::Page {
            title: "Traffic report".to_string(),
            facts,
            charts,
            metric: cfg.metric,
            totals: out.totals,
            window_secs: out.range.map(|r| (r.hi_ms - r.lo_ms) as f64 / 1000.0),
            reports: std::mem::take(&mut out.reports),
            header: &header,
            command: cfg.command.clone(),
        };
        write_file(path, html::render(page)?.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_their_words() {
        let cases: Vec<(Error, &str)> = vec![
            (
                Error::Write {
                    path: "/ro/t.svg".into(),
                    source: std::io::Error::from_raw_os_error(13),
                },
                "/ro/t.svg: cannot write: Permission denied",
            ),
            (
                Error::NothingToWrite,
                "nothing to write: give -o FILE.svg|FILE.png and/or --html FILE",
            ),
            (
                Error::BadImageName("t.gif".into()),
                "-o t.gif: the file name must end in .svg or .png",
            ),
            (
                Error::BadBy("colour".into()),
                "--by colour: expected proto, port, src, dst, exporter or definition",
            ),
            (
                Error::BadMetric("bytes".into()),
                "--metric bytes: expected bits, packets or flows",
            ),
            (Error::ZeroTop, "--top must be at least 1"),
            (
                Error::BadSize {
                    width: 10,
                    height: 10,
                },
                "--width must be 200..10000 and --height 150..10000 pixels",
            ),
            (
                Error::EmptyWindow {
                    since_ms: 10,
                    until_ms: 10,
                },
                "--until must be later than --since",
            ),
            (
                Error::DefinitionsNeedFilterFile,
                "--by definition needs --filter-file FILE (its definitions are the bands)",
            ),
            (
                Error::NoDefinitions("f.cfg".into()),
                "f.cfg: no filter definition to draw",
            ),
            (
                Error::Render {
                    format: 10,
                    source: std::io::Error::other("boom"),
                },
                "rendering flow-stat format 10: boom",
            ),
            (Error::Font, "the built-in font could not be loaded"),
            (
                Error::Draw("no room".into()),
                "drawing the chart failed: no room",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want, "{e:?}");
        }
    }

    #[test]
    fn the_picture_format_comes_from_the_extension() {
        assert_eq!(
            ImageFormat::of(Path::new("a.SVG")).ok(),
            Some(ImageFormat::Svg)
        );
        assert_eq!(
            ImageFormat::of(Path::new("a.png")).ok(),
            Some(ImageFormat::Png)
        );
        let e = ImageFormat::of(Path::new("a.jpg")).expect_err("not a picture format");
        assert!(
            matches!(&e, Error::BadImageName(p) if p == Path::new("a.jpg")),
            "{e:?}"
        );
    }
}
