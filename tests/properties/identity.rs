//! The household identity behind pseudonymisation: two writings of one
//! person's surname, first name and postal code (case, accents, ligatures,
//! punctuation, spacing) give the same household token, so a later month's
//! list finds the same household; different names give different tokens.

use passerelle::domain::fold_key;
use passerelle::pseudo::{Pseudonymiser, household_identity};
use proptest::prelude::*;

use crate::writing::{letter_picks, padding, vary_letters};

/// A name as words of ASCII lower-case letters (the canonical writing).
fn words(max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-z]{1,10}", 1..=max)
}

/// Separators between words, and around them, as lists carry them.
fn separator() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        " ", "  ", "-", "'", "\u{2019}", " - ", "\t", "\u{A0}", ", ", ". ",
    ])
    .prop_map(str::to_owned)
}

/// One writing of `words`: letters in any case and accent, `oe` sometimes
/// as `œ`, any separators, stray punctuation at either end.
fn writing(words: Vec<String>) -> impl Strategy<Value = String> {
    let n = words.len();
    (
        prop::collection::vec(letter_picks(), n),
        prop::collection::vec(separator(), n),
        any::<bool>(),
        prop::sample::select(vec!["", " ", "-", " '", "\u{A0}"]),
        prop::sample::select(vec!["", " ", ".", "-", " ,"]),
    )
        .prop_map(move |(picks, seps, ligature, lead, trail)| {
            let mut out = lead.to_owned();
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    out.push_str(&seps[i]);
                }
                let varied = vary_letters(w, &picks[i]);
                // The ligature stands for the two letters in any case.
                let varied = if ligature {
                    varied.replace("oe", "œ").replace("OE", "Œ")
                } else {
                    varied
                };
                out.push_str(&varied);
            }
            out.push_str(trail);
            out
        })
}

fn pseudonymiser() -> Pseudonymiser {
    Pseudonymiser::new(&[7u8; 32])
}

fn token(nom: &str, prenom: &str, cp: &str) -> String {
    pseudonymiser().household_token(&household_identity(nom, prenom, cp))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn writings_of_one_person_give_one_household(
        (nom, nom_a, nom_b) in words(3).prop_flat_map(|w| (Just(w.clone()), writing(w.clone()), writing(w))),
        (prenom, prenom_a, prenom_b) in words(2).prop_flat_map(|w| (Just(w.clone()), writing(w.clone()), writing(w))),
        cp in "[0-9]{5}",
        pad_a in padding(),
        pad_b in padding(),
    ) {
        // The folded form: upper case, no accents, one space between words.
        let canonical_nom = nom.join(" ").to_uppercase();
        prop_assert_eq!(fold_key(&nom_a), canonical_nom.clone(), "{:?}", nom_a);
        prop_assert_eq!(fold_key(&nom_b), canonical_nom, "{:?}", nom_b);
        prop_assert_eq!(fold_key(&prenom_a), prenom.join(" ").to_uppercase(), "{:?}", prenom_a);
        let a = token(&nom_a, &prenom_a, &format!("{pad_a}{cp}{pad_a}"));
        let b = token(&nom_b, &prenom_b, &format!("{pad_b}{cp}{pad_b}"));
        prop_assert_eq!(a, b, "{:?} / {:?}", (&nom_a, &prenom_a), (&nom_b, &prenom_b));
    }

    #[test]
    fn different_people_give_different_households(
        nom in words(2),
        prenom in words(2),
        other in "[a-z]{1,10}",
        cp in "[0-9]{5}",
        other_cp in "[0-9]{5}",
    ) {
        let nom_s = nom.join(" ");
        let prenom_s = prenom.join(" ");
        let same = token(&nom_s, &prenom_s, &cp);
        if fold_key(&other) != fold_key(&nom_s) {
            prop_assert_ne!(token(&other, &prenom_s, &cp), same.clone());
        }
        if fold_key(&other) != fold_key(&prenom_s) {
            prop_assert_ne!(token(&nom_s, &other, &cp), same.clone());
        }
        if other_cp != cp {
            prop_assert_ne!(token(&nom_s, &prenom_s, &other_cp), same.clone());
        }
        // Surname and first name are not interchangeable.
        if fold_key(&nom_s) != fold_key(&prenom_s) {
            prop_assert_ne!(token(&prenom_s, &nom_s, &cp), same);
        }
    }

    #[test]
    fn fold_key_is_idempotent_and_never_panics(s in any::<String>()) {
        let k = fold_key(&s);
        prop_assert_eq!(fold_key(&k), k.clone(), "{:?}", s);
        prop_assert!(!k.starts_with(' ') && !k.ends_with(' ') && !k.contains("  "));
    }
}
