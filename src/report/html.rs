//! `report.html`: the Markdown report rendered to one self-contained page (inline CSS, charts
//! inlined as SVG, no external resources), so it can be attached to a ticket or mailed.

use pulldown_cmark::{html, Options, Parser};

use super::model::Report;
use super::{markdown, PIE_CHART, RATE_CHART};

const STYLE: &str = "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1f2328;line-height:1.5}\
table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top}\
th{background:#f6f8fa}code{background:#f6f8fa;padding:1px 4px;border-radius:4px;font-size:90%}pre{background:#f6f8fa;padding:8px;overflow-x:auto}\
blockquote{border-left:4px solid #cf222e;margin:0;padding:4px 12px;background:#fff5f5}figure{margin:1em 0}svg{max-width:100%;height:auto}";

/// Renders the page. `rate_svg` and `pie_svg` are the charts, placed where the Markdown
/// references them (or at the top of their sections when the Markdown has no image); `more`
/// are further charts (by file name without extension, e.g. a rule's), placed where the
/// Markdown references them.
pub fn render(
    report: &Report,
    rate_svg: &[u8],
    pie_svg: &[u8],
    more: &[(String, Vec<u8>)],
) -> Vec<u8> {
    let md = String::from_utf8(markdown::render(report)).unwrap_or_default();
    let mut body = String::new();
    html::push_html(
        &mut body,
        Parser::new_ext(&md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH),
    );
    let rate = format!("<figure>{}</figure>", String::from_utf8_lossy(rate_svg));
    let pie = format!("<figure>{}</figure>", String::from_utf8_lossy(pie_svg));
    let mut placed = (false, false);
    let mut out = String::with_capacity(body.len() + rate.len() + pie.len() + 2048);
    for line in body.lines() {
        if line.contains(&format!("src=\"{RATE_CHART}.")) {
            out.push_str(&rate);
            placed.0 = true;
        } else if line.contains(&format!("src=\"{PIE_CHART}.")) {
            out.push_str(&pie);
            placed.1 = true;
        } else if let Some((_, svg)) = more
            .iter()
            .find(|(base, _)| line.contains(&format!("src=\"{base}.")))
        {
            out.push_str(&format!(
                "<figure>{}</figure>",
                String::from_utf8_lossy(svg)
            ));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !placed.0 {
        out = out.replacen(
            "<h2>Alert timeline</h2>",
            &format!("<h2>Alert timeline</h2>\n{rate}"),
            1,
        );
    }
    if !placed.1 {
        out = out.replacen(
            "<h2>Errors by type</h2>",
            &format!("<h2>Errors by type</h2>\n{pie}"),
            1,
        );
    }
    let title = format!(
        "{}: {}",
        report.settings.alertname,
        if report.verdict.breached {
            "BREACHED"
        } else {
            "not breached"
        }
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{out}</body>\n</html>\n",
        html_escape(&title)
    )
    .into_bytes()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
