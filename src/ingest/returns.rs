//! Partners' returns (CONTRACT.md "Returns"): enrichment (CAF), referent
//! (concertation members), followup (referents). Same table rules as the
//! list; every bad row is reported at once.

use super::table::{Row, read_table};
use super::{Limits, RowError};
use crate::domain::parse_date;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use time::Date;

/// The kind of a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReturnKind {
    /// CAF completes cases.
    Enrichment,
    /// A member says whether it already follows the household.
    Referent,
    /// A referent reports contacts, accompaniment axes, court events, closure.
    Followup,
}

impl FromStr for ReturnKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "enrichment" => Ok(ReturnKind::Enrichment),
            "referent" => Ok(ReturnKind::Referent),
            "followup" => Ok(ReturnKind::Followup),
            _ => Err(format!(
                "kind must be enrichment, referent or followup (got {s:?})"
            )),
        }
    }
}

impl ReturnKind {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnKind::Enrichment => "enrichment",
            ReturnKind::Referent => "referent",
            ReturnKind::Followup => "followup",
        }
    }

    /// Every column of this kind of return (required and optional), in
    /// the contract's order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ReturnKind::Enrichment => self.required(),
            ReturnKind::Referent => &["token", "referent_connu", "organisme", "nom_referent"],
            ReturnKind::Followup => &["token", "date", "evenement", "motif", "detail"],
        }
    }

    /// The columns a file of this kind must have (docs/schemas checks them).
    pub fn required(self) -> &'static [&'static str] {
        match self {
            ReturnKind::Enrichment => &[
                "token",
                "allocataire",
                "date_naissance",
                "nb_adultes",
                "nb_enfants",
                "ages_enfants",
                "beneficiaire_alf",
                "beneficiaire_apl",
            ],
            ReturnKind::Referent => &["token", "referent_connu"],
            ReturnKind::Followup => &["token", "date", "evenement"],
        }
    }
}

/// CAF's answer for one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// Known to CAF.
    pub allocataire: bool,
    /// Main tenant's birth date, when known.
    pub date_naissance: Option<Date>,
    /// Adults in the household.
    pub nb_adultes: u32,
    /// Children in the household.
    pub nb_enfants: u32,
    /// Children's ages.
    pub ages_enfants: Vec<u32>,
    /// Receives ALF.
    pub beneficiaire_alf: bool,
    /// Receives APL.
    pub beneficiaire_apl: bool,
}

/// A member's answer for one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferentAnswer {
    /// The member already follows the household.
    pub referent_connu: bool,
    /// Who follows it (a partner id or a free label such as `UDAF`).
    pub organisme: Option<String>,
    /// The referent's name (sealed at rest).
    pub nom_referent: Option<String>,
}

/// Follow-up events (CONTRACT.md).
pub const EVENTS: &[&str] = &[
    "appel_reussi",
    "appel_sans_reponse",
    "courrier_envoye",
    "visite",
    "rdv_fixe",
    "rdv_honore",
    "rdv_non_honore",
    "axe_fsl",
    "axe_plan_apurement",
    "axe_bdf",
    "axe_mesure",
    "axe_action_logement",
    "axe_logement_social",
    "axe_budget",
    "assignation",
    "audience",
    "resiliation_bail",
    "commandement_quitter",
    "expulsion",
    "dette_soldee",
    "cloture",
];

/// Closure motifs.
pub const CLOSURE_MOTIFS: &[&str] = &[
    "sans_suite",
    "demenagement",
    "dette_soldee",
    "reorientation",
    "hors_secteur",
    "deces",
    "autre",
];

/// Events that mean the household was reached.
pub const CONTACT_EVENTS: &[&str] = &["appel_reussi", "visite", "rdv_honore"];

/// One follow-up event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    /// When.
    pub date: Date,
    /// What (one of [`EVENTS`]).
    pub evenement: String,
    /// Why, for `cloture` (one of [`CLOSURE_MOTIFS`]).
    pub motif: Option<String>,
    /// Free text (sealed at rest).
    pub detail: Option<String>,
}

