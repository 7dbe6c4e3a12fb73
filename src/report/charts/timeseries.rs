//! The time-series chart: lines over time against a threshold (or a limit), the alert's
//! pending and firing periods shaded, moments marked, and the legend in its own panel.

use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::*;
use super::style::*;
use super::{BandKind, DrawResult, Line, MarkKind, RateChart};

pub(super) const RATE_LEGEND_W: u32 = 215;

/// The visible, gap-free runs of a line, clipped to `[x0, x1]` (values below 0 are drawn at 0).
pub(super) fn line_runs(line: &Line, x0: f64, x1: f64) -> Vec<Vec<(f64, f64)>> {
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

pub(super) fn clip_run(run: &[(f64, f64)], x0: f64, x1: f64) -> Vec<(f64, f64)> {
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

/// The plot's coordinates: time on x, the value on y, both with their own ticks.
type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// The alert's pending and firing periods shaded, then the moments marked: under everything
/// else.
fn draw_backdrop<DB: DrawingBackend>(
    chart: &mut Plot<'_, DB>,
    c: &RateChart,
    (x0, x1): (f64, f64),
    y_top: f64,
) -> DrawResult<DB> {
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

    // Marks over the bands, under the lines, each with a word at the top of the plot: the
    // gravest kinds first, a word left out where it would overlap one already written.
    let mut taken: Vec<(i32, i32)> = Vec::new();
    let mut marks: Vec<&super::Mark> = c.marks.iter().collect();
    marks.sort_by_key(|m| (m.kind.priority(), m.at));
    for m in marks {
        let x = m.at as f64;
        if x < x0 || x > x1 {
            continue;
        }
        let word = m.kind.short();
        let style = text_style(font(11), &m.kind.color(), HPos::Left, VPos::Top);
        let left = chart.backend_coord(&(x, y_top)).0 + 3;
        let right = left + 6 * word.len() as i32;
        if taken.iter().all(|&(l, r)| right + 3 < l || left > r + 3) {
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, y_top)) + Text::new(word, (3, 2), style),
            ))?;
            taken.push((left, right));
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

    Ok(())
}

/// The threshold (or limit) as a dashed line labelled at its right end; returns its label
/// for the legend (`None` when there is no threshold to draw).
fn draw_threshold<DB: DrawingBackend>(
    chart: &mut Plot<'_, DB>,
    c: &RateChart,
    threshold: Option<f64>,
    (x0, x1, y_top): (f64, f64, f64),
) -> Result<Option<String>, DrawingAreaErrorKind<DB::ErrorType>> {
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

    Ok(threshold.map(|_| threshold_label))
}

pub(super) fn draw_rate<DB: DrawingBackend>(
    c: &RateChart,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let body = draw_title(root, &c.title)?;
    let (width, _) = root.dim_in_pixel();
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

    draw_backdrop(&mut chart, c, (x0, x1), y_top)?;

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

    let threshold_label = draw_threshold(&mut chart, c, threshold, (x0, x1, y_top))?;

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

    draw_rate_legend(c, &legend_area, threshold_label.as_deref())
}

pub(super) fn draw_rate_legend<DB: DrawingBackend>(
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
