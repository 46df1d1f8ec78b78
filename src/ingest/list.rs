//! The monthly CDP list (DDETS → gateway).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::Date;

use super::check::{RowCheck, canonical, require_columns};
use super::error::FileError;
use super::spool::Spool;
use super::table::{Format, Row, Rows, Table, read_table};
use super::types::{Cell, Limits, RowError, RowErrors};
use crate::domain::{BailleurType, Euros, Phone, PostalCode, excel_serial_to_date, parse_date};

/// Required columns, canonical names, in the contract's order.
pub const REQUIRED_COLUMNS: [&str; 10] = [
    "ref_cdp",
    "date_cdp",
    "nom",
    "prenom",
    "adresse",
    "code_postal",
    "commune",
    "bailleur_type",
    "bailleur_nom",
    "montant_dette",
];

/// Optional columns, canonical names.
pub const OPTIONAL_COLUMNS: [&str; 4] = [
    "telephone",
    "courriel",
    "loyer_mensuel",
    "commissaire_justice",
];

/// Every column the reader knows, required then optional.
const ALL_COLUMNS: [&str; 14] = [
    "ref_cdp",
    "date_cdp",
    "nom",
    "prenom",
    "adresse",
    "code_postal",
    "commune",
    "bailleur_type",
    "bailleur_nom",
    "montant_dette",
    "telephone",
    "courriel",
    "loyer_mensuel",
    "commissaire_justice",
];

/// One CDP of the monthly list, fully typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdpRow {
    /// Line in the file (header = 1; XLSX: sheet row).
    pub line: u64,
    /// DDETS reference of the CDP.
    pub ref_cdp: String,
    /// Date the CDP was served (serialised `AAAA-MM-JJ`).
    #[serde(with = "crate::domain::date::iso_date")]
    pub date_cdp: Date,
    /// Main tenant's last name, verbatim (trimmed).
    pub nom: String,
    /// Main tenant's first name.
    pub prenom: String,
    /// Address of the rented dwelling.
    pub adresse: String,
    /// Postal code of the dwelling.
    pub code_postal: PostalCode,
    /// Town of the dwelling.
    pub commune: String,
    /// Tenant's phone number.
    pub telephone: Option<Phone>,
    /// Tenant's e-mail.
    pub courriel: Option<String>,
    /// Social or private landlord.
    pub bailleur_type: BailleurType,
    /// Landlord's name.
    pub bailleur_nom: String,
    /// Rent debt.
    pub montant_dette: Euros,
    /// Monthly rent.
    pub loyer_mensuel: Option<Euros>,
    /// Bailiff's office.
    pub commissaire_justice: Option<String>,
}

impl CdpRow {
    /// The row as it is sealed at rest: a JSON array in field order,
    /// without the field names (about a third smaller). The derived
    /// deserialiser reads this form as well as the object form.
    pub fn to_compact_json(&self) -> Vec<u8> {
        struct IsoDate<'a>(&'a Date);
        impl Serialize for IsoDate<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                crate::domain::date::iso_date::serialize(self.0, s)
            }
        }
        serde_json::to_vec(&(
            self.line,
            &self.ref_cdp,
            IsoDate(&self.date_cdp),
            &self.nom,
            &self.prenom,
            &self.adresse,
            &self.code_postal,
            &self.commune,
            &self.telephone,
            &self.courriel,
            &self.bailleur_type,
            &self.bailleur_nom,
            &self.montant_dette,
            &self.loyer_mensuel,
            &self.commissaire_justice,
        ))
        .expect("a row serialises")
    }
}

/// The good rows of a list as they are read (see [`ListFile::checked`]);
/// the bad ones are kept as errors for [`Checked::finish`].
pub struct Checked<'a> {
    file: &'a ListFile,
    rows: Rows<'a>,
    /// First line of each `ref_cdp`, by a 128-bit digest of it (16 bytes
    /// a row instead of the text; a collision would need 2^64 rows).
    seen: HashMap<[u8; 16], u64>,
    errors: RowErrors,
    count: usize,
}

impl std::fmt::Debug for Checked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked")
            .field("count", &self.count)
            .field("errors", &self.errors.len())
            .finish()
    }
}

