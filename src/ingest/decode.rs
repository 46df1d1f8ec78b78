//! Text decoding of CSV bytes, detected from the bytes only.

use super::table::TableError;

/// Decodes CSV bytes to text.
///
/// A UTF-8 BOM is stripped; valid UTF-8 is used as is; a UTF-16 BOM selects
/// UTF-16; anything else is decoded as Windows-1252 (French Excel's "CSV"
/// export). Bytes containing NUL (binary files such as old `.xls`) are
/// refused.
pub fn decode_text(bytes: &[u8]) -> Result<String, TableError> {
    if bytes.is_empty() {
        return Err(TableError::Empty);
    }
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes)
        && enc != encoding_rs::UTF_8
    {
        // UTF-16 ("Unicode text" export): NUL bytes are expected here.
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors || text.contains('\0') {
            return Err(TableError::Binary);
        }
        return Ok(text.into_owned());
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.contains(&0) {
        return Err(TableError::Binary);
    }
    match std::str::from_utf8(body) {
        Ok(s) => Ok(s.to_owned()),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
            Ok(text.into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode_text("é;b".as_bytes()).unwrap(), "é;b");
        assert_eq!(decode_text(b"\xEF\xBB\xBFR\xC3\xA9f").unwrap(), "Réf");
    }

    #[test]
    fn windows_1252_fallback() {
        assert_eq!(decode_text(b"R\xE9f;2011,04\x80").unwrap(), "Réf;2011,04€");
        assert_eq!(decode_text(b"C\x9Cur").unwrap(), "Cœur");
    }

    #[test]
    fn utf16_with_bom() {
        let mut b = vec![0xFF, 0xFE];
        for u in "Réf\tNom".encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode_text(&b).unwrap(), "Réf\tNom");
    }

    #[test]
    fn binary_and_empty_refused() {
        assert!(matches!(decode_text(b"ab\0cd"), Err(TableError::Binary)));
        assert!(matches!(
            decode_text(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0"),
            Err(TableError::Binary)
        ));
        assert!(matches!(decode_text(b""), Err(TableError::Empty)));
    }
}
