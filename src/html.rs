//! HTML escaping, shared by every page the gateway writes (the register,
//! the audit report): one function, so that a value is escaped the same way
//! wherever it lands.

/// Escapes text for HTML element content and for quoted attribute values
/// (either quote): `&`, `<`, `>`, `"` and `'` become character references.
///
/// Control characters other than line feed and tab are dropped: the HTML
/// parser reports them as errors (U+0000 is replaced, U+000D normalised),
/// and a page should carry what its reader sees.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn the_five_markup_characters_become_references() {
        assert_eq!(
            escape("<script>alert(\"x\")</script> & 'co'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;"
        );
        // An existing reference is text like any other: escaped again.
        assert_eq!(escape("&amp; &#39;"), "&amp;amp; &amp;#39;");
    }

    #[test]
    fn a_value_cannot_leave_a_quoted_attribute() {
        for quote in ['"', '\''] {
            let value = format!("x{quote} onload={quote}alert(1)");
            let attr = format!("title={quote}{}{quote}", escape(&value));
            // The only quotes left are the two that delimit the value.
            assert_eq!(attr.matches(quote).count(), 2, "{attr}");
            assert!(attr.ends_with(quote) && attr.starts_with(&format!("title={quote}")));
        }
    }

    #[test]
    fn other_text_is_kept_and_control_characters_dropped() {
        assert_eq!(escape("Préfecture — 13 €"), "Préfecture — 13 €");
        assert_eq!(escape("a\nb\tc"), "a\nb\tc");
        assert_eq!(escape("a\u{0}b\u{7}c\rd\u{1b}e\u{85}f"), "abcdef");
        assert_eq!(escape(""), "");
    }
}
