//! Text decoding of CSV bytes, detected from the bytes only.
//!
//! [`decode_spool`] decides in one streaming pass and never holds the text:
//! UTF-8 content is read in place; other encodings are transcoded once into
//! a new spool (a temporary file when the input is one).

use std::io::Read;

use encoding_rs::{DecoderResult, Encoding};

use super::spool::{Spool, SpoolError, SpoolWriter};
use super::types::TableError;

/// Chunk size of the decoding passes.
const CHUNK: usize = 64 * 1024;

/// UTF-8 text held in a spool, from byte `start` on (after a BOM).
#[derive(Debug, Clone)]
pub struct Utf8Spool {
    /// The content.
    pub spool: Spool,
    /// Where the text starts.
    pub start: u64,
}

/// Decodes a spool to UTF-8 text without holding the text, the encoding
/// detected from the bytes only: a UTF-8 BOM is stripped, valid UTF-8 is
/// used as is, a UTF-16 BOM selects UTF-16, anything else is Windows-1252
/// (French Excel's "CSV" export) — unless the content holds valid
/// multi-byte UTF-8 sequences: then it is UTF-8 broken somewhere, refused
/// as [`TableError::MixedEncoding`] naming the line and the first bad byte
/// (never reread as Windows-1252, which would garble every accent).
///
/// Valid UTF-8 (with or without BOM) is the input itself, from after the
/// BOM. UTF-16 (BOM) and Windows-1252 are transcoded once into a new spool:
/// a temporary file in the input's folder when the input is a file, bytes
/// otherwise. Content that is empty or only whitespace is
/// [`TableError::Empty`]; NUL bytes (or malformed UTF-16) are
/// [`TableError::Binary`].
pub fn decode_spool(input: &Spool) -> Result<Utf8Spool, TableError> {
    if input.is_empty() {
        return Err(TableError::Empty);
    }
    if let Some((enc, bom_len)) = Encoding::for_bom(input.head())
        && enc != encoding_rs::UTF_8
    {
        // UTF-16: NUL bytes are expected in the input, not in the text.
        return transcode(input, bom_len as u64, enc);
    }
    let start = if input.head().starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let scan = scan_utf8(input.reader_at(start), CHUNK).map_err(storage)?;
    if scan.nul {
        return Err(TableError::Binary);
    }
    if !scan.utf8 {
        if scan.multibyte
            && let Some((line, byte)) = scan.first_invalid
        {
            // UTF-8 in part, broken elsewhere: guessing another encoding
            // would garble every accent of the valid part.
            return Err(TableError::MixedEncoding { line, byte });
        }
        return transcode(input, start, encoding_rs::WINDOWS_1252);
    }
    if scan.blank {
        return Err(TableError::Empty);
    }
    Ok(Utf8Spool {
        spool: input.clone(),
        start,
    })
}

fn storage(e: impl std::fmt::Display) -> TableError {
    TableError::Storage(e.to_string())
}

/// What one pass over bytes found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scan {
    /// A NUL byte (the pass stops there).
    nul: bool,
    /// The whole content is valid UTF-8.
    utf8: bool,
    /// Valid UTF-8 made of whitespace only (or nothing).
    blank: bool,
    /// Valid multi-byte UTF-8 sequences were seen (the file is UTF-8 at
    /// least in part).
    multibyte: bool,
    /// The first byte that is not UTF-8: `(line, byte)`, lines from 1.
    first_invalid: Option<(u64, u8)>,
}

