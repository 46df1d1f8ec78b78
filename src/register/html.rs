//! The record rendered as one self-contained HTML page: inline CSS, no
//! script, image, font or style from elsewhere, every value escaped.

use super::model::{Block, Doc, Span};
use crate::html::escape;
use std::fmt::Write as _;

fn html_inline(spans: &[Span]) -> String {
    let mut out = String::new();
    for s in spans {
        match s {
            Span::Text(x) => out.push_str(&escape(x)),
            Span::Code(x) => {
                let _ = write!(out, "<code>{}</code>", escape(x));
            }
            Span::Strong(x) => {
                let _ = write!(out, "<strong>{}</strong>", escape(x));
            }
        }
    }
    out
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#1b1b1b}\
h1{font-size:1.6rem;border-bottom:2px solid #000091;padding-bottom:.3rem}\
h2{font-size:1.25rem;margin-top:2rem;color:#000091}\
h3{font-size:1.05rem;margin-top:1.5rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}\
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#eef}\
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;background:#f4f4f4;padding:0 .15rem}\
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}}";

/// Renders the record.
pub(super) fn render(doc: &Doc) -> String {
    let title = doc
        .0
        .iter()
        .find_map(|b| match b {
            Block::Heading(1, t) => Some(t.as_str()),
            _ => None,
        })
        .unwrap_or("Registre des activités de traitement");
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n");
    // The page loads nothing: no script, image, font or style from elsewhere.
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    for block in &doc.0 {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", escape(text));
            }
            Block::Para(spans) => {
                let _ = writeln!(out, "<p>{}</p>", html_inline(spans));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(out, "<li>{}</li>", html_inline(item));
                }
                out.push_str("</ul>\n");
            }
            Block::Table { head, rows } => {
                out.push_str("<table>\n<thead><tr>");
                for h in head {
                    let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        let _ = write!(out, "<td>{}</td>", html_inline(cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}
