//! The "Errors by type" pie: wedges clockwise from 12 o'clock in a stable palette, the tail
//! grouped into one "N more" wedge, and a legend of label, count and percentage.

use std::f64::consts::PI;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::*;
use super::{DrawResult, PieChart, Slice};

pub(super) const PIE_AREA_W: u32 = 300;
pub(super) const PIE_ROW: i32 = 24;
/// The wedge and swatch of the "N more" group.
pub(super) const MORE_COLOR: RGBColor = RGBColor(199, 199, 199);

/// One wedge and legend row: a slice, or the "N more" group of the smallest remaining ones.
pub(super) struct Wedge {
    color: RGBColor,
    label: String,
    value: f64,
    /// The share of the whole, in `0..=1`.
    frac: f64,
}

/// The wedges to draw: positive finite slices in the given order, the tail grouped into one
/// "N more" wedge when there are more than `max_rows`. Empty when there is nothing to draw.
pub(super) fn wedges(slices: &[Slice], max_rows: usize) -> Vec<Wedge> {
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

pub(super) fn draw_pie<DB: DrawingBackend>(
    c: &PieChart,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let body = draw_title(root, &c.title)?;

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

pub(super) fn polar(center: (i32, i32), r: f64, angle: f64) -> (i32, i32) {
    let (sin, cos) = angle.sin_cos();
    (
        (center.0 as f64 + r * cos).round() as i32,
        (center.1 as f64 + r * sin).round() as i32,
    )
}

pub(super) fn luminance(RGBColor(r, g, b): RGBColor) -> f64 {
    0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64
}

/// The legend: swatch, label, count (right-aligned) and percentage, then the total.
pub(super) fn draw_pie_legend<DB: DrawingBackend>(
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
