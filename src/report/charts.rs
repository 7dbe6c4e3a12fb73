//! Charts, drawn with plotters: the error rate against the threshold with pending and firing
//! periods shaded, and the "Errors by type" pie (the runbook's Grafana panel). Pure functions
//! returning SVG or PNG bytes. PNG text is drawn with the DejaVu Sans font embedded in the
//! binary (it also sizes the SVG's `<text>` for layout), so no system font library is needed.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::model::time::format_clock;
use crate::model::Millis;

/// A shaded period on the rate chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandKind {
    Pending,
    Firing,
}

#[derive(Clone, Debug)]
pub struct Band {
    pub start: Millis,
    pub end: Millis,
    pub kind: BandKind,
}

/// A line; `None` points are gaps (no data).
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub points: Vec<(Millis, Option<f64>)>,
}

#[derive(Clone, Debug)]
pub struct RateChart {
    pub title: String,
    pub y_label: String,
    pub threshold: f64,
    pub lines: Vec<Line>,
    pub bands: Vec<Band>,
    pub start: Millis,
    pub end: Millis,
}

#[derive(Clone, Debug)]
pub struct Slice {
    pub label: String,
    pub value: f64,
}

#[derive(Clone, Debug)]
pub struct PieChart {
    pub title: String,
    pub slices: Vec<Slice>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

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

const FONT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));
const FAMILY: &str = "sans-serif";

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The embedded font is known to be valid; a failure would only lose PNG text.
            let _ = register_font(FAMILY, style, FONT);
        }
    });
}

const RATE_SIZE: (u32, u32) = (1000, 440);
const PIE_SIZE: (u32, u32) = (720, 420);

/// A stable palette (Grafana-like), used in order.
const PALETTE: [RGBColor; 10] = [
    RGBColor(115, 191, 105),
    RGBColor(242, 204, 12),
    RGBColor(87, 148, 242),
    RGBColor(255, 120, 10),
    RGBColor(242, 73, 92),
    RGBColor(184, 119, 217),
    RGBColor(112, 219, 237),
    RGBColor(250, 100, 0),
    RGBColor(150, 150, 150),
    RGBColor(31, 96, 196),
];
const LINE_COLORS: [RGBColor; 4] = [
    RGBColor(31, 96, 196),
    RGBColor(224, 47, 68),
    RGBColor(55, 135, 45),
    RGBColor(143, 59, 184),
];
const PENDING: RGBColor = RGBColor(255, 200, 80);
const FIRING: RGBColor = RGBColor(242, 73, 92);

fn draw_err<E: std::fmt::Debug>(chart: &'static str) -> impl Fn(E) -> ChartError {
    move |e| ChartError::Draw {
        chart,
        message: format!("{e:?}"),
    }
}

/// Renders on an SVG string or an RGB buffer encoded as PNG.
fn render_with(
    size: (u32, u32),
    format: ImageFormat,
    chart: &'static str,
    draw: impl Fn(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ChartError>,
    draw_png: impl Fn(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), ChartError>,
) -> Result<Vec<u8>, ChartError> {
    // Both backends measure text with the registered font (for layout); PNG also draws with it.
    register_fonts();
    match format {
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                draw(&root)?;
                root.present().map_err(draw_err(chart))?;
            }
            Ok(svg.into_bytes())
        }
        ImageFormat::Png => {
            let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                draw_png(&root)?;
                root.present().map_err(draw_err(chart))?;
            }
            let mut png = Vec::new();
            use image::ImageEncoder;
            image::codecs::png::PngEncoder::new(&mut png)
                .write_image(&rgb, size.0, size.1, image::ColorType::Rgb8)
                .map_err(|e| ChartError::Encode {
                    chart,
                    message: e.to_string(),
                })?;
            Ok(png)
        }
    }
}

