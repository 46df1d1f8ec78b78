//! `Euros`: every writing of an amount gives the same cents; formatting
//! then parsing is the identity; anything else is refused without quoting
//! the value, and nothing panics.

use passerelle::domain::Euros;
use proptest::prelude::*;

use crate::writing::{THOUSANDS_SPACES, grouped, padding};

/// The documented ceiling, 10^13 euros (`from_cents` accepts up to it).
const MAX_CENTS: i64 = 1_000_000_000_000_000;

/// The only messages `Euros::parse` gives: none quotes the value (amounts
/// are personal data).
const MESSAGES: [&str; 4] = [
    "is not an amount",
    "must not be negative",
    "must have at most 2 decimals",
    "is too large",
];

/// One writing of `cents` as partners send it.
fn writing(cents: i64) -> impl Strategy<Value = String> {
    let euros = (cents / 100).to_string();
    let frac = cents % 100;
    let styles = 0usize..9;
    let space = prop::sample::select(THOUSANDS_SPACES.to_vec());
    let sign = prop::sample::select(vec!["", " €", "€", " EUR", "EUR", "prefix"]);
    (styles, space, sign, padding(), padding()).prop_filter_map(
        "that writing cannot carry this amount",
        move |(style, space, sign, before, after)| {
            let body = match style {
                // 2311.00
                0 => format!("{euros}.{frac:02}"),
                // 2311,00
                1 => format!("{euros},{frac:02}"),
                // 2311 (whole euros only)
                2 if frac == 0 => euros.clone(),
                // 2 311,00 with any of the French spaces
                3 => format!("{},{frac:02}", grouped(&euros, space)),
                // 2 311 (whole euros only)
                4 if frac == 0 => grouped(&euros, space),
                // 1.234,56
                5 => format!("{},{frac:02}", grouped(&euros, ".")),
                // 1,234.56
                6 => format!("{}.{frac:02}", grouped(&euros, ",")),
                // 1200,5 (one decimal when the cents end in 0)
                7 if frac % 10 == 0 => format!("{euros},{}", frac / 10),
                // +2311.00
                8 => format!("+{euros}.{frac:02}"),
                _ => return None,
            };
            let written = match sign {
                "prefix" => format!("€ {body}"),
                s => format!("{body}{s}"),
            };
            Some(format!("{before}{written}{after}"))
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_writing_parses_to_the_same_cents(
        (cents, written) in (0i64..10_000_000_000_000).prop_flat_map(|c| (Just(c), writing(c)))
    ) {
        let parsed = Euros::parse(&written);
        prop_assert_eq!(parsed.map(Euros::cents), Ok(cents), "{:?}", written);
    }

    #[test]
    fn display_then_parse_is_the_identity(cents in 0i64..=MAX_CENTS) {
        let e = Euros::from_cents(cents).unwrap();
        let shown = e.to_string();
        prop_assert_eq!(Euros::parse(&shown), Ok(e), "{}", shown);
        // Serde goes through the same text.
        let json = serde_json::to_string(&e).unwrap();
        prop_assert_eq!(serde_json::from_str::<Euros>(&json).unwrap(), e);
    }

    #[test]
    fn spreadsheet_numbers_give_the_same_cents(cents in 0i64..100_000_000_000) {
        // A spreadsheet stores 1234.56 as the nearest double; amounts up to
        // a billion euros come back to the exact cent.
        let v = cents as f64 / 100.0;
        prop_assert_eq!(Euros::from_f64(v).map(Euros::cents), Ok(cents), "{}", v);
    }

    #[test]
    fn negative_amounts_are_refused(cents in 1i64..10_000_000_000, minus in prop::sample::select(vec!["-", "\u{2212}", " -", "- "])) {
        let written = format!("{minus}{}.{:02}", cents / 100, cents % 100);
        prop_assert_eq!(Euros::parse(&written), Err("must not be negative".to_owned()));
        prop_assert!(Euros::from_cents(-cents).is_err());
        prop_assert!(Euros::from_f64(-(cents as f64) / 100.0).is_err());
    }

    #[test]
    fn three_decimals_are_refused(euros in 0i64..1_000_000, mills in 0u32..1000, sep in prop::sample::select(vec![",", "."])) {
        let written = format!("{euros}{sep}{mills:03}");
        // `1,234` and `1.234` would be read as thousands if they had a
        // second group; alone after the integer part they are decimals.
        prop_assert_eq!(
            Euros::parse(&written),
            Err("must have at most 2 decimals".to_owned()),
            "{}", written
        );
    }

    #[test]
    fn garbage_never_panics_and_is_refused_without_quoting(s in any::<String>()) {
        match Euros::parse(&s) {
            // Whatever was accepted prints back to itself.
            Ok(e) => prop_assert_eq!(Euros::parse(&e.to_string()), Ok(e)),
            Err(m) => prop_assert!(MESSAGES.contains(&m.as_str()), "{:?} gave {:?}", s, m),
        }
    }

    #[test]
    fn near_amounts_with_letters_are_refused(
        cents in 0i64..10_000_000_000,
        at in 0usize..12,
        junk in prop::sample::select(vec!["a", "x", "O", "l", "#", "/", "_", "'", "€€", "e3", "%"]),
    ) {
        let mut written = format!("{}.{:02}", cents / 100, cents % 100);
        let at = at.min(written.len());
        written.insert_str(at, junk);
        let r = Euros::parse(&written);
        prop_assert!(r.is_err(), "{:?} accepted as {:?}", written, r);
        prop_assert!(MESSAGES.contains(&r.unwrap_err().as_str()));
    }
}

#[test]
fn the_ceiling_itself_prints_and_parses_back() {
    // `from_cents` (and `from_f64`) accept exactly 10^13 euros: the text
    // they print must be read back, or an accepted amount could not be
    // exchanged.
    let top = Euros::from_cents(MAX_CENTS).unwrap();
    assert_eq!(top.to_string(), "10000000000000.00");
    assert_eq!(Euros::parse(&top.to_string()), Ok(top));
    assert_eq!(Euros::from_f64(1e13), Ok(top));
    assert_eq!(
        Euros::parse("10000000000000.01"),
        Err("is too large".to_owned())
    );
    assert!(Euros::from_cents(MAX_CENTS + 1).is_err());
    assert_eq!(
        Euros::parse("999999999999999999999999"),
        Err("is too large".to_owned())
    );
}
