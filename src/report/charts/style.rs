//! Colours, fonts and text: the palettes, the marks' styles, text measured and fitted with
//! the embedded font, and short numbers for labels.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{MarkKind, FONT};

/// The height of a chart's title band.
const TITLE_H: u32 = 40;

/// Clears the chart and draws its title, centred in a band at the top (shortened to fit);
/// returns the area below it.
pub(super) fn draw_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (width, _) = root.dim_in_pixel();
    let (title_area, body) = root.split_vertically(TITLE_H);
    let title_style = text_style(bold(19), &TEXT, HPos::Center, VPos::Center);
    let title = fit(&title_area, title, &title_style, width as i32 - 20);
    title_area.draw(&Text::new(
        title,
        (width as i32 / 2, TITLE_H as i32 / 2 + 2),
        title_style,
    ))?;
    Ok(body)
}

pub(super) const TEXT: RGBColor = RGBColor(33, 33, 33);
pub(super) const MUTED: RGBColor = RGBColor(110, 110, 110);
pub(super) const GRID: RGBColor = RGBColor(226, 226, 226);
pub(super) const AXIS: RGBColor = RGBColor(150, 150, 150);
pub(super) const THRESHOLD: RGBColor = RGBColor(200, 30, 30);
pub(super) const PENDING_FILL: RGBColor = RGBColor(255, 230, 170);
pub(super) const FIRING_FILL: RGBColor = RGBColor(255, 196, 196);
pub(super) const LEGEND_BORDER: RGBColor = RGBColor(210, 210, 210);
pub(super) const TERMINATION: RGBColor = RGBColor(118, 42, 131);
pub(super) const WARNING: RGBColor = RGBColor(140, 86, 75);
pub(super) const LOG_RESTART: RGBColor = RGBColor(0, 128, 128);

impl MarkKind {
    pub(super) fn color(self) -> RGBColor {
        match self {
            MarkKind::Termination => TERMINATION,
            MarkKind::Warning => WARNING,
            MarkKind::LogRestart => LOG_RESTART,
        }
    }

    /// Dash and gap lengths in pixels (a solid line has no gap).
    pub(super) fn dashes(self) -> (u32, u32) {
        match self {
            MarkKind::Termination => (1, 0),
            MarkKind::Warning => (7, 4),
            MarkKind::LogRestart => (2, 3),
        }
    }

    /// Which marks get their word first where words would overlap (lowest first).
    pub(super) fn priority(self) -> u8 {
        match self {
            MarkKind::Termination => 0,
            MarkKind::LogRestart => 1,
            MarkKind::Warning => 2,
        }
    }

    /// The word written at the top of the mark's line.
    pub(super) fn short(self) -> &'static str {
        match self {
            MarkKind::Termination => "terminated",
            MarkKind::Warning => "warning",
            MarkKind::LogRestart => "restart",
        }
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            MarkKind::Termination => "container terminated",
            MarkKind::Warning => "cluster warning",
            MarkKind::LogRestart => "restart/silence in logs",
        }
    }
}

/// The total line.
pub(super) const TOTAL_COLOR: RGBColor = RGBColor(31, 119, 180);
/// The other lines, in order (no red: red means threshold and firing).
pub(super) const SERIES_COLORS: [RGBColor; 8] = [
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
pub(super) const PIE_COLORS: [RGBColor; 10] = [
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
pub(super) fn palette_color(palette: &[RGBColor], i: usize) -> RGBColor {
    let RGBColor(r, g, b) = palette[i % palette.len()];
    let round = (i / palette.len()).min(3) as f64;
    let mix = |c: u8| (c as f64 + (255.0 - c as f64) * 0.22 * round).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

pub(super) fn series_color(i: usize) -> RGBColor {
    if i == 0 {
        TOTAL_COLOR
    } else {
        palette_color(&SERIES_COLORS, i - 1)
    }
}

pub(super) fn font(size: u32) -> FontDesc<'static> {
    (FONT, size).into_font()
}

pub(super) fn bold(size: u32) -> FontDesc<'static> {
    (FONT, size).into_font().style(FontStyle::Bold)
}

pub(super) fn text_style(
    f: FontDesc<'static>,
    color: &RGBColor,
    h: HPos,
    v: VPos,
) -> TextStyle<'static> {
    let mut style = TextStyle::from(f).pos(Pos::new(h, v));
    style.color = color.to_backend_color();
    style
}

/// Width in pixels of `text` in `style` (0 if it cannot be measured).
pub(super) fn text_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
) -> i32 {
    area.estimate_text_size(text, style)
        .map(|(w, _)| w as i32)
        .unwrap_or(0)
}

/// The most characters a chart shows of one text: wider than any chart at its smallest font.
const MAX_CHART_TEXT: usize = 160;

/// `text`, made safe for a chart (control characters, which XML forbids, dropped; at most
/// `MAX_CHART_TEXT` characters) and shortened with an ellipsis so that it fits in `max`
/// pixels. The cut is found by bisection: a few measurements whatever the text's length.
pub(super) fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max: i32,
) -> String {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_control()).collect();
    let whole = chars.len() <= MAX_CHART_TEXT;
    let cut = |n: usize| chars[..n].iter().collect::<String>() + "…";
    if whole {
        let all: String = chars.iter().collect();
        if text_width(area, &all, style) <= max {
            return all;
        }
    }
    // The longest prefix (with its ellipsis) that fits: fits(lo) holds, fits(hi) does not.
    let (mut lo, mut hi) = (0, chars.len().min(MAX_CHART_TEXT) + usize::from(!whole));
    if text_width(area, &cut(0), style) > max {
        return String::new();
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if text_width(area, &cut(mid), style) <= max {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    cut(lo)
}

/// A short human number: 0.1, 0.05, 2, 12.5, 1500.
pub(super) fn fmt_num(v: f64) -> String {
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
pub(super) fn fmt_count(v: f64) -> String {
    if !v.is_finite() || v.abs() >= 1e15 {
        format!("{v:.2e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(fmt_num(0.1), "0.1");
        assert_eq!(fmt_num(0.05), "0.05");
        assert_eq!(fmt_num(2.0), "2");
        assert_eq!(fmt_num(1500.0), "1500");
        assert_eq!(fmt_count(412.0), "412");
        assert_eq!(fmt_count(2.5), "2.5");
    }
}
