//! Incident charts, drawn with plotters, returned as SVG or PNG bytes (no file I/O).
//!
//! * [`render_rate`]: the error rate over time (x: UTC `HH:MM`, y: errors/s from 0), one line per
//!   [`Line`] (the first is the total, drawn on top), the alert threshold as a dashed red line,
//!   and the alert's pending (amber) and firing (red) periods shaded behind the data. The legend
//!   sits in its own panel to the right of the plot, so it never covers data. [`Mark`]s draw
//!   vertical lines at moments the cluster or the logs point to: container terminations (solid
//!   purple), cluster warnings (dashed brown), restarts and silences seen in the logs (dotted
//!   teal); the legend lists only the kinds present.
//! * [`render_pie`]: "Errors by type", like the Grafana pie panel: one wedge per [`Slice`] in the
//!   order given (clockwise from 12 o'clock, in a stable palette), and a legend listing label,
//!   count and percentage, then the total. Slices that are not positive and finite are left out;
//!   beyond 13 slices the first 12 are kept and the rest grouped into one grey "N more" wedge,
//!   so pass them largest first. No slice left: the chart says "no errors".
//!
//! Text in PNGs is rasterised from the DejaVu Sans font embedded in the binary
//! (`assets/fonts/DejaVuSans.ttf`), registered once with plotters as "sans-serif", so no system
//! font library is needed. SVGs carry text as `<text font-family="sans-serif">` elements; the
//! embedded font is still used there to measure text for layout, so both formats lay out alike.
//!
//! Rendering is deterministic: the same input gives byte-identical output. Bad input never
//! panics: empty or all-gap lines, a single point, `start == end`, a zero threshold and
//! non-finite values are all drawn sensibly (non-finite values are skipped as gaps).

use std::f64::consts::PI;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use chrono::DateTime;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::model::Millis;

/// One shaded band on the rate chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandKind {
    /// The alert condition held but the `for:` duration had not elapsed yet (shaded amber).
    Pending,
    /// The alert was firing (shaded red).
    Firing,
}

/// A shaded period `[start, end]` on the rate chart; it is clipped to the chart's time range.
#[derive(Clone, Debug)]
pub struct Band {
    pub start: Millis,
    pub end: Millis,
    pub kind: BandKind,
}

/// A line on the rate chart. A `None` (or non-finite) value is a gap: no data there.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub points: Vec<(Millis, Option<f64>)>,
}

/// What a vertical mark on the rate chart stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkKind {
    /// A container terminated (pod status).
    Termination,
    /// A Warning event from the cluster.
    Warning,
    /// A start, end or silence the logs show.
    LogRestart,
}

/// A moment marked with a vertical line; outside the chart's time range it is not drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub at: Millis,
    pub kind: MarkKind,
}

/// The error rate against the alert threshold.
#[derive(Clone, Debug)]
pub struct RateChart {
    pub title: String,
    /// The y axis caption, e.g. "errors/s".
    pub y_label: String,
    /// The alert threshold in the y unit, drawn as a dashed line labelled "threshold 0.1/s".
    /// A negative or non-finite threshold is neither drawn nor listed in the legend.
    pub threshold: f64,
    /// What the dashed line is called in its label ("threshold", "limit").
    pub threshold_name: String,
    /// The first line is the total, the others the top series.
    pub lines: Vec<Line>,
    pub bands: Vec<Band>,
    pub marks: Vec<Mark>,
    /// The time range shown (UTC epoch milliseconds).
    pub start: Millis,
    pub end: Millis,
}

/// One wedge of the pie.
#[derive(Clone, Debug)]
pub struct Slice {
    pub label: String,
    pub value: f64,
}

/// The "Errors by type" pie. Slices should come largest first (see the module docs).
#[derive(Clone, Debug)]
pub struct PieChart {
    pub title: String,
    pub slices: Vec<Slice>,
}

/// The image format to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

/// Why a chart could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("drawing the {chart} chart failed: {message}")]
    Draw {
        chart: &'static str,
        message: String,
    },
    #[error("encoding the {chart} chart as PNG failed: {message}")]
    Encode {
        chart: &'static str,
        message: String,
    },
}

/// Renders the error-rate chart (1000×420 px) as SVG text or PNG bytes.
pub fn render_rate(chart: &RateChart, format: ImageFormat) -> Result<Vec<u8>, ChartError> {
    render(chart, "error rate", RATE_SIZE, format)
}

/// Renders the "Errors by type" pie (640×420 px) as SVG text or PNG bytes.
pub fn render_pie(chart: &PieChart, format: ImageFormat) -> Result<Vec<u8>, ChartError> {
    render(chart, "errors by type", PIE_SIZE, format)
}

// ---------------------------------------------------------------------------------------------
// Rendering plumbing

const RATE_SIZE: (u32, u32) = (1000, 420);
const PIE_SIZE: (u32, u32) = (640, 420);

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));
static FONT_INIT: Once = Once::new();
static FONT_OK: AtomicBool = AtomicBool::new(false);

/// Registers the embedded font as "sans-serif" (Normal and Bold) once per process.
fn ensure_font(chart: &'static str) -> Result<(), ChartError> {
    FONT_INIT.call_once(|| {
        let ok = register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
            && register_font(FONT, FontStyle::Bold, FONT_BYTES).is_ok();
        FONT_OK.store(ok, Ordering::SeqCst);
    });
    if FONT_OK.load(Ordering::SeqCst) {
        Ok(())
    } else {
        Err(ChartError::Draw {
            chart,
            message: "the embedded DejaVu Sans font could not be loaded".to_owned(),
        })
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart that can paint itself on any plotters backend.
trait Paint {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

impl Paint for RateChart {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        draw_rate(self, root)
    }
}

impl Paint for PieChart {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        draw_pie(self, root)
    }
}

fn render<C: Paint>(
    chart: &C,
    name: &'static str,
    (w, h): (u32, u32),
    format: ImageFormat,
) -> Result<Vec<u8>, ChartError> {
    // The font also measures text for the SVG layout, so it is needed for both formats.
    ensure_font(name)?;
    let draw_err = |e: String| ChartError::Draw {
        chart: name,
        message: e,
    };
    match format {
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                chart.paint(&root).map_err(|e| draw_err(e.to_string()))?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
            }
            Ok(svg.into_bytes())
        }
        ImageFormat::Png => {
            let mut rgb = vec![255u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                chart.paint(&root).map_err(|e| draw_err(e.to_string()))?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
            }
            encode_png(&rgb, w, h).map_err(|e| ChartError::Encode {
                chart: name,
                message: e.to_string(),
            })
        }
    }
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> image::ImageResult<Vec<u8>> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(rgb, w, h, image::ColorType::Rgb8)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Colours and text

