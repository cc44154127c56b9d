//! From flows to stacked series: what a band is ([`By`]), what is counted
//! ([`Metric`]), and the scans that fill the bins ([`aggregate`]).
//!
//! At most two parallel passes over the input, both through
//! [`flowio::input::scan`] (the flow-stat fast path) or, for a stream on
//! stdin, over the records held in memory:
//!
//! 1. a **survey**, when it is needed: the time extent of the flows (when
//!    `--since`/`--until` do not give it) and the per-key totals that pick
//!    the top N ports, addresses or exporters;
//! 2. the **bins**: every flow's metric spread over the bins its
//!    `[start, end)` covers, in proportion to the overlap (see
//!    [`BinRange::spread`]), per band, plus the flow-stat reports of the
//!    HTML page.
//!
//! Flows with zero packets are left out and counted, as flow-stat's
//! summary does ("Ignoring bogus flow dPkts=0"), so the totals equal
//! `flow-stat -f 0` over the same window.

use std::collections::HashMap;

use filterlang::{Filter, Symbols};
use flowio::input::{self, Window, BATCH};
use flowio::select::Prepared;
use formats::Record;
use query::stat::{self, Counters, MulBuild, Report, Sort, StatConfig};
use query::timefmt::Zone;

use crate::axis::{self, BinRange};
use crate::Error;

/// What one band of a chart stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum By {
    /// IP protocol (tcp, udp, icmp, ...).
    Proto,
    /// Service port of TCP and UDP flows: the lower of the two ports
    /// (the server's, for the usual client port above 1023); other
    /// protocols count as "other".
    Port,
    /// Source address (top N).
    Src,
    /// Destination address (top N).
    Dst,
    /// Exporter address (top N).
    Exporter,
    /// The first filter.cfg definition that permits the flow.
    Definition,
}

impl By {
    /// All of them, in `--by` order.
    pub const ALL: [By; 6] = [
        By::Proto,
        By::Port,
        By::Src,
        By::Dst,
        By::Exporter,
        By::Definition,
    ];

    /// The `--by` word.
    pub fn name(self) -> &'static str {
        match self {
            By::Proto => "proto",
            By::Port => "port",
            By::Src => "src",
            By::Dst => "dst",
            By::Exporter => "exporter",
            By::Definition => "definition",
        }
    }

    /// The `--by` word parsed.
    pub fn parse(s: &str) -> Option<By> {
        By::ALL.into_iter().find(|b| b.name() == s)
    }

    /// Words for titles.
    pub fn title(self) -> &'static str {
        match self {
            By::Proto => "protocol",
            By::Port => "service port",
            By::Src => "source address",
            By::Dst => "destination address",
            By::Exporter => "exporter",
            By::Definition => "filter definition",
        }
    }

    /// Whether the bands are the top N of an open key space (which the
    /// survey pass picks).
    fn ranked(self) -> bool {
        matches!(self, By::Port | By::Src | By::Dst | By::Exporter)
    }
}

/// What the height of a band measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Octets × 8 per second.
    Bits,
    /// Packets per second.
    Packets,
    /// Flows per second.
    Flows,
}

impl Metric {
    /// The `--metric` word.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Bits => "bits",
            Metric::Packets => "packets",
            Metric::Flows => "flows",
        }
    }

    /// The `--metric` word parsed.
    pub fn parse(s: &str) -> Option<Metric> {
        [Metric::Bits, Metric::Packets, Metric::Flows]
            .into_iter()
            .find(|m| m.name() == s)
    }

    /// The rate unit after an SI prefix: `b/s`, `pkt/s`, `flows/s`.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Bits => "b/s",
            Metric::Packets => "pkt/s",
            Metric::Flows => "flows/s",
        }
    }

    /// The counted quantity of one flow.
    #[inline]
    fn weight(self, r: &Record) -> u64 {
        match self {
            Metric::Bits => r.octets as u64,
            Metric::Packets => r.packets as u64,
            Metric::Flows => 1,
        }
    }

    /// The counted quantity of a set of flows.
    pub fn of(self, c: &Counters) -> u64 {
        match self {
            Metric::Bits => c.octets,
            Metric::Packets => c.packets,
            Metric::Flows => c.flows,
        }
    }

    /// Units of [`Metric::of`] to units of the rate's numerator (octets
    /// to bits).
    pub fn factor(self) -> f64 {
        match self {
            Metric::Bits => 8.0,
            _ => 1.0,
        }
    }
}

