//! Drawing a chart: one set of plotters drawing calls renders to SVG text
//! ([`svg`]) or to an RGB bitmap encoded as PNG ([`png()`]).
//!
//! The layout: a title and a subtitle (window, step, filter) on top, the
//! stacked bands with a value axis (SI-prefixed rates) on the left and
//! local-time ticks below, and a legend panel on the right with each
//! band's share and the totals. A chart with nothing to show draws its
//! frame and says why in the middle, never a blank image.
//!
//! Text is drawn with a vendored DejaVu Sans (`assets/`), registered from
//! bytes, so PNGs have readable labels on machines without fonts; SVGs
//! name `sans-serif` and leave the font to the viewer.
//!
//! The SVG also carries what it shows for machines: a `<title>`, a
//! `<desc>`, and in `<metadata>` an `fg:graph` element with the window,
//! step and totals, and one `fg:series` per band (label, colour, flows,
//! octets, packets) — what the golden tests check.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use query::stat::Counters;
use query::timefmt::Zone;

use crate::aggregate::{ChartData, Metric};
use crate::axis::{self, BinRange};
use crate::Error;

/// The font, DejaVu Sans (Bitstream Vera licence, `assets/`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name text is drawn with (and that the SVG names).
const FAMILY: &str = "sans-serif";

/// The XML namespace of the metadata elements.
pub const NAMESPACE: &str = "urn:x-flowtools-rs:flow-graph";

/// Band colours, largest band first (a qualitative palette); "other" is
/// [`OTHER`].
pub const PALETTE: [(u8, u8, u8); 20] = [
    (0x1f, 0x77, 0xb4),
    (0xff, 0x7f, 0x0e),
    (0x2c, 0xa0, 0x2c),
    (0xd6, 0x27, 0x28),
    (0x94, 0x67, 0xbd),
    (0x8c, 0x56, 0x4b),
    (0xe3, 0x77, 0xc2),
    (0xbc, 0xbd, 0x22),
    (0x17, 0xbe, 0xcf),
    (0x39, 0x3b, 0x79),
    (0xae, 0xc7, 0xe8),
    (0xff, 0xbb, 0x78),
    (0x98, 0xdf, 0x8a),
    (0xff, 0x98, 0x96),
    (0xc5, 0xb0, 0xd5),
    (0xc4, 0x9c, 0x94),
    (0xf7, 0xb6, 0xd2),
    (0xdb, 0xdb, 0x8d),
    (0x9e, 0xda, 0xe5),
    (0x63, 0x79, 0x39),
];

/// The colour of "other".
pub const OTHER: (u8, u8, u8) = (0xb0, 0xb0, 0xb0);

/// The colour of band `i` of `series`.
pub fn color_of(i: usize, other: bool) -> (u8, u8, u8) {
    if other {
        OTHER
    } else {
        PALETTE[i % PALETTE.len()]
    }
}

/// `#rrggbb`.
pub fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn register_font() -> Result<(), Error> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok()
            && plotters::style::register_font(FAMILY, FontStyle::Bold, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Font)
    }
}

/// Everything one picture shows.
#[derive(Clone, Debug)]
pub struct View<'a> {
    /// The bands.
    pub data: &'a ChartData,
    /// What they measure.
    pub metric: Metric,
    /// The bins (`None`: nothing to draw and no window to draw it in).
    pub range: Option<BinRange>,
    /// The zone of the tick labels.
    pub zone: Zone,
    /// First line.
    pub title: String,
    /// Second line (window, step, filter).
    pub subtitle: String,
    /// Totals of the flows drawn.
    pub totals: Counters,
    /// Flows with zero packets left out.
    pub ignored: u64,
    /// Metric units outside the range (clipped at the window's end).
    pub outside: f64,
    /// Filter description, for the metadata.
    pub filter: String,
    /// Picture size in pixels.
    pub size: (u32, u32),
    /// Draw the legend panel (the HTML report lists the bands itself).
    pub legend: bool,
    /// Draw the title and subtitle (the HTML report has headings).
    pub titles: bool,
    /// Size of the axis and legend text; `None`: from the height.
    pub text_size: Option<f64>,
}

impl View<'_> {
    /// Rate per bin of each band (metric per second, bits for bits).
    pub fn rates(&self) -> Vec<Vec<f64>> {
        let Some(r) = self.range else {
            return Vec::new();
        };
        let f = self.metric.factor();
        self.data
            .series
            .iter()
            .map(|s| {
                s.values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v * f / r.bin_secs(i))
                    .collect()
            })
            .collect()
    }

    /// The message drawn instead of bands, if any.
    pub fn message(&self) -> Option<String> {
        if !self.data.series.is_empty() {
            return None;
        }
        let mut m = if self.range.is_some() {
            "No flows in this window".to_string()
        } else {
            "No flows to draw".to_string()
        };
        if self.ignored > 0 {
            m.push_str(&format!(" ({} flows with 0 packets ignored)", self.ignored));
        }
        Some(m)
    }
}

