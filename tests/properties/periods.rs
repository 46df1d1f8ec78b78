//! `Period` (`AAAA-MM`, the month of a list) and the outbox file names the
//! client reads a period from (`liste-AAAA-MM…`).

use std::path::{Path, PathBuf};

use passerelle::client::{ClientConfig, ClientError, push_file};
use passerelle::domain::Period;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_month_parses_and_prints_back(year in 2000u16..=2999, month in 1u8..=12) {
        let written = format!("{year:04}-{month:02}");
        let p = Period::parse(&written).unwrap();
        prop_assert_eq!(p.to_string(), written);
    }

    #[test]
    fn accepted_text_is_the_period_as_printed(
        s in prop_oneof![
            (prop_oneof!["2[0-9]{3}", "[0-9+ ]{4}"], "[0-9+ ]{2}").prop_map(|(y, m)| format!("{y}-{m}")),
            ".{0,10}",
        ]
    ) {
        // A period is compared and stored as text: only its one writing may
        // be accepted, or two writings would name one month.
        if let Ok(p) = Period::parse(&s) {
            prop_assert_eq!(p.to_string(), s);
        }
    }

    #[test]
    fn outbox_names_that_are_not_a_list_or_return_are_refused(
        prefix in prop::sample::select(vec!["liste-", "list-", "LISTE-", "", "x"]),
        rest in ".{0,12}",
    ) {
        // Whatever its name, a file dropped in the outbox is sent or
        // refused, never a panic of the watching client. Names whose
        // period is not `AAAA-MM` are refused before anything is sent.
        let name = format!("{prefix}{rest}.csv");
        let lower = name.to_lowercase();
        let after = lower.strip_prefix("liste-").or_else(|| lower.strip_prefix("list-"));
        let is_list = after.is_some_and(|r| r.get(..7).is_some_and(|p| Period::parse(p).is_ok()));
        let is_return = ["enrichment", "referent", "followup"].iter().any(|k| lower.starts_with(k));
        prop_assume!(!is_list && !is_return && !name.contains('/') && !name.contains('\0'));
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let r = runtime.block_on(push_file(&offline_config(), &Path::new("outbox").join(&name)));
        prop_assert!(matches!(r, Err(ClientError::Refused { status: 0, .. })), "{:?}: {:?}", name, r);
    }
}

/// A configuration whose gateway is never reached (names are refused
/// before any connection).
fn offline_config() -> ClientConfig {
    let none = PathBuf::from("/nonexistent");
    ClientConfig {
        gateway: "https://127.0.0.1:9".to_owned(),
        ca: none.clone(),
        cert: none.clone(),
        key: none.clone(),
        identity: none.clone(),
        inbox: none.clone(),
        outbox: none.clone(),
        state: none,
        gateway_recipient: None,
        interval_secs: 60,
        max_retries: 0,
    }
}

#[test]
fn a_list_name_cut_inside_a_character_is_refused() {
    // `liste-2026-1é…`: the seventh byte of the period falls inside `é`.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let r = runtime.block_on(push_file(
        &offline_config(),
        Path::new("outbox/liste-2026-1é.csv"),
    ));
    assert!(
        matches!(r, Err(ClientError::Refused { status: 0, .. })),
        "{r:?}"
    );
}
