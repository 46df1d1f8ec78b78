//! Outgoing CSV files carry no live formula, however a spreadsheet splits
//! them: read with `,` (as written), with `;` (French Excel), both honouring
//! quotes, or cut naively at every line break and separator.

use passerelle::export::{FileFormat, TableWriter};
use proptest::prelude::*;

/// Cells an adversary may put in a name or an address.
const HOSTILE: &[&str] = &[
    "Dupont;=cmd|' /C calc'!A0;",
    "=1+1",
    "+33 6 12 34 56 78",
    "-2",
    "@SUM(A1)",
    "\t=x",
    "\r=x",
    "a\n=x",
    "a\r\n+x",
    "a,-x",
    "a;@x",
    "a\t=x",
    "a;  =x",
    "a; \u{A0}=x",
    "a;\"=x",
    "a;\"\"=x",
    "\"=x",
    "b;",
    "x\";=y",
    "\";\"=HYPERLINK(\"http://x\")",
    " =x",
    "Jean-Pierre",
];

fn write(rows: &[Vec<String>]) -> Vec<u8> {
    let width = rows.first().map_or(1, Vec::len);
    let names: Vec<String> = (1..=width).map(|i| format!("c{i}")).collect();
    let headers: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut w = TableWriter::new(FileFormat::Csv, &headers).unwrap();
    for r in rows {
        w.write_row(r.iter().map(String::as_str)).unwrap();
    }
    w.finish().unwrap()
}

/// Every cell a reader may see in `bytes`, by the three ways of reading.
fn cells_seen(bytes: &[u8]) -> Vec<String> {
    let mut seen = Vec::new();
    for delimiter in [b',', b';'] {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(bytes);
        for record in reader.byte_records() {
            let record = record.unwrap();
            seen.extend(
                record
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned()),
            );
        }
    }
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    seen.extend(text.split(['\r', '\n', ',', ';', '\t']).map(str::to_owned));
    seen
}

fn live_formula(cell: &str) -> bool {
    cell.trim().starts_with(['=', '+', '-', '@'])
}

fn assert_inert(rows: &[Vec<String>]) -> Result<(), TestCaseError> {
    let bytes = write(rows);
    for cell in cells_seen(&bytes) {
        prop_assert!(
            !live_formula(&cell),
            "{cell:?} in {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(())
}

#[test]
fn hostile_cells_stay_inert_however_the_csv_is_split() {
    // Each hostile cell alone, after a plain cell, and next to each other.
    let mut rows: Vec<Vec<String>> = Vec::new();
    for h in HOSTILE {
        for g in HOSTILE {
            rows.push(vec!["t".to_owned(), (*h).to_owned(), (*g).to_owned()]);
            rows.push(vec![(*h).to_owned(), "t".to_owned(), (*g).to_owned()]);
        }
    }
    assert_inert(&rows).unwrap();
}

#[test]
fn the_check_sees_an_unprotected_formula() {
    // The readers used above do find a formula piece in a raw cell, so the
    // test above fails if the writer stops defusing.
    let raw = b"c1,c2\nt,\"Dupont;=cmd\"\n";
    assert!(cells_seen(raw).iter().any(|c| live_formula(c)));
}

/// Pieces that build hostile cells.
const PIECES: &[&str] = &[
    ";", ",", "\"", "'", "\n", "\r", "\t", "=", "+", "-", "@", " ", "\u{A0}", "a", "1",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_table_stays_inert_however_the_csv_is_split(
        rows in (1usize..=4).prop_flat_map(|w| prop::collection::vec(
            prop::collection::vec(
                prop::collection::vec(prop::sample::select(PIECES.to_vec()), 0..8)
                    .prop_map(|p| p.concat()),
                w,
            ),
            1..6,
        ))
    ) {
        assert_inert(&rows)?;
    }
}
