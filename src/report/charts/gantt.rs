//! The what-if chart: one lane per setting of the rule, its pending (amber) and firing (red)
//! periods over time, the rule's own first firing marked across every lane, so a reader sees
//! at a glance which settings would have paged earlier, later or not at all.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::*;
use super::style::*;
use super::{BandKind, DrawResult, GanttChart};

const LABEL_W: u32 = 250;
const PENDING: RGBColor = RGBColor(244, 190, 80);
const FIRING: RGBColor = RGBColor(214, 56, 56);

/// The chart's height for `rows` lanes.
pub(super) fn height(rows: usize) -> u32 {
    (40 + 8 + 28 * rows.max(1) as u32 + 44 + 30).max(160)
}

pub(super) fn draw_gantt<DB: DrawingBackend>(
    c: &GanttChart,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let body = draw_title(root, &c.title)?;
    let (_, h) = body.dim_in_pixel();
    let (plot_area, legend_area) = body.split_vertically(h.saturating_sub(30));
    let (t0, t1) = time_range(c.start, c.end);
    let (x0, x1) = (t0 as f64, t1 as f64);
    let (x_ticks, x_pattern) = time_ticks(t0, t1);
    let n = c.rows.len().max(1) as f64;
    let tick_style = TextStyle::from(font(13)).color(&TEXT);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_top(8)
        .margin_right(20)
        .margin_left(6)
        .x_label_area_size(44)
        .y_label_area_size(LABEL_W)
        .build_cartesian_2d(
            Axis {
                lo: x0,
                hi: x1,
                ticks: x_ticks,
            },
            Axis {
                lo: 0.0,
                hi: n,
                ticks: Vec::new(),
            },
        )?;
    let x_fmt = |v: &f64| fmt_time(*v, x_pattern);
    chart
        .configure_mesh()
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS.stroke_width(1))
        .label_style(tick_style)
        .axis_desc_style(TextStyle::from(font(14)).color(&TEXT))
        .x_label_formatter(&x_fmt)
        .x_desc("time (UTC)")
        .draw()?;
    // Lanes from the top: row i spans [n - i - 1, n - i].
    for (i, row) in c.rows.iter().enumerate() {
        let top = n - i as f64;
        let (lo, hi) = (top - 0.82, top - 0.18);
        for kind in [BandKind::Pending, BandKind::Firing] {
            let color = match kind {
                BandKind::Pending => PENDING,
                BandKind::Firing => FIRING,
            };
            let bars = row.bands.iter().filter(|b| b.kind == kind).filter_map(|b| {
                let (a, z) = ((b.start as f64).max(x0), (b.end as f64).min(x1));
                (a <= z).then(|| Rectangle::new([(a, lo), (z, hi)], color.filled()))
            });
            chart.draw_series(bars)?;
        }
        let y = top - 0.5;
        let label_style = text_style(
            if i == 0 { bold(13) } else { font(13) },
            &TEXT,
            HPos::Right,
            VPos::Center,
        );
        let (px, py) = chart.backend_coord(&(x0, y));
        let label = fit(root, &row.label, &label_style, LABEL_W as i32 - 16);
        root.draw(&Text::new(label, (px - 8, py), label_style))?;
    }
    if let Some(at) = c.marker.map(|m| m as f64).filter(|m| (x0..=x1).contains(m)) {
        chart.draw_series(DashedLineSeries::new(
            vec![(at, 0.0), (at, n)],
            6,
            4,
            TEXT.stroke_width(1),
        ))?;
    }
    if c.rows.iter().all(|r| r.bands.is_empty()) {
        let (cx, cy) = chart.plotting_area().get_pixel_range();
        let style = text_style(font(15), &MUTED, HPos::Center, VPos::Center);
        root.draw(&Text::new(
            "no setting was ever pending",
            ((cx.start + cx.end) / 2, (cy.start + cy.end) / 2),
            style,
        ))?;
    }
    // The legend, in one line under the plot.
    let style = text_style(font(13), &TEXT, HPos::Left, VPos::Center);
    let mut x = LABEL_W as i32 + 10;
    let y = 14;
    for (color, word) in [(PENDING, "pending"), (FIRING, "firing")] {
        legend_area.draw(&Rectangle::new(
            [(x, y - 6), (x + 22, y + 6)],
            color.filled(),
        ))?;
        legend_area.draw(&Text::new(word, (x + 28, y), style.clone()))?;
        x += 28 + text_width(&legend_area, word, &style) + 24;
    }
    if c.marker.is_some() {
        legend_area.draw(&PathElement::new(
            vec![(x, y), (x + 22, y)],
            TEXT.stroke_width(1),
        ))?;
        legend_area.draw(&Text::new(
            "the rule first fires",
            (x + 28, y),
            style.clone(),
        ))?;
    }
    Ok(())
}