fn rate_text(v: f64, scale: f64, unit: &str) -> String {
    let s = axis::si(v, scale);
    if s == "0" {
        return s;
    }
    match s.strip_suffix(['k', 'M', 'G', 'T']) {
        Some(_) => format!("{s}{unit}"),
        None => format!("{s} {unit}"),
    }
}

/// A share in percent, `<0.1%` rather than a misleading `0.0%`.
pub fn share_text(pct: f64) -> String {
    if pct > 0.0 && pct < 0.05 {
        "<0.1%".to_string()
    } else {
        format!("{pct:.1}%")
    }
}

fn font(size: f64) -> FontDesc<'static> {
    (FAMILY, size).into_font()
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

type DrawResult<E> = Result<(), DrawingAreaErrorKind<E>>;

/// A piece of text to draw: drawn by plotters into SVG, and by
/// [`rasterise`] into bitmaps.
#[derive(Clone)]
struct Label {
    text: String,
    pos: (i32, i32),
    /// plotters' font size (the SVG font-size is `size / 1.24`).
    size: f64,
    color: RGBColor,
    h: HPos,
    v: VPos,
}

fn label(
    text: impl Into<String>,
    pos: (i32, i32),
    size: f64,
    color: RGBColor,
    h: HPos,
    v: VPos,
) -> Label {
    Label {
        text: text.into(),
        pos,
        size,
        color,
        h,
        v,
    }
}

/// Draws `v` on `root` (pixel coordinates) except its text, which is
/// returned.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    v: &View<'_>,
) -> Result<Vec<Label>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut labels = Vec::new();
    draw_into(root, v, &mut labels)?;
    Ok(labels)
}

