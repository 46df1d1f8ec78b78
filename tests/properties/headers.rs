//! Header matching: any case, accent, space or underscore variation of a
//! canonical column name finds that column, in `header_key` and through a
//! table read from a file.

use passerelle::domain::header_key;
use passerelle::ingest::list::{OPTIONAL_COLUMNS, REQUIRED_COLUMNS};
use passerelle::ingest::{Limits, read_table};
use proptest::prelude::*;

use crate::writing::{letter_picks, vary_letters};

/// Every column of the list and of the returns (canonical names).
fn canonical_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .chain(&OPTIONAL_COLUMNS)
        .copied()
        .collect();
    // The returns' columns (tests/samples/retour-*.csv).
    names.extend([
        "token",
        "allocataire",
        "date_naissance",
        "nb_adultes",
        "nb_enfants",
        "ages_enfants",
        "beneficiaire_alf",
        "beneficiaire_apl",
        "date",
        "evenement",
        "motif",
        "detail",
        "referent_connu",
        "organisme",
        "nom_referent",
    ]);
    names
}

/// A canonical name as a partner might head the column: each letter in any
/// case and accent, words joined by `_`, spaces, a dash or nothing, with
/// white space around (and sometimes a BOM, as Excel writes).
fn variation(name: &'static str) -> impl Strategy<Value = String> {
    let words: Vec<&str> = name.split('_').collect();
    let n = words.len();
    (
        prop::collection::vec(letter_picks(), n),
        prop::collection::vec(
            prop::sample::select(vec!["_", " ", "  ", "", "-", " _ ", "\u{A0}"]),
            n,
        ),
        prop::sample::select(vec!["", " ", "\u{FEFF}", "\t"]),
        prop::sample::select(vec!["", " ", "  ", "\u{A0}"]),
    )
        .prop_map(move |(picks, seps, lead, trail)| {
            let mut out = lead.to_owned();
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    out.push_str(seps[i]);
                }
                out.push_str(&vary_letters(w, &picks[i]));
            }
            out.push_str(trail);
            out
        })
}

fn any_name_and_variation() -> impl Strategy<Value = (&'static str, String)> {
    prop::sample::select(canonical_names()).prop_flat_map(|n| (Just(n), variation(n)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_variation_has_the_canonical_key((name, written) in any_name_and_variation()) {
        prop_assert_eq!(header_key(&written), header_key(name), "{:?}", written);
        prop_assert_eq!(header_key(name), name.replace('_', ""));
    }

    #[test]
    fn a_file_headed_with_variations_is_read_by_canonical_names(
        (picked, headers) in prop::sample::subsequence(canonical_names(), 1..8)
            .prop_shuffle()
            .prop_flat_map(|names| {
                let written: Vec<_> = names.iter().map(|n| variation(n)).collect();
                (Just(names), written)
            }),
        delimiter in prop::sample::select(vec![',', ';', '\t']),
    ) {
        // The variations head the columns; one data row names each
        // column's position.
        let sep = delimiter.to_string();
        let header_line: Vec<String> = headers.iter().map(|h| format!("\"{h}\"")).collect();
        let data: Vec<String> = (0..picked.len()).map(|i| format!("v{i}")).collect();
        let text = format!("{}\r\n{}\r\n", header_line.join(&sep), data.join(&sep));
        let table = read_table(text.into_bytes(), &Limits::default()).unwrap();
        let row = table.rows().next().unwrap().unwrap();
        for (i, name) in picked.iter().enumerate() {
            prop_assert_eq!(table.column_index(name), Some(i), "{} in {:?}", name, headers);
            let expected = format!("v{i}");
            prop_assert_eq!(row.get(name), Some(expected.as_str()));
        }
    }

    #[test]
    fn distinct_columns_never_collide(a in prop::sample::select(canonical_names()), b in prop::sample::select(canonical_names())) {
        prop_assert_eq!(header_key(a) == header_key(b), a == b);
    }

    #[test]
    fn header_key_never_panics_and_keeps_only_letters_and_digits(s in any::<String>()) {
        let k = header_key(&s);
        prop_assert!(k.chars().all(char::is_alphanumeric), "{:?} gave {:?}", s, k);
    }
}