impl Checked<'_> {
    /// No error so far.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// After the last row: the number of rows, or every error sorted by
    /// line.
    pub fn finish(mut self) -> Result<usize, FileError> {
        if self.errors.is_empty() {
            Ok(self.count)
        } else {
            self.errors.sort();
            Err(FileError::InvalidRows(self.errors))
        }
    }
}

impl Iterator for Checked<'_> {
    type Item = CdpRow;

    fn next(&mut self) -> Option<CdpRow> {
        loop {
            let row = match self.rows.next()? {
                Ok(row) => row,
                Err(e) => {
                    self.count += 1;
                    self.errors.push(self.file.canonical(e));
                    continue;
                }
            };
            self.count += 1;
            let reference = row
                .cell_at(self.file.cols.ref_cdp)
                .map_or("", |c| c.text.as_str());
            let mut duplicate = None;
            if !reference.is_empty() {
                let key = ref_key(reference);
                if let Some(first) = self.seen.get(&key) {
                    duplicate = Some(RowError {
                        line: row.line(),
                        column: Some("ref_cdp".to_owned()),
                        message: format!("ref_cdp {reference} already appears on line {first}"),
                    });
                } else {
                    self.seen.insert(key, row.line());
                }
            }
            let parsed = self.file.parse_row(&row);
            match (parsed, duplicate) {
                (Ok(typed), None) => return Some(typed),
                (Ok(_), Some(dup)) => self.errors.push(dup),
                (Err(errs), dup) => {
                    self.errors.extend(errs);
                    self.errors.extend(dup);
                }
            }
        }
    }
}

