//! Text folding used for pseudonymisation keys and header matching.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Pushes `c` with accents removed and ligatures expanded (case unchanged).
fn push_unaccented(out: &mut String, c: char) {
    match c {
        'œ' => out.push_str("oe"),
        'Œ' => out.push_str("OE"),
        'æ' => out.push_str("ae"),
        'Æ' => out.push_str("AE"),
        'ß' | 'ẞ' => out.push_str("ss"),
        'ø' => out.push('o'),
        'Ø' => out.push('O'),
        'đ' => out.push('d'),
        'Đ' => out.push('D'),
        'ł' => out.push('l'),
        'Ł' => out.push('L'),
        _ => {
            for d in std::iter::once(c).nfd() {
                if !is_combining_mark(d) {
                    out.push(d);
                }
            }
        }
    }
}

fn unaccent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_unaccented(&mut out, c);
    }
    out
}

/// Folds an identity component for pseudonymisation: upper case, accents
/// stripped, ligatures expanded (œ→OE, æ→AE, ß→SS), every run of
/// non-alphanumeric characters replaced by one space, trimmed.
///
/// `"De La Fontaine"`, `"de la  fontaine"` and `"DE LA FONTAINE-"` all give
/// `"DE LA FONTAINE"`.
pub fn fold_key(s: &str) -> String {
    let plain = unaccent(s);
    let mut out = String::with_capacity(plain.len());
    let mut pending_space = false;
    for c in plain.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_uppercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Normalises a column header: lower case, accents stripped, every
/// non-alphanumeric character removed (`"Réf CDP"` → `"refcdp"`,
/// `"code_postal"` → `"codepostal"`).
pub fn header_key(s: &str) -> String {
    let plain = unaccent(s);
    let mut out = String::with_capacity(plain.len());
    for c in plain.chars().filter(|c| c.is_alphanumeric()) {
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_key_variants_agree() {
        assert_eq!(fold_key("De La Fontaine"), "DE LA FONTAINE");
        assert_eq!(fold_key("de la  fontaine"), "DE LA FONTAINE");
        assert_eq!(fold_key("DE LA FONTAINE-"), "DE LA FONTAINE");
        assert_eq!(fold_key("  --de la\tfontaine "), "DE LA FONTAINE");
    }

    #[test]
    fn fold_key_accents_and_ligatures() {
        assert_eq!(fold_key("Zoé"), "ZOE");
        assert_eq!(fold_key("Noël"), "NOEL");
        assert_eq!(fold_key("L'Île-d'Olonne"), "L ILE D OLONNE");
        assert_eq!(fold_key("Cœur"), "COEUR");
        assert_eq!(fold_key("Lætitia"), "LAETITIA");
        assert_eq!(fold_key("Straße"), "STRASSE");
        assert_eq!(fold_key("ÉLODIE"), "ELODIE");
        assert_eq!(fold_key("François"), "FRANCOIS");
        // Decomposed input folds like composed input.
        assert_eq!(fold_key("Ze\u{301}lie"), "ZELIE");
        assert_eq!(fold_key(""), "");
        assert_eq!(fold_key(" - "), "");
    }

    #[test]
    fn header_key_examples() {
        assert_eq!(header_key("Réf CDP"), "refcdp");
        assert_eq!(header_key("code_postal"), "codepostal");
        assert_eq!(header_key("Code postal"), "codepostal");
        assert_eq!(header_key("Prénom"), "prenom");
        assert_eq!(header_key("\u{feff}Téléphone "), "telephone");
        assert_eq!(header_key("Montant dette (€)"), "montantdette");
    }
}
