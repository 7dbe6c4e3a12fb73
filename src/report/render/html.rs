//! `report.html`: the Markdown report rendered to one self-contained page (inline CSS, charts
//! inlined as SVG, no external resources), so it can be attached to a ticket or mailed. The
//! Markdown links each chart by its index (`chart:N`); the page puts the chart's SVG, drawn
//! once for the document, where the link's paragraph was.

use anyhow::Result;
use pulldown_cmark::{html, Event, Options, Parser, Tag, TagEnd};

use super::{markdown, Document, Renderer};
use crate::correlate::verdict::Outcome;

const STYLE: &str = "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1f2328;line-height:1.5}\
h1,h2,h3,blockquote,li{overflow-wrap:anywhere}\
table{border-collapse:collapse;margin:1em 0;font-size:14px;display:block;overflow-x:auto;max-width:100%}td{overflow-wrap:anywhere}td:first-child{overflow-wrap:normal}th,td{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top}\
th{background:#f6f8fa}code{background:#f6f8fa;padding:1px 4px;border-radius:4px;font-size:90%}pre{background:#f6f8fa;padding:8px;overflow-x:auto}\
blockquote{border-left:4px solid #cf222e;margin:0;padding:4px 12px;background:#fff5f5}figure{margin:1em 0}svg{max-width:100%;height:auto}\
code,pre code{overflow-wrap:anywhere}pre code{white-space:pre-wrap}a{color:#0969da}\
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}th,code,pre{background:#161b22}th,td{border-color:#30363d}a{color:#4493f8}blockquote{background:#2d1215}figure svg{background:#fff;border-radius:4px}}\
@media print{body{max-width:none;margin:0;font-size:11pt}table{display:table;overflow:visible;font-size:9pt}figure,tr,pre{break-inside:avoid}h2{break-after:avoid}a{color:inherit;text-decoration:none}}";

/// How the Markdown links a chart for the page.
const CHART_LINK: &str = "chart:";

pub struct Html;

impl Renderer for Html {
    fn file(&self) -> String {
        "report.html".into()
    }

    fn render(&self, doc: &Document) -> Result<Vec<u8>> {
        Ok(render(doc))
    }
}

/// The chart a paragraph holding only an image links to: its index.
fn linked_chart(events: &[Event<'_>], at: usize) -> Option<(usize, usize)> {
    let (Event::Start(Tag::Paragraph), Some(Event::Start(Tag::Image { dest_url, .. }))) =
        (&events[at], events.get(at + 1))
    else {
        return None;
    };
    let chart = dest_url.strip_prefix(CHART_LINK)?.parse().ok()?;
    let end = (at + 2..events.len()).find(|&i| matches!(events[i], Event::End(TagEnd::Image)))?;
    matches!(events.get(end + 1), Some(Event::End(TagEnd::Paragraph))).then_some((chart, end + 1))
}

/// Renders the page.
pub fn render(doc: &Document) -> Vec<u8> {
    let link = |key: &str| {
        doc.charts
            .iter()
            .position(|c| c.key == key)
            .filter(|&i| i < doc.svgs.len())
            .map(|i| format!("{CHART_LINK}{i}"))
    };
    let md = String::from_utf8(markdown::render(&doc.report, &link)).unwrap_or_default();
    let events: Vec<Event<'_>> =
        Parser::new_ext(&md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).collect();
    let mut page: Vec<Event<'_>> = Vec::with_capacity(events.len());
    let mut dropped_links = 0usize;
    let mut i = 0;
    while i < events.len() {
        if let Some((chart, last)) = linked_chart(&events, i) {
            let svg = String::from_utf8_lossy(&doc.svgs[chart]);
            page.push(Event::Html(format!("<figure>{svg}</figure>\n").into()));
            i = last + 1;
            continue;
        }
        // Only the report's own charts are HTML; anything else is shown as text, only web
        // links (and the report's own anchors) stay links, and no image is loaded from
        // anywhere. Headings get the anchors the contents link to.
        match &events[i] {
            Event::Start(Tag::Heading {
                level,
                id: None,
                classes,
                attrs,
            }) => {
                let text: String = events[i + 1..]
                    .iter()
                    .take_while(|e| !matches!(e, Event::End(TagEnd::Heading(_))))
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                page.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(markdown::anchor(&text).into()),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
            }
            Event::Html(s) | Event::InlineHtml(s) => page.push(Event::Text(s.clone())),
            Event::Start(Tag::Link { dest_url, .. }) if !is_web_link(dest_url) => {
                dropped_links += 1;
            }
            Event::End(TagEnd::Link) if dropped_links > 0 => dropped_links -= 1,
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            e => page.push(e.clone()),
        }
        i += 1;
    }
    let mut body = String::new();
    html::push_html(&mut body, page.into_iter());
    let mut out = String::with_capacity(body.len() + 2048);
    for line in body.lines() {
        out.push_str(line);
        out.push('\n');
    }
    let r = &doc.report;
    let title = format!(
        "{}: {}",
        r.settings.alertname,
        match r.verdict.outcome() {
            Outcome::Breached => "BREACHED",
            Outcome::TotalOnly | Outcome::NotBreached => "not breached",
        }
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{out}</body>\n</html>\n",
        html_escape(&title)
    )
    .into_bytes()
}

/// A link the page may keep: `http(s)://`, or an anchor of the page itself.
fn is_web_link(url: &str) -> bool {
    let u = url.trim_start().to_ascii_lowercase();
    u.starts_with("https://") || u.starts_with("http://") || u.starts_with('#')
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
