//! Procedure events (DDETS → gateway, from EXPLOC; docs/convention.md
//! "Procedure events"): one row per step of an eviction procedure. Same
//! table rules, row checker, date writings and errors as the list; every
//! bad row is reported at once.

use serde::{Deserialize, Serialize};
use time::Date;

use super::check::{RowCheck, canonical, require_columns};
use super::error::FileError;
use super::list::{parse_date_cell as date_cell, parse_postal_cell as postal_cell};
use super::spool::Spool;
use super::table::{Format, Row, Table, read_table};
use super::types::{Limits, RowError, RowErrors};
use crate::domain::{BailleurType, Etape, PostalCode};

/// Required columns, canonical names, in the contract's order.
pub const REQUIRED_COLUMNS: [&str; 8] = [
    "ref_procedure",
    "etape",
    "date_etape",
    "nom",
    "prenom",
    "adresse",
    "code_postal",
    "commune",
];

/// Optional columns.
pub const OPTIONAL_COLUMNS: [&str; 3] = ["date_audience", "ref_cdp", "bailleur_type"];

/// Every column the reader knows, required then optional.
pub const ALL_COLUMNS: [&str; 11] = [
    "ref_procedure",
    "etape",
    "date_etape",
    "nom",
    "prenom",
    "adresse",
    "code_postal",
    "commune",
    "date_audience",
    "ref_cdp",
    "bailleur_type",
];

/// One event, typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcedureRow {
    /// Line in the file (header = 1; XLSX: sheet row).
    pub line: u64,
    /// EXPLOC's reference of the procedure.
    pub ref_procedure: String,
    /// The step.
    pub etape: Etape,
    /// Its date.
    #[serde(with = "crate::domain::date::iso_date")]
    pub date_etape: Date,
    /// Tenant's last name.
    pub nom: String,
    /// Tenant's first name.
    pub prenom: String,
    /// The dwelling.
    pub adresse: String,
    /// Its postal code.
    pub code_postal: PostalCode,
    /// Its town.
    pub commune: String,
    /// For an `assignation`: the hearing's date.
    pub date_audience: Option<Date>,
    /// The CDP's DDETS reference, when EXPLOC has it.
    pub ref_cdp: Option<String>,
    /// Social or private landlord.
    pub bailleur_type: Option<BailleurType>,
}

/// A file of procedure events whose file-level checks passed.
#[derive(Debug)]
pub struct ProcedureFile {
    table: Table,
    /// Index in the table of each of [`ALL_COLUMNS`].
    cols: Vec<Option<usize>>,
}

/// Reads a file of procedure events (CSV or XLSX; bytes or a [`Spool`])
/// and checks it as a whole: readable, header present, every required
/// column present.
pub fn read_procedures(
    input: impl Into<Spool>,
    limits: &Limits,
) -> Result<ProcedureFile, FileError> {
    let table = read_table(input, limits)?;
    require_columns(&table, &REQUIRED_COLUMNS)?;
    let cols = ALL_COLUMNS.iter().map(|c| table.column_index(c)).collect();
    Ok(ProcedureFile { table, cols })
}

