//! Shared strategies: the writings partners use for separators, spaces and
//! letters.

use proptest::prelude::*;

/// The spaces French software puts between thousands: plain, no-break,
/// narrow no-break (Excel and LibreOffice in French), thin, figure space.
pub const THOUSANDS_SPACES: [&str; 5] = [" ", "\u{A0}", "\u{202F}", "\u{2009}", "\u{2007}"];

/// White space a cell may carry around its value.
pub fn padding() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", " ", "  ", "\t", "\u{A0}", " \t "]).prop_map(str::to_owned)
}

/// `digits` grouped by three from the right, joined with `sep`.
pub fn grouped(digits: &str, sep: &str) -> String {
    let bytes = digits.as_bytes();
    let mut out = String::new();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && (bytes.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(char::from(*b));
    }
    out
}

/// A lower-case ASCII letter's accented writings (composed and decomposed),
/// the letter itself included.
pub fn accented(c: char) -> Vec<String> {
    let composed: &[char] = match c {
        'a' => &['à', 'â', 'ä', 'á'],
        'c' => &['ç'],
        'e' => &['é', 'è', 'ê', 'ë'],
        'i' => &['î', 'ï', 'í'],
        'n' => &['ñ'],
        'o' => &['ô', 'ö', 'ó'],
        'u' => &['ù', 'û', 'ü', 'ú'],
        'y' => &['ÿ', 'ý'],
        _ => &[],
    };
    let mut out = vec![c.to_string()];
    out.extend(composed.iter().map(|a| a.to_string()));
    if !composed.is_empty() {
        // Decomposed: the letter then a combining acute accent (what macOS
        // file names and some exports produce).
        out.push(format!("{c}\u{301}"));
    }
    out
}

/// Rewrites an ASCII lower-case word letter by letter: any case, any
/// accent, composed or not, choices driven by `picks`.
pub fn vary_letters(word: &str, picks: &[(bool, usize)]) -> String {
    let mut out = String::new();
    for (i, c) in word.chars().enumerate() {
        let (upper, which) = picks.get(i).copied().unwrap_or((false, 0));
        let forms = accented(c);
        let form = &forms[which % forms.len()];
        if upper {
            out.extend(form.chars().flat_map(char::to_uppercase));
        } else {
            out.push_str(form);
        }
    }
    out
}

/// Choices for [`vary_letters`], enough for words of up to 24 letters.
pub fn letter_picks() -> impl Strategy<Value = Vec<(bool, usize)>> {
    prop::collection::vec((any::<bool>(), 0usize..8), 24)
}