fn draw_into<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    v: &View<'_>,
    labels: &mut Vec<Label>,
) -> DrawResult<DB::ErrorType> {
    let ink = RGBColor(0x22, 0x22, 0x22);
    let (w, h) = (v.size.0 as i32, v.size.1 as i32);
    root.fill(&WHITE)?;
    let pad = 12;
    let grey = RGBColor(0x66, 0x66, 0x66);
    let light = RGBColor(0xe4, 0xe4, 0xe4);
    let small = v.text_size.unwrap_or((h as f64 / 38.0).clamp(11.0, 14.0));
    let title_size = (small * 1.6).max((h as f64 / 24.0).clamp(15.0, 22.0));
    let mut y0 = pad + small as i32 / 2;
    if v.titles {
        labels.push(label(
            v.title.clone(),
            (pad, pad),
            title_size,
            ink,
            HPos::Left,
            VPos::Top,
        ));
        labels.push(label(
            truncate(&v.subtitle, (w as usize) / 6),
            (pad, pad + title_size as i32 + 6),
            small,
            grey,
            HPos::Left,
            VPos::Top,
        ));
        y0 = pad + title_size as i32 + small as i32 + 22;
    }
    let legend_w = if v.legend && w >= 560 {
        (w / 4).clamp(150, 250)
    } else {
        0
    };
    let x0 = pad + (small * 6.2) as i32;
    // Without a legend, room for half a time label right of the axis.
    let x1 = w
        - pad
        - legend_w
        - if legend_w > 0 {
            12
        } else {
            (small * 1.6) as i32
        };
    let y1 = h - pad - small as i32 - 10;
    if x1 - x0 < 40 || y1 - y0 < 40 {
        // Too small for axes: the message or nothing.
        return Ok(());
    }

    let rates = v.rates();
    let nb = v.range.map_or(0, |r| r.nbins);
    let mut tops = vec![0.0f64; nb];
    for s in &rates {
        for (t, x) in tops.iter_mut().zip(s) {
            *t += x;
        }
    }
    let peak = tops.iter().copied().fold(0.0, f64::max);
    let ticks = axis::value_ticks(peak, ((y1 - y0) / 45).clamp(2, 8) as usize);
    let top = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let ymap = |val: f64| -> i32 { y1 - ((val / top) * (y1 - y0) as f64).round() as i32 };

    // Value grid and labels.
    for &t in &ticks {
        let y = ymap(t);
        root.draw(&PathElement::new(vec![(x0, y), (x1, y)], light))?;
        labels.push(label(
            rate_text(t, top, v.metric.unit()),
            (x0 - 6, y),
            small,
            ink,
            HPos::Right,
            VPos::Center,
        ));
    }

    // Time grid and labels.
    if let Some(r) = v.range {
        let span = (r.hi_ms - r.lo_ms).max(1) as f64;
        let xmap = |ms: i64| -> i32 {
            x0 + (((ms - r.lo_ms) as f64 / span) * (x1 - x0) as f64).round() as i32
        };
        let max_ticks = ((x1 - x0) as f64 / (small * 4.5)).max(2.0) as usize;
        for t in axis::time_ticks(v.zone, r.lo_ms, r.hi_ms, max_ticks) {
            let x = xmap(t.ms);
            root.draw(&PathElement::new(vec![(x, y0), (x, y1 + 4)], light))?;
            labels.push(label(
                t.label,
                (x, y1 + 6),
                small,
                ink,
                HPos::Center,
                VPos::Top,
            ));
        }

        // The bands, bottom up: each a polygon between the cumulative
        // curve below it and its own top (flat over each bin).
        let mut base = vec![0.0f64; nb];
        for (i, (s, vals)) in v.data.series.iter().zip(&rates).enumerate() {
            let (cr, cg, cb) = color_of(i, s.other);
            let mut pts = Vec::with_capacity(4 * nb);
            for b in 0..nb {
                let y = ymap(base[b] + vals[b]);
                pts.push((xmap(r.bin_start(b)), y));
                pts.push((xmap(r.bin_end(b)), y));
            }
            for b in (0..nb).rev() {
                let y = ymap(base[b]);
                pts.push((xmap(r.bin_end(b)), y));
                pts.push((xmap(r.bin_start(b)), y));
            }
            root.draw(&Polygon::new(pts, RGBColor(cr, cg, cb).filled()))?;
            for (b, x) in base.iter_mut().zip(vals) {
                *b += x;
            }
        }
    }

    // Frame and axes.
    root.draw(&PathElement::new(
        vec![(x0, y0), (x0, y1), (x1, y1)],
        RGBColor(0x44, 0x44, 0x44).stroke_width(1),
    ))?;

    if let Some(m) = v.message() {
        let cx = (x0 + x1) / 2;
        let cy = (y0 + y1) / 2;
        root.draw(&Rectangle::new(
            [(x0 + 1, y0), (x1, y1 - 1)],
            RGBColor(0xf6, 0xf6, 0xf6).filled(),
        ))?;
        labels.push(label(
            m,
            (cx, cy),
            title_size,
            ink,
            HPos::Center,
            VPos::Center,
        ));
    }

    // Legend: a swatch, the label, the share of the metric.
    if legend_w > 0 {
        let lx = w - pad - legend_w;
        let total = v.metric.of(&v.totals).max(1) as f64;
        let row = (small * 1.75) as i32;
        let mut y = y0;
        let footer_rows = 4;
        let max_rows = ((y1 - y0) / row - footer_rows).max(1) as usize;
        let n = v.data.series.len();
        let shown = if n > max_rows { max_rows - 1 } else { n };
        let chars = ((legend_w as f64 - small * 5.5) / (small * 0.62)).max(6.0) as usize;
        for (i, s) in v.data.series.iter().enumerate().take(shown) {
            let (cr, cg, cb) = color_of(i, s.other);
            let sq = small as i32;
            root.draw(&Rectangle::new(
                [(lx, y), (lx + sq, y + sq)],
                RGBColor(cr, cg, cb).filled(),
            ))?;
            labels.push(label(
                truncate(&s.label, chars),
                (lx + sq + 6, y + sq / 2),
                small,
                ink,
                HPos::Left,
                VPos::Center,
            ));
            let share = 100.0 * v.metric.of(&s.totals) as f64 / total;
            labels.push(label(
                share_text(share),
                (w - pad, y + sq / 2),
                small,
                grey,
                HPos::Right,
                VPos::Center,
            ));
            y += row;
        }
        if shown < n {
            labels.push(label(
                format!("… {} more", n - shown),
                (lx, y),
                small,
                grey,
                HPos::Left,
                VPos::Top,
            ));
            y += row;
        }
        // Totals.
        y += row / 2;
        let lines = [
            format!("{} flows", axis::count_text(v.totals.flows)),
            axis::bytes_text(v.totals.octets),
            format!("{} packets", axis::count_text(v.totals.packets)),
        ];
        for l in lines {
            if y + row > y1 + row {
                break;
            }
            labels.push(label(l, (lx, y), small, grey, HPos::Left, VPos::Top));
            y += row;
        }
    }
    Ok(())
}

