//! The record rendered as Markdown (CommonMark with GFM tables): every
//! value escaped so that it cannot open a block, end a table row or become
//! a link or markup.

use super::model::{Block, Doc, Span};
use std::fmt::Write as _;

/// Escapes text for Markdown: inline syntax is backslash-escaped, HTML
/// markup turned into entities, line breaks into spaces (a value cannot end
/// a table row or start a block).
pub(super) fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(ch);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether a string can sit in a Markdown code span (in a table too) as is.
fn code_safe(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/'))
}

fn md_inline(spans: &[Span]) -> String {
    let mut out = String::new();
    for s in spans {
        match s {
            Span::Text(x) => out.push_str(&md_escape(x)),
            Span::Code(x) if code_safe(x) => {
                let _ = write!(out, "`{x}`");
            }
            Span::Code(x) => out.push_str(&md_escape(x)),
            Span::Strong(x) => {
                let _ = write!(out, "**{}**", md_escape(x.trim()));
                if x.ends_with(' ') {
                    out.push(' ');
                }
            }
        }
    }
    // A value must not open a block (list item, heading, quote) at the
    // start of a line.
    if out.starts_with(['-', '+', '=']) {
        out.insert(0, '\\');
    }
    out
}

/// Renders the record.
pub(super) fn render(doc: &Doc) -> String {
    let mut out = String::new();
    for block in &doc.0 {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(
                    out,
                    "{} {}\n",
                    "#".repeat(usize::from(*level)),
                    md_escape(text)
                );
            }
            Block::Para(spans) => {
                let _ = writeln!(out, "{}\n", md_inline(spans));
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {}", md_inline(item));
                }
                out.push('\n');
            }
            Block::Table { head, rows } => {
                let _ = writeln!(
                    out,
                    "| {} |",
                    head.iter()
                        .map(|h| md_escape(h))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
                let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
                for row in rows {
                    let cells: Vec<String> = row.iter().map(|c| md_inline(c)).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
                out.push('\n');
            }
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::super::model::{c, t};
    use super::*;

    #[test]
    fn escaping_helpers() {
        assert_eq!(md_escape("a_b*c|d<e>&"), "a\\_b\\*c\\|d&lt;e&gt;&amp;");
        assert!(code_safe("montant_dette") && !code_safe("a`b") && !code_safe("a|b"));
        assert_eq!(md_inline(&[c("a`b")]), "a\\`b");
        assert_eq!(md_inline(&[t("- x")]), "\\- x");
    }
}
