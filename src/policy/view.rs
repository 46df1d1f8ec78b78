//! Projection of a case onto a view's fields.

use crate::config::{FieldRule, Transform};
use crate::domain::Euros;
use crate::ingest::CdpRow;

/// The cell of `field` for `row`, shown to a partner under `token`.
pub fn cell(row: &CdpRow, token: &str, field: &FieldRule) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    match (field.name.as_str(), field.transform) {
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
