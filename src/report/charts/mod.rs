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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::register_font;

use crate::model::Millis;

mod axis;
mod gantt;
mod pie;
pub mod specs;
mod style;
mod timeseries;

pub use specs::{specs, Chart, ChartSpec};

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

/// One lane of the what-if chart: a setting of the rule and its pending and firing periods.
#[derive(Clone, Debug)]
pub struct GanttRow {
    pub label: String,
    pub bands: Vec<Band>,
}

/// The what-if chart: one lane per setting (the first is the rule's own).
#[derive(Clone, Debug)]
pub struct GanttChart {
    pub title: String,
    pub rows: Vec<GanttRow>,
    /// The rule's first firing, marked across the lanes.
    pub marker: Option<Millis>,
    pub start: Millis,
    pub end: Millis,
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

/// Renders the what-if chart (1000 px wide, 28 px per lane) as SVG text or PNG bytes.
pub fn render_gantt(chart: &GanttChart, format: ImageFormat) -> Result<Vec<u8>, ChartError> {
    let size = (1000, gantt::height(chart.rows.len()));
    render(chart, "what-if", size, format)
}

// Rendering plumbing

const RATE_SIZE: (u32, u32) = (1000, 420);
const PIE_SIZE: (u32, u32) = (640, 420);

pub(super) const FONT: &str = "sans-serif";
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

pub(super) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart that can paint itself on any plotters backend.
trait Paint {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

impl Paint for RateChart {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        timeseries::draw_rate(self, root)
    }
}

impl Paint for GanttChart {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        gantt::draw_gantt(self, root)
    }
}

impl Paint for PieChart {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        pie::draw_pie(self, root)
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
            // The SVG, rasterized: the same drawing, text shaped properly.
            let svg = render(chart, name, (w, h), ImageFormat::Svg)?;
            rasterize(&svg, (w, h)).map_err(|message| ChartError::Encode {
                chart: name,
                message,
            })
        }
    }
}

/// An SVG chart as PNG, drawn by resvg with the embedded font as every family.
fn rasterize(svg: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    static FONTS: std::sync::OnceLock<std::sync::Arc<usvg::fontdb::Database>> =
        std::sync::OnceLock::new();
    let fontdb = FONTS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(FONT_BYTES.to_vec());
        let family = db
            .faces()
            .next()
            .and_then(|f| f.families.first().map(|(name, _)| name.clone()))
            .unwrap_or_else(|| "DejaVu Sans".to_owned());
        db.set_sans_serif_family(family.clone());
        db.set_serif_family(family.clone());
        db.set_monospace_family(family);
        std::sync::Arc::new(db)
    });
    let options = usvg::Options {
        fontdb: fontdb.clone(),
        font_family: "sans-serif".to_owned(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_data(svg, &options).map_err(|e| e.to_string())?;
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or("a chart of no size")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::axis::DAY_MS;
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
        let img = resvg::tiny_skia::Pixmap::decode_png(bytes).expect("PNG decodes");
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
