//! The attribution criteria: from a case's facts to a proposed referent
//! (or a not-processed motif), with the reason, per the policy's rules.

use super::scope::in_territory;
use crate::config::{Policy, Rule};
use crate::ingest::CdpRow;
use crate::ingest::returns::Enrichment;
use serde::Serialize;

/// What the concertation is proposed for one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    /// The referent proposed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisme: Option<String>,
    /// Or a not-processed motif.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_traite: Option<String>,
    /// Why.
    pub reason: String,
}

/// Full years from `birth` to `at`.
pub fn age_at(birth: time::Date, at: time::Date) -> i32 {
    let mut years = at.year() - birth.year();
    if (at.month() as u8, at.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

/// `Some(true/false)` when the fact is known, `None` when it is missing.
fn check(
    rule: &Rule,
    policy: &Policy,
    row: &CdpRow,
    e: Option<&Enrichment>,
) -> Result<bool, &'static str> {
    let mut ok = true;
    let mut missing: Option<&'static str> = None;
    let mut cond = |v: Option<bool>, what: &'static str| match v {
        Some(b) => ok &= b,
        None => {
            missing.get_or_insert(what);
        }
    };
    if let Some(b) = &rule.bailleur_type {
        cond(Some(row.bailleur_type.as_str() == b), "");
    }
    if let Some(t) = &rule.territoire {
        cond(Some(in_territory(policy, t, row)), "");
    }
    if let Some(t) = &rule.hors_territoire {
        cond(Some(!in_territory(policy, t, row)), "");
    }
    let need_enrichment = "CAF's enrichment has not been received";
    if let Some(n) = rule.enfant_moins_de {
        cond(
            e.map(|e| e.ages_enfants.iter().any(|a| *a < n)),
            need_enrichment,
        );
    }
    if let Some(with) = rule.avec_enfants {
        cond(e.map(|e| (e.nb_enfants > 0) == with), need_enrichment);
    }
    if let Some(alf) = rule.beneficiaire_alf {
        cond(e.map(|e| e.beneficiaire_alf == alf), need_enrichment);
    }
    let age = e.map(|e| e.date_naissance.map(|b| age_at(b, row.date_cdp)));
    let age_missing = if e.is_none() {
        need_enrichment
    } else {
        "the birth date is missing"
    };
    if let Some(n) = rule.age_moins_de {
        cond(age.flatten().map(|a| a < n as i32), age_missing);
    }
    if let Some(n) = rule.age_au_moins {
        cond(age.flatten().map(|a| a >= n as i32), age_missing);
    }
    match (ok, missing) {
        (false, _) => Ok(false),
        (true, Some(what)) => Err(what),
        (true, None) => Ok(true),
    }
}