fn ref_key(reference: &str) -> [u8; 16] {
    use sha2::Digest;
    let d = sha2::Sha256::digest(reference.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

#[derive(Debug, Clone, Copy)]
struct Columns {
    ref_cdp: usize,
    date_cdp: usize,
    nom: usize,
    prenom: usize,
    adresse: usize,
    code_postal: usize,
    commune: usize,
    bailleur_type: usize,
    bailleur_nom: usize,
    montant_dette: usize,
    telephone: Option<usize>,
    courriel: Option<usize>,
    loyer_mensuel: Option<usize>,
    commissaire_justice: Option<usize>,
}

/// A monthly list whose file-level checks passed; rows are typed lazily.
#[derive(Debug)]
pub struct ListFile {
    table: Table,
    cols: Columns,
}

/// Reads a monthly list (CSV or XLSX; bytes or a [`Spool`]) and checks the
/// file as a whole: readable, header present, every required column
/// present. Rows are checked by [`ListFile::validate`] / [`ListFile::rows`].
pub fn read_list(input: impl Into<Spool>, limits: &Limits) -> Result<ListFile, FileError> {
    let table = read_table(input, limits)?;
    require_columns(&table, &REQUIRED_COLUMNS)?;
    let req = |c: &str| table.column_index(c).unwrap_or(usize::MAX);
    let cols = Columns {
        ref_cdp: req("ref_cdp"),
        date_cdp: req("date_cdp"),
        nom: req("nom"),
        prenom: req("prenom"),
        adresse: req("adresse"),
        code_postal: req("code_postal"),
        commune: req("commune"),
        bailleur_type: req("bailleur_type"),
        bailleur_nom: req("bailleur_nom"),
        montant_dette: req("montant_dette"),
        telephone: table.column_index("telephone"),
        courriel: table.column_index("courriel"),
        loyer_mensuel: table.column_index("loyer_mensuel"),
        commissaire_justice: table.column_index("commissaire_justice"),
    };
    Ok(ListFile { table, cols })
}

pub(super) fn parse_date_cell(c: &Cell) -> Result<Date, String> {
    if c.numeric {
        // A serial day number without a date format.
        return c
            .text
            .parse::<f64>()
            .ok()
            .and_then(excel_serial_to_date)
            .ok_or_else(|| "is not a date (expected JJ/MM/AAAA or AAAA-MM-JJ)".to_owned());
    }
    parse_date(&c.text)
}

pub(super) fn parse_postal_cell(c: &Cell) -> Result<PostalCode, String> {
    // Excel drops the leading zero of 01000…09999 stored as numbers.
    if c.numeric && c.text.len() == 4 && c.text.bytes().all(|b| b.is_ascii_digit()) {
        return PostalCode::parse(&format!("0{}", c.text));
    }
    PostalCode::parse(&c.text)
}

fn parse_phone_cell(c: &Cell) -> Result<Phone, String> {
    // Excel drops the leading zero of a phone number stored as a number.
    if c.numeric && c.text.len() == 9 && c.text.bytes().all(|b| b.is_ascii_digit()) {
        return Phone::parse(&format!("0{}", c.text));
    }
    Phone::parse(&c.text)
}

fn parse_euros_cell(c: &Cell) -> Result<Euros, String> {
    if c.numeric {
        let v: f64 = c.text.parse().map_err(|_| "is not an amount".to_owned())?;
        return Euros::from_f64(v);
    }
    Euros::parse(&c.text)
}

fn parse_email_cell(c: &Cell) -> Result<String, String> {
    let t = c.text.as_str();
    let ok = match t.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !t.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(t.to_owned())
    } else {
        Err("is not an e-mail address".to_owned())
    }
}

impl ListFile {
    /// `csv` or `xlsx`.
    pub fn format_name(&self) -> &'static str {
        match self.table.format() {
            Format::Csv { .. } => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// The list columns present in the file, canonical names, in the
    /// contract's order (extra columns are not read, so not listed).
    pub fn columns(&self) -> Vec<String> {
        REQUIRED_COLUMNS
            .iter()
            .chain(OPTIONAL_COLUMNS.iter())
            .filter(|c| self.table.has_column(c))
            .map(|c| (*c).to_owned())
            .collect()
    }

    /// The underlying table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Number of non-empty data rows.
    pub fn row_count(&self) -> usize {
        self.table.row_count()
    }

    /// Typed rows in file order, one pass, streaming. Each bad row gives
    /// all of its errors. Duplicate `ref_cdp` are only detected by
    /// [`ListFile::validate`].
    pub fn rows(&self) -> impl Iterator<Item = Result<CdpRow, Vec<RowError>>> + '_ {
        self.table.rows().map(move |r| match r {
            Ok(row) => self.parse_row(&row),
            Err(e) => Err(vec![self.canonical(e)]),
        })
    }

    /// Checks every row: all the bad fields of every bad row, plus
    /// duplicate `ref_cdp` (reported on the later line, naming the first).
    /// Returns the number of rows, or every error sorted by line.
    pub fn validate(&self) -> Result<usize, FileError> {
        let mut checked = self.checked();
        checked.by_ref().for_each(drop);
        checked.finish()
    }

    /// The good rows, in file order, checked as [`ListFile::validate`]
    /// does while they are read: one pass for a caller that uses each row
    /// as it comes and drops everything if [`Checked::finish`] reports
    /// errors.
    pub fn checked(&self) -> Checked<'_> {
        Checked {
            file: self,
            rows: self.table.rows(),
            seen: HashMap::new(),
            errors: RowErrors::new(),
            count: 0,
        }
    }

    /// A table-level row error, with the list's canonical column name.
    fn canonical(&self, e: RowError) -> RowError {
        canonical(e, &ALL_COLUMNS)
    }

    fn parse_row(&self, row: &Row<'_>) -> Result<CdpRow, Vec<RowError>> {
        let c = &self.cols;
        let mut ck = RowCheck::new(row);
        let ref_cdp = ck.required_text("ref_cdp", Some(c.ref_cdp));
        let date_cdp = ck.required("date_cdp", Some(c.date_cdp), parse_date_cell);
        let nom = ck.required_text("nom", Some(c.nom));
        let prenom = ck.required_text("prenom", Some(c.prenom));
        let adresse = ck.required_text("adresse", Some(c.adresse));
        let code_postal = ck.required("code_postal", Some(c.code_postal), parse_postal_cell);
        let commune = ck.required_text("commune", Some(c.commune));
        let telephone = ck.optional("telephone", c.telephone, parse_phone_cell);
        let courriel = ck.optional("courriel", c.courriel, parse_email_cell);
        let bailleur_type = ck.required("bailleur_type", Some(c.bailleur_type), |x| {
            BailleurType::parse(&x.text)
        });
        let bailleur_nom = ck.required_text("bailleur_nom", Some(c.bailleur_nom));
        let montant_dette = ck.required("montant_dette", Some(c.montant_dette), parse_euros_cell);
        let loyer_mensuel = ck.optional("loyer_mensuel", c.loyer_mensuel, parse_euros_cell);
        let commissaire_justice = ck.text(c.commissaire_justice);
        match (
            ref_cdp,
            date_cdp,
            nom,
            prenom,
            adresse,
            code_postal,
            commune,
            telephone,
            courriel,
            bailleur_type,
            bailleur_nom,
            montant_dette,
            loyer_mensuel,
        ) {
            (
                Some(ref_cdp),
                Some(date_cdp),
                Some(nom),
                Some(prenom),
                Some(adresse),
                Some(code_postal),
                Some(commune),
                Ok(telephone),
                Ok(courriel),
                Some(bailleur_type),
                Some(bailleur_nom),
                Some(montant_dette),
                Ok(loyer_mensuel),
            ) if ck.is_clean() => Ok(CdpRow {
                line: row.line(),
                ref_cdp,
                date_cdp,
                nom,
                prenom,
                adresse,
                code_postal,
                commune,
                telephone,
                courriel,
                bailleur_type,
                bailleur_nom,
                montant_dette,
                loyer_mensuel,
                commissaire_justice,
            }),
            _ => Err(ck.into_errors()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::TableError;
    use super::*;
    use time::macros::date;

    macro_rules! sample {
        ($f:literal) => {
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/samples/", $f)).unwrap()
        };
    }

    fn all_rows(bytes: &[u8]) -> Vec<CdpRow> {
        let list = read_list(bytes, &Limits::default()).unwrap();
        assert_eq!(list.validate(), Ok(list.row_count()));
        list.rows().map(|r| r.unwrap()).collect()
    }

    fn euros(s: &str) -> Euros {
        Euros::parse(s).unwrap()
    }

    #[test]
    fn clean_csv() {
        let rows = all_rows(&sample!("liste-2026-09-clean.csv"));
        assert_eq!(rows.len(), 25);
        let r = &rows[0];
        assert_eq!(r.line, 2);
        assert_eq!(r.ref_cdp, "CDP-202609-00001");
        assert_eq!(r.date_cdp, date!(2026 - 09 - 19));
        assert_eq!(r.prenom, "Zoé");
        assert_eq!(r.adresse, "Bât. C, 3e étage, 104 rue de l'Église");
        assert_eq!(r.code_postal.as_str(), "85520");
        assert_eq!(r.telephone.as_ref().unwrap().as_str(), "0643217853");
        assert_eq!(r.courriel.as_deref(), Some("zoe.petit82@exemple.fr"));
        assert_eq!(r.bailleur_type, BailleurType::Prive);
        assert_eq!(r.montant_dette, euros("1871.95"));
        assert_eq!(r.loyer_mensuel, Some(euros("497")));
        assert_eq!(r.commissaire_justice.as_deref(), Some("SCP Océan Justice"));
        let r = &rows[1];
        assert_eq!((r.telephone.as_ref(), r.courriel.as_ref()), (None, None));
        assert_eq!(rows[3].nom, "De La Fontaine");
        assert_eq!(rows[3].telephone.as_ref().unwrap().as_str(), "0222387212");
        assert_eq!(rows[24].line, 26);
    }

    #[test]
    fn excel_fr_csv() {
        let bytes = sample!("liste-2026-10-excel-fr.csv");
        let list = read_list(&bytes, &Limits::default()).unwrap();
        assert_eq!(list.table().format(), Format::Csv { delimiter: b';' });
        let rows = all_rows(&bytes);
        assert_eq!(rows.len(), 25);
        let r = &rows[0];
        assert_eq!(r.ref_cdp, "CDP-202610-00001");
        assert_eq!(r.date_cdp, date!(2026 - 10 - 05));
        // "4\u{202F}925,72" (narrow no-break space).
        assert_eq!(r.montant_dette.cents(), 492_572);
        assert_eq!(r.loyer_mensuel.unwrap().cents(), 85_900);
        assert_eq!(r.bailleur_type, BailleurType::Prive);
        assert_eq!(r.telephone.as_ref().unwrap().as_str(), "0789826738");
        let r = &rows[1];
        assert_eq!(r.commune, "Sainte-Foy");
        assert_eq!(r.bailleur_nom, "Laurent Noël");
        // "2\u{A0}569,63€" (no-break space, glued euro sign).
        assert_eq!(r.montant_dette.cents(), 256_963);
        assert_eq!(rows[2].bailleur_type, BailleurType::Prive);
        assert_eq!(
            rows[2].commissaire_justice.as_deref(),
            Some("Étude Maître Lebrun")
        );
        assert_eq!(rows[3].bailleur_type, BailleurType::Social);
        assert_eq!(rows[3].montant_dette.cents(), 239_756);
    }

    #[test]
    fn windows_1252_csv() {
        let rows = all_rows(&sample!("liste-2026-10-windows-1252.csv"));
        assert_eq!(rows.len(), 25);
        let r = &rows[0];
        assert_eq!(r.date_cdp, date!(2026 - 10 - 23));
        assert_eq!(r.prenom, "Jérôme");
        assert_eq!(r.bailleur_nom, "Rambaud Aurélie");
        assert_eq!(r.montant_dette.cents(), 201_104);
        assert_eq!(r.loyer_mensuel.unwrap().cents(), 40_100);
        assert_eq!(
            r.commissaire_justice.as_deref(),
            Some("SELARL Hervouet & Associés")
        );
        let r = &rows[1];
        assert_eq!(r.bailleur_type, BailleurType::Prive);
        assert_eq!(r.telephone.as_ref().unwrap().as_str(), "0715393987");
        assert_eq!(r.montant_dette.cents(), 624_959);
    }

    #[test]
    fn xlsx_sample() {
        let bytes = sample!("liste-2026-11.xlsx");
        let list = read_list(&bytes, &Limits::default()).unwrap();
        assert_eq!(list.table().format(), Format::Xlsx);
        let rows = all_rows(&bytes);
        assert_eq!(rows.len(), 25);
        let r = &rows[0];
        assert_eq!(r.line, 2);
        assert_eq!(r.ref_cdp, "CDP-202611-00001");
        // A real date cell (serial 46327, format DD/MM/YYYY).
        assert_eq!(r.date_cdp, date!(2026 - 11 - 01));
        assert_eq!(r.montant_dette.cents(), 91_216);
        assert_eq!(r.loyer_mensuel.unwrap().cents(), 43_000);
        assert_eq!(r.telephone.as_ref().unwrap().as_str(), "0755039465");
        assert_eq!(r.courriel.as_deref(), Some("julien.mathieu39@exemple.fr"));
        assert_eq!(rows[1].telephone.as_ref().unwrap().as_str(), "0615983107");
        assert_eq!(rows[1].courriel, None);
        // Line 5: postal code stored as a number.
        assert_eq!(rows[3].line, 5);
        assert_eq!(rows[3].code_postal.as_str(), "85100");
        assert_eq!(rows[3].telephone, None);
        // Line 15: 775.2 as a number.
        assert_eq!(rows[13].montant_dette.cents(), 77_520);
        assert_eq!(rows[5].commune, "L'Île-d'Olonne");
        assert_eq!(rows[24].line, 26);
    }

    #[test]
    fn invalid_list() {
        let list = read_list(sample!("liste-invalide.csv"), &Limits::default()).unwrap();
        let Err(FileError::InvalidRows(errors)) = list.validate() else {
            panic!("liste-invalide.csv must be refused");
        };
        let got: Vec<(u64, &str, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_deref().unwrap(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (2, "date_cdp", "31/02/2026 is not a date"),
                (3, "code_postal", "code_postal must be 5 digits (got 8510)"),
                (4, "nom", "nom is required"),
                (
                    5,
                    "bailleur_type",
                    "bailleur_type must be social or prive (got locataire)"
                ),
                (6, "telephone", "telephone must have 10 digits"),
                (6, "montant_dette", "montant_dette must not be negative"),
                (7, "ref_cdp", "ref_cdp CDP-X-5 already appears on line 6"),
            ]
        );
        // Privacy: no name, address, phone or amount in any message.
        for e in &errors {
            for secret in [
                "Martin", "Petit", "Loïc", "Roux", "Moreau", "Girard", "Travot", "0612", "40",
                "1200", "Durand",
            ] {
                assert!(!e.message.contains(secret), "{secret} leaked in {e:?}");
            }
        }
        let msg = FileError::InvalidRows(errors).to_string();
        assert_eq!(
            msg,
            "6 invalid rows (first: line 2: 31/02/2026 is not a date)"
        );

        // Line 8 is valid and its formula-looking name is kept verbatim.
        let rows: Vec<_> = list.rows().collect();
        assert_eq!(rows.len(), 7);
        assert!(rows[..5].iter().all(Result::is_err));
        assert_eq!(rows[4].as_ref().unwrap_err().len(), 2);
        // Streaming rows don't check duplicates: line 7's own fields are fine.
        assert_eq!(rows[5].as_ref().unwrap().line, 7);
        let r8 = rows[6].as_ref().unwrap();
        assert_eq!(r8.line, 8);
        assert_eq!(r8.nom, "=HYPERLINK(\"http://exemple.invalid\",\"clic\")");
    }

    #[test]
    fn missing_columns_listed() {
        let err = read_list(
            b"nom;prenom;adresse;commune;extra\nA;B;C;D;E\n",
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            FileError::MissingColumns(
                [
                    "ref_cdp",
                    "date_cdp",
                    "code_postal",
                    "bailleur_type",
                    "bailleur_nom",
                    "montant_dette"
                ]
                .map(String::from)
                .to_vec()
            )
        );
        assert_eq!(
            err.to_string(),
            "missing required columns: ref_cdp, date_cdp, code_postal, bailleur_type, bailleur_nom, montant_dette"
        );
        let err = read_list(b"", &Limits::default()).unwrap_err();
        assert_eq!(err, FileError::Table(TableError::Empty));
        assert_eq!(err.to_string(), "the file is empty");
    }

    const HEADER: &str = "ref_cdp;date_cdp;nom;prenom;adresse;code_postal;commune;bailleur_type;bailleur_nom;montant_dette;courriel;telephone;loyer_mensuel;autre";

    fn one_row_errors(row: &str) -> Vec<RowError> {
        let text = format!("{HEADER}\n{row}\n");
        let list = read_list(text.as_bytes(), &Limits::default()).unwrap();
        match list.validate() {
            Ok(_) => Vec::new(),
            Err(FileError::InvalidRows(e)) => e.into_iter().collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn field_rules() {
        assert!(one_row_errors("R1;2026-10-01;+Nom;-P;@A;85100;C;social;B;10;;;;x").is_empty());
        let e = one_row_errors("R1;01/10/2026;N;P;A;85100;C;social;B;10;a@@b;;;");
        assert_eq!(e[0].message, "courriel is not an e-mail address");
        let e = one_row_errors("R1;01/10/2026;N;P;A;85100;C;social;B;10;@b;;12,345;");
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].message, "loyer_mensuel must have at most 2 decimals");
        let e = one_row_errors(";;;;;;;;;;;;;x");
        let cols: Vec<_> = e.iter().map(|e| e.column.clone().unwrap()).collect();
        assert_eq!(cols, REQUIRED_COLUMNS.map(String::from));
        let e = one_row_errors("R1;hier;N;P;A;85100;C;social;B;abc;;;;");
        assert_eq!(
            e[0].message,
            "date_cdp is not a date (expected JJ/MM/AAAA or AAAA-MM-JJ)"
        );
        assert_eq!(e[1].message, "montant_dette is not an amount");
    }

    #[test]
    fn too_long_cell_uses_canonical_column() {
        let limits = Limits {
            max_cell_chars: 10,
            ..Limits::default()
        };
        let text = format!(
            "{HEADER}\nR1;2026-10-01;N;P;une adresse bien trop longue;85100;C;social;B;10;;;;\n"
        )
        .replace("adresse;", "Adresse ;");
        let list = read_list(text.as_bytes(), &limits).unwrap();
        let Err(FileError::InvalidRows(e)) = list.validate() else {
            panic!()
        };
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 2);
        assert_eq!(e[0].column.as_deref(), Some("adresse"));
        assert_eq!(e[0].message, "adresse is longer than 10 characters");
    }

    #[test]
    fn generated_xlsx_with_numbers() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let headers = [
            "Réf CDP",
            "Date CDP",
            "Nom",
            "Prénom",
            "Adresse",
            "Code postal",
            "Commune",
            "Téléphone",
            "Bailleur type",
            "Bailleur nom",
            "Montant dette",
        ];
        for (i, h) in headers.iter().enumerate() {
            ws.write_string(0, i as u16, *h).unwrap();
        }
        let fmt = Format::new().set_num_format("dd/mm/yyyy");
        let row = |ws: &mut rust_xlsxwriter::Worksheet, r: u32, reference: &str| {
            ws.write_string(r, 0, reference).unwrap();
            ws.write_string(r, 2, "=1+1").unwrap();
            ws.write_string(r, 3, "P").unwrap();
            ws.write_string(r, 4, "A").unwrap();
            ws.write_number(r, 5, 8510.0).unwrap();
            ws.write_string(r, 6, "  C ").unwrap();
            ws.write_number(r, 7, 612_345_678.0).unwrap();
            ws.write_string(r, 8, "Bailleur social").unwrap();
            ws.write_string(r, 9, "B").unwrap();
            ws.write_number(r, 10, 1234.5).unwrap();
        };
        row(ws, 1, "X-1");
        ws.write_datetime_with_format(1, 1, ExcelDateTime::from_ymd(2026, 10, 5).unwrap(), &fmt)
            .unwrap();
        // Row 3 left blank; row 4 has a plain serial number as date.
        row(ws, 3, "X-2");
        ws.write_number(3, 1, 46327.0).unwrap();
        // A stray far-away cell outside the header's columns.
        ws.write_string(5, 16_000, "stray").unwrap();
        let bytes = wb.save_to_buffer().unwrap();

        let list = read_list(&bytes, &Limits::default()).unwrap();
        assert_eq!(list.validate(), Ok(2));
        let rows: Vec<CdpRow> = list.rows().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[1].line), (2, 4));
        assert_eq!(rows[0].date_cdp, date!(2026 - 10 - 05));
        assert_eq!(rows[1].date_cdp, date!(2026 - 11 - 01));
        assert_eq!(rows[0].code_postal.as_str(), "08510");
        assert_eq!(rows[0].telephone.as_ref().unwrap().as_str(), "0612345678");
        assert_eq!(rows[0].montant_dette.cents(), 123_450);
        assert_eq!(rows[0].nom, "=1+1");
        assert_eq!(rows[0].commune, "C");
        assert_eq!(rows[0].bailleur_type, BailleurType::Social);

        let limits = Limits {
            max_rows: 1,
            ..Limits::default()
        };
        assert_eq!(
            read_list(&bytes, &limits).unwrap_err(),
            FileError::Table(TableError::TooManyRows { max: 1 })
        );
    }

    #[test]
    fn all_columns_are_the_required_then_the_optional() {
        let both: Vec<&str> = REQUIRED_COLUMNS
            .iter()
            .chain(OPTIONAL_COLUMNS.iter())
            .copied()
            .collect();
        assert_eq!(both, ALL_COLUMNS);
    }

    #[test]
    fn csv_postal_code_is_not_padded() {
        let e = one_row_errors("R1;2026-10-01;N;P;A;8510;C;social;B;10;;;;");
        assert_eq!(e[0].message, "code_postal must be 5 digits (got 8510)");
    }

    #[test]
    fn row_serialises_with_iso_date() {
        let rows = all_rows(&sample!("liste-2026-09-clean.csv"));
        let json = serde_json::to_value(&rows[0]).unwrap();
        assert_eq!(json["date_cdp"], "2026-09-19");
        assert_eq!(json["montant_dette"], "1871.95");
        assert_eq!(json["bailleur_type"], "prive");
        let back: CdpRow = serde_json::from_value(json).unwrap();
        assert_eq!(back, rows[0]);
    }

    #[test]
    fn the_compact_form_reads_back_and_is_smaller() {
        for row in all_rows(&sample!("liste-2026-09-clean.csv")) {
            let compact = row.to_compact_json();
            assert!(compact.starts_with(b"["));
            let back: CdpRow = serde_json::from_slice(&compact).unwrap();
            assert_eq!(back, row);
            assert!(compact.len() * 3 < serde_json::to_vec(&row).unwrap().len() * 2);
        }
    }
}
