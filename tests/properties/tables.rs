//! CSV and XLSX written by the project's `TableWriter` and read back by
//! `read_table` give back the cells.
//!
//! The exact property, for every cell `c` (no NUL character, within the
//! reader's cell length limit): the reader gives `defuse(c).trim()`, where
//! `defuse` is the formula neutralisation (an apostrophe before a `=`, `+`,
//! `-` or `@` that starts any piece of the cell a spreadsheet may split
//! off; see `defused_cells_never_start_a_formula` for its exact statement),
//! and `trim` is the reader's removal of surrounding white space. Rows whose
//! cells all come back empty are skipped by the reader, in both formats.

use passerelle::export::{FileFormat, TableWriter, defuse};
use passerelle::ingest::{Limits, TableError, read_table};
use proptest::prelude::*;

/// Characters that break naive writers or readers: delimiters, quotes,
/// line breaks, formula starters, spaces of every kind, accents, emoji.
const TRICKY: &[&str] = &[
    ";",
    ",",
    "\"",
    "'",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "=",
    "+",
    "-",
    "@",
    " ",
    "\u{A0}",
    "\u{202F}",
    "é",
    "Œ",
    "ß",
    "€",
    "😀",
    "👩‍👧",
    "\u{FEFF}",
    "<",
    ">",
    "&",
    "_x0041_",
    "\\",
    "#",
];

/// A cell: a mix of tricky pieces, ordinary words and any other character
/// (NUL excepted: a file holding one is refused as binary).
fn cell() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(TRICKY.to_vec()).prop_map(str::to_owned),
        2 => "[A-Za-z0-9]{1,6}",
        1 => any::<char>().prop_filter("NUL makes a file binary", |c| *c != '\0').prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|p| p.concat())
}

/// A table: 1 to 5 columns, up to 8 rows.
fn table() -> impl Strategy<Value = Vec<Vec<String>>> {
    (1usize..=5).prop_flat_map(|w| prop::collection::vec(prop::collection::vec(cell(), w), 0..8))
}

fn write(format: FileFormat, headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = TableWriter::new(format, headers).unwrap();
    for r in rows {
        w.write_row(r.iter().map(String::as_str)).unwrap();
    }
    assert_eq!(w.rows(), rows.len());
    w.finish().unwrap()
}

/// What the reader must give back for `rows`.
fn expected(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|c| defuse(c).trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|r| r.iter().any(|c| !c.is_empty()))
        .collect()
}

fn read_back(bytes: Vec<u8>) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let table = read_table(bytes, &Limits::default()).map_err(|e| e.to_string())?;
    let rows = table
        .rows()
        .map(|r| {
            r.map(|r| r.cells().iter().map(|c| c.text.clone()).collect())
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<Vec<String>>, String>>()?;
    Ok((table.headers().to_vec(), rows))
}

fn round_trip(format: FileFormat, rows: &[Vec<String>]) -> Result<(), TestCaseError> {
    let width = rows.first().map_or(1, Vec::len);
    let names: Vec<String> = (1..=width).map(|i| format!("colonne_{i}")).collect();
    let headers: Vec<&str> = names.iter().map(String::as_str).collect();
    let bytes = write(format, &headers, rows);
    let (read_headers, read_rows) = read_back(bytes).map_err(TestCaseError::fail)?;
    prop_assert_eq!(read_headers, names);
    prop_assert_eq!(read_rows, expected(rows));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn csv_round_trip(rows in table()) {
        round_trip(FileFormat::Csv, &rows)?;
    }

    #[test]
    fn xlsx_round_trip(rows in table()) {
        round_trip(FileFormat::Xlsx, &rows)?;
    }

    #[test]
    fn csv_and_xlsx_read_back_alike(rows in table()) {
        let headers = ["a", "b", "c", "d", "e"];
        let width = rows.first().map_or(1, Vec::len);
        let csv = read_back(write(FileFormat::Csv, &headers[..width], &rows));
        let xlsx = read_back(write(FileFormat::Xlsx, &headers[..width], &rows));
        prop_assert_eq!(csv, xlsx);
    }

    #[test]
    fn defused_cells_never_start_a_formula(c in cell()) {
        let d = defuse(&c);
        // No piece a spreadsheet may split off starts a formula once its
        // white space and double quotes are skipped.
        for piece in d.split([',', ';', '\t', '\r', '\n']) {
            let start = piece.trim_start_matches(|ch: char| ch.is_whitespace() || ch == '"');
            prop_assert!(!start.starts_with(['=', '+', '-', '@']), "{:?} in {:?}", piece, d);
        }
        prop_assert!(!d.starts_with(['\t', '\r']), "{:?}", d);
        // Only apostrophes are added: one at the start of a cell starting
        // with a tab or a carriage return, and one before each formula
        // character that starts a piece, nowhere else.
        let mut expected = String::new();
        if c.starts_with(['\t', '\r']) {
            expected.push('\'');
        }
        let mut piece_start = true;
        for ch in c.chars() {
            if piece_start && matches!(ch, '=' | '+' | '-' | '@') {
                expected.push('\'');
            }
            if matches!(ch, ',' | ';' | '\t' | '\r' | '\n') {
                piece_start = true;
            } else if !(ch.is_whitespace() || ch == '"') {
                piece_start = false;
            }
            expected.push(ch);
        }
        prop_assert_eq!(d.as_ref(), expected.as_str());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_reader(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        // Any outcome but a panic: a table, or a file-level error.
        if let Ok(t) = read_table(bytes, &Limits::default()) {
            for r in t.rows() {
                let _ = r.map(|r| r.cells().len());
            }
        }
    }
}

#[test]
fn a_nul_character_makes_the_csv_binary() {
    let bytes = write(FileFormat::Csv, &["a"], &[vec!["x\0y".to_owned()]]);
    assert_eq!(
        read_table(bytes, &Limits::default()).unwrap_err(),
        TableError::Binary
    );
}