/// The proposal for a case not already followed, or `None` with the reason
/// when the facts to decide are missing.
pub fn propose(policy: &Policy, row: &CdpRow, e: Option<&Enrichment>) -> Result<Proposal, String> {
    for rule in &policy.attribution {
        match check(rule, policy, row, e) {
            Ok(true) => {
                return Ok(Proposal {
                    organisme: rule.organisme.clone(),
                    non_traite: rule.non_traite.clone(),
                    reason: rule.reason.clone(),
                });
            }
            Ok(false) => continue,
            Err(missing) => return Err(format!("no proposal: {missing}")),
        }
    }
    Err("no proposal: no attribution rule applies".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BailleurType, Euros, PostalCode};
    use time::macros::date;

    fn policy() -> Policy {
        Policy::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/policy.toml"))
            .unwrap()
    }

    fn row(commune: &str, bailleur: BailleurType) -> CdpRow {
        CdpRow {
            line: 2,
            ref_cdp: "R".into(),
            date_cdp: date!(2026 - 10 - 05),
            nom: "N".into(),
            prenom: "P".into(),
            adresse: "A".into(),
            code_postal: PostalCode::parse("85100").unwrap(),
            commune: commune.into(),
            telephone: None,
            courriel: None,
            bailleur_type: bailleur,
            bailleur_nom: "B".into(),
            montant_dette: Euros::parse("1000").unwrap(),
            loyer_mensuel: None,
            commissaire_justice: None,
        }
    }

    fn family(birth: Option<time::Date>, ages: &[u32], alf: bool) -> Enrichment {
        Enrichment {
            allocataire: true,
            date_naissance: birth,
            nb_adultes: 1,
            nb_enfants: ages.len() as u32,
            ages_enfants: ages.to_vec(),
            beneficiaire_alf: alf,
            beneficiaire_apl: false,
        }
    }

    fn who(commune: &str, b: BailleurType, e: Option<Enrichment>) -> Result<String, String> {
        propose(&policy(), &row(commune, b), e.as_ref()).map(|p| {
            p.organisme
                .or(p.non_traite.map(|m| format!("non_traite:{m}")))
                .unwrap()
        })
    }

    const TOWN: &str = "Les Sables-d'Olonne";
    const SECTOR: &str = "Jard-sur-Mer";
    const FIFTY: Option<time::Date> = Some(date!(1976 - 10 - 05)); // 50 on the CDP date
    const FORTY_NINE: Option<time::Date> = Some(date!(1976 - 10 - 06));

    #[test]
    fn the_criteria_table_row_by_row() {
        use BailleurType::{Prive, Social};
        // Family with a child under 21 receiving ALF: private → CAF, social → MDSF.
        assert_eq!(
            who(TOWN, Prive, Some(family(FORTY_NINE, &[20], true))).unwrap(),
            "caf"
        );
        assert_eq!(
            who(TOWN, Social, Some(family(FORTY_NINE, &[20], true))).unwrap(),
            "mdsf"
        );
        // A child exactly 21 is not under 21: a family with children → MDSF.
        assert_eq!(
            who(TOWN, Prive, Some(family(FORTY_NINE, &[21], true))).unwrap(),
            "mdsf"
        );
        // Family with children without ALF → MDSF, either landlord.
        assert_eq!(
            who(SECTOR, Prive, Some(family(FIFTY, &[4, 9], false))).unwrap(),
            "mdsf"
        );
        assert_eq!(
            who(SECTOR, Social, Some(family(FIFTY, &[4], false))).unwrap(),
            "mdsf"
        );
        // Person under 50 without children → MDSF; exactly 50 → CCAS (in town).
        assert_eq!(
            who(TOWN, Prive, Some(family(FORTY_NINE, &[], false))).unwrap(),
            "mdsf"
        );
        assert_eq!(
            who(TOWN, Prive, Some(family(FIFTY, &[], false))).unwrap(),
            "ccas-sables"
        );
        assert_eq!(
            who(TOWN, Social, Some(family(FIFTY, &[], true))).unwrap(),
            "ccas-sables"
        );
        // Over 50 without children outside the town: the CCAS does not cover it.
        assert_eq!(
            who(SECTOR, Prive, Some(family(FIFTY, &[], false))).unwrap(),
            "mdsf"
        );
        // Outside the sector: not processed.
        assert_eq!(
            who("Fontenay-le-Comte", Prive, Some(family(FIFTY, &[], false))).unwrap(),
            "non_traite:hors_secteur"
        );
    }

    #[test]
    fn missing_facts_give_no_proposal_with_the_reason() {
        use BailleurType::Prive;
        let no_birth = who(TOWN, Prive, Some(family(None, &[], false))).unwrap_err();
        assert!(no_birth.contains("birth date"), "{no_birth}");
        // With children the birth date is not needed.
        assert_eq!(
            who(TOWN, Prive, Some(family(None, &[3], false))).unwrap(),
            "mdsf"
        );
        let no_enrichment = who(TOWN, Prive, None).unwrap_err();
        assert!(no_enrichment.contains("enrichment"), "{no_enrichment}");
    }

    #[test]
    fn ages_count_full_years() {
        assert_eq!(age_at(date!(1976 - 10 - 05), date!(2026 - 10 - 05)), 50);
        assert_eq!(age_at(date!(1976 - 10 - 06), date!(2026 - 10 - 05)), 49);
        assert_eq!(age_at(date!(2000 - 02 - 29), date!(2026 - 02 - 28)), 25);
    }
}