/// The service port of a TCP or UDP flow: the lower of its two ports.
#[inline]
pub fn service_port(r: &Record) -> Option<u16> {
    matches!(r.protocol, 6 | 17).then(|| r.src_port.min(r.dst_port))
}

/// One chart to fill: its kind of band, and for [`By::Definition`] the
/// definitions (name, compiled filter) in file order.
#[derive(Clone, Debug)]
pub struct Dimension {
    /// The kind of band.
    pub by: By,
    /// The definitions, for [`By::Definition`] only.
    pub definitions: Vec<(String, Filter)>,
}

/// Everything [`aggregate`] needs besides the input.
#[derive(Clone, Debug)]
pub struct Plan {
    /// One entry per chart.
    pub dims: Vec<Dimension>,
    /// What the bands measure.
    pub metric: Metric,
    /// Bands per chart besides "other".
    pub top: usize,
    /// `--step` in seconds; `None` chooses one from the window.
    pub step_secs: Option<i64>,
    /// The time zone of bin alignment and labels.
    pub zone: Zone,
    /// Also accumulate flow-stat formats 0, 5, 9 and 10 (the HTML page).
    pub reports: bool,
    /// Protocol and port names.
    pub symbols: Symbols,
}

/// Where the records come from.
pub enum Source {
    /// Files and directories: parallel scans of the prepared inputs.
    Files {
        /// Inputs, window and selection.
        prepared: Prepared,
        /// Workers (0 = all cores).
        threads: usize,
    },
    /// A stream read from stdin, already restricted to the window and the
    /// selection.
    Memory {
        /// The records.
        records: Vec<Record>,
        /// The window (for the chart's extent).
        window: Window,
        /// Workers (0 = all cores).
        threads: usize,
    },
}

impl Source {
    fn window(&self) -> Window {
        match self {
            Source::Files { prepared, .. } => prepared.window,
            Source::Memory { window, .. } => *window,
        }
    }

    /// One parallel fold over every selected record (see
    /// [`flowio::input::scan`] for the contract of `fold` and `merge`).
    fn pass<A, I, F, M>(&self, init: I, fold: F, merge: M) -> Result<A, Error>
    where
        A: Send,
        I: Fn() -> A + Sync + Send,
        F: Fn(&mut A, u64, &[Record]) + Sync + Send,
        M: Fn(&mut A, A) + Sync + Send,
    {
        match self {
            Source::Files { prepared, threads } => Ok(prepared.scan(
                formats::native::Fields::ALL,
                *threads,
                input::MergeOrder::Input,
                init,
                fold,
                merge,
            )?),
            Source::Memory {
                records, threads, ..
            } => {
                use rayon::prelude::*;
                let work = || {
                    records
                        .par_chunks(BATCH)
                        .enumerate()
                        .fold(&init, |mut acc, (i, chunk)| {
                            fold(&mut acc, (i * BATCH) as u64, chunk);
                            acc
                        })
                        .reduce(&init, |mut l, r| {
                            merge(&mut l, r);
                            l
                        })
                };
                if *threads == 0 {
                    Ok(work())
                } else {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(*threads)
                        .build()
                        .map_err(flowio::Error::from)?;
                    Ok(pool.install(work))
                }
            }
        }
    }
}

impl Source {
    /// The flow-stat report `cfg` of the selected records: for files
    /// [`stat::compute`], the fast path with its memory bound (a hash
    /// report spills past `cfg.memory`); for a stream held in memory, one
    /// parallel fold.
    fn report(&self, cfg: &StatConfig) -> Result<Report, Error> {
        match self {
            Source::Files { prepared, threads } => {
                let mut cfg = cfg.clone();
                cfg.warnings = prepared.warnings.clone();
                Ok(stat::compute(&cfg, prepared, *threads)?)
            }
            Source::Memory { .. } => {
                let proto = stat::new_report(cfg)?;
                self.pass(
                    || proto.clone(),
                    |acc, base, recs| acc.add_batch(base, recs),
                    |acc, later| acc.merge(later),
                )
            }
        }
    }
}

