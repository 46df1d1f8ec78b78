//! Projection of a case onto a view's fields.

use crate::config::{FieldRule, Transform};
use crate::domain::Euros;
use crate::ingest::CdpRow;
use crate::ingest::returns::Enrichment;

fn yes_no(b: bool) -> String {
    if b { "oui" } else { "non" }.to_owned()
}

/// Age bands for views that need less than an age.
fn age_band(age: i32) -> &'static str {
    match age {
        ..25 => "< 25",
        25..50 => "25-49",
        50..65 => "50-64",
        _ => ">= 65",
    }
}

/// The cell of `field` for `row` (and CAF's enrichment, when received),
/// shown to a partner under `token`. Enrichment fields are empty until CAF
/// has answered.
pub fn cell(row: &CdpRow, e: Option<&Enrichment>, token: &str, field: &FieldRule) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let age = || {
        e.and_then(|e| e.date_naissance)
            .map(|b| super::attribution::age_at(b, row.date_cdp))
    };
    match (field.name.as_str(), field.transform) {
        ("allocataire", _) => e.map(|e| yes_no(e.allocataire)).unwrap_or_default(),
        ("date_naissance", _) => e
            .and_then(|e| e.date_naissance)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        ("age", _) => age().map(|a| a.to_string()).unwrap_or_default(),
        ("tranche_age", _) => age().map(|a| age_band(a).to_owned()).unwrap_or_default(),
        ("nb_adultes", _) => e.map(|e| e.nb_adultes.to_string()).unwrap_or_default(),
        ("nb_enfants", _) => e.map(|e| e.nb_enfants.to_string()).unwrap_or_default(),
        ("ages_enfants", _) => e
            .map(|e| {
                e.ages_enfants
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_default(),
        ("beneficiaire_alf", _) => e.map(|e| yes_no(e.beneficiaire_alf)).unwrap_or_default(),
        ("beneficiaire_apl", _) => e.map(|e| yes_no(e.beneficiaire_apl)).unwrap_or_default(),
        ("token", _) => token.to_owned(),
        ("date_cdp", Transform::Month) => row.date_cdp.to_string()[..7].to_owned(),
        ("montant_dette", Transform::AmountBand) => amount_band(&row.montant_dette),
        ("loyer_mensuel", Transform::AmountBand) => row
            .loyer_mensuel
            .as_ref()
            .map(amount_band)
            .unwrap_or_default(),
        ("ref_cdp", _) => row.ref_cdp.clone(),
        ("date_cdp", _) => row.date_cdp.to_string(),
        ("nom", _) => row.nom.clone(),
        ("prenom", _) => row.prenom.clone(),
        ("adresse", _) => row.adresse.clone(),
        ("code_postal", _) => row.code_postal.as_ref().to_owned(),
        ("commune", _) => row.commune.clone(),
        ("telephone", _) => row
            .telephone
            .as_ref()
            .map(|p| p.as_ref().to_owned())
            .unwrap_or_default(),
        ("courriel", _) => opt(&row.courriel),
        ("bailleur_type", _) => row.bailleur_type.as_str().to_owned(),
        ("bailleur_nom", _) => row.bailleur_nom.clone(),
        ("montant_dette", _) => row.montant_dette.to_string(),
        ("loyer_mensuel", _) => row
            .loyer_mensuel
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        ("commissaire_justice", _) => opt(&row.commissaire_justice),
        // The policy loader refuses any other name.
        (other, _) => unreachable!("field {other} passed the policy check"),
    }
}

/// Amount bands, in euros.
fn amount_band(e: &Euros) -> String {
    let euros = e.cents() / 100;
    match euros {
        ..1000 => "< 1000",
        1000..3000 => "1000-2999",
        3000..5000 => "3000-4999",
        _ => ">= 5000",
    }
    .to_owned()
}
