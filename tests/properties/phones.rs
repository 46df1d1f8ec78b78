//! `Phone`: every French writing of a number normalises to its ten digits;
//! foreign and malformed numbers are refused without quoting them.

use passerelle::domain::Phone;
use proptest::prelude::*;

use crate::writing::padding;

const MESSAGES: [&str; 3] = [
    "must be a phone number",
    "must be a French number",
    "must have 10 digits",
];

/// A French number's nine digits after its leading 0 (the first is 1–9).
fn national() -> impl Strategy<Value = String> {
    "[1-9][0-9]{8}"
}

/// `0X XX XX XX XX`-style pairs of the nine digits after the 0, joined.
fn pairs(nine: &str, sep: &str) -> String {
    let (first, rest) = nine.split_at(1);
    let mut out = first.to_owned();
    for pair in rest.as_bytes().chunks(2) {
        out.push_str(sep);
        out.push_str(std::str::from_utf8(pair).unwrap());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_french_writing_gives_the_same_number(
        nine in national(),
        sep in prop::sample::select(vec!["", " ", ".", "-", "/", "\u{A0}", "\u{202F}"]),
        prefix in prop::sample::select(vec!["0", "+33 ", "+33", "+33 (0)", "+33(0)", "0033 ", "0033", "+33 0", "0033 0", "33 "]),
        before in padding(),
        after in padding(),
    ) {
        let expected = format!("0{nine}");
        let written = format!("{before}{prefix}{}{after}", pairs(&nine, sep));
        let parsed = Phone::parse(&written).map(|p| p.as_str().to_owned());
        prop_assert_eq!(parsed, Ok(expected.clone()), "{:?}", written);
        // The normal form is a fixed point.
        prop_assert_eq!(Phone::parse(&expected).map(|p| p.to_string()), Ok(expected));
    }

    #[test]
    fn other_countries_are_refused(
        cc in prop::sample::select(vec!["1", "32", "34", "41", "44", "49", "212", "262", "352"]),
        digits in "[1-9][0-9]{7,9}",
        plus in any::<bool>(),
    ) {
        let written = if plus { format!("+{cc} {digits}") } else { format!("00{cc} {digits}") };
        prop_assert_eq!(Phone::parse(&written), Err("must be a French number".to_owned()), "{:?}", written);
    }

    #[test]
    fn wrong_lengths_are_refused(nine in national(), cut in 1usize..9, extra in "[0-9]{1,3}") {
        let short = format!("0{}", &nine[..cut]);
        prop_assert_eq!(Phone::parse(&short), Err("must have 10 digits".to_owned()), "{:?}", short);
        let long = format!("0{nine}{extra}");
        prop_assert_eq!(Phone::parse(&long), Err("must have 10 digits".to_owned()), "{:?}", long);
    }

    #[test]
    fn garbage_never_panics_and_is_refused_without_quoting(s in any::<String>()) {
        match Phone::parse(&s) {
            Ok(p) => {
                prop_assert_eq!(p.as_str().len(), 10);
                prop_assert!(p.as_str().starts_with('0') && !p.as_str().starts_with("00"));
                prop_assert_eq!(Phone::parse(p.as_str()), Ok(p.clone()));
            }
            Err(m) => prop_assert!(MESSAGES.contains(&m.as_str()), "{:?} gave {:?}", s, m),
        }
    }

    #[test]
    fn letters_in_a_number_are_refused(nine in national(), at in 0usize..10, junk in "[a-zA-Z#*,;]") {
        let mut written = format!("0{nine}");
        written.insert_str(at, &junk);
        prop_assert_eq!(Phone::parse(&written), Err("must be a phone number".to_owned()), "{:?}", written);
    }
}