/// A typed return row.
#[derive(Debug, Clone, PartialEq)]
pub enum ReturnRow {
    /// Enrichment.
    Enrichment(Enrichment),
    /// Referent.
    Referent(ReferentAnswer),
    /// Follow-up.
    Followup(FollowUp),
}

/// A return file, typed: `(line, token, row)`.
pub type ReturnRows = Vec<(u64, String, ReturnRow)>;

/// Why a return is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReturnError {
    /// Unreadable file.
    #[error(transparent)]
    Table(#[from] super::TableError),
    /// Required columns absent.
    #[error("missing required columns: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// Bad rows (all of them).
    #[error("{} invalid rows", .0.len())]
    InvalidRows(Vec<RowError>),
}

/// Parses `oui`/`non` (also `o`/`n`, `true`/`false`, `1`/`0`, any case).
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_lowercase().as_str() {
        "oui" | "o" | "true" | "1" | "vrai" | "yes" => Ok(true),
        "non" | "n" | "false" | "0" | "faux" | "no" => Ok(false),
        other => Err(format!("must be oui or non (got {other:?})")),
    }
}

struct Check<'r> {
    row: &'r Row<'r>,
    errors: Vec<RowError>,
}

impl Check<'_> {
    fn text(&self, col: &str) -> Option<String> {
        self.row
            .get(col)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }
    fn fail(&mut self, col: &str, message: impl Into<String>) {
        self.errors.push(RowError {
            line: self.row.line(),
            column: Some(col.to_owned()),
            message: message.into(),
        });
    }
    fn required(&mut self, col: &str) -> Option<String> {
        let t = self.text(col);
        if t.is_none() {
            self.fail(col, format!("{col} is required"));
        }
        t
    }
    fn parse<T>(
        &mut self,
        col: &str,
        required: bool,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.text(col) {
            None => {
                if required {
                    self.fail(col, format!("{col} is required"));
                }
                None
            }
            Some(t) => match f(&t) {
                Ok(v) => Some(v),
                Err(m) => {
                    let m = if m.starts_with("must") {
                        format!("{col} {m}")
                    } else {
                        m
                    };
                    self.fail(col, m);
                    None
                }
            },
        }
    }
}

fn count(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|n| *n <= 30)
        .ok_or_else(|| "must be a whole number from 0 to 30".to_owned())
}