fn draw_error<E: std::error::Error + Send + Sync + 'static>(e: DrawingAreaErrorKind<E>) -> Error {
    Error::Draw(Box::new(e))
}

/// The chart as an SVG document, with the metadata described in the
/// module docs.
pub fn svg(v: &View<'_>) -> Result<String, Error> {
    register_font()?;
    let mut body = String::new();
    {
        let root = SVGBackend::with_string(&mut body, v.size).into_drawing_area();
        let labels = draw(&root, v).map_err(draw_error)?;
        for l in labels {
            let style = font(l.size).color(&l.color).pos(Pos::new(l.h, l.v));
            root.draw(&Text::new(l.text, l.pos, style))
                .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)?;
    }
    Ok(with_metadata(&body, v))
}

/// The chart as a PNG image.
pub fn png(v: &View<'_>) -> Result<Vec<u8>, Error> {
    register_font()?;
    let (w, h) = v.size;
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, v.size).into_drawing_area();
        let labels = draw(&root, v).map_err(draw_error)?;
        root.present().map_err(draw_error)?;
        drop(root);
        rasterise(&mut rgb, v.size, &labels)?;
    }
    let mut out = Vec::new();
    let mut enc = ::png::Encoder::new(&mut out, w, h);
    enc.set_color(::png::ColorType::Rgb);
    enc.set_depth(::png::BitDepth::Eight);
    let mut writer = enc.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}

/// Draws `labels` into an RGB buffer with the built-in font: glyphs
/// placed with their advances, kerning and side bearings, blended by
/// coverage.
fn rasterise(rgb: &mut [u8], (w, h): (u32, u32), labels: &[Label]) -> Result<(), Error> {
    use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _};
    let font = FontRef::try_from_slice(FONT).map_err(|_| Error::Font)?;
    let upem = font.units_per_em().unwrap_or(2048.0);
    for l in labels {
        // plotters' size is 1.24 em (the SVG says font-size = size / 1.24).
        let em = (l.size / 1.24) as f32;
        let scale = PxScale::from(em * font.height_unscaled() / upem);
        let sf = font.as_scaled(scale);
        let mut width = 0.0f32;
        let mut prev = None;
        for c in l.text.chars() {
            let g = sf.glyph_id(c);
            if let Some(p) = prev {
                width += sf.kern(p, g);
            }
            width += sf.h_advance(g);
            prev = Some(g);
        }
        let x = l.pos.0 as f32
            - match l.h {
                HPos::Left => 0.0,
                HPos::Center => width / 2.0,
                HPos::Right => width,
            };
        let (asc, desc) = (sf.ascent(), sf.descent());
        let baseline = l.pos.1 as f32
            + match l.v {
                VPos::Top => asc,
                VPos::Center => (asc + desc) / 2.0,
                VPos::Bottom => desc,
            };
        let mut caret = x;
        let mut prev = None;
        for c in l.text.chars() {
            let g = sf.glyph_id(c);
            if let Some(p) = prev {
                caret += sf.kern(p, g);
            }
            prev = Some(g);
            let glyph = g.with_scale_and_position(scale, ab_glyph::point(caret, baseline));
            caret += sf.h_advance(g);
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let b = outline.px_bounds();
            let RGBColor(cr, cg, cb) = l.color;
            outline.draw(|gx, gy, cov| {
                let px = b.min.x as i64 + gx as i64;
                let py = b.min.y as i64 + gy as i64;
                if px < 0 || py < 0 || px >= w as i64 || py >= h as i64 {
                    return;
                }
                let i = (py as usize * w as usize + px as usize) * 3;
                let a = cov.clamp(0.0, 1.0);
                for (k, c) in [cr, cg, cb].into_iter().enumerate() {
                    let old = rgb[i + k] as f32;
                    rgb[i + k] = (old + (c as f32 - old) * a).round() as u8;
                }
            });
        }
    }
    Ok(())
}