/// Splits a line into runs of finite points (gaps at `None`, NaN and infinities).
fn segments(points: &[(Millis, Option<f64>)]) -> Vec<Vec<(Millis, f64)>> {
    let mut out = vec![Vec::new()];
    for &(t, v) in points {
        match v.filter(|v| v.is_finite()) {
            Some(v) => out.last_mut().expect("non-empty").push((t, v)),
            None if !out.last().expect("non-empty").is_empty() => out.push(Vec::new()),
            None => {}
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn draw_rate<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &RateChart,
) -> Result<(), ChartError> {
    let e = draw_err("error rate");
    root.fill(&WHITE).map_err(&e)?;
    let (start, mut end) = (c.start, c.end);
    if end <= start {
        end = start + 60_000;
    }
    let data_max = c
        .lines
        .iter()
        .flat_map(|l| l.points.iter().filter_map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let y_max = (data_max.max(c.threshold) * 1.6).max(0.01);
    let mut chart = ChartBuilder::on(root)
        .caption(&c.title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(start..end, 0f64..y_max)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&|t| format_clock(*t)[..5].to_owned())
        .y_label_formatter(&|v| format!("{v:.2}"))
        .x_desc("time (UTC)")
        .y_desc(&c.y_label)
        .light_line_style(RGBColor(235, 235, 235))
        .label_style((FAMILY, 13))
        .draw()
        .map_err(&e)?;
    for (kind, color, label) in [
        (BandKind::Pending, PENDING, "pending"),
        (BandKind::Firing, FIRING, "firing"),
    ] {
        let rects: Vec<Rectangle<(Millis, f64)>> = c
            .bands
            .iter()
            .filter(|b| b.kind == kind)
            .map(|b| {
                Rectangle::new(
                    [(b.start.max(start), 0.0), (b.end.min(end), y_max)],
                    color.mix(0.22).filled(),
                )
            })
            .collect();
        if !rects.is_empty() {
            chart
                .draw_series(rects)
                .map_err(&e)?
                .label(label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 18, y + 6)], color.mix(0.4).filled())
                });
        }
    }
    let thr = c.threshold;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(start, thr), (end, thr)],
            8,
            5,
            BLACK.stroke_width(2),
        ))
        .map_err(&e)?
        .label(format!("threshold {thr}/s"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
    for (i, line) in c.lines.iter().enumerate() {
        let color = LINE_COLORS[i % LINE_COLORS.len()];
        let mut first = true;
        for seg in segments(&line.points) {
            let drawn = chart
                .draw_series(LineSeries::new(seg, color.stroke_width(2)))
                .map_err(&e)?;
            if first {
                drawn.label(line.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
                first = false;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FAMILY, 13))
        .draw()
        .map_err(&e)?;
    Ok(())
}

fn draw_pie<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &PieChart,
) -> Result<(), ChartError> {
    let e = draw_err("errors by type");
    root.fill(&WHITE).map_err(&e)?;
    let root = root.titled(&c.title, (FAMILY, 20)).map_err(&e)?;
    let slices: Vec<&Slice> = c
        .slices
        .iter()
        .filter(|s| s.value.is_finite() && s.value > 0.0)
        .collect();
    let total: f64 = slices.iter().map(|s| s.value).sum();
    let (w, h) = root.dim_in_pixel();
    if slices.is_empty() {
        root.draw(&Text::new(
            "no errors",
            ((w / 2) as i32 - 40, (h / 2) as i32),
            (FAMILY, 18),
        ))
        .map_err(&e)?;
        return Ok(());
    }
    let center = ((h / 2) as i32 + 10, (h / 2) as i32);
    let radius = (h as f64 / 2.0 - 24.0).max(20.0);
    let sizes: Vec<f64> = slices.iter().map(|s| s.value).collect();
    let colors: Vec<RGBColor> = (0..slices.len())
        .map(|i| PALETTE[i % PALETTE.len()])
        .collect();
    let labels: Vec<String> = vec![String::new(); slices.len()];
    if slices.len() == 1 {
        root.draw(&Circle::new(center, radius as i32, colors[0].filled()))
            .map_err(&e)?;
    } else {
        let mut pie = Pie::new(&center, &radius, &sizes, &colors, &labels);
        pie.start_angle(-90.0);
        root.draw(&pie).map_err(&e)?;
    }
    let x = center.0 + radius as i32 + 30;
    for (i, s) in slices.iter().enumerate() {
        let y = 30 + i as i32 * 24;
        root.draw(&Rectangle::new(
            [(x, y - 7), (x + 14, y + 7)],
            colors[i].filled(),
        ))
        .map_err(&e)?;
        let text = format!(
            "{}  {}  ({:.1}%)",
            s.label,
            s.value,
            s.value / total * 100.0
        );
        root.draw(&Text::new(text, (x + 22, y - 7), (FAMILY, 14)))
            .map_err(&e)?;
    }
    Ok(())
}

/// The error-rate chart.
pub fn render_rate(chart: &RateChart, format: ImageFormat) -> Result<Vec<u8>, ChartError> {
    render_with(
        RATE_SIZE,
        format,
        "error rate",
        |r| draw_rate(r, chart),
        |r| draw_rate(r, chart),
    )
}

/// The errors-by-type pie.
pub fn render_pie(chart: &PieChart, format: ImageFormat) -> Result<Vec<u8>, ChartError> {
    render_with(
        PIE_SIZE,
        format,
        "errors by type",
        |r| draw_pie(r, chart),
        |r| draw_pie(r, chart),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate_example() -> RateChart {
        let t0 = 1_763_629_200_000; // 2026-11-20T09:00:00Z
        let points: Vec<(Millis, Option<f64>)> = (0..240)
            .map(|i| {
                let t = t0 + i * 15_000;
                let v = if (80..160).contains(&i) { 0.25 } else { 0.02 };
                (t, if i < 3 { None } else { Some(v) })
            })
            .collect();
        RateChart {
            title: "HighGenerationErrorRate: error rate".into(),
            y_label: "errors/s".into(),
            threshold: 0.1,
            lines: vec![Line {
                label: "total".into(),
                points,
            }],
            bands: vec![
                Band {
                    start: t0 + 80 * 15_000,
                    end: t0 + 100 * 15_000,
                    kind: BandKind::Pending,
                },
                Band {
                    start: t0 + 100 * 15_000,
                    end: t0 + 170 * 15_000,
                    kind: BandKind::Firing,
                },
            ],
            start: t0,
            end: t0 + 240 * 15_000,
        }
    }

    #[test]
    fn svg_has_title_threshold_and_is_deterministic() {
        let c = rate_example();
        let a = render_rate(&c, ImageFormat::Svg).unwrap();
        let b = render_rate(&c, ImageFormat::Svg).unwrap();
        assert_eq!(a, b);
        let s = String::from_utf8(a).unwrap();
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert!(
            s.contains("HighGenerationErrorRate")
                && s.contains("threshold 0.1/s")
                && s.contains("firing")
        );
    }

    #[test]
    fn png_is_a_png() {
        let png = render_rate(&rate_example(), ImageFormat::Png).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let pie = PieChart {
            title: "Errors by type".into(),
            slices: vec![
                Slice {
                    label: "a".into(),
                    value: 3.0,
                },
                Slice {
                    label: "b".into(),
                    value: 1.0,
                },
            ],
        };
        assert!(render_pie(&pie, ImageFormat::Png)
            .unwrap()
            .starts_with(b"\x89PNG"));
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let empty = RateChart {
            title: "t".into(),
            y_label: "y".into(),
            threshold: 0.0,
            lines: vec![Line {
                label: "x".into(),
                points: vec![(5, None), (6, Some(f64::NAN))],
            }],
            bands: vec![],
            start: 5,
            end: 5,
        };
        render_rate(&empty, ImageFormat::Svg).unwrap();
        render_rate(&empty, ImageFormat::Png).unwrap();
        for slices in [
            vec![],
            vec![Slice {
                label: "only".into(),
                value: 4.0,
            }],
        ] {
            let pie = PieChart {
                title: "p".into(),
                slices,
            };
            render_pie(&pie, ImageFormat::Svg).unwrap();
            render_pie(&pie, ImageFormat::Png).unwrap();
        }
    }
}
