//! XLSX reading with a bounded decompression pass (zip-bomb defence).

use std::collections::BTreeMap;
use std::io::Read;

use calamine::{DataRef, Reader, Xlsx, open_workbook_from_rs};

use super::spool::Spool;
use super::types::{Cell, Limits, TableError};

/// Maximum number of parts (ZIP entries) in a workbook.
pub const MAX_XLSX_ENTRIES: usize = 10_000;

/// Widest sheet Excel can produce (column XFD).
const MAX_COLUMNS: u32 = 16_384;

/// True when the bytes start with the ZIP local-file magic `PK\x03\x04`.
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// The cells of the first sheet, sparse: row index (0-based) → non-blank
/// cells with their 0-based column.
#[derive(Debug, Default)]
pub(crate) struct Sheet {
    pub(crate) rows: BTreeMap<u32, Vec<(u32, Cell)>>,
}

/// Decompresses every entry through a bounded reader, summing the real
/// decompressed sizes, and refuses archives that exceed the limits.
pub fn check_archive(input: &Spool, limits: &Limits) -> Result<(), TableError> {
    let mut zip = zip::ZipArchive::new(input.reader())
        .map_err(|e| TableError::Xlsx(format!("not a readable XLSX archive ({e})")))?;
    if zip.len() > MAX_XLSX_ENTRIES {
        return Err(TableError::Xlsx(format!(
            "the workbook has more than {MAX_XLSX_ENTRIES} parts"
        )));
    }
    let limit = limits.max_xlsx_uncompressed_bytes;
    let mut total: u64 = 0;
    let mut strings = SiCounter::default();
    for i in 0..zip.len() {
        let entry = zip
            .by_index(i)
            .map_err(|e| TableError::Xlsx(format!("unreadable part in the workbook ({e})")))?;
        let shared_strings = entry
            .name()
            .is_ok_and(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"));
        let remaining = limit - total;
        let mut bounded = entry.take(remaining + 1);
        let read = if shared_strings {
            let mut head = Vec::new();
            (&mut bounded)
                .take(64 * 1024)
                .read_to_end(&mut head)
                .map_err(|e| TableError::Xlsx(format!("corrupt part in the workbook ({e})")))?;
            strings.feed(&head);
            let rest = std::io::copy(&mut bounded, &mut strings)
                .map_err(|e| TableError::Xlsx(format!("corrupt part in the workbook ({e})")))?;
            let size = head.len() as u64 + rest;
            // calamine reserves `uniqueCount` strings up front: refuse a
            // count that the part cannot possibly hold.
            if let Some(n) = unique_count(&head)
                && n > size / 4 + 1024
            {
                return Err(TableError::Xlsx(
                    "the workbook's shared strings table is corrupt".to_owned(),
                ));
            }
            size
        } else {
            std::io::copy(&mut bounded, &mut strings)
                .map_err(|e| TableError::Xlsx(format!("corrupt part in the workbook ({e})")))?
        };
        // calamine holds every shared string: they count (`<si>`
        // elements, in whatever part they are) against the cells' bound.
        if strings.count > limits.max_xlsx_cells as u64 {
            return Err(TableError::XlsxTooManyCells {
                max: limits.max_xlsx_cells,
            });
        }
        total += read;
        if total > limit {
            return Err(TableError::XlsxTooLarge { limit });
        }
    }
    Ok(())
}

/// Counts `<si>` / `<si …>` elements in a stream (a tag cut between two
/// writes is carried over).
#[derive(Debug, Default)]
struct SiCounter {
    count: u64,
    /// The last bytes of the previous write (at most 3).
    tail: Vec<u8>,
}

impl SiCounter {
    fn feed(&mut self, data: &[u8]) {
        let mut buf = std::mem::take(&mut self.tail);
        buf.extend_from_slice(data);
        // A tag needs 4 bytes: the 3 carried bytes alone never hold one,
        // so none is counted twice.
        self.count += count_si(&buf);
        let keep = buf.len().min(3);
        self.tail = buf[buf.len() - keep..].to_vec();
    }
}

fn count_si(b: &[u8]) -> u64 {
    b.windows(4)
        .filter(|w| &w[..3] == b"<si" && matches!(w[3], b'>' | b' ' | b'\t' | b'\r' | b'\n'))
        .count() as u64
}

impl std::io::Write for SiCounter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.feed(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The `uniqueCount="N"` attribute of the `<sst>` element, if present.
fn unique_count(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let at = text.find("uniqueCount=")? + "uniqueCount=".len();
    let rest = text[at..].trim_start_matches(['"', '\'']);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    // An absurdly long number is as bad as a huge one.
    Some(digits.parse().unwrap_or(u64::MAX))
}

/// Converts one spreadsheet value to a text cell.
fn to_cell(v: &DataRef<'_>) -> Cell {
    let text = |t: String| Cell {
        text: t,
        numeric: false,
    };
    match v {
        DataRef::Int(i) => Cell {
            text: i.to_string(),
            numeric: true,
        },
        DataRef::Float(f) => Cell {
            text: float_text(*f),
            numeric: true,
        },
        DataRef::String(s) => text(s.clone()),
        DataRef::SharedString(s) => text((*s).to_owned()),
        DataRef::Bool(b) => text(b.to_string()),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            text(format!("{y:04}-{m:02}-{d:02}"))
        }
        DataRef::DateTime(dt) => Cell {
            text: float_text(dt.as_f64()),
            numeric: true,
        },
        DataRef::DateTimeIso(s) => text(s.split('T').next().unwrap_or("").to_owned()),
        DataRef::DurationIso(s) => text(s.clone()),
        // Formula errors (#REF!, #N/A…) carry no data: read as empty.
        DataRef::Error(_) | DataRef::Empty => text(String::new()),
    }
}

/// Integral floats as integer text, others with a '.' decimal point.
fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Reads the first sheet of an XLSX workbook (after [`check_archive`]).
///
/// The archive is read through the spool's reader (seeking in the
/// temporary file, not copied to memory); calamine holds the shared strings
/// in memory, and the non-blank cells read are kept in the [`Sheet`].
/// Streams the cells (no dense range is allocated, so a sheet with a far
/// away cell costs nothing), keeps only non-blank cells, and stops with
/// [`TableError::TooManyRows`] as soon as there are more than
/// `limits.max_rows` data rows.
pub(crate) fn read_sheet(input: &Spool, limits: &Limits) -> Result<Sheet, TableError> {
    check_archive(input, limits)?;
    let mut wb: Xlsx<_> = open_workbook_from_rs(input.reader())
        .map_err(|e| TableError::Xlsx(format!("not a readable XLSX workbook ({e})")))?;
    let first = wb
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| TableError::Xlsx("the workbook has no sheet".to_owned()))?;
    let mut reader = wb
        .worksheet_cells_reader(&first)
        .map_err(|e| TableError::Xlsx(format!("unreadable first sheet ({e})")))?;
    let mut sheet = Sheet::default();
    let mut held = 0usize;
    let mut text = 0usize;
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| TableError::Xlsx(format!("unreadable first sheet ({e})")))?
    {
        let (row, col) = cell.get_position();
        if col >= MAX_COLUMNS {
            continue;
        }
        let mut c = to_cell(cell.get_value());
        if c.text.trim().is_empty() {
            continue;
        }
        held += 1;
        if held > limits.max_xlsx_cells {
            return Err(TableError::XlsxTooManyCells {
                max: limits.max_xlsx_cells,
            });
        }
        // One character more than a cell may hold is enough to refuse it
        // (the row's error); a long shared string repeated in every cell
        // is not copied whole each time.
        if let Some((cut, _)) = c.text.char_indices().nth(limits.max_cell_chars + 1) {
            c.text.truncate(cut);
        }
        text += c.text.len();
        if text > limits.max_xlsx_text_bytes {
            return Err(TableError::XlsxTooMuchText {
                max: limits.max_xlsx_text_bytes,
            });
        }
        let is_new = !sheet.rows.contains_key(&row);
        sheet.rows.entry(row).or_default().push((col, c));
        if is_new && row > 0 && sheet.rows.len() > limits.max_rows + 1 {
            return Err(TableError::TooManyRows {
                max: limits.max_rows,
            });
        }
    }
    if sheet.rows.is_empty() {
        return Err(TableError::Empty);
    }
    if !sheet.rows.contains_key(&0) {
        return Err(TableError::NoHeader);
    }
    if sheet.rows.len() - 1 > limits.max_rows {
        return Err(TableError::TooManyRows {
            max: limits.max_rows,
        });
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_bomb_refused() {
        let zeros = vec![0u8; 50 * 1024 * 1024];
        let bomb = zip_with(&[("xl/worksheets/sheet1.xml", &zeros)]);
        assert!(bomb.len() < 1024 * 1024, "test archive should be small");
        let limits = Limits {
            max_xlsx_uncompressed_bytes: 1024 * 1024,
            ..Limits::default()
        };
        assert!(is_xlsx(&bomb));
        let err = check_archive(&Spool::from(&bomb), &limits).unwrap_err();
        assert!(matches!(err, TableError::XlsxTooLarge { limit } if limit == 1024 * 1024));
        assert!(matches!(
            read_sheet(&Spool::from(&bomb), &limits),
            Err(TableError::XlsxTooLarge { .. })
        ));
    }

    #[test]
    fn too_many_entries_refused() {
        let names: Vec<String> = (0..MAX_XLSX_ENTRIES + 1).map(|i| format!("p{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let z = zip_with(&entries);
        assert!(matches!(
            check_archive(&Spool::from(&z), &Limits::default()),
            Err(TableError::Xlsx(m)) if m.contains("parts")
        ));
    }

    #[test]
    fn huge_shared_strings_count_refused() {
        let sst = br#"<?xml version="1.0"?><sst xmlns="x" count="1" uniqueCount="999999999999"><si><t>a</t></si></sst>"#;
        let z = zip_with(&[("xl/sharedStrings.xml", sst)]);
        assert!(matches!(
            check_archive(&Spool::from(&z), &Limits::default()),
            Err(TableError::Xlsx(m)) if m.contains("shared strings")
        ));
        assert_eq!(unique_count(b"<sst uniqueCount=\"12\">"), Some(12));
    }

    #[test]
    fn shared_strings_are_counted_across_writes() {
        let text = b"<sst><si><t>a</t></si><si>\n<t>b</t></si><si xml:space=\"p\"/><sig/></sst>";
        for chunk in 1..=7 {
            let mut c = SiCounter::default();
            for piece in text.chunks(chunk) {
                c.feed(piece);
            }
            assert_eq!(c.count, 3, "chunk {chunk}");
        }
    }

    #[test]
    fn garbage_zip_is_an_xlsx_error() {
        let err = read_sheet(&Spool::from(b"PK\x03\x04garbage"), &Limits::default()).unwrap_err();
        assert!(matches!(err, TableError::Xlsx(_)));
    }

    #[test]
    fn workbook_read_from_a_file_spool() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/samples/liste-2026-11.xlsx"
        ))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = Spool::from_reader(&bytes[..], dir.path(), usize::MAX).unwrap();
        let from_file = read_sheet(&file, &Limits::default()).unwrap();
        let from_bytes = read_sheet(&Spool::from(&bytes), &Limits::default()).unwrap();
        // The header and 25 rows.
        assert_eq!(from_file.rows.len(), 26);
        assert_eq!(from_file.rows, from_bytes.rows);
    }

    #[test]
    fn float_texts() {
        assert_eq!(float_text(8510.0), "8510");
        assert_eq!(float_text(912.16), "912.16");
        assert_eq!(float_text(775.2), "775.2");
        assert_eq!(float_text(-3.0), "-3");
    }
}