/// XML-escapes text for an attribute or element.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// Inserts title, desc and metadata after the opening `<svg>` tag.
fn with_metadata(body: &str, v: &View<'_>) -> String {
    let mut meta = String::new();
    let e = xml_escape;
    meta.push_str(&format!("<title>{}</title>\n", e(&v.title)));
    meta.push_str(&format!(
        "<desc>{}. {} flows, {} octets, {} packets.</desc>\n",
        e(&v.subtitle),
        v.totals.flows,
        v.totals.octets,
        v.totals.packets
    ));
    meta.push_str("<metadata>\n");
    let (lo, hi, step, bins) = match v.range {
        Some(r) => (
            (r.lo_ms / 1000).to_string(),
            (r.hi_ms / 1000).to_string(),
            (r.step_ms / 1000).to_string(),
            r.nbins,
        ),
        None => (String::new(), String::new(), String::new(), 0),
    };
    meta.push_str(&format!(
        "<fg:graph by=\"{}\" metric=\"{}\" start=\"{lo}\" end=\"{hi}\" step=\"{step}\" bins=\"{bins}\" flows=\"{}\" octets=\"{}\" packets=\"{}\" ignored=\"{}\" outside=\"{:.0}\" filter=\"{}\"/>\n",
        v.data.by.name(),
        v.metric.name(),
        v.totals.flows,
        v.totals.octets,
        v.totals.packets,
        v.ignored,
        v.outside,
        e(&v.filter),
    ));
    for (i, s) in v.data.series.iter().enumerate() {
        meta.push_str(&format!(
            "<fg:series label=\"{}\" color=\"{}\" other=\"{}\" flows=\"{}\" octets=\"{}\" packets=\"{}\"/>\n",
            e(&s.label),
            hex(color_of(i, s.other)),
            s.other,
            s.totals.flows,
            s.totals.octets,
            s.totals.packets
        ));
    }
    meta.push_str("</metadata>\n");
    let svg_ns = "xmlns=\"http://www.w3.org/2000/svg\"";
    let body = body.replacen(svg_ns, &format!("{svg_ns} xmlns:fg=\"{NAMESPACE}\""), 1);
    match body.find(">\n") {
        Some(i) => format!("{}{}{}", &body[..i + 2], meta, &body[i + 2..]),
        None => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{By, Series};

    fn view(data: &ChartData, range: Option<BinRange>) -> View<'_> {
        View {
            data,
            metric: Metric::Bits,
            range,
            zone: Zone::UTC,
            title: "bits/s by protocol".into(),
            subtitle: "a <window>".into(),
            totals: Counters {
                flows: 2,
                octets: 3000,
                packets: 3,
                duration: 0,
            },
            ignored: 0,
            outside: 0.0,
            filter: "-e '1 < 2'".into(),
            size: (800, 400),
            legend: true,
            titles: true,
            text_size: None,
        }
    }

    #[test]
    fn svg_has_bands_legend_and_metadata() {
        let data = ChartData {
            by: By::Proto,
            series: vec![
                Series {
                    label: "tcp".into(),
                    other: false,
                    values: vec![2000.0, 0.0],
                    totals: Counters {
                        flows: 1,
                        octets: 2000,
                        packets: 2,
                        duration: 0,
                    },
                },
                Series {
                    label: "other".into(),
                    other: true,
                    values: vec![0.0, 1000.0],
                    totals: Counters {
                        flows: 1,
                        octets: 1000,
                        packets: 1,
                        duration: 0,
                    },
                },
            ],
        };
        let r = BinRange::new(0, 600_000, 300).unwrap();
        let s = svg(&view(&data, Some(r))).unwrap();
        assert!(s.contains("<title>bits/s by protocol</title>"));
        assert!(s.contains("<desc>a &lt;window&gt;. 2 flows, 3000 octets, 3 packets.</desc>"));
        assert!(s.contains("filter=\"-e &apos;1 &lt; 2&apos;\""));
        assert!(s.contains("<fg:series label=\"tcp\" color=\"#1f77b4\""));
        assert!(
            s.contains("fill=\"#1F77B4\"") || s.contains("fill=\"#1f77b4\""),
            "{s}"
        );
        assert!(s.contains(">\ntcp\n</text>") || s.contains(">tcp"), "{s}");
        assert!(s.contains("xmlns:fg="));
        let png = png(&view(&data, Some(r))).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn nothing_to_draw_says_so() {
        let data = ChartData {
            by: By::Src,
            series: Vec::new(),
        };
        let s = svg(&view(&data, None)).unwrap();
        assert!(s.contains("No flows to draw"), "{s}");
        let r = BinRange::new(0, 600_000, 300).unwrap();
        let s = svg(&view(&data, Some(r))).unwrap();
        assert!(s.contains("No flows in this window"));
        // Tiny pictures do not panic.
        let mut v = view(&data, Some(r));
        v.size = (10, 10);
        svg(&v).unwrap();
        png(&v).unwrap();
    }

    #[test]
    fn rates_are_per_second_and_bits() {
        let data = ChartData {
            by: By::Proto,
            series: vec![Series {
                label: "tcp".into(),
                other: false,
                values: vec![300.0, 60.0],
                totals: Counters::default(),
            }],
        };
        let r = BinRange::new(0, 360_000, 300).unwrap();
        assert_eq!(view(&data, Some(r)).rates(), vec![vec![8.0, 8.0]]);
    }
}
