//! `PostalCode`: five ASCII digits and nothing else; a spreadsheet number
//! that lost its leading zero (01000…09999 typed as numbers) is restored
//! by the list reader, and only there.

use passerelle::domain::PostalCode;
use passerelle::ingest::{FileError, Limits, read_list};
use proptest::prelude::*;
use rust_xlsxwriter::Workbook;

use crate::writing::padding;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn five_digits_are_accepted_as_written(code in "[0-9]{5}", before in padding(), after in padding()) {
        let p = PostalCode::parse(&format!("{before}{code}{after}")).unwrap();
        prop_assert_eq!(p.as_str(), code.as_str());
        prop_assert_eq!(PostalCode::parse(p.as_str()), Ok(p));
    }

    #[test]
    fn anything_but_five_ascii_digits_is_refused(s in any::<String>()) {
        let t = s.trim();
        let five = t.len() == 5 && t.bytes().all(|b| b.is_ascii_digit());
        match PostalCode::parse(&s) {
            Ok(p) => prop_assert!(five && p.as_str() == t, "{:?} accepted", s),
            Err(m) => {
                prop_assert!(!five);
                // The value is quoted only when it looks like a postal code.
                if m != "must be 5 digits" {
                    prop_assert_eq!(m, format!("must be 5 digits (got {t})"));
                    prop_assert!(t.chars().all(|c| c.is_ascii_digit() || c == ' '));
                }
            }
        }
    }

    #[test]
    fn other_digit_counts_are_refused(code in "[0-9]{1,4}|[0-9]{6,10}") {
        prop_assert_eq!(PostalCode::parse(&code), Err(format!("must be 5 digits (got {code})")));
    }

    #[test]
    fn spreadsheet_numbers_keep_or_regain_their_leading_zero(n in 0u32..=99_999) {
        let bytes = list_xlsx(f64::from(n));
        let list = read_list(bytes, &Limits::default()).unwrap();
        let rows: Vec<_> = list.rows().collect();
        prop_assert_eq!(rows.len(), 1);
        if n >= 1000 {
            // 1000 is 01000: Excel dropped the zero.
            let row = rows[0].as_ref().unwrap();
            prop_assert_eq!(row.code_postal.as_str(), format!("{n:05}"));
        } else {
            // Fewer than four digits is not a lost zero but a wrong code.
            let errors = rows[0].as_ref().unwrap_err();
            prop_assert!(errors.iter().any(|e| e.column.as_deref() == Some("code_postal")), "{:?}", errors);
            prop_assert!(matches!(list.validate(), Err(FileError::InvalidRows(_))));
        }
    }

    #[test]
    fn text_cells_are_never_padded(code in "[0-9]{4}") {
        // In CSV (or a text cell) `1000` is what the agent typed: refused,
        // not guessed.
        let csv = format!("{}\nR1,2026-10-01,Nom,Prenom,1 rue X,{code},Ville,social,Bailleur,12.00\n", passerelle::ingest::list::REQUIRED_COLUMNS.join(","));
        let list = read_list(csv.into_bytes(), &Limits::default()).unwrap();
        let errors = list.rows().next().unwrap().unwrap_err();
        prop_assert!(errors.iter().any(|e| e.column.as_deref() == Some("code_postal")), "{:?}", errors);
    }
}

/// A one-row list as XLSX, the postal code stored as a number.
fn list_xlsx(code_postal: f64) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let columns = passerelle::ingest::list::REQUIRED_COLUMNS;
    for (i, name) in columns.iter().enumerate() {
        let col = u16::try_from(i).unwrap();
        ws.write_string(0, col, *name).unwrap();
        match *name {
            "code_postal" => {
                ws.write_number(1, col, code_postal).unwrap();
            }
            "montant_dette" => {
                ws.write_number(1, col, 1234.56).unwrap();
            }
            other => {
                let value = match other {
                    "date_cdp" => "2026-10-01",
                    "bailleur_type" => "social",
                    _ => "x",
                };
                ws.write_string(1, col, value).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}
