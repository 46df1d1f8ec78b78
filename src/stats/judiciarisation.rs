//! `judiciarisation` (docs/convention.md "Statistics"): do the households
//! the circuit reaches go to court less? Each CDP case of the window
//! follows one `parcours`; per parcours, the cases with each step of the
//! procedure (from EXPLOC's events only), the share summoned and the
//! median delay to the summons.

use crate::domain::Etape;
use crate::domain::followup::FollowupEvent;
use crate::store::cases::Decided;
use crate::store::events::Event;
use crate::store::procedures::Linked;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The four paths a CDP case can follow in the circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Parcours {
    /// Attributed, and reached on or before its first summons (or at all,
    /// without a summons).
    Contacte,
    /// Attributed, not reached in time.
    AttribueNonJoint,
    /// Decided not processed.
    NonTraite,
    /// No decision yet.
    EnAttente,
}

impl Parcours {
    /// In the contract's order.
    pub const ALL: [Parcours; 4] = [
        Parcours::Contacte,
        Parcours::AttribueNonJoint,
        Parcours::NonTraite,
        Parcours::EnAttente,
    ];

    /// The code.
    pub fn as_str(self) -> &'static str {
        match self {
            Parcours::Contacte => "contacte",
            Parcours::AttribueNonJoint => "attribue_non_joint",
            Parcours::NonTraite => "non_traite",
            Parcours::EnAttente => "en_attente",
        }
    }

    /// In French, for people.
    pub fn label_fr(self) -> &'static str {
        match self {
            Parcours::Contacte => "Attribués et joints à temps",
            Parcours::AttribueNonJoint => "Attribués, non joints à temps",
            Parcours::NonTraite => "Non traités",
            Parcours::EnAttente => "Sans décision",
        }
    }
}

/// One parcours's line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ParcoursLine {
    /// Which.
    pub parcours: Parcours,
    /// Its cases.
    pub cdp: u64,
    /// Per step (every step, 0 included): cases with at least one event of it.
    #[serde(flatten)]
    pub etapes: BTreeMap<String, u64>,
    /// `assignation` / `cdp` × 100, rounded half up; `None` without cases.
    pub pct_assignation: Option<u64>,
    /// Days from the CDP to the first summons, median over the cases that
    /// have one (the lower middle for an even count).
    pub delai_assignation_median_jours: Option<i64>,
}

impl ParcoursLine {
    /// Cases with at least one event of `etape`.
    pub fn count(&self, etape: Etape) -> u64 {
        self.etapes.get(etape.as_str()).copied().unwrap_or(0)
    }
}

/// The figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Judiciarisation {
    /// One line per parcours, in the contract's order.
    pub parcours: Vec<ParcoursLine>,
    /// Events that matched no case, dated in the window, per step.
    pub hors_circuit: BTreeMap<String, u64>,
}

/// The lower median (`None` when empty).
fn lower_median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[(v.len() - 1) / 2])
}

/// `part / whole × 100`, rounded half up.
fn pct_half_up(part: u64, whole: u64) -> Option<u64> {
    (whole > 0).then(|| (200 * part + whole) / (2 * whole))
}

