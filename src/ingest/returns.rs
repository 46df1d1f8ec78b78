//! Partners' returns (docs/convention.md "Returns"): enrichment (CAF), referent
//! (concertation members), followup (referents). Same table rules, same
//! row checker and same errors as the list; every bad row is reported at
//! once. Read from a [`Spool`] (the decrypted body, a temporary file) one
//! row at a time.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Date;

use super::check::{RowCheck, canonical, require_columns};
use super::error::FileError;
use super::spool::Spool;
use super::table::{Row, Table, read_table};
use super::types::{Cell, Limits, RowError, RowErrors};
use crate::domain::followup::{ClosingMotif, FollowupEvent};
use crate::domain::parse_date;

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

/// One follow-up event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    /// When.
    pub date: Date,
    /// What.
    pub evenement: FollowupEvent,
    /// Why, for `cloture`.
    pub motif: Option<ClosingMotif>,
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

/// Parses `oui`/`non` (also `o`/`n`, `true`/`false`, `1`/`0`, any case).
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_lowercase().as_str() {
        "oui" | "o" | "true" | "1" | "vrai" | "yes" => Ok(true),
        "non" | "n" | "false" | "0" | "faux" | "no" => Ok(false),
        other => Err(format!("must be oui or non (got {other:?})")),
    }
}

fn count(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|n| *n <= 30)
        .ok_or_else(|| "must be a whole number from 0 to 30".to_owned())
}

/// A return whose file-level checks passed (readable, every required
/// column of its kind present); rows are typed lazily, streaming from its
/// [`Spool`] as the list's are.
#[derive(Debug)]
pub struct ReturnFile {
    table: Table,
    kind: ReturnKind,
    /// Index in the table of each of `kind.columns()`, in that order.
    cols: Vec<Option<usize>>,
}

/// One typed return row: its line, the partner's token, what it says.
pub type ReturnRecord = (u64, String, ReturnRow);

/// A return file, typed: `(line, token, row)`.
pub type ReturnRows = Vec<ReturnRecord>;

/// Reads a return of `kind` (CSV or XLSX; bytes or a [`Spool`]) and checks
/// the file as a whole. Rows are typed by [`ReturnFile::rows`].
pub fn open_return(
    input: impl Into<Spool>,
    kind: ReturnKind,
    limits: &Limits,
) -> Result<ReturnFile, FileError> {
    let table = read_table(input, limits)?;
    require_columns(&table, kind.required())?;
    let cols = kind
        .columns()
        .iter()
        .map(|c| table.column_index(c))
        .collect();
    Ok(ReturnFile { table, kind, cols })
}

/// Reads and validates a return of `kind`: every row typed, or every bad
/// row reported (sorted by line). Rows are read one at a time from the
/// spool; only the typed rows are kept.
pub fn read_return(
    input: impl Into<Spool>,
    kind: ReturnKind,
    limits: &Limits,
) -> Result<ReturnRows, FileError> {
    let file = open_return(input, kind, limits)?;
    let mut out = Vec::with_capacity(file.row_count());
    let mut errors = RowErrors::new();
    for row in file.rows() {
        match row {
            Ok(r) => out.push(r),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort();
        Err(FileError::InvalidRows(errors))
    }
}

impl ReturnFile {
    /// The kind of return.
    pub fn kind(&self) -> ReturnKind {
        self.kind
    }

    /// Number of non-empty data rows.
    pub fn row_count(&self) -> usize {
        self.table.row_count()
    }

    /// Typed rows in file order, one pass, streaming; each bad row gives
    /// all of its errors.
    pub fn rows(&self) -> impl Iterator<Item = Result<ReturnRecord, Vec<RowError>>> + '_ {
        self.table.rows().map(move |r| match r {
            Ok(row) => self.parse_row(&row),
            Err(e) => Err(vec![canonical(e, self.kind.columns())]),
        })
    }

    /// The index in the table of one of the kind's columns.
    fn col(&self, name: &str) -> Option<usize> {
        self.kind
            .columns()
            .iter()
            .position(|c| *c == name)
            .and_then(|i| self.cols[i])
    }

    fn parse_row(&self, row: &Row<'_>) -> Result<ReturnRecord, Vec<RowError>> {
        let col = |name: &str| self.col(name);
        let mut c = RowCheck::new(row);
        let token = c.required_text("token", col("token"));
        let typed = match self.kind {
            ReturnKind::Enrichment => {
                let allocataire = c.required("allocataire", col("allocataire"), bool_cell);
                let date_naissance = c
                    .optional("date_naissance", col("date_naissance"), |x| {
                        let d = parse_date(&x.text)?;
                        if d > time::OffsetDateTime::now_utc().date() {
                            return Err(format!("date_naissance {} is in the future", x.text));
                        }
                        Ok(d)
                    })
                    .ok()
                    .flatten();
                let nb_adultes = c.required("nb_adultes", col("nb_adultes"), count_cell);
                let nb_enfants = c.required("nb_enfants", col("nb_enfants"), count_cell);
                let ages = c
                    .optional("ages_enfants", col("ages_enfants"), |x| {
                        x.text
                            .split([';', ','])
                            .map(str::trim)
                            .filter(|a| !a.is_empty())
                            .map(|a| {
                                a.parse::<u32>()
                                    .ok()
                                    .filter(|n| *n < 100)
                                    .ok_or_else(|| "must be ages separated by ';'".to_owned())
                            })
                            .collect::<Result<Vec<u32>, String>>()
                    })
                    .ok()
                    .flatten();
                let alf = c.required("beneficiaire_alf", col("beneficiaire_alf"), bool_cell);
                let apl = c.required("beneficiaire_apl", col("beneficiaire_apl"), bool_cell);
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
                let connu = c.required("referent_connu", col("referent_connu"), bool_cell);
                let organisme = c.text(col("organisme"));
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
                        nom_referent: c.text(col("nom_referent")),
                    })
                })
            }
            ReturnKind::Followup => {
                let date = c.required("date", col("date"), |x| parse_date(&x.text));
                let ev = c.required("evenement", col("evenement"), |x| {
                    FollowupEvent::parse(&x.text)
                });
                let motif = c
                    .optional("motif", col("motif"), |x| ClosingMotif::parse(&x.text))
                    .ok()
                    .flatten();
                if ev == Some(FollowupEvent::Cloture)
                    && motif.is_none()
                    && c.text(col("motif")).is_none()
                {
                    c.fail("motif", "motif is required for cloture");
                }
                match (date, ev) {
                    (Some(date), Some(evenement)) => Some(ReturnRow::Followup(FollowUp {
                        date,
                        evenement,
                        motif,
                        detail: c.text(col("detail")),
                    })),
                    _ => None,
                }
            }
        };
        match (token, typed) {
            (Some(token), Some(typed)) if c.is_clean() => Ok((row.line(), token, typed)),
            _ => Err(c.into_errors()),
        }
    }
}