const TEXT: RGBColor = RGBColor(33, 33, 33);
const MUTED: RGBColor = RGBColor(110, 110, 110);
const GRID: RGBColor = RGBColor(226, 226, 226);
const AXIS: RGBColor = RGBColor(150, 150, 150);
const THRESHOLD: RGBColor = RGBColor(200, 30, 30);
const PENDING_FILL: RGBColor = RGBColor(255, 230, 170);
const FIRING_FILL: RGBColor = RGBColor(255, 196, 196);
const LEGEND_BORDER: RGBColor = RGBColor(210, 210, 210);
const TERMINATION: RGBColor = RGBColor(118, 42, 131);
const WARNING: RGBColor = RGBColor(140, 86, 75);
const LOG_RESTART: RGBColor = RGBColor(0, 128, 128);

impl MarkKind {
    fn color(self) -> RGBColor {
        match self {
            MarkKind::Termination => TERMINATION,
            MarkKind::Warning => WARNING,
            MarkKind::LogRestart => LOG_RESTART,
        }
    }

    /// Dash and gap lengths in pixels (a solid line has no gap).
    fn dashes(self) -> (u32, u32) {
        match self {
            MarkKind::Termination => (1, 0),
            MarkKind::Warning => (7, 4),
            MarkKind::LogRestart => (2, 3),
        }
    }

    fn label(self) -> &'static str {
        match self {
            MarkKind::Termination => "container terminated",
            MarkKind::Warning => "cluster warning",
            MarkKind::LogRestart => "restart/silence in logs",
        }
    }
}

/// The total line.
const TOTAL_COLOR: RGBColor = RGBColor(31, 119, 180);
/// The other lines, in order (no red: red means threshold and firing).
const SERIES_COLORS: [RGBColor; 8] = [
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// Pie wedges, in the order given (Tableau 10, as Grafana's classic palette).
const PIE_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour `i` of `palette`; later rounds are paler so wedges stay distinguishable.
fn palette_color(palette: &[RGBColor], i: usize) -> RGBColor {
    let RGBColor(r, g, b) = palette[i % palette.len()];
    let round = (i / palette.len()).min(3) as f64;
    let mix = |c: u8| (c as f64 + (255.0 - c as f64) * 0.22 * round).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

fn series_color(i: usize) -> RGBColor {
    if i == 0 {
        TOTAL_COLOR
    } else {
        palette_color(&SERIES_COLORS, i - 1)
    }
}

fn font(size: u32) -> FontDesc<'static> {
    (FONT, size).into_font()
}

fn bold(size: u32) -> FontDesc<'static> {
    (FONT, size).into_font().style(FontStyle::Bold)
}

fn text_style(f: FontDesc<'static>, color: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    let mut style = TextStyle::from(f).pos(Pos::new(h, v));
    style.color = color.to_backend_color();
    style
}

/// Width in pixels of `text` in `style` (0 if it cannot be measured).
fn text_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
) -> i32 {
    area.estimate_text_size(text, style)
        .map(|(w, _)| w as i32)
        .unwrap_or(0)
}