/// Computes the figures for the window's cases (`rows`), their
/// referents' follow-up `events`, their linked procedure events
/// (`procedures`) and the unlinked events of the window (`hors`).
pub fn compute(
    rows: &[Decided],
    events: &[Event],
    procedures: &[Linked],
    hors: &[(String, i64)],
) -> Judiciarisation {
    let mut first_contact: BTreeMap<&str, &str> = BTreeMap::new();
    for e in events {
        if FollowupEvent::parse(&e.evenement).is_ok_and(FollowupEvent::is_contact) {
            let slot = first_contact
                .entry(e.case_id.as_str())
                .or_insert(e.date.as_str());
            if e.date.as_str() < *slot {
                *slot = e.date.as_str();
            }
        }
    }
    let mut first_summons: BTreeMap<&str, &str> = BTreeMap::new();
    let mut steps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in procedures {
        steps
            .entry(p.case_id.as_str())
            .or_default()
            .insert(p.etape.as_str());
        if p.etape == Etape::Assignation.as_str() {
            let slot = first_summons
                .entry(p.case_id.as_str())
                .or_insert(p.date_etape.as_str());
            if p.date_etape.as_str() < *slot {
                *slot = p.date_etape.as_str();
            }
        }
    }
    // Per parcours: cases, cases per step, delays to the first summons.
    type Counts = (u64, BTreeMap<String, u64>, Vec<i64>);
    let mut lines: BTreeMap<Parcours, Counts> = Parcours::ALL
        .iter()
        .map(|p| {
            let etapes = Etape::ALL
                .iter()
                .map(|e| (e.as_str().to_owned(), 0))
                .collect();
            (*p, (0, etapes, Vec::new()))
        })
        .collect();
    for r in rows {
        let id = r.case_id.as_str();
        let summons = first_summons.get(id).copied();
        let parcours = if r.organisme.is_some() {
            match (first_contact.get(id), summons) {
                (Some(c), Some(s)) if *c <= s => Parcours::Contacte,
                (Some(_), None) => Parcours::Contacte,
                _ => Parcours::AttribueNonJoint,
            }
        } else if r.non_traite.is_some() {
            Parcours::NonTraite
        } else {
            Parcours::EnAttente
        };
        let line = lines.get_mut(&parcours).expect("every parcours has a line");
        line.0 += 1;
        for step in steps.get(id).into_iter().flatten() {
            if let Some(n) = line.1.get_mut(*step) {
                *n += 1;
            }
        }
        if let (Some(s), Ok(d0)) = (summons, crate::domain::parse_date(&r.date_cdp))
            && let Ok(d1) = crate::domain::parse_date(s)
        {
            line.2.push((d1 - d0).whole_days());
        }
    }
    Judiciarisation {
        parcours: lines
            .into_iter()
            .map(|(parcours, (cdp, etapes, delays))| {
                let summoned = etapes
                    .get(Etape::Assignation.as_str())
                    .copied()
                    .unwrap_or(0);
                ParcoursLine {
                    parcours,
                    cdp,
                    pct_assignation: pct_half_up(summoned, cdp),
                    etapes,
                    delai_assignation_median_jours: lower_median(delays),
                }
            })
            .collect(),
        hors_circuit: hors
            .iter()
            .map(|(e, n)| (e.clone(), u64::try_from(*n).unwrap_or(0)))
            .collect(),
    }
}

/// The figures as CSV: one line per parcours (its cases, each step, the
/// share summoned, the median delay), then `hors_circuit` (events per
/// step in the `cdp` column's place: none).
pub fn to_csv(j: &Judiciarisation) -> Vec<u8> {
    let mut head: Vec<&str> = vec!["parcours", "cdp"];
    head.extend(Etape::ALL.iter().map(|e| e.as_str()));
    head.extend(["pct_assignation", "delai_assignation_median_jours"]);
    let mut w =
        crate::export::TableWriter::new(crate::export::FileFormat::Csv, &head).expect("CSV writer");
    let opt = |v: Option<String>| v.unwrap_or_default();
    for l in &j.parcours {
        let mut cells = vec![l.parcours.as_str().to_owned(), l.cdp.to_string()];
        cells.extend(Etape::ALL.iter().map(|e| l.count(*e).to_string()));
        cells.push(opt(l.pct_assignation.map(|p| p.to_string())));
        cells.push(opt(l.delai_assignation_median_jours.map(|d| d.to_string())));
        w.write_row(cells.iter().map(String::as_str))
            .expect("CSV row");
    }
    let mut cells = vec!["hors_circuit".to_owned(), String::new()];
    cells.extend(Etape::ALL.iter().map(|e| {
        j.hors_circuit
            .get(e.as_str())
            .copied()
            .unwrap_or(0)
            .to_string()
    }));
    cells.extend([String::new(), String::new()]);
    w.write_row(cells.iter().map(String::as_str))
        .expect("CSV row");
    w.finish().expect("CSV")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_half_up_and_medians_take_the_lower_middle() {
        assert_eq!(pct_half_up(1, 8), Some(13)); // 12.5
        assert_eq!(pct_half_up(1, 3), Some(33));
        assert_eq!(pct_half_up(2, 3), Some(67));
        assert_eq!(pct_half_up(0, 0), None);
        assert_eq!(lower_median(vec![40, 10, 30, 20]), Some(20));
        assert_eq!(lower_median(vec![5, 1, 3]), Some(3));
        assert_eq!(lower_median(vec![]), None);
    }
}