/// Validates UTF-8 incrementally, `chunk` bytes at a time; a sequence cut
/// by a chunk's end is carried over to the next chunk. The whole content is
/// scanned (up to a NUL): after an invalid byte the scan goes on, so that
/// valid multi-byte sequences anywhere in the file are seen.
fn scan_utf8(mut r: impl Read, chunk: usize) -> std::io::Result<Scan> {
    let mut buf = vec![0u8; chunk + 4];
    // Bytes of an incomplete sequence at the start of `buf`.
    let mut carry = 0usize;
    // Line breaks before the start of `buf`.
    let mut lines = 0u64;
    let mut scan = Scan {
        nul: false,
        utf8: true,
        blank: true,
        multibyte: false,
        first_invalid: None,
    };
    loop {
        let n = match r.read(&mut buf[carry..carry + chunk]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        if buf[carry..carry + n].contains(&0) {
            scan.nul = true;
            return Ok(scan);
        }
        let data = &buf[..carry + n];
        let mut pos = 0usize;
        let rest = loop {
            let (valid, next) = match std::str::from_utf8(&data[pos..]) {
                Ok(s) => (s, None),
                Err(e) => {
                    // `valid_up_to` bytes were just validated.
                    let v =
                        std::str::from_utf8(&data[pos..pos + e.valid_up_to()]).unwrap_or_default();
                    (v, Some(e))
                }
            };
            if !scan.multibyte {
                scan.multibyte = !valid.is_ascii();
            }
            if scan.blank {
                scan.blank = valid.chars().all(char::is_whitespace);
            }
            pos += valid.len();
            match next {
                None => break 0,
                // Incomplete sequence at the end: wait for the next chunk.
                Some(e) if e.error_len().is_none() => break data.len() - pos,
                Some(e) => {
                    let bad = data[pos];
                    if scan.first_invalid.is_none() {
                        let line = lines + count_lines(&data[..pos]) + 1;
                        scan.first_invalid = Some((line, bad));
                    }
                    scan.utf8 = false;
                    scan.blank = false;
                    pos += e.error_len().unwrap_or(1);
                }
            }
        };
        let from = data.len() - rest;
        lines += count_lines(&data[..from]);
        buf.copy_within(from..from + rest, 0);
        carry = rest;
    }
    if carry > 0 {
        // Cut at the very end: not UTF-8.
        if scan.first_invalid.is_none() {
            scan.first_invalid = Some((lines + 1, buf[0]));
        }
        scan.utf8 = false;
        scan.blank = false;
    }
    Ok(scan)
}

fn count_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Transcodes `input` from byte `start` into a new UTF-8 spool (same place:
/// file or memory). Malformed input, or a NUL in the text, is
/// [`TableError::Binary`] (Windows-1252 maps every byte, so only UTF-16 can
/// be malformed).
fn transcode(input: &Spool, start: u64, enc: &'static Encoding) -> Result<Utf8Spool, TableError> {
    let mut r = input.reader_at(start);
    let mut decoder = enc.new_decoder_without_bom_handling();
    let out_len = decoder
        .max_utf8_buffer_length_without_replacement(CHUNK)
        .unwrap_or(4 * CHUNK);
    let mut out = vec![0u8; out_len];
    let mut inbuf = vec![0u8; CHUNK];
    let mut w = SpoolWriter::new(input.dir(), usize::MAX).map_err(|e| storage(&e))?;
    let mut blank = true;
    loop {
        let n = match r.read(&mut inbuf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(storage(e)),
        };
        let last = n == 0;
        let mut src = &inbuf[..n];
        loop {
            let (res, read, written) =
                decoder.decode_to_utf8_without_replacement(src, &mut out, last);
            let text = &out[..written];
            if text.contains(&0) {
                return Err(TableError::Binary);
            }
            if blank {
                blank = std::str::from_utf8(text).is_ok_and(|s| s.chars().all(char::is_whitespace));
            }
            w.push(text).map_err(|e: SpoolError| storage(&e))?;
            src = &src[read..];
            match res {
                DecoderResult::InputEmpty => break,
                DecoderResult::OutputFull => {}
                DecoderResult::Malformed(..) => return Err(TableError::Binary),
            }
        }
        if last {
            break;
        }
    }
    if blank {
        return Err(TableError::Empty);
    }
    let spool = w.finish().map_err(|e| storage(&e))?;
    Ok(Utf8Spool { spool, start: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole-buffer decoding the streaming [`decode_spool`] must agree
    /// with (the first release's, kept as the tests' reference).
    ///
    /// A UTF-8 BOM is stripped; valid UTF-8 is used as is; a UTF-16 BOM selects
    /// UTF-16; anything else is decoded as Windows-1252 (French Excel's "CSV"
    /// export). Bytes containing NUL (binary files such as old `.xls`) are
    /// refused.
    fn decode_text(bytes: &[u8]) -> Result<String, TableError> {
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

    fn text_of(u: &Utf8Spool) -> String {
        let mut s = String::new();
        u.spool.reader_at(u.start).read_to_string(&mut s).unwrap();
        s
    }

    /// Same answer as `decode_text`, from memory and from a file.
    fn both_ways(bytes: &[u8]) -> Result<String, TableError> {
        let dir = tempfile::tempdir().unwrap();
        let in_memory = decode_spool(&Spool::from(bytes)).map(|u| {
            assert!(!u.spool.is_file());
            text_of(&u)
        });
        let file = Spool::from_reader(bytes, dir.path(), usize::MAX).unwrap();
        let on_disk = decode_spool(&file).map(|u| {
            assert!(u.spool.is_file());
            assert_eq!(u.spool.dir(), Some(dir.path()));
            text_of(&u)
        });
        assert_eq!(in_memory, on_disk);
        in_memory
    }

    #[test]
    fn streaming_agrees_with_decode_text() {
        let mut utf16 = vec![0xFE, 0xFF];
        for u in "Réf\tNom\n€".encode_utf16() {
            utf16.extend_from_slice(&u.to_be_bytes());
        }
        let cases: [&[u8]; 9] = [
            "é;b".as_bytes(),
            b"\xEF\xBB\xBFR\xC3\xA9f",
            b"R\xE9f;2011,04\x80",
            b"C\x9Cur",
            b"\xEF\xBB\xBFR\xE9f",
            &utf16,
            b"ab\0cd",
            b"R\xE9f\0",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0",
        ];
        for bytes in cases {
            assert_eq!(both_ways(bytes), decode_text(bytes), "{bytes:?}");
        }
    }

    #[test]
    fn utf8_is_read_in_place_after_the_bom() {
        let s = Spool::from(b"\xEF\xBB\xBFa;b\n");
        let u = decode_spool(&s).unwrap();
        assert_eq!(u.start, 3);
        assert_eq!(u.spool.sha256_hex(), s.sha256_hex());
        assert_eq!(text_of(&u), "a;b\n");
    }

    #[test]
    fn empty_blank_and_binary() {
        assert_eq!(both_ways(b""), Err(TableError::Empty));
        assert_eq!(both_ways(b" \r\n\n"), Err(TableError::Empty));
        assert_eq!(both_ways(b"\xEF\xBB\xBF"), Err(TableError::Empty));
        assert_eq!(both_ways(b"\xA0 "), Err(TableError::Empty));
        assert_eq!(both_ways(b"\xFF\xFE\x20\x00"), Err(TableError::Empty));
        // A NUL far from the start, after non-UTF-8 bytes.
        let mut big = b"R\xE9f\n".repeat(50_000);
        big.push(0);
        assert_eq!(both_ways(&big), Err(TableError::Binary));
        // Odd UTF-16 length: malformed.
        assert_eq!(both_ways(b"\xFF\xFEa\x00b"), Err(TableError::Binary));
    }

    #[test]
    fn utf8_sequences_cut_at_chunk_edges() {
        // "é" (2 bytes), "€" (3 bytes), "𝄞" (4 bytes) at every offset
        // against every small chunk size.
        let text = "aé€b𝄞c,é\n".repeat(7);
        for chunk in 1..=9 {
            let scan = scan_utf8(text.as_bytes(), chunk).unwrap();
            assert_eq!(
                scan,
                Scan {
                    nul: false,
                    utf8: true,
                    blank: false,
                    multibyte: true,
                    first_invalid: None,
                },
                "chunk {chunk}"
            );
        }
        // A 2-byte é straddling the edge of a 64 KiB chunk.
        let mut bytes = vec![b'a'; CHUNK - 1];
        bytes.extend_from_slice("é;x\n".as_bytes());
        assert!(scan_utf8(&bytes[..], CHUNK).unwrap().utf8);
        let dir = tempfile::tempdir().unwrap();
        let file = Spool::from_reader(&bytes[..], dir.path(), usize::MAX).unwrap();
        let u = decode_spool(&file).unwrap();
        assert_eq!(u.spool.sha256_hex(), file.sha256_hex(), "read in place");
        // Cut at the very end, or invalid after a valid chunk: not UTF-8.
        assert!(!scan_utf8(&"abé".as_bytes()[..3], 2).unwrap().utf8);
        let mut late = "é".repeat(100).into_bytes();
        late.push(0xE9);
        for chunk in [1, 2, 3, 64] {
            let scan = scan_utf8(&late[..], chunk).unwrap();
            assert!(!scan.utf8 && !scan.nul, "chunk {chunk}");
        }
        // Whitespace only across chunks (U+3000 is 3 bytes).
        let ws = " \u{3000}\n\u{3000}".as_bytes();
        for chunk in 1..=4 {
            assert!(scan_utf8(ws, chunk).unwrap().blank);
        }
    }

    #[test]
    fn windows_1252_transcoded_once() {
        let dir = tempfile::tempdir().unwrap();
        // Larger than a chunk, with non-ASCII bytes at the chunk edge.
        let mut bytes = b"Nom;Montant\n".to_vec();
        while bytes.len() < 3 * CHUNK {
            bytes.extend_from_slice(b"C\x9Cur;2011,04\x80\n");
        }
        let file = Spool::from_reader(&bytes[..], dir.path(), usize::MAX).unwrap();
        let u = decode_spool(&file).unwrap();
        assert!(u.spool.is_file());
        assert_eq!(u.start, 0);
        assert_ne!(u.spool.sha256_hex(), file.sha256_hex());
        assert_eq!(text_of(&u), decode_text(&bytes).unwrap());
        assert!(text_of(&u).contains("Cœur;2011,04€"));
    }

    #[test]
    fn utf8_with_one_bad_byte_is_refused_naming_line_and_byte() {
        // Valid UTF-8 accents, then one Windows-1252 byte on line 3.
        let mut bytes = "nom;prenom\nZoé;Ana\nZo".as_bytes().to_vec();
        bytes.extend_from_slice(b"\xE9;Bob\nL\xC3\xA9a;Eve\n");
        for chunk in [1, 2, 3, 5, 64] {
            let scan = scan_utf8(&bytes[..], chunk).unwrap();
            assert!(scan.multibyte && !scan.utf8, "chunk {chunk}");
            assert_eq!(scan.first_invalid, Some((3, 0xE9)), "chunk {chunk}");
        }
        let err = both_ways(&bytes).unwrap_err();
        assert_eq!(
            err,
            TableError::MixedEncoding {
                line: 3,
                byte: 0xE9
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("ligne 3, octet 0xE9"), "{msg}");
        // The bad byte first, the UTF-8 accents later: refused all the same.
        let late = b"nom\nZo\xE9\nx\ny\nL\xC3\xA9a\n";
        assert_eq!(
            both_ways(late),
            Err(TableError::MixedEncoding {
                line: 2,
                byte: 0xE9
            })
        );
        // A UTF-8 sequence cut at the very end of an otherwise UTF-8 file.
        assert_eq!(
            both_ways("é\né".as_bytes().split_last().unwrap().1),
            Err(TableError::MixedEncoding {
                line: 2,
                byte: 0xC3
            })
        );
        // Genuine Windows-1252 (no multi-byte UTF-8 anywhere) is still read.
        assert_eq!(
            both_ways(b"nom\nZo\xE9\nC\x9Cur\n").unwrap(),
            "nom\nZoé\nCœur\n"
        );
        let sample = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/samples/liste-2026-10-windows-1252.csv"
        ))
        .unwrap();
        assert!(both_ways(&sample).unwrap().contains('é'));
    }

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