fn bool_cell(c: &Cell) -> Result<bool, String> {
    parse_bool(&c.text)
}

fn count_cell(c: &Cell) -> Result<u32, String> {
    count(&c.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(kind: ReturnKind, text: &str) -> Result<ReturnRows, FileError> {
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
        let FileError::InvalidRows(rows) = err else {
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

    #[test]
    fn followup_rows_are_typed_from_a_file_spool() {
        let dir = tempfile::tempdir().unwrap();
        let text = "Token;Date;Événement;Motif;Détail\r\nt1;03/11/2026;visite;;\r\n\r\nt2;2026-11-04;cloture;sans_suite;parti\r\n";
        let file = Spool::from_reader(text.as_bytes(), dir.path(), usize::MAX).unwrap();
        let rows = read_return(&file, ReturnKind::Followup, &Limits::default()).unwrap();
        let date = |d: &str| parse_date(d).unwrap();
        let followup = |evenement, motif, detail: Option<&str>, d: &str| {
            ReturnRow::Followup(FollowUp {
                date: date(d),
                evenement,
                motif,
                detail: detail.map(str::to_owned),
            })
        };
        assert_eq!(
            rows,
            vec![
                (
                    2,
                    "t1".to_owned(),
                    followup(FollowupEvent::Visite, None, None, "2026-11-03")
                ),
                (
                    4,
                    "t2".to_owned(),
                    followup(
                        FollowupEvent::Cloture,
                        Some(ClosingMotif::SansSuite),
                        Some("parti"),
                        "2026-11-04"
                    )
                ),
            ]
        );
        // The same file streamed row by row.
        let f = open_return(&file, ReturnKind::Followup, &Limits::default()).unwrap();
        assert_eq!((f.kind(), f.row_count()), (ReturnKind::Followup, 2));
        assert_eq!(f.rows().filter(Result::is_ok).count(), 2);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn followup_errors_name_their_column() {
        let err = read(
            ReturnKind::Followup,
            "token,date,evenement,motif,detail\nt1,hier,cloture,,\nt2,2026-11-03,appel,fin,\n",
        )
        .unwrap_err();
        let FileError::InvalidRows(rows) = err else {
            panic!("{err:?}")
        };
        let got: Vec<(u64, &str, &str)> = rows
            .iter()
            .map(|r| (r.line, r.column.as_deref().unwrap(), r.message.as_str()))
            .collect();
        assert_eq!(
            got[0],
            (
                2,
                "date",
                "date is not a date (expected JJ/MM/AAAA or AAAA-MM-JJ)"
            )
        );
        assert_eq!(got[1], (2, "motif", "motif is required for cloture"));
        assert_eq!((got[2].0, got[2].1), (3, "evenement"));
        assert!(
            got[2]
                .2
                .starts_with("evenement \"appel\" is not one of appel_reussi, ")
        );
        assert_eq!((got[3].0, got[3].1), (3, "motif"));
        assert!(
            got[3]
                .2
                .starts_with("motif \"fin\" is not one of sans_suite, ")
        );
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn an_over_long_cell_is_named_by_its_canonical_column() {
        let limits = Limits {
            max_cell_chars: 5,
            ..Limits::default()
        };
        let err = read_return(
            b"Token;Referent connu;Organisme\nt1;oui;une association\n",
            ReturnKind::Referent,
            &limits,
        )
        .unwrap_err();
        assert_eq!(
            err,
            FileError::InvalidRows(
                vec![RowError {
                    line: 2,
                    column: Some("organisme".into()),
                    message: "organisme is longer than 5 characters".into(),
                }]
                .into()
            )
        );
    }

    #[test]
    fn file_level_refusals_are_file_errors() {
        assert_eq!(
            read(ReturnKind::Followup, "token;date\nt1;2026-11-03\n").unwrap_err(),
            FileError::MissingColumns(vec!["evenement".into()])
        );
        assert_eq!(
            read(ReturnKind::Referent, "").unwrap_err(),
            FileError::Table(super::super::TableError::Empty)
        );
    }
}