/// One band of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text (`tcp`, `http (80)`, `10.0.0.1`, `redflags`, `other`).
    pub label: String,
    /// True for the band that gathers everything outside the top N.
    pub other: bool,
    /// The metric per bin, in the metric's units (octets, packets or
    /// flows), not yet a rate.
    pub values: Vec<f64>,
    /// Exact totals of the flows in this band.
    pub totals: Counters,
}

/// The bands of one chart, largest first, "other" last.
#[derive(Clone, Debug)]
pub struct ChartData {
    /// The kind of band.
    pub by: By,
    /// The bands.
    pub series: Vec<Series>,
}

/// What the scans found.
#[derive(Debug)]
pub struct Outcome {
    /// Totals of the flows drawn (flow-stat -f 0's totals).
    pub totals: Counters,
    /// Flows left out because they have zero packets.
    pub ignored: u64,
    /// The bins; `None` when there is nothing to draw and the window does
    /// not say where.
    pub range: Option<BinRange>,
    /// Share of the metric that lies outside the range (flows that
    /// started inside the window and ended after it), in metric units.
    pub outside: f64,
    /// One per dimension of the plan.
    pub charts: Vec<ChartData>,
    /// flow-stat formats 0, 5, 9 and 10, when the plan asked for them.
    pub reports: Vec<(StatConfig, Report)>,
}

/// Per-key totals of the ranked dimensions.
#[derive(Clone)]
enum KeyCount {
    Unranked,
    Ports(Vec<u64>),
    Addrs(HashMap<u32, u64, MulBuild>),
}

#[derive(Clone)]
struct Survey {
    totals: Counters,
    ignored: u64,
    min_ms: i64,
    max_ms: i64,
    keys: Vec<KeyCount>,
}

#[inline]
fn addr_of(by: By, r: &Record) -> u32 {
    match by {
        By::Src => r.src_addr,
        By::Dst => r.dst_addr,
        _ => r.exporter,
    }
}

impl Survey {
    fn new(plan: &Plan) -> Survey {
        Survey {
            totals: Counters::default(),
            ignored: 0,
            min_ms: i64::MAX,
            max_ms: i64::MIN,
            keys: plan
                .dims
                .iter()
                .map(|d| match d.by {
                    By::Port => KeyCount::Ports(vec![0; 65_536]),
                    b if b.ranked() => KeyCount::Addrs(HashMap::default()),
                    _ => KeyCount::Unranked,
                })
                .collect(),
        }
    }

    fn add(&mut self, plan: &Plan, recs: &[Record]) {
        for r in recs {
            if r.packets == 0 {
                self.ignored += 1;
                continue;
            }
            self.totals.add_record(r);
            let start = r.start_ms();
            self.min_ms = self.min_ms.min(start);
            self.max_ms = self.max_ms.max(r.end_ms().max(start));
            let w = plan.metric.weight(r);
            for (k, d) in self.keys.iter_mut().zip(&plan.dims) {
                match k {
                    KeyCount::Unranked => {}
                    KeyCount::Ports(v) => {
                        if let Some(p) = service_port(r) {
                            v[p as usize] += w;
                        }
                    }
                    KeyCount::Addrs(m) => *m.entry(addr_of(d.by, r)).or_insert(0) += w,
                }
            }
        }
    }