/// `text`, shortened with an ellipsis so that it fits in `max` pixels.
fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max: i32,
) -> String {
    if text_width(area, text, style) <= max {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut n = chars.len();
    while n > 0 {
        n -= 1;
        let candidate: String = chars[..n].iter().collect::<String>() + "…";
        if text_width(area, &candidate, style) <= max {
            return candidate;
        }
    }
    String::new()
}

/// A short human number: 0.1, 0.05, 2, 12.5, 1500.
fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let magnitude = v.abs().log10().floor();
    let decimals = (2.0 - magnitude).clamp(0.0, 9.0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A count: integral values without decimals, others with up to two.
fn fmt_count(v: f64) -> String {
    if !v.is_finite() || v.abs() >= 1e15 {
        format!("{v:.2e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// The rate chart

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
const TITLE_H: u32 = 40;
const RATE_LEGEND_W: u32 = 215;

/// A linear `f64` axis whose ticks (and grid lines) are exactly `ticks`.
#[derive(Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (a, b): (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let frac = if span > 0.0 && span.is_finite() {
            (value - self.lo) / span
        } else {
            0.5
        };
        let px = a as f64 + (b - a) as f64 * frac.clamp(-1.0, 2.0);
        px.round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// The shown time range with `x0 < x1`: reversed ends are swapped, `start == end` is widened
/// by five minutes each way.
fn time_range(start: Millis, end: Millis) -> (i64, i64) {
    let (a, b) = if start <= end {
        (start, end)
    } else {
        (end, start)
    };
    if a == b {
        (
            a.saturating_sub(5 * MINUTE_MS),
            b.saturating_add(5 * MINUTE_MS),
        )
    } else {
        (a, b)
    }
}

/// Tick positions (aligned to round UTC times) and the strftime pattern for their labels.
fn time_ticks(x0: i64, x1: i64) -> (Vec<f64>, &'static str) {
    const SEC: i64 = 1000;
    const STEPS: [i64; 26] = [
        SEC,
        2 * SEC,
        5 * SEC,
        10 * SEC,
        15 * SEC,
        30 * SEC,
        MINUTE_MS,
        2 * MINUTE_MS,
        5 * MINUTE_MS,
        10 * MINUTE_MS,
        15 * MINUTE_MS,
        20 * MINUTE_MS,
        30 * MINUTE_MS,
        HOUR_MS,
        2 * HOUR_MS,
        3 * HOUR_MS,
        4 * HOUR_MS,
        6 * HOUR_MS,
        12 * HOUR_MS,
        DAY_MS,
        2 * DAY_MS,
        7 * DAY_MS,
        14 * DAY_MS,
        30 * DAY_MS,
        90 * DAY_MS,
        365 * DAY_MS,
    ];
    let span = x1 as i128 - x0 as i128;
    let multi_day = span >= DAY_MS as i128;
    // Fewer ticks where the labels are wider than HH:MM.
    let max_ticks: i128 = if multi_day {
        7
    } else if span < 10 * MINUTE_MS as i128 {
        8
    } else {
        10
    };
    let step = STEPS
        .iter()
        .map(|&s| s as i128)
        .find(|&s| span / s <= max_ticks)
        .unwrap_or_else(|| (span / max_ticks / DAY_MS as i128 + 1) * DAY_MS as i128);
    let pattern = if step < MINUTE_MS as i128 {
        "%H:%M:%S"
    } else if step >= DAY_MS as i128 {
        "%Y-%m-%d"
    } else if multi_day {
        "%m-%d %H:%M"
    } else {
        "%H:%M"
    };
    let first = (x0 as i128).div_euclid(step) * step
        + if (x0 as i128).rem_euclid(step) == 0 {
            0
        } else {
            step
        };
    let mut ticks = Vec::new();
    let mut t = first;
    while t <= x1 as i128 && ticks.len() <= max_ticks as usize + 1 {
        ticks.push(t as f64);
        t += step;
    }
    (ticks, pattern)
}

fn fmt_time(ms: f64, pattern: &str) -> String {
    DateTime::from_timestamp_millis(ms.round() as i64)
        .map(|t| t.format(pattern).to_string())
        .unwrap_or_default()
}

/// A round step of about `x`: 1, 2 or 5 times a power of ten.
fn nice_step(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    let f = x / p;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * p
}

/// The y range top, its tick positions and their labels.
fn y_axis(max_value: f64) -> (f64, Vec<f64>, Vec<String>) {
    let max_value = if max_value.is_finite() && max_value > 0.0 {
        max_value.min(1e300)
    } else {
        1.0
    };
    let target = max_value * 1.15;
    let step = nice_step(target / 5.0);
    let n = (target / step).ceil().clamp(1.0, 12.0) as usize;
    let top = step * n as f64;
    let ticks: Vec<f64> = (0..=n).map(|i| step * i as f64).collect();
    let scientific = !(1e-4..1e6).contains(&step);
    let decimals = (-step.log10().floor()).clamp(0.0, 12.0) as usize;
    let labels = ticks
        .iter()
        .map(|&v| {
            if v == 0.0 {
                "0".to_owned()
            } else if scientific {
                format!("{v:.1e}")
            } else {
                format!("{v:.decimals$}")
            }
        })
        .collect();
    (top, ticks, labels)
}

/// The visible, gap-free runs of a line, clipped to `[x0, x1]` (values below 0 are drawn at 0).
fn line_runs(line: &Line, x0: f64, x1: f64) -> Vec<Vec<(f64, f64)>> {
    let mut points = line.points.clone();
    points.sort_by_key(|&(t, _)| t);
    let mut runs = Vec::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    for (t, v) in points {
        match v {
            Some(v) if v.is_finite() => run.push((t as f64, v.max(0.0))),
            _ => {
                if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
            }
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs.iter()
        .map(|r| clip_run(r, x0, x1))
        .filter(|r| !r.is_empty())
        .collect()
}

fn clip_run(run: &[(f64, f64)], x0: f64, x1: f64) -> Vec<(f64, f64)> {
    let lerp =
        |(ax, ay): (f64, f64), (bx, by): (f64, f64), x: f64| ay + (by - ay) * (x - ax) / (bx - ax);
    let mut out = Vec::new();
    for (i, &p) in run.iter().enumerate() {
        if p.0 < x0 {
            continue;
        }
        let prev = if i > 0 { Some(run[i - 1]) } else { None };
        if p.0 <= x1 {
            if let Some(q) = prev.filter(|q| q.0 < x0) {
                out.push((x0, lerp(q, p, x0)));
            }
            out.push(p);
        } else {
            if let Some(q) = prev.filter(|q| q.0 <= x1) {
                if q.0 < x0 {
                    out.push((x0, lerp(q, p, x0)));
                }
                out.push((x1, lerp(q, p, x1)));
            }
            break;
        }
    }
    out
}

fn draw_rate<DB: DrawingBackend>(c: &RateChart, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (width, _) = root.dim_in_pixel();
    let (title_area, body) = root.split_vertically(TITLE_H);
    let title_style = text_style(bold(19), &TEXT, HPos::Center, VPos::Center);
    let title = fit(&title_area, &c.title, &title_style, width as i32 - 20);
    title_area.draw(&Text::new(
        title,
        (width as i32 / 2, TITLE_H as i32 / 2 + 2),
        title_style,
    ))?;

    let (plot_area, legend_area) = body.split_horizontally(width - RATE_LEGEND_W);

    let (t0, t1) = time_range(c.start, c.end);
    let (x0, x1) = (t0 as f64, t1 as f64);
    let (x_ticks, x_pattern) = time_ticks(t0, t1);

    let runs: Vec<Vec<Vec<(f64, f64)>>> = c.lines.iter().map(|l| line_runs(l, x0, x1)).collect();
    let data_max = runs
        .iter()
        .flatten()
        .flatten()
        .map(|&(_, y)| y)
        .fold(0.0, f64::max);
    let threshold = Some(c.threshold).filter(|t| t.is_finite() && *t >= 0.0);
    let (y_top, y_ticks, y_labels) = y_axis(data_max.max(threshold.unwrap_or(0.0)));
    let tick_style = TextStyle::from(font(13)).color(&TEXT);
    let y_label_w = y_labels
        .iter()
        .map(|l| text_width(&plot_area, l, &tick_style))
        .max()
        .unwrap_or(0);

    let mut chart = ChartBuilder::on(&plot_area)
        .margin_top(8)
        .margin_right(16)
        .margin_left(6)
        .margin_bottom(4)
        .x_label_area_size(44)
        .y_label_area_size((y_label_w + 40).clamp(56, 140))
        .build_cartesian_2d(
            Axis {
                lo: x0,
                hi: x1,
                ticks: x_ticks,
            },
            Axis {
                lo: 0.0,
                hi: y_top,
                ticks: y_ticks.clone(),
            },
        )?;

    // Bands first, so everything else is drawn over them.
    let bands = c.bands.iter().filter_map(|b| {
        let (a, z) = if b.start <= b.end {
            (b.start as f64, b.end as f64)
        } else {
            (b.end as f64, b.start as f64)
        };
        let (a, z) = (a.max(x0), z.min(x1));
        (a <= z).then(|| {
            let fill = match b.kind {
                BandKind::Pending => PENDING_FILL,
                BandKind::Firing => FIRING_FILL,
            };
            Rectangle::new([(a, 0.0), (z, y_top)], fill.filled())
        })
    });
    chart.draw_series(bands)?;

    // Marks over the bands, under the lines.
    for m in &c.marks {
        let x = m.at as f64;
        if x < x0 || x > x1 {
            continue;
        }
        let style = m.kind.color().stroke_width(2);
        match m.kind.dashes() {
            (_, 0) => {
                chart.draw_series(LineSeries::new(vec![(x, 0.0), (x, y_top)], style))?;
            }
            (dash, gap) => {
                chart.draw_series(DashedLineSeries::new(
                    vec![(x, 0.0), (x, y_top)],
                    dash,
                    gap,
                    style,
                ))?;
            }
        }
    }

    let x_fmt = |v: &f64| fmt_time(*v, x_pattern);
    let y_fmt = |v: &f64| {
        y_ticks
            .iter()
            .position(|t| t == v)
            .map(|i| y_labels[i].clone())
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS.stroke_width(1))
        .label_style(tick_style.clone())
        .axis_desc_style(TextStyle::from(font(14)).color(&TEXT))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc("time (UTC)")
        .y_desc(c.y_label.as_str())
        .draw()?;

    let unit = if c.y_label.ends_with("/s") {
        "/s"
    } else if c.y_label == "MiB" {
        " MiB"
    } else {
        ""
    };
    let threshold_label = format!("{} {}{unit}", c.threshold_name, fmt_num(c.threshold));
    if let Some(t) = threshold {
        chart.draw_series(DashedLineSeries::new(
            vec![(x0, t), (x1, t)],
            9,
            6,
            THRESHOLD.stroke_width(2),
        ))?;
        // Label the line at its right end, above it (below it if it is at the very top).
        let y_px = chart.backend_coord(&(x1, t)).1;
        let plot_top = chart.backend_coord(&(x1, y_top)).1;
        let (v, dy) = if y_px - plot_top < 22 {
            (VPos::Top, 5)
        } else {
            (VPos::Bottom, -5)
        };
        chart.draw_series(std::iter::once(
            EmptyElement::at((x1, t))
                + Text::new(
                    threshold_label.clone(),
                    (-6, dy),
                    text_style(font(13), &THRESHOLD, HPos::Right, v),
                ),
        ))?;
    }

    // Series lines first, the total last so it stays on top.
    for (i, line_runs) in runs.iter().enumerate().rev() {
        let color = series_color(i);
        let width = if i == 0 { 3 } else { 2 };
        for run in line_runs {
            if run.len() == 1 {
                chart.draw_series(std::iter::once(Circle::new(run[0], 3, color.filled())))?;
            } else {
                chart.draw_series(LineSeries::new(
                    run.iter().copied(),
                    color.stroke_width(width),
                ))?;
            }
        }
    }

    if runs.iter().all(|r| r.is_empty()) {
        let (cx, cy) = chart.plotting_area().get_pixel_range();
        let at = ((cx.start + cx.end) / 2, (cy.start + cy.end) / 2);
        root.draw(&Text::new(
            "no data in this time range",
            at,
            text_style(font(16), &MUTED, HPos::Center, VPos::Center),
        ))?;
    }

    let threshold_label = threshold.map(|_| threshold_label);
    draw_rate_legend(c, &legend_area, threshold_label.as_deref())
}

fn draw_rate_legend<DB: DrawingBackend>(
    c: &RateChart,
    area: &DrawingArea<DB, Shift>,
    threshold_label: Option<&str>,
) -> DrawResult<DB> {
    const ROW: i32 = 22;
    const SWATCH: i32 = 26;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let left = 4;
    let right = w - 12;
    let top = 10;
    let label_x = left + 10 + SWATCH + 8;
    let style = text_style(font(13), &TEXT, HPos::Left, VPos::Center);
    let max_label = right - 8 - label_x;

    enum Swatch {
        Line(RGBColor, u32),
        Dashed,
        Fill(RGBColor),
        Mark(MarkKind),
    }
    let mut rows: Vec<(Swatch, String)> = c
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let width = if i == 0 { 3 } else { 2 };
            (Swatch::Line(series_color(i), width), l.label.clone())
        })
        .collect();
    let fixed: Vec<(Swatch, String)> = threshold_label
        .map(|l| (Swatch::Dashed, l.to_owned()))
        .into_iter()
        .chain(
            [
                (Swatch::Fill(PENDING_FILL), "pending".to_owned()),
                (Swatch::Fill(FIRING_FILL), "firing".to_owned()),
            ]
            .into_iter()
            .filter(|_| !c.bands.is_empty() || c.threshold_name == "threshold"),
        )
        .chain({
            let (x0, x1) = time_range(c.start, c.end);
            let mut kinds: Vec<MarkKind> = c
                .marks
                .iter()
                .filter(|m| m.at >= x0 && m.at <= x1)
                .map(|m| m.kind)
                .collect();
            kinds.sort();
            kinds.dedup();
            kinds
                .into_iter()
                .map(|k| (Swatch::Mark(k), k.label().to_owned()))
        })
        .collect();
    // Keep the legend inside the panel: drop the last series behind a "+N more" row.
    let capacity = ((h - top - 16) / ROW).max(4) as usize;
    let series_room = capacity - fixed.len();
    if rows.len() > series_room {
        let hidden = rows.len() - (series_room - 1);
        rows.truncate(series_room - 1);
        rows.push((Swatch::Fill(WHITE), format!("+{hidden} more")));
    }
    rows.extend(fixed);

    let box_h = rows.len() as i32 * ROW + 12;
    area.draw(&Rectangle::new(
        [(left, top), (right, top + box_h)],
        LEGEND_BORDER.stroke_width(1),
    ))?;
    for (i, (swatch, label)) in rows.iter().enumerate() {
        let y = top + 6 + ROW / 2 + i as i32 * ROW;
        let (sx0, sx1) = (left + 10, left + 10 + SWATCH);
        match swatch {
            Swatch::Line(color, width) => {
                area.draw(&PathElement::new(
                    vec![(sx0, y), (sx1, y)],
                    color.stroke_width(*width),
                ))?;
            }
            Swatch::Dashed => {
                for (a, b) in [(sx0, sx0 + 9), (sx0 + 15, sx1)] {
                    area.draw(&PathElement::new(
                        vec![(a, y), (b, y)],
                        THRESHOLD.stroke_width(2),
                    ))?;
                }
            }
            Swatch::Fill(color) => {
                area.draw(&Rectangle::new(
                    [(sx0, y - 7), (sx1, y + 7)],
                    color.filled(),
                ))?;
            }
            Swatch::Mark(kind) => {
                // A short vertical stroke, dashed as on the plot.
                let x = (sx0 + sx1) / 2;
                let style = kind.color().stroke_width(2);
                let (dash, gap) = kind.dashes();
                let (dash, gap) = if gap == 0 {
                    (14, 0)
                } else {
                    (dash as i32, gap as i32)
                };
                let mut y0 = y - 7;
                while y0 < y + 7 {
                    let y1 = (y0 + dash).min(y + 7);
                    area.draw(&PathElement::new(vec![(x, y0), (x, y1)], style))?;
                    y0 = y1 + gap.max(0);
                    if gap == 0 {
                        break;
                    }
                }
            }
        }
        let text = fit(area, label, &style, max_label);
        area.draw(&Text::new(text, (label_x, y), style.clone()))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The pie chart

const PIE_AREA_W: u32 = 300;
const PIE_ROW: i32 = 24;
/// The wedge and swatch of the "N more" group.
const MORE_COLOR: RGBColor = RGBColor(199, 199, 199);

/// One wedge and legend row: a slice, or the "N more" group of the smallest remaining ones.
struct Wedge {
    color: RGBColor,
    label: String,
    value: f64,
    /// The share of the whole, in `0..=1`.
    frac: f64,
}

/// The wedges to draw: positive finite slices in the given order, the tail grouped into one
/// "N more" wedge when there are more than `max_rows`. Empty when there is nothing to draw.
fn wedges(slices: &[Slice], max_rows: usize) -> Vec<Wedge> {
    let kept: Vec<(usize, &Slice)> = slices
        .iter()
        .enumerate()
        .filter(|(_, s)| s.value.is_finite() && s.value > 0.0)
        .collect();
    // Shares are computed on values scaled by the largest, so huge values cannot overflow.
    let largest = kept.iter().map(|(_, s)| s.value).fold(0.0, f64::max);
    let scaled_total: f64 = kept.iter().map(|(_, s)| s.value / largest).sum();
    if kept.is_empty() || !scaled_total.is_finite() || scaled_total <= 0.0 {
        return Vec::new();
    }
    let frac = |v: f64| v / largest / scaled_total;
    let max_rows = max_rows.max(2);
    let shown = if kept.len() > max_rows {
        max_rows - 1
    } else {
        kept.len()
    };
    let mut out: Vec<Wedge> = kept[..shown]
        .iter()
        .map(|&(i, s)| Wedge {
            color: palette_color(&PIE_COLORS, i),
            label: s.label.clone(),
            value: s.value,
            frac: frac(s.value),
        })
        .collect();
    let rest = &kept[shown..];
    if !rest.is_empty() {
        out.push(Wedge {
            color: MORE_COLOR,
            label: format!("{} more", rest.len()),
            value: rest.iter().map(|(_, s)| s.value).sum(),
            frac: rest.iter().map(|(_, s)| frac(s.value)).sum(),
        });
    }
    out
}

fn draw_pie<DB: DrawingBackend>(c: &PieChart, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (width, _) = root.dim_in_pixel();
    let (title_area, body) = root.split_vertically(TITLE_H);
    let title_style = text_style(bold(19), &TEXT, HPos::Center, VPos::Center);
    let title = fit(&title_area, &c.title, &title_style, width as i32 - 20);
    title_area.draw(&Text::new(
        title,
        (width as i32 / 2, TITLE_H as i32 / 2 + 2),
        title_style,
    ))?;

    let (bw, bh) = body.dim_in_pixel();
    // One legend row is kept for the total.
    let max_rows = ((bh as i32 - 40) / PIE_ROW - 1).max(2) as usize;
    let wedges = wedges(&c.slices, max_rows);
    if wedges.is_empty() {
        body.draw(&Text::new(
            "no errors",
            (bw as i32 / 2, bh as i32 / 2 - 10),
            text_style(font(18), &MUTED, HPos::Center, VPos::Center),
        ))?;
        return Ok(());
    }

    let (pie_area, legend_area) = body.split_horizontally(PIE_AREA_W);
    let (pw, ph) = pie_area.dim_in_pixel();
    let center = (pw as i32 / 2 + 6, ph as i32 / 2 - 6);
    let radius = (pw.min(ph) as f64 / 2.0 - 22.0).max(10.0);

    // Clockwise from 12 o'clock (screen y grows downwards).
    let mut angle = -PI / 2.0;
    let mut boundaries = Vec::new();
    let mut labels = Vec::new();
    for w in &wedges {
        let sweep = w.frac * 2.0 * PI;
        if wedges.len() == 1 {
            pie_area.draw(&Circle::new(
                center,
                radius.round() as i32,
                w.color.filled(),
            ))?;
        } else {
            let steps = (sweep / (PI / 180.0)).ceil().clamp(1.0, 360.0) as usize;
            let mut points = Vec::with_capacity(steps + 2);
            points.push(center);
            for k in 0..=steps {
                points.push(polar(
                    center,
                    radius,
                    angle + sweep * k as f64 / steps as f64,
                ));
            }
            pie_area.draw(&Polygon::new(points, w.color.filled()))?;
            boundaries.push(angle);
        }
        if w.frac >= 0.05 {
            let at = if wedges.len() == 1 {
                center
            } else {
                polar(center, radius * 0.64, angle + sweep / 2.0)
            };
            labels.push((format!("{:.0}%", w.frac * 100.0), at, w.color));
        }
        angle += sweep;
    }
    for a in boundaries {
        pie_area.draw(&PathElement::new(
            vec![center, polar(center, radius + 1.0, a)],
            WHITE.stroke_width(2),
        ))?;
    }
    for (text, at, color) in labels {
        let ink = if luminance(color) > 150.0 {
            TEXT
        } else {
            WHITE
        };
        pie_area.draw(&Text::new(
            text,
            at,
            text_style(bold(14), &ink, HPos::Center, VPos::Center),
        ))?;
    }

    let total = c
        .slices
        .iter()
        .map(|s| s.value)
        .filter(|v| v.is_finite() && *v > 0.0)
        .sum();
    draw_pie_legend(&legend_area, &wedges, total)
}

fn polar(center: (i32, i32), r: f64, angle: f64) -> (i32, i32) {
    let (sin, cos) = angle.sin_cos();
    (
        (center.0 as f64 + r * cos).round() as i32,
        (center.1 as f64 + r * sin).round() as i32,
    )
}

fn luminance(RGBColor(r, g, b): RGBColor) -> f64 {
    0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64
}

/// The legend: swatch, label, count (right-aligned) and percentage, then the total.
fn draw_pie_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    wedges: &[Wedge],
    total: f64,
) -> DrawResult<DB> {
    const GAP: i32 = 16;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let label_style = text_style(font(13), &TEXT, HPos::Left, VPos::Center);
    let count_style = text_style(font(13), &TEXT, HPos::Right, VPos::Center);
    let pct_style = text_style(font(13), &MUTED, HPos::Left, VPos::Center);
    let total_style = text_style(bold(13), &TEXT, HPos::Left, VPos::Center);
    let total_count_style = text_style(bold(13), &TEXT, HPos::Right, VPos::Center);

    let counts: Vec<String> = wedges.iter().map(|w| fmt_count(w.value)).collect();
    let pcts: Vec<String> = wedges
        .iter()
        .map(|w| format!("({:.1}%)", w.frac * 100.0))
        .collect();
    let total_text = fmt_count(total);

    let swatch_x = 8;
    let label_x = swatch_x + 14 + 10;
    let right = w - 14;
    let count_w = counts
        .iter()
        .map(|t| text_width(area, t, &count_style))
        .chain(std::iter::once(text_width(
            area,
            &total_text,
            &total_count_style,
        )))
        .max()
        .unwrap_or(0);
    let pct_w = pcts
        .iter()
        .map(|t| text_width(area, t, &pct_style))
        .max()
        .unwrap_or(0);
    let max_label = (right - label_x - GAP - count_w - 10 - pct_w).max(30);
    let labels: Vec<String> = wedges
        .iter()
        .map(|w| fit(area, &w.label, &label_style, max_label))
        .collect();
    let label_w = labels
        .iter()
        .map(|l| text_width(area, l, &label_style))
        .chain(std::iter::once(text_width(area, "total", &total_style)))
        .max()
        .unwrap_or(0);
    let count_right = label_x + label_w + GAP + count_w;
    let pct_x = count_right + 10;

    let block_h = (wedges.len() as i32 + 1) * PIE_ROW + 8;
    let top = ((h - block_h) / 2 - 6).max(6);
    for (k, wedge) in wedges.iter().enumerate() {
        let y = top + PIE_ROW / 2 + k as i32 * PIE_ROW;
        area.draw(&Rectangle::new(
            [(swatch_x, y - 7), (swatch_x + 14, y + 7)],
            wedge.color.filled(),
        ))?;
        area.draw(&Text::new(
            labels[k].clone(),
            (label_x, y),
            label_style.clone(),
        ))?;
        area.draw(&Text::new(
            counts[k].clone(),
            (count_right, y),
            count_style.clone(),
        ))?;
        area.draw(&Text::new(pcts[k].clone(), (pct_x, y), pct_style.clone()))?;
    }
    let rule_y = top + wedges.len() as i32 * PIE_ROW + 4;
    area.draw(&PathElement::new(
        vec![(label_x, rule_y), (pct_x + pct_w, rule_y)],
        LEGEND_BORDER.stroke_width(1),
    ))?;
    let y = rule_y + 4 + PIE_ROW / 2;
    area.draw(&Text::new("total", (label_x, y), total_style))?;
    area.draw(&Text::new(total_text, (count_right, y), total_count_style))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-05-14T09:00:00Z.
    const T0: Millis = 1_715_677_200_000;
    const MIN: Millis = 60_000;

    /// The total rises above 0.1/s around 09:40 for 15 minutes; two series under it.
    fn incident() -> RateChart {
        let bump = |m: i64, peak: f64| {
            if (38..=56).contains(&m) {
                let x = (m - 38) as f64 / 18.0;
                peak * (PI * x).sin()
            } else {
                0.0
            }
        };
        let noise = |m: i64, k: i64| {
            let x = ((m * 31 + k * 17) as f64 * 12.9898).sin() * 43_758.545;
            (x - x.floor()) * 0.012
        };
        let point = |m: i64, v: f64| {
            (
                T0 + m * MIN,
                if (24..=26).contains(&m) {
                    None
                } else {
                    Some(v)
                },
            )
        };
        let api: Vec<_> = (0..=90)
            .map(|m| point(m, 0.01 + noise(m, 1) + bump(m, 0.22)))
            .collect();
        let timeout: Vec<_> = (0..=90)
            .map(|m| point(m, 0.005 + noise(m, 2) + bump(m, 0.07)))
            .collect();
        let total: Vec<_> = api
            .iter()
            .zip(&timeout)
            .map(|(&(t, a), &(_, b))| (t, a.zip(b).map(|(a, b)| a + b + 0.01)))
            .collect();
        RateChart {
            title: "Error rate, payments-api (namespace prod)".into(),
            y_label: "errors/s".into(),
            threshold: 0.1,
            threshold_name: "threshold".into(),
            lines: vec![
                Line {
                    label: "total".into(),
                    points: total,
                },
                Line {
                    label: "anthropic_api_error".into(),
                    points: api,
                },
                Line {
                    label: "upstream_timeout".into(),
                    points: timeout,
                },
            ],
            bands: vec![
                Band {
                    start: T0 + 40 * MIN,
                    end: T0 + 42 * MIN,
                    kind: BandKind::Pending,
                },
                Band {
                    start: T0 + 42 * MIN,
                    end: T0 + 55 * MIN,
                    kind: BandKind::Firing,
                },
            ],
            marks: vec![
                Mark {
                    at: T0 + 39 * MIN,
                    kind: MarkKind::Termination,
                },
                Mark {
                    at: T0 + 37 * MIN,
                    kind: MarkKind::Warning,
                },
                Mark {
                    at: T0 + 39 * MIN + 10_000,
                    kind: MarkKind::LogRestart,
                },
            ],
            start: T0,
            end: T0 + 90 * MIN,
        }
    }

    fn causes() -> PieChart {
        let s = |label: &str, value: f64| Slice {
            label: label.into(),
            value,
        };
        PieChart {
            title: "Errors by type".into(),
            slices: vec![
                s("anthropic_api_error", 412.0),
                s("upstream_timeout", 121.0),
                s("db_connection_refused", 58.0),
                s("oom_killed", 31.0),
                s("json_decode_error", 19.0),
                s("other", 12.0),
            ],
        }
    }

    fn svg(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).expect("SVG is UTF-8")
    }

    fn assert_svg(bytes: &[u8]) -> String {
        let s = svg(bytes);
        let trimmed = s.trim();
        assert!(
            trimmed.starts_with("<svg"),
            "{}",
            &trimmed[..trimmed.len().min(80)]
        );
        assert!(trimmed.ends_with("</svg>"));
        assert_eq!(s.matches("<text").count(), s.matches("</text>").count());
        s
    }

    fn assert_png(bytes: &[u8], (w, h): (u32, u32)) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .expect("PNG decodes");
        assert_eq!((img.width(), img.height()), (w, h));
    }

    #[test]
    fn rate_svg_has_title_threshold_and_legend() {
        let s = assert_svg(&render_rate(&incident(), ImageFormat::Svg).unwrap());
        assert!(s.contains("Error rate, payments-api (namespace prod)"));
        assert!(s.contains("threshold 0.1/s"));
        for label in [
            "total",
            "anthropic_api_error",
            "upstream_timeout",
            "pending",
            "firing",
            "container terminated",
            "cluster warning",
            "restart/silence in logs",
        ] {
            assert!(s.contains(label), "legend lacks {label}");
        }
        assert!(s.contains("09:40"), "x axis is labelled HH:MM in UTC");
        assert!(s.contains("errors/s"));
    }

    #[test]
    fn rate_png_decodes_to_its_size() {
        assert_png(
            &render_rate(&incident(), ImageFormat::Png).unwrap(),
            RATE_SIZE,
        );
    }

    #[test]
    fn pie_svg_lists_label_count_and_percentage() {
        let s = assert_svg(&render_pie(&causes(), ImageFormat::Svg).unwrap());
        assert!(s.contains("Errors by type"));
        assert!(s.contains("anthropic_api_error"));
        assert!(s.contains(">\n412\n<") || s.contains(">412<") || s.contains("412"));
        assert!(s.contains("(63.1%)"));
        assert!(s.contains("653"), "total row");
    }

    #[test]
    fn pie_png_decodes_to_its_size() {
        assert_png(&render_pie(&causes(), ImageFormat::Png).unwrap(), PIE_SIZE);
    }

    #[test]
    fn output_is_deterministic() {
        for format in [ImageFormat::Svg, ImageFormat::Png] {
            assert_eq!(
                render_rate(&incident(), format).unwrap(),
                render_rate(&incident(), format).unwrap()
            );
            assert_eq!(
                render_pie(&causes(), format).unwrap(),
                render_pie(&causes(), format).unwrap()
            );
        }
    }

    fn rate_edge_cases() -> Vec<RateChart> {
        let base = RateChart {
            title: String::new(),
            y_label: "errors/s".into(),
            threshold: 0.1,
            threshold_name: "threshold".into(),
            lines: vec![],
            bands: vec![],
            marks: vec![Mark {
                at: T0 - MIN,
                kind: MarkKind::Warning,
            }],
            start: T0,
            end: T0 + 60 * MIN,
        };
        let with = |f: &dyn Fn(&mut RateChart)| {
            let mut c = base.clone();
            f(&mut c);
            c
        };
        let line = |points: Vec<(Millis, Option<f64>)>| Line {
            label: "total".into(),
            points,
        };
        vec![
            base.clone(),
            with(&|c| c.lines = vec![line(vec![])]),
            with(&|c| c.lines = vec![line(vec![(T0, None), (T0 + MIN, None)])]),
            with(&|c| c.lines = vec![line(vec![(T0 + MIN, Some(0.3))])]),
            with(&|c| {
                c.end = c.start;
                c.lines = vec![line(vec![(T0, Some(0.2))])];
                c.bands = vec![Band {
                    start: T0,
                    end: T0,
                    kind: BandKind::Firing,
                }];
            }),
            with(&|c| {
                c.start = T0 + 60 * MIN;
                c.end = T0; // reversed
            }),
            with(&|c| c.threshold = 0.0),
            with(&|c| c.threshold = f64::NAN),
            with(&|c| c.threshold = -1.0),
            with(&|c| {
                c.threshold = f64::INFINITY;
                c.lines = vec![line(vec![
                    (T0, Some(f64::NAN)),
                    (T0 + MIN, Some(f64::INFINITY)),
                    (T0 + 2 * MIN, Some(f64::NEG_INFINITY)),
                    (T0 + 3 * MIN, Some(0.5)),
                    (T0 + 4 * MIN, Some(-0.5)),
                    (T0 + 5 * MIN, Some(f64::MAX)),
                    (T0 + 6 * MIN, Some(f64::MIN_POSITIVE)),
                ])];
            }),
            with(&|c| {
                // Points and bands outside the range, out of order, overlapping.
                c.lines = vec![line(vec![
                    (T0 + 90 * MIN, Some(5.0)),
                    (T0 - 30 * MIN, Some(1.0)),
                    (T0 + 30 * MIN, Some(0.2)),
                ])];
                c.bands = vec![
                    Band {
                        start: T0 + 70 * MIN,
                        end: T0 + 80 * MIN,
                        kind: BandKind::Pending,
                    },
                    Band {
                        start: T0 + 50 * MIN,
                        end: T0 - 10 * MIN,
                        kind: BandKind::Firing,
                    },
                ];
            }),
            with(&|c| {
                c.start = i64::MIN;
                c.end = i64::MAX;
                c.lines = vec![line(vec![(i64::MIN, Some(1.0)), (i64::MAX, Some(2.0))])];
            }),
            with(&|c| {
                c.start = i64::MAX;
                c.end = i64::MAX;
            }),
            with(&|c| {
                c.title = "a very long title ".repeat(20);
                c.lines = (0..30)
                    .map(|i| Line {
                        label: format!("series_with_a_rather_long_name_{i}"),
                        points: vec![(T0, Some(i as f64)), (T0 + MIN, Some(1e-9))],
                    })
                    .collect();
            }),
            with(&|c| c.end = c.start + 20_000), // 20 seconds
            with(&|c| c.end = c.start + 40 * DAY_MS),
        ]
    }

    #[test]
    fn rate_edge_cases_do_not_panic() {
        for (i, chart) in rate_edge_cases().iter().enumerate() {
            for format in [ImageFormat::Svg, ImageFormat::Png] {
                let bytes = render_rate(chart, format)
                    .unwrap_or_else(|e| panic!("case {i} ({format:?}): {e}"));
                match format {
                    ImageFormat::Svg => {
                        assert_svg(&bytes);
                    }
                    ImageFormat::Png => assert_png(&bytes, RATE_SIZE),
                }
            }
        }
    }

    #[test]
    fn zero_threshold_is_labelled() {
        let mut c = incident();
        c.threshold = 0.0;
        let s = svg(&render_rate(&c, ImageFormat::Svg).unwrap());
        assert!(s.contains("threshold 0/s"));
    }

    fn pie_edge_cases() -> Vec<PieChart> {
        let s = |label: &str, value: f64| Slice {
            label: label.into(),
            value,
        };
        let cases = vec![
            vec![],
            vec![s("only", 5.0)],
            vec![s("zero", 0.0), s("nan", f64::NAN), s("neg", -3.0)],
            vec![s("inf", f64::INFINITY), s("a", 1.0)],
            vec![s("a", f64::MAX), s("b", f64::MAX)],
            vec![s("tiny", 1e-300), s("big", 1.0), s("fraction", 2.5)],
            (0..40)
                .map(|i| {
                    s(
                        &format!("a_really_long_error_type_name_number_{i}"),
                        1.0 + i as f64,
                    )
                })
                .collect(),
        ];
        cases
            .into_iter()
            .map(|slices| PieChart {
                title: "Errors by type".into(),
                slices,
            })
            .collect()
    }

    #[test]
    fn pie_edge_cases_do_not_panic() {
        for (i, chart) in pie_edge_cases().iter().enumerate() {
            for format in [ImageFormat::Svg, ImageFormat::Png] {
                let bytes = render_pie(chart, format)
                    .unwrap_or_else(|e| panic!("case {i} ({format:?}): {e}"));
                match format {
                    ImageFormat::Svg => {
                        assert_svg(&bytes);
                    }
                    ImageFormat::Png => assert_png(&bytes, PIE_SIZE),
                }
            }
        }
    }

    #[test]
    fn empty_pie_says_no_errors() {
        let chart = PieChart {
            title: "Errors by type".into(),
            slices: vec![],
        };
        assert!(svg(&render_pie(&chart, ImageFormat::Svg).unwrap()).contains("no errors"));
    }

    #[test]
    fn time_ticks_are_round_utc_minutes() {
        let (ticks, pattern) = time_ticks(T0 + 3 * MIN + 17, T0 + 93 * MIN);
        assert_eq!(pattern, "%H:%M");
        let labels: Vec<String> = ticks.iter().map(|&t| fmt_time(t, pattern)).collect();
        assert_eq!(
            labels,
            ["09:10", "09:20", "09:30", "09:40", "09:50", "10:00", "10:10", "10:20", "10:30"]
        );
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(fmt_num(0.1), "0.1");
        assert_eq!(fmt_num(0.05), "0.05");
        assert_eq!(fmt_num(2.0), "2");
        assert_eq!(fmt_num(1500.0), "1500");
        assert_eq!(fmt_count(412.0), "412");
        assert_eq!(fmt_count(2.5), "2.5");
    }

    /// Writes the example charts to `$TMPDIR/postmortem-chart-examples/` for a person to look
    /// at: `cargo test --release write_examples -- --ignored`.
    #[test]
    #[ignore]
    fn write_examples() {
        let dir = std::env::temp_dir().join("postmortem-chart-examples");
        std::fs::create_dir_all(&dir).unwrap();
        for (format, ext) in [(ImageFormat::Svg, "svg"), (ImageFormat::Png, "png")] {
            let rate = render_rate(&incident(), format).unwrap();
            std::fs::write(dir.join(format!("error_rate.{ext}")), rate).unwrap();
            let pie = render_pie(&causes(), format).unwrap();
            std::fs::write(dir.join(format!("errors_by_type.{ext}")), pie).unwrap();
        }
        for (i, c) in rate_edge_cases().iter().enumerate() {
            let png = render_rate(c, ImageFormat::Png).unwrap();
            std::fs::write(dir.join(format!("edge_rate_{i}.png")), png).unwrap();
        }
        for (i, c) in pie_edge_cases().iter().enumerate() {
            let png = render_pie(c, ImageFormat::Png).unwrap();
            std::fs::write(dir.join(format!("edge_pie_{i}.png")), png).unwrap();
        }
    }
}