/// Reads and validates a return of `kind`: every row typed, or every bad
/// row reported.
pub fn read_return(
    bytes: &[u8],
    kind: ReturnKind,
    limits: &Limits,
) -> Result<ReturnRows, ReturnError> {
    let table = read_table(bytes, limits)?;
    let missing: Vec<String> = kind
        .required()
        .iter()
        .filter(|c| !table.has_column(c))
        .map(|c| (*c).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(ReturnError::MissingColumns(missing));
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for row in table.rows() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let mut c = Check {
            row: &row,
            errors: Vec::new(),
        };
        let token = c.required("token");
        let typed = match kind {
            ReturnKind::Enrichment => {
                let allocataire = c.parse("allocataire", true, parse_bool);
                let date_naissance = c.parse("date_naissance", false, |s| {
                    let d = parse_date(s)?;
                    if d > time::OffsetDateTime::now_utc().date() {
                        return Err(format!("date_naissance {s} is in the future"));
                    }
                    Ok(d)
                });
                let nb_adultes = c.parse("nb_adultes", true, count);
                let nb_enfants = c.parse("nb_enfants", true, count);
                let ages = c.parse("ages_enfants", false, |s| {
                    s.split([';', ','])
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(|a| {
                            a.parse::<u32>()
                                .ok()
                                .filter(|n| *n < 100)
                                .ok_or_else(|| "must be ages separated by ';'".to_owned())
                        })
                        .collect::<Result<Vec<u32>, String>>()
                });
                let alf = c.parse("beneficiaire_alf", true, parse_bool);
                let apl = c.parse("beneficiaire_apl", true, parse_bool);
                let ages = ages.unwrap_or_default();
                if let Some(n) = nb_enfants
                    && !ages.is_empty()
                    && ages.len() as u32 != n
                {
                    c.fail(
                        "ages_enfants",
                        format!(
                            "ages_enfants gives {} ages for nb_enfants = {n}",
                            ages.len()
                        ),
                    );
                }
                match (allocataire, nb_adultes, nb_enfants, alf, apl) {
                    (
                        Some(allocataire),
                        Some(nb_adultes),
                        Some(nb_enfants),
                        Some(beneficiaire_alf),
                        Some(beneficiaire_apl),
                    ) => Some(ReturnRow::Enrichment(Enrichment {
                        allocataire,
                        date_naissance,
                        nb_adultes,
                        nb_enfants,
                        ages_enfants: ages,
                        beneficiaire_alf,
                        beneficiaire_apl,
                    })),
                    _ => None,
                }
            }
            ReturnKind::Referent => {
                let connu = c.parse("referent_connu", true, parse_bool);
                let organisme = c.text("organisme");
                if connu == Some(true) && organisme.is_none() {
                    c.fail(
                        "organisme",
                        "organisme is required when referent_connu is oui",
                    );
                }
                connu.map(|referent_connu| {
                    ReturnRow::Referent(ReferentAnswer {
                        referent_connu,
                        organisme,
                        nom_referent: c.text("nom_referent"),
                    })
                })
            }
            ReturnKind::Followup => {
                let date = c.parse("date", true, parse_date);
                let ev = c.parse("evenement", true, |s| {
                    EVENTS.contains(&s).then(|| s.to_owned()).ok_or_else(|| {
                        format!("evenement {s:?} is not one of {}", EVENTS.join(", "))
                    })
                });
                let motif = c.parse("motif", false, |s| {
                    CLOSURE_MOTIFS
                        .contains(&s)
                        .then(|| s.to_owned())
                        .ok_or_else(|| {
                            format!("motif {s:?} is not one of {}", CLOSURE_MOTIFS.join(", "))
                        })
                });
                if ev.as_deref() == Some("cloture") && motif.is_none() && c.text("motif").is_none()
                {
                    c.fail("motif", "motif is required for cloture");
                }
                match (date, ev) {
                    (Some(date), Some(evenement)) => Some(ReturnRow::Followup(FollowUp {
                        date,
                        evenement,
                        motif,
                        detail: c.text("detail"),
                    })),
                    _ => None,
                }
            }
        };
        if c.errors.is_empty() {
            if let (Some(t), Some(r)) = (token, typed) {
                out.push((row.line(), t, r));
            }
        } else {
            errors.append(&mut c.errors);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(ReturnError::InvalidRows(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(kind: ReturnKind, text: &str) -> Result<ReturnRows, ReturnError> {
        read_return(text.as_bytes(), kind, &Limits::default())
    }

    #[test]
    fn enrichment_rows_are_typed() {
        let rows = read(
            ReturnKind::Enrichment,
            "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n\
             t1,oui,1984-03-12,1,2,4;9,oui,non\nt2,non,12/07/1961,1,0,,n,0\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        let ReturnRow::Enrichment(e) = &rows[0].2 else {
            panic!()
        };
        assert_eq!(e.ages_enfants, vec![4, 9]);
        assert!(e.beneficiaire_alf && !e.beneficiaire_apl);
    }

    #[test]
    fn bad_rows_are_all_reported() {
        let err = read(
            ReturnKind::Followup,
            "token,date,evenement,motif,detail\nt1,2026-11-03,appel,,\nt2,31/02/2026,cloture,,\n,2026-11-01,visite,,\n",
        )
        .unwrap_err();
        let ReturnError::InvalidRows(rows) = err else {
            panic!()
        };
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 3, 3, 4]);
    }

    #[test]
    fn referent_needs_organisme_when_known() {
        assert!(
            read(
                ReturnKind::Referent,
                "token,referent_connu,organisme\nt1,oui,\n"
            )
            .is_err()
        );
        assert!(
            read(
                ReturnKind::Referent,
                "token,referent_connu,organisme\nt1,oui,UDAF\nt2,non,\n"
            )
            .is_ok()
        );
    }
}