impl ProcedureFile {
    /// `csv` or `xlsx`.
    pub fn format_name(&self) -> &'static str {
        match self.table.format() {
            Format::Csv { .. } => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// Number of non-empty data rows.
    pub fn row_count(&self) -> usize {
        self.table.row_count()
    }

    /// The columns present in the file, canonical names, in the
    /// contract's order.
    pub fn columns(&self) -> Vec<String> {
        ALL_COLUMNS
            .iter()
            .zip(&self.cols)
            .filter(|(_, i)| i.is_some())
            .map(|(c, _)| (*c).to_owned())
            .collect()
    }

    /// Every row typed, in file order, or every bad row reported (sorted
    /// by line).
    pub fn rows(&self) -> Result<Vec<ProcedureRow>, FileError> {
        let mut out = Vec::with_capacity(self.row_count());
        let mut errors = RowErrors::new();
        for row in self.table.rows() {
            match row {
                Ok(row) => match self.parse_row(&row) {
                    Ok(r) => out.push(r),
                    Err(e) => errors.extend(e),
                },
                Err(e) => errors.push(canonical(e, &ALL_COLUMNS)),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            errors.sort();
            Err(FileError::InvalidRows(errors))
        }
    }

    fn col(&self, name: &str) -> Option<usize> {
        ALL_COLUMNS
            .iter()
            .position(|c| *c == name)
            .and_then(|i| self.cols[i])
    }

    fn parse_row(&self, row: &Row<'_>) -> Result<ProcedureRow, Vec<RowError>> {
        let col = |n: &str| self.col(n);
        let mut c = RowCheck::new(row);
        let ref_procedure = c.required_text("ref_procedure", col("ref_procedure"));
        let etape = c.required("etape", col("etape"), |x| Etape::parse_loose(&x.text));
        let date_etape = c.required("date_etape", col("date_etape"), date_cell);
        let nom = c.required_text("nom", col("nom"));
        let prenom = c.required_text("prenom", col("prenom"));
        let adresse = c.required_text("adresse", col("adresse"));
        let code_postal = c.required("code_postal", col("code_postal"), postal_cell);
        let commune = c.required_text("commune", col("commune"));
        let date_audience = c.optional("date_audience", col("date_audience"), date_cell);
        let ref_cdp = c.text(col("ref_cdp"));
        let bailleur_type = c.optional("bailleur_type", col("bailleur_type"), |x| {
            BailleurType::parse(&x.text)
        });
        if let (Some(d), Ok(Some(a))) = (date_etape, &date_audience)
            && *a < d
        {
            c.fail(
                "date_audience",
                format!("date_audience {a} is before date_etape {d}"),
            );
        }
        match (
            ref_procedure,
            etape,
            date_etape,
            nom,
            prenom,
            adresse,
            code_postal,
            commune,
            date_audience,
            bailleur_type,
        ) {
            (
                Some(ref_procedure),
                Some(etape),
                Some(date_etape),
                Some(nom),
                Some(prenom),
                Some(adresse),
                Some(code_postal),
                Some(commune),
                Ok(date_audience),
                Ok(bailleur_type),
            ) if c.is_clean() => Ok(ProcedureRow {
                line: row.line(),
                ref_procedure,
                etape,
                date_etape,
                nom,
                prenom,
                adresse,
                code_postal,
                commune,
                date_audience,
                ref_cdp,
                bailleur_type,
            }),
            _ => Err(c.into_errors()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_file_as_explocs_export_writes_it() {
        let csv = "Réf. procédure;Étape;Date étape;Nom;Prénom;Adresse;Code postal;Commune;Date audience;Réf CDP\n\
                   EXP-1;Assignation;03/02/2026;Martin;Zoé;1 rue A;85100;Les Sables-d'Olonne;17/03/2026;CDP-1\n\
                   EXP-1;Jugement résiliation;2026-04-02;Martin;Zoé;1 rue A;85100;Les Sables-d'Olonne;;\n";
        let f = read_procedures(csv.as_bytes(), &Limits::default()).unwrap();
        let rows = f.rows().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].etape, Etape::Assignation);
        assert_eq!(rows[0].date_etape, date!(2026 - 02 - 03));
        assert_eq!(rows[0].date_audience, Some(date!(2026 - 03 - 17)));
        assert_eq!(rows[0].ref_cdp.as_deref(), Some("CDP-1"));
        assert_eq!(rows[1].etape, Etape::JugementResiliation);
        assert_eq!(rows[1].ref_cdp, None);
        assert_eq!(rows[1].line, 3);
        assert!(f.columns().contains(&"date_audience".to_owned()));
    }

    #[test]
    fn every_bad_line_is_reported_with_its_column() {
        let csv = "ref_procedure,etape,date_etape,nom,prenom,adresse,code_postal,commune,date_audience\n\
                   EXP-1,audiance,2026-02-03,Martin,Zoé,1 rue A,85100,Olonne,\n\
                   EXP-2,assignation,2026-02-31,Martin,Zoé,1 rue A,851,Olonne,\n\
                   EXP-3,assignation,2026-02-10,Martin,Zoé,1 rue A,85100,Olonne,2026-02-01\n\
                   ,assignation,2026-02-10,Martin,Zoé,1 rue A,85100,Olonne,\n";
        let f = read_procedures(csv.as_bytes(), &Limits::default()).unwrap();
        let FileError::InvalidRows(errors) = f.rows().unwrap_err() else {
            panic!("rows refused")
        };
        let got: Vec<(u64, Option<&str>)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (2, Some("etape")),
                (3, Some("date_etape")),
                (3, Some("code_postal")),
                (4, Some("date_audience")),
                (5, Some("ref_procedure")),
            ]
        );
    }

    #[test]
    fn a_missing_required_column_refuses_the_file() {
        let csv = "ref_procedure,etape,nom,prenom,adresse,code_postal,commune\nE,assignation,a,b,c,85100,d\n";
        assert_eq!(
            read_procedures(csv.as_bytes(), &Limits::default()).unwrap_err(),
            FileError::MissingColumns(vec!["date_etape".to_owned()])
        );
    }
}