    fn merge(&mut self, o: Survey) {
        self.totals.add(&o.totals);
        self.ignored += o.ignored;
        self.min_ms = self.min_ms.min(o.min_ms);
        self.max_ms = self.max_ms.max(o.max_ms);
        for (a, b) in self.keys.iter_mut().zip(o.keys) {
            match (a, b) {
                (KeyCount::Ports(a), KeyCount::Ports(b)) => {
                    for (x, y) in a.iter_mut().zip(b) {
                        *x += y;
                    }
                }
                (KeyCount::Addrs(a), KeyCount::Addrs(b)) => {
                    if a.len() < b.len() {
                        let small = std::mem::replace(a, b);
                        for (k, v) in small {
                            *a.entry(k).or_insert(0) += v;
                        }
                    } else {
                        for (k, v) in b {
                            *a.entry(k).or_insert(0) += v;
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// The top `n` keys by weight (ties: the smaller key first), zero weights
/// left out.
fn top_keys<K: Copy + Ord>(items: impl Iterator<Item = (K, u64)>, n: usize) -> Vec<K> {
    let mut v: Vec<(K, u64)> = items.filter(|(_, w)| *w > 0).collect();
    v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v.into_iter().map(|(k, _)| k).collect()
}

/// How a flow finds its column in a chart's bins.
enum Mapper {
    /// One column per protocol number.
    Proto,
    /// One column per definition, then "other".
    Definitions(Vec<Filter>),
    /// Port -> column (the top ports; the rest, and non-TCP/UDP, "other").
    Ports { table: Vec<u16>, keys: Vec<u16> },
    /// Address -> column for the top addresses; the rest "other".
    Addrs {
        by: By,
        map: HashMap<u32, u16, MulBuild>,
        keys: Vec<u32>,
    },
}

impl Mapper {
    fn cols(&self) -> usize {
        match self {
            Mapper::Proto => 256,
            Mapper::Definitions(f) => f.len() + 1,
            Mapper::Ports { keys, .. } => keys.len() + 1,
            Mapper::Addrs { keys, .. } => keys.len() + 1,
        }
    }

    /// The column of "other", if this mapper has one.
    fn other(&self) -> Option<usize> {
        match self {
            Mapper::Proto => None,
            _ => Some(self.cols() - 1),
        }
    }

    #[inline]
    fn col(&self, r: &Record) -> usize {
        match self {
            Mapper::Proto => r.protocol as usize,
            Mapper::Definitions(f) => f.iter().position(|f| f.matches(r)).unwrap_or(f.len()),
            Mapper::Ports { table, keys } => match service_port(r) {
                Some(p) => table[p as usize] as usize,
                None => keys.len(),
            },
            Mapper::Addrs { by, map, keys } => map
                .get(&addr_of(*by, r))
                .map_or(keys.len(), |&c| c as usize),
        }
    }

    fn label(&self, col: usize, dim: &Dimension, symbols: &Symbols) -> String {
        match self {
            Mapper::Proto => match symbols.proto_name(col as u8) {
                Some(n) => n.to_string(),
                None => col.to_string(),
            },
            Mapper::Definitions(_) => dim
                .definitions
                .get(col)
                .map_or_else(|| "other".to_string(), |d| d.0.clone()),
            Mapper::Ports { keys, .. } => match keys.get(col) {
                Some(&p) => match symbols.port_name(p) {
                    Some(n) => format!("{n} ({p})"),
                    None => p.to_string(),
                },
                None => "other".to_string(),
            },
            Mapper::Addrs { keys, .. } => keys.get(col).map_or_else(
                || "other".to_string(),
                |&a| std::net::Ipv4Addr::from(a).to_string(),
            ),
        }
    }
}

/// One chart's bins in a worker.
#[derive(Clone)]
struct DimBins {
    cols: usize,
    /// `values[bin * cols + col]`.
    values: Vec<f64>,
    totals: Vec<Counters>,
}

#[derive(Clone)]
struct Binned {
    totals: Counters,
    ignored: u64,
    outside: f64,
    dims: Vec<DimBins>,
    /// Scratch: the bins of the current flow.
    spans: Vec<(usize, f64)>,
}

impl Binned {
    fn add(&mut self, recs: &[Record], range: &BinRange, mappers: &[Mapper], metric: Metric) {
        for r in recs {
            if r.packets == 0 {
                self.ignored += 1;
                continue;
            }
            self.totals.add_record(r);
            let w = metric.weight(r) as f64;
            self.spans.clear();
            let spans = &mut self.spans;
            let out = range.spread(r.start_ms(), r.end_ms(), |i, f| spans.push((i, f)));
            self.outside += out * w;
            for (d, m) in self.dims.iter_mut().zip(mappers) {
                let col = m.col(r);
                d.totals[col].add_record(r);
                for &(bin, f) in spans.iter() {
                    d.values[bin * d.cols + col] += w * f;
                }
            }
        }
    }

    fn merge(&mut self, o: Binned) {
        self.totals.add(&o.totals);
        self.ignored += o.ignored;
        self.outside += o.outside;
        for (a, b) in self.dims.iter_mut().zip(o.dims) {
            for (x, y) in a.values.iter_mut().zip(b.values) {
                *x += y;
            }
            for (x, y) in a.totals.iter_mut().zip(b.totals) {
                x.add(&y);
            }
        }
    }
}

/// The flow-stat reports of the HTML page: format 0, and formats 5, 9
/// and 10 sorted on octets (`-S 2`, or `-S 3` for the pair report);
/// port names on for format 5 (`-n`).
pub fn report_configs() -> Vec<StatConfig> {
    let sorted = |f: u32, field: i32, names: bool| {
        let mut c = StatConfig::new(f);
        c.sort = Some(Sort {
            descending: true,
            field,
        });
        c.names = names;
        c
    };
    vec![
        StatConfig::new(0),
        sorted(5, 2, true),
        sorted(9, 2, false),
        sorted(10, 3, false),
    ]
}

/// Runs the scans of `plan` over `source`.
pub fn aggregate(plan: &Plan, source: &Source) -> Result<Outcome, Error> {
    let window = source.window();
    let survey_needed = plan.dims.iter().any(|d| d.by.ranked())
        || window.since_ms.is_none()
        || window.until_ms.is_none();
    let survey = if survey_needed {
        Some(source.pass(
            || Survey::new(plan),
            |acc, _, recs| acc.add(plan, recs),
            |acc, later| acc.merge(later),
        )?)
    } else {
        None
    };

    // Where the bins lie.
    let range = match (window.since_ms, window.until_ms) {
        (Some(lo), Some(hi)) => {
            if hi <= lo {
                return Err(Error::EmptyWindow {
                    since_ms: lo,
                    until_ms: hi,
                });
            }
            let step = plan.step_secs.unwrap_or_else(|| axis::auto_step(hi - lo));
            Some(BinRange::new(lo, hi, step)?)
        }
        (lo, hi) => match &survey {
            Some(s) if s.totals.flows > 0 => {
                let min = lo.unwrap_or(s.min_ms);
                let max = hi.map_or(s.max_ms, |h| h - 1).max(min);
                let step = plan
                    .step_secs
                    .unwrap_or_else(|| axis::auto_step(max + 1 - min));
                match lo {
                    // An explicit start is kept as it is; the end is
                    // rounded up to a whole bin unless given.
                    Some(lo) => {
                        let hi = hi.unwrap_or_else(|| {
                            let n = axis::div_ceil((max + 1 - lo).max(1), step * 1000);
                            lo.saturating_add(n.saturating_mul(step * 1000))
                        });
                        Some(BinRange::new(lo, hi, step)?)
                    }
                    None => {
                        let r = BinRange::around(min, max, step, plan.zone)?;
                        match hi {
                            Some(h) => Some(BinRange::new(r.lo_ms, h, step)?),
                            None => Some(r),
                        }
                    }
                }
            }
            _ => None,
        },
    };

    // How flows find their columns.
    let mappers: Vec<Mapper> = plan
        .dims
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let keys = survey.as_ref().and_then(|s| s.keys.get(i));
            match (d.by, keys) {
                (By::Proto, _) => Mapper::Proto,
                (By::Definition, _) => {
                    Mapper::Definitions(d.definitions.iter().map(|(_, f)| f.clone()).collect())
                }
                (By::Port, Some(KeyCount::Ports(v))) => {
                    let keys: Vec<u16> =
                        top_keys(v.iter().enumerate().map(|(p, &w)| (p as u16, w)), plan.top);
                    let mut table = vec![keys.len() as u16; 65_536];
                    for (c, &p) in keys.iter().enumerate() {
                        table[p as usize] = c as u16;
                    }
                    Mapper::Ports { table, keys }
                }
                (by, Some(KeyCount::Addrs(m))) => {
                    let keys: Vec<u32> = top_keys(m.iter().map(|(&a, &w)| (a, w)), plan.top);
                    let map = keys
                        .iter()
                        .enumerate()
                        .map(|(c, &a)| (a, c as u16))
                        .collect();
                    Mapper::Addrs { by, map, keys }
                }
                (by, _) => Mapper::Addrs {
                    by,
                    map: HashMap::default(),
                    keys: Vec::new(),
                },
            }
        })
        .collect();

    // The per-key totals (millions of addresses) are not needed any more.
    let survey = survey.map(|s| (s.totals, s.ignored));

    // Nothing to draw and no window to draw it in: only the reports.
    let bin_range = range.unwrap_or(BinRange {
        lo_ms: 0,
        hi_ms: 1,
        step_ms: 1,
        nbins: 1,
    });
    let empty_binned = || Binned {
        totals: Counters::default(),
        ignored: 0,
        outside: 0.0,
        dims: mappers
            .iter()
            .map(|m| DimBins {
                cols: m.cols(),
                values: vec![
                    0.0;
                    if range.is_some() {
                        bin_range.nbins * m.cols()
                    } else {
                        m.cols()
                    }
                ],
                totals: vec![Counters::default(); m.cols()],
            })
            .collect(),
        spans: Vec::with_capacity(16),
    };
    let binned = if range.is_some() || survey.is_none() {
        source.pass(
            empty_binned,
            |acc, _, recs| acc.add(recs, &bin_range, &mappers, plan.metric),
            |acc, later| acc.merge(later),
        )?
    } else {
        empty_binned()
    };
    let (totals, ignored) = survey.unwrap_or((binned.totals, binned.ignored));
    // Without a range (and so without flows), no bands.
    let range = range.filter(|_| totals.flows > 0 || window.since_ms.is_some());
    let charts = plan
        .dims
        .iter()
        .zip(&mappers)
        .zip(&binned.dims)
        .map(|((dim, m), bins)| ChartData {
            by: dim.by,
            series: match range {
                Some(r) if totals.flows > 0 => collapse(plan, dim, m, bins, r.nbins),
                _ => Vec::new(),
            },
        })
        .collect();
    Ok(Outcome {
        totals,
        ignored,
        range,
        outside: binned.outside,
        charts,
        reports: if plan.reports {
            report_configs()
                .into_iter()
                .map(|c| source.report(&c).map(|r| (c, r)))
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        },
    })
}

/// Keeps the top `plan.top` columns with flows as bands, largest first,
/// and sums the rest (and the mapper's own "other") into "other".
fn collapse(plan: &Plan, dim: &Dimension, m: &Mapper, bins: &DimBins, nbins: usize) -> Vec<Series> {
    let other_col = m.other();
    let cols: Vec<usize> = (0..bins.cols)
        .filter(|&c| Some(c) != other_col && bins.totals[c].flows > 0)
        .collect();
    let kept = top_keys(
        cols.iter().map(|&c| (c, plan.metric.of(&bins.totals[c]))),
        plan.top,
    );
    // Columns with flows but no metric (flows of 0 octets when counting
    // bits) still rank after the others, by column.
    let mut kept = kept;
    for &c in &cols {
        if kept.len() >= plan.top {
            break;
        }
        if !kept.contains(&c) {
            kept.push(c);
        }
    }
    let column =
        |c: usize| -> Vec<f64> { (0..nbins).map(|b| bins.values[b * bins.cols + c]).collect() };
    let mut series: Vec<Series> = kept
        .iter()
        .map(|&c| Series {
            label: m.label(c, dim, &plan.symbols),
            other: false,
            values: column(c),
            totals: bins.totals[c],
        })
        .collect();
    let mut rest = Series {
        label: "other".into(),
        other: true,
        values: vec![0.0; nbins],
        totals: Counters::default(),
    };
    for c in (0..bins.cols).filter(|c| !kept.contains(c)) {
        if bins.totals[c].flows == 0 {
            continue;
        }
        rest.totals.add(&bins.totals[c]);
        for (b, v) in rest.values.iter_mut().enumerate() {
            *v += bins.values[b * bins.cols + c];
        }
    }
    if rest.totals.flows > 0 {
        series.push(rest);
    }
    series
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(start_s: u32, dur_ms: u32, proto: u8, dport: u16, octets: u32) -> Record {
        Record {
            unix_secs: start_s + 100,
            sys_uptime_ms: 1_000_000,
            first_uptime_ms: 1_000_000 - 100_000,
            last_uptime_ms: 1_000_000 - 100_000 + dur_ms,
            protocol: proto,
            src_port: 40_000,
            dst_port: dport,
            src_addr: 0x0A00_0001,
            dst_addr: 0x0A00_0002 + dport as u32,
            exporter: 0x7F00_0001,
            octets,
            packets: 1,
            ..Record::default()
        }
    }

    fn plan(by: &[By], top: usize) -> Plan {
        Plan {
            dims: by
                .iter()
                .map(|&by| Dimension {
                    by,
                    definitions: Vec::new(),
                })
                .collect(),
            metric: Metric::Bits,
            top,
            step_secs: Some(300),
            zone: Zone::UTC,
            reports: false,
            symbols: Symbols::builtin(),
        }
    }

    fn memory(records: Vec<Record>, window: Window) -> Source {
        Source::Memory {
            records,
            window,
            threads: 1,
        }
    }

    #[test]
    fn bands_sum_to_the_totals() {
        let recs = vec![
            rec(0, 0, 6, 80, 1000),
            rec(10, 600_000, 17, 53, 600),
            rec(400, 0, 1, 0, 10),
            rec(20, 0, 6, 443, 7),
        ];
        let out = aggregate(
            &plan(&[By::Proto, By::Port], 10),
            &memory(recs, Window::default()),
        )
        .unwrap();
        assert_eq!(out.totals.flows, 4);
        assert_eq!(out.totals.octets, 1617);
        let r = out.range.unwrap();
        assert_eq!(r.lo_ms, 0);
        for c in &out.charts {
            let sum: f64 = c.series.iter().flat_map(|s| s.values.iter()).sum();
            assert!((sum + out.outside - 1617.0).abs() < 1e-6, "{sum}");
            let flows: u64 = c.series.iter().map(|s| s.totals.flows).sum();
            assert_eq!(flows, 4);
        }
        let proto: Vec<_> = out.charts[0]
            .series
            .iter()
            .map(|s| s.label.as_str())
            .collect();
        assert_eq!(proto, ["tcp", "udp", "icmp"]);
        let port: Vec<_> = out.charts[1]
            .series
            .iter()
            .map(|s| s.label.as_str())
            .collect();
        assert_eq!(port, ["http (80)", "domain (53)", "https (443)", "other"]);
    }

    #[test]
    fn top_n_folds_the_rest_into_other() {
        let recs: Vec<Record> = (0..20)
            .map(|i| rec(i, 0, 6, 1000 + i as u16, 100 + i))
            .collect();
        let out = aggregate(&plan(&[By::Dst], 3), &memory(recs, Window::default())).unwrap();
        let s = &out.charts[0].series;
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].label, "10.0.3.253");
        assert!(s[3].other);
        assert_eq!(s[3].totals.flows, 17);
    }

    #[test]
    fn empty_input_has_no_range_and_no_bands() {
        let out = aggregate(
            &plan(&[By::Proto], 10),
            &memory(Vec::new(), Window::default()),
        )
        .unwrap();
        assert!(out.range.is_none());
        assert!(out.charts[0].series.is_empty());
        let w = Window {
            since_ms: Some(0),
            until_ms: Some(3_600_000),
        };
        let out = aggregate(&plan(&[By::Src], 10), &memory(Vec::new(), w)).unwrap();
        assert_eq!(out.range.unwrap().nbins, 12);
        assert!(out.charts[0].series.is_empty());
    }

    #[test]
    fn zero_packet_flows_are_ignored_like_flow_stat() {
        let mut r = rec(0, 0, 6, 80, 1000);
        r.packets = 0;
        let out = aggregate(&plan(&[By::Proto], 10), &memory(vec![r], Window::default())).unwrap();
        assert_eq!(out.ignored, 1);
        assert_eq!(out.totals.flows, 0);
        assert!(out.range.is_none());
    }

    #[test]
    fn a_window_clips_what_runs_past_its_end() {
        let w = Window {
            since_ms: Some(0),
            until_ms: Some(600_000),
        };
        let out = aggregate(
            &plan(&[By::Proto], 10),
            &memory(vec![rec(300, 600_000, 6, 80, 900)], w),
        )
        .unwrap();
        assert!((out.outside - 450.0).abs() < 1e-9);
        assert_eq!(out.charts[0].series[0].values, vec![0.0, 450.0]);
    }
}
