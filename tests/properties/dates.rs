//! `parse_date`: every valid date in `JJ/MM/AAAA` and `AAAA-MM-JJ` parses
//! to itself; impossible days are refused; nothing panics.

use passerelle::domain::parse_date;
use proptest::prelude::*;
use time::{Date, Month};

use crate::writing::padding;

fn days_in(year: i32, month: u8) -> u8 {
    Month::try_from(month).unwrap().length(year)
}

/// Any valid date with a four-digit year.
fn date() -> impl Strategy<Value = Date> {
    (1000i32..=9999, 1u8..=12)
        .prop_flat_map(|(y, m)| (Just(y), Just(m), 1..=days_in(y, m)))
        .prop_map(|(y, m, d)| Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap())
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_writing_of_a_date_parses_to_it(d in date(), style in 0usize..4, before in padding(), after in padding()) {
        let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
        let written = match style {
            0 => format!("{day:02}/{m:02}/{y}"),
            1 => format!("{day}/{m}/{y}"),
            2 => format!("{day}/{m:02}/{y}"),
            _ => iso(d),
        };
        let padded = format!("{before}{written}{after}");
        prop_assert_eq!(parse_date(&padded), Ok(d), "{:?}", padded);
    }

    #[test]
    fn impossible_days_are_refused_quoting_the_date(
        (y, m, day) in (1000i32..=9999, 1u8..=12)
            .prop_flat_map(|(y, m)| (Just(y), Just(m), (days_in(y, m) + 1)..=99))
    ) {
        for written in [format!("{day:02}/{m:02}/{y}"), format!("{y}-{m:02}-{day:02}")] {
            prop_assert_eq!(parse_date(&written), Err(format!("{written} is not a date")));
        }
    }

    #[test]
    fn impossible_months_are_refused(y in 1000i32..=9999, m in prop_oneof![Just(0u8), 13u8..=99], day in 1u8..=28) {
        for written in [format!("{day:02}/{m:02}/{y}"), format!("{y}-{m:02}-{day:02}")] {
            prop_assert!(parse_date(&written).is_err(), "{:?} accepted", written);
        }
    }

    #[test]
    fn arbitrary_text_never_panics_and_is_quoted_only_if_date_like(s in any::<String>()) {
        match parse_date(&s) {
            // Whatever was accepted is a date that prints back to itself.
            Ok(d) => prop_assert_eq!(parse_date(&iso(d)), Ok(d)),
            Err(m) => {
                let generic = "is not a date (expected JJ/MM/AAAA or AAAA-MM-JJ)";
                if m != generic {
                    let quoted = m.strip_suffix(" is not a date").unwrap_or_else(|| panic!("{m:?}"));
                    prop_assert_eq!(quoted, s.trim());
                    prop_assert!(quoted.chars().all(|c| c.is_ascii_digit() || "/-.: ".contains(c)), "{:?}", m);
                }
            }
        }
    }

    #[test]
    fn date_like_text_never_panics(s in "[0-9/ .:+-]{0,14}") {
        if let Ok(d) = parse_date(&s) {
            prop_assert_eq!(parse_date(&iso(d)), Ok(d));
        }
    }
}
