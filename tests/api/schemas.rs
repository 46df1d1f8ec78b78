//! The file formats' schemas (`docs/schemas/*.json`, served at
//! `GET /v1/schemas/{kind}`) checked against the code that reads and
//! writes the files, so that the documentation cannot drift from it:
//!
//! - incoming (`list`, `enrichment`, `referent`, `followup`): the fields
//!   are the reader's columns, the required ones exactly those it requires
//!   (a file missing one is refused naming it, a file with only them is
//!   accepted), every `enum` value is accepted and a value outside refused,
//!   the `example`s make a row the reader accepts, every pattern accepts
//!   the writings the reader reads and refuses plain nonsense;
//! - outgoing (`outbox-*`): the files the gateway really produces (listed,
//!   downloaded, decrypted, CSV and XLSX) have the schema's columns in its
//!   order, and every cell satisfies its field;
//! - served: every schema the gateway serves is the committed file.
//!
//! `PASSERELLE_BLESS_SCHEMAS=1` rewrites the committed `outbox-*.json`
//! from what the example configuration serves (after a deliberate change
//! of the policy); without it, any difference fails.

use crate::both;
use crate::helpers::{Db, TestApp, code, decrypt, list_csv, repo, spawn_app, status_json};
use passerelle::domain::followup::{ClosingMotif, FollowupEvent};
use passerelle::ingest::returns::{ReturnKind, read_return};
use passerelle::ingest::{FileError, Limits, list, read_list};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An incoming format: the monthly list, EXPLOC's procedure events, or a
/// return.
#[derive(Debug, Clone, Copy)]
enum In {
    List,
    Procedures,
    Return(ReturnKind),
}

/// The incoming formats: the schema's name, and its reader.
const INCOMING: [(&str, In); 5] = [
    ("list", In::List),
    ("procedures", In::Procedures),
    ("enrichment", In::Return(ReturnKind::Enrichment)),
    ("referent", In::Return(ReturnKind::Referent)),
    ("followup", In::Return(ReturnKind::Followup)),
];

/// The outgoing kinds of the example policy.
const OUTGOING: [&str; 4] = ["enrichment", "concertation", "dossier", "procedure"];

fn schema_path(name: &str) -> std::path::PathBuf {
    repo().join("docs/schemas").join(format!("{name}.json"))
}

/// A committed schema.
fn committed(name: &str) -> Value {
    let text = std::fs::read_to_string(schema_path(name))
        .unwrap_or_else(|e| panic!("docs/schemas/{name}.json: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("docs/schemas/{name}.json: {e}"))
}

fn fields(schema: &Value) -> &Vec<Value> {
    schema["fields"].as_array().expect("fields is an array")
}

fn names(schema: &Value) -> Vec<String> {
    fields(schema)
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

fn field<'a>(schema: &'a Value, name: &str) -> &'a Value {
    fields(schema)
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {}", schema["name"]))
}

/// The columns a file must have, as the schema says it: those whose value
/// is required, or all of them when `fieldsMatch` asks every field to be
/// present (docs/convention.md, "Machine-readable schemas").
fn required_columns(schema: &Value) -> BTreeSet<String> {
    let all = matches!(
        schema["fieldsMatch"].as_str(),
        Some("subset" | "exact" | "equal")
    );
    fields(schema)
        .iter()
        .filter(|f| all || f["constraints"]["required"] == true)
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

/// What the reader requires and reads.
fn reader_columns(kind: In) -> (BTreeSet<String>, BTreeSet<String>) {
    use passerelle::ingest::procedures;
    let own = |c: &[&str]| c.iter().map(|c| (*c).to_owned()).collect::<BTreeSet<_>>();
    match kind {
        In::List => (
            own(&list::REQUIRED_COLUMNS),
            own(&[&list::REQUIRED_COLUMNS[..], &list::OPTIONAL_COLUMNS[..]].concat()),
        ),
        In::Procedures => (
            own(&procedures::REQUIRED_COLUMNS),
            own(&procedures::ALL_COLUMNS),
        ),
        In::Return(k) => (own(k.required()), own(k.columns())),
    }
}

/// A pattern as Frictionless applies it: to the whole cell.
fn pattern(p: &str) -> regex_automata::meta::Regex {
    regex_automata::meta::Regex::new(&format!("^(?:{p})$"))
        .unwrap_or_else(|e| panic!("pattern {p:?} does not compile: {e}"))
}

fn matches(f: &Value, text: &str) -> bool {
    match f["constraints"]["pattern"].as_str() {
        Some(p) => pattern(p).is_match(text),
        None => true,
    }
}

/// A CSV of one header and one row, from `(column, cell)` pairs.
fn csv(cells: &[(String, String)]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cells.iter().map(|(c, _)| c)).unwrap();
    w.write_record(cells.iter().map(|(_, v)| v)).unwrap();
    w.into_inner().unwrap()
}

/// The schema's example row, `column = cell` replacing `column`'s example,
/// restricted to `keep` columns.
fn example_row(schema: &Value, keep: impl Fn(&str) -> bool, set: &[(&str, &str)]) -> Vec<u8> {
    let cells: Vec<(String, String)> = fields(schema)
        .iter()
        .map(|f| {
            let name = f["name"].as_str().unwrap();
            let value = set
                .iter()
                .find(|(c, _)| *c == name)
                .map(|(_, v)| (*v).to_owned())
                .unwrap_or_else(|| f["example"].as_str().unwrap().to_owned());
            (name.to_owned(), value)
        })
        .filter(|(name, _)| keep(name))
        .collect();
    csv(&cells)
}

/// What the real reader says of a file: `Ok(rows)`, or the missing
/// columns, or the `(line, column)` of every bad cell.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Rows(usize),
    Missing(Vec<String>),
    Invalid(Vec<(u64, Option<String>)>),
    Other(String),
}

fn read(kind: In, bytes: &[u8]) -> Read {
    let refused = |e: FileError| match e {
        FileError::MissingColumns(c) => Read::Missing(c),
        FileError::InvalidRows(e) => {
            Read::Invalid(e.into_iter().map(|e| (e.line, e.column)).collect())
        }
        e => Read::Other(e.to_string()),
    };
    match kind {
        In::Procedures => {
            match passerelle::ingest::procedures::read_procedures(bytes, &Limits::default())
                .and_then(|f| f.rows())
            {
                Ok(rows) => Read::Rows(rows.len()),
                Err(e) => refused(e),
            }
        }
        In::List => match read_list(bytes, &Limits::default()).and_then(|l| l.validate()) {
            Ok(n) => Read::Rows(n),
            Err(FileError::MissingColumns(c)) => Read::Missing(c),
            Err(FileError::InvalidRows(e)) => {
                Read::Invalid(e.into_iter().map(|e| (e.line, e.column)).collect())
            }
            Err(e) => Read::Other(e.to_string()),
        },
        In::Return(k) => match read_return(bytes, k, &Limits::default()) {
            Ok(rows) => Read::Rows(rows.len()),
            Err(FileError::MissingColumns(c)) => Read::Missing(c),
            Err(FileError::InvalidRows(e)) => {
                Read::Invalid(e.into_iter().map(|e| (e.line, e.column)).collect())
            }
            Err(e) => Read::Other(e.to_string()),
        },
    }
}

#[test]
fn every_schema_has_the_properties_of_a_table_schema() {
    let mut all: Vec<String> = INCOMING.iter().map(|(n, _)| (*n).to_owned()).collect();
    all.extend(OUTGOING.iter().map(|k| format!("outbox-{k}")));
    for name in all {
        let s = committed(&name);
        assert_eq!(s["name"], name.as_str(), "{name}: name");
        for key in ["$schema", "title", "description", "version"] {
            assert!(s[key].is_string(), "{name}: {key}");
        }
        assert_eq!(s["missingValues"], serde_json::json!([""]), "{name}");
        let mut seen = BTreeSet::new();
        for f in fields(&s) {
            let what = format!("{name}.{}", f["name"]);
            assert!(seen.insert(f["name"].to_string()), "{what} twice");
            for key in ["name", "title", "description", "type", "example"] {
                assert!(f[key].is_string(), "{what}: {key}");
            }
            assert!(
                f["constraints"]["required"].is_boolean(),
                "{what}: constraints.required"
            );
            let example = f["example"].as_str().unwrap();
            assert!(
                matches(f, example),
                "{what}: the example {example:?} fails its pattern"
            );
            if let Some(values) = f["constraints"]["enum"].as_array() {
                assert!(
                    values.iter().any(|v| v == example),
                    "{what}: example outside enum"
                );
            }
        }
    }
}

#[test]
fn incoming_fields_are_the_readers_columns_and_required_ones_are_its_required_ones() {
    for (name, kind) in INCOMING {
        let s = committed(name);
        let (required, all) = reader_columns(kind);
        let documented: BTreeSet<String> = names(&s).into_iter().collect();
        assert_eq!(
            documented, all,
            "{name}: the schema's fields are the reader's columns"
        );
        assert_eq!(required_columns(&s), required, "{name}: required columns");
        match kind {
            In::Return(k) => assert_eq!(names(&s), k.columns(), "{name}: in the reader's order"),
            In::Procedures => assert_eq!(
                names(&s),
                passerelle::ingest::procedures::ALL_COLUMNS,
                "{name}: in the reader's order"
            ),
            In::List => {}
        }
    }
}

#[test]
fn the_examples_make_a_row_the_reader_accepts_and_so_do_the_required_columns_alone() {
    for (name, kind) in INCOMING {
        let s = committed(name);
        assert_eq!(
            read(kind, &example_row(&s, |_| true, &[])),
            Read::Rows(1),
            "{name}: the examples' row"
        );
        // `organisme` is required only when `referent_connu` is oui, as
        // the referent schema's descriptions say: without it, the required
        // columns alone make a valid row when the answer is non.
        let conditional: &[(&str, &str)] = if name == "referent" {
            &[("referent_connu", "non")]
        } else {
            &[]
        };
        let required = required_columns(&s);
        assert_eq!(
            read(
                kind,
                &example_row(&s, |c| required.contains(c), conditional)
            ),
            Read::Rows(1),
            "{name}: only the required columns"
        );
    }
    let referent = committed("referent");
    assert!(
        field(&referent, "organisme")["description"]
            .as_str()
            .unwrap()
            .contains("Required when `referent_connu` is true"),
        "the schema says when organisme is required"
    );
    assert_eq!(
        read(
            In::Return(ReturnKind::Referent),
            &example_row(
                &referent,
                |c| c != "organisme",
                &[("referent_connu", "oui")]
            )
        ),
        Read::Invalid(vec![(2, Some("organisme".to_owned()))]),
        "referent_connu = oui without organisme"
    );
}

#[test]
fn a_file_missing_a_required_column_is_refused_naming_it() {
    for (name, kind) in INCOMING {
        let s = committed(name);
        for missing in required_columns(&s) {
            assert_eq!(
                read(kind, &example_row(&s, |c| c != missing, &[])),
                Read::Missing(vec![missing.clone()]),
                "{name} without {missing}"
            );
        }
    }
}

#[test]
fn every_enum_value_is_accepted_and_a_value_outside_is_refused() {
    let followup = committed("followup");
    let documented = |f: &str| -> Vec<String> {
        field(&followup, f)["constraints"]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("followup.{f} has an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let events: Vec<&str> = FollowupEvent::ALL.iter().map(|e| e.as_str()).collect();
    let motifs: Vec<&str> = ClosingMotif::ALL.iter().map(|m| m.as_str()).collect();
    assert_eq!(documented("evenement"), events);
    assert_eq!(documented("motif"), motifs);
    for (name, kind) in INCOMING {
        let s = committed(name);
        for f in fields(&s) {
            let Some(values) = f["constraints"]["enum"].as_array() else {
                continue;
            };
            let column = f["name"].as_str().unwrap();
            for v in values {
                let v = v.as_str().unwrap();
                assert_eq!(
                    read(kind, &example_row(&s, |_| true, &[(column, v)])),
                    Read::Rows(1),
                    "{name}.{column} = {v}"
                );
            }
            for outside in ["zzz", "Appel_Reussi", "appel"] {
                assert_eq!(
                    read(kind, &example_row(&s, |_| true, &[(column, outside)])),
                    Read::Invalid(vec![(2, Some(column.to_owned()))]),
                    "{name}.{column} = {outside}"
                );
            }
        }
    }
}

/// Words a partner might write in a yes/no column.
const YES_NO_WORDS: &[&str] = &[
    "oui", "non", "o", "n", "true", "false", "1", "0", "vrai", "faux", "yes", "no", "y", "si",
    "ok", "x", "on", "off", "t", "f", "v", "2", "-", "nan", "aucun",
];

#[test]
fn boolean_fields_list_exactly_the_words_the_reader_takes() {
    for (name, kind) in INCOMING {
        let s = committed(name);
        for f in fields(&s).iter().filter(|f| f["type"] == "boolean") {
            let column = f["name"].as_str().unwrap();
            let listed = |key: &str| -> BTreeSet<String> {
                f[key]
                    .as_array()
                    .unwrap_or_else(|| panic!("{name}.{column}: {key}"))
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect()
            };
            let (yes, no) = (listed("trueValues"), listed("falseValues"));
            for w in yes.iter().chain(&no) {
                assert_eq!(
                    passerelle::ingest::returns::parse_bool(w),
                    Ok(yes.contains(w)),
                    "{name}.{column}: {w}"
                );
                assert_eq!(
                    read(kind, &example_row(&s, |_| true, &[(column, w.as_str())])),
                    Read::Rows(1),
                    "{name}.{column} = {w}"
                );
            }
            let lower = |set: &BTreeSet<String>| -> BTreeSet<String> {
                set.iter().map(|w| w.to_lowercase()).collect()
            };
            for w in YES_NO_WORDS {
                let expected = if lower(&yes).contains(*w) {
                    Ok(true)
                } else if lower(&no).contains(*w) {
                    Ok(false)
                } else {
                    Err(())
                };
                assert_eq!(
                    passerelle::ingest::returns::parse_bool(w).map_err(|_| ()),
                    expected,
                    "{name}.{column}: the reader and the schema differ on {w:?}"
                );
            }
        }
    }
}

/// Writings the reader reads, by `(format, column)`: each must also match
/// the field's pattern. Taken from the readers' own tests and the sample
/// files.
fn writings() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    let amounts = vec![
        "2311.00",
        "2311",
        "2 311,00 €",
        "2 311,00€",
        "4\u{202F}925,72",
        "2\u{A0}569,63€",
        "1 577,31 ",
        "1200,5",
        "0,07",
        "€ 12",
        "12 EUR",
        "12 EUR €",
        "+12",
        "0",
        "1.234,56",
        "1,234.56",
        "1.234.567,8",
        "1,234,567",
        "2\u{2009}311,00\u{A0}€",
    ];
    let dates = vec![
        "05/10/2026",
        "5/1/2026",
        " 2026-09-19 ",
        "29/02/2028",
        "1/12/2025",
    ];
    vec![
        ("list", "date_cdp", dates.clone()),
        ("list", "code_postal", vec!["85100", " 01000 "]),
        (
            "list",
            "telephone",
            vec![
                "06 12 34 56 78",
                "06.12.34.56.78",
                "06-12-34-56-78",
                "0612345678",
                " 0612345678 ",
                "+33 6 12 34 56 78",
                "+33612345678",
                "+33 (0)6 12 34 56 78",
                "+33 06 12 34 56 78",
                "0033 6 12 34 56 78",
                "0033612345678",
                "33 6 12 34 56 78",
                "06\u{A0}12\u{A0}34\u{A0}56\u{A0}78",
                "06/12/34/56/78",
                "02.22.38.72.12",
            ],
        ),
        (
            "list",
            "courriel",
            vec!["zoe.petit82@exemple.fr", "a@b", " x@y.fr "],
        ),
        (
            "list",
            "bailleur_type",
            vec![
                "social",
                "SOCIAL",
                "Bailleur social",
                " bailleur  SOCIAL ",
                "prive",
                "privé",
                "PRIVE",
                "Privé",
                "PRIVÉE",
                "privée",
                "Bailleur privé",
                "bailleur-prive",
                "Bailleur_Privé",
                "prive\u{301}",
            ],
        ),
        ("list", "montant_dette", amounts.clone()),
        ("list", "loyer_mensuel", amounts),
        (
            "enrichment",
            "date_naissance",
            vec!["12/07/1961", "1984-03-12", "1/2/1990"],
        ),
        (
            "enrichment",
            "ages_enfants",
            vec!["4;9", "4,9", " 4 ; 9 ", "12", "4;9;", "+4;09"],
        ),
        ("followup", "date", dates),
        // Not after the example's hearing (15/12/2026).
        (
            "procedures",
            "date_etape",
            vec![
                "05/10/2026",
                "5/1/2026",
                " 2026-09-19 ",
                "29/02/2024",
                "1/12/2025",
            ],
        ),
        // Not before the example's step (04/11/2026).
        (
            "procedures",
            "date_audience",
            vec!["15/12/2026", "5/1/2027", " 2027-01-09 ", "29/02/2028"],
        ),
        ("procedures", "code_postal", vec!["85100", " 01000 "]),
        (
            "procedures",
            "bailleur_type",
            vec!["social", "Bailleur social", "Privé", "PRIVEE"],
        ),
    ]
}

#[test]
fn every_pattern_accepts_the_writings_the_reader_reads_and_refuses_nonsense() {
    let mut covered = BTreeSet::new();
    for (name, column, values) in writings() {
        let s = committed(name);
        let f = field(&s, column);
        let kind = INCOMING.iter().find(|(n, _)| *n == name).unwrap().1;
        // Keep the row consistent: two ages go with two children.
        let mut set = [(column, "")];
        for v in values {
            set[0].1 = v;
            let extra: &[(&str, &str)] = match (column, v) {
                ("ages_enfants", "12") => &[("nb_enfants", "1")],
                ("ages_enfants", _) => &[("nb_enfants", "2")],
                _ => &[],
            };
            let all: Vec<(&str, &str)> = set.iter().chain(extra).copied().collect();
            assert_eq!(
                read(kind, &example_row(&s, |_| true, &all)),
                Read::Rows(1),
                "{name}.{column}: the reader refuses {v:?} (fix this test's corpus)"
            );
            assert!(
                matches(f, v),
                "{name}.{column}: the pattern refuses {v:?}, which the reader reads"
            );
        }
        covered.insert((name, column));
    }
    // Every pattern of an incoming schema is exercised above, and none of
    // them lets anything through.
    for (name, _) in INCOMING {
        let s = committed(name);
        for f in fields(&s) {
            let column = f["name"].as_str().unwrap();
            if f["constraints"]["pattern"].is_null() || column == "token" {
                continue;
            }
            assert!(
                covered.contains(&(name, column)),
                "{name}.{column} has a pattern this test does not exercise"
            );
            for nonsense in ["n/a", "locataire", "12 mars", "abc@"] {
                assert!(
                    !matches(f, nonsense),
                    "{name}.{column} accepts {nonsense:?}"
                );
            }
        }
    }
    // A token the gateway writes matches the pattern of the returns'
    // token column.
    for name in ["enrichment", "referent", "followup"] {
        let s = committed(name);
        assert!(matches(field(&s, "token"), "v1-abcdefghijklmnopqrstuv27"));
        assert!(!matches(field(&s, "token"), "CDP-202610-00001"));
    }
}

/// Every cell of a produced file satisfies its field (required, type,
/// enum, pattern, bounds).
fn check_cell(schema: &Value, f: &Value, cell: &str) {
    let what = format!("{}.{} = {cell:?}", schema["name"], f["name"]);
    let c = &f["constraints"];
    if cell.is_empty() {
        assert!(c["required"] != true, "{what}: a required cell is empty");
        return;
    }
    match f["type"].as_str().unwrap() {
        "string" => {}
        "integer" => {
            let n: i64 = cell
                .parse()
                .unwrap_or_else(|_| panic!("{what}: not an integer"));
            if let Some(min) = c["minimum"].as_i64() {
                assert!(n >= min, "{what}: below minimum");
            }
            if let Some(max) = c["maximum"].as_i64() {
                assert!(n <= max, "{what}: above maximum");
            }
        }
        "number" => {
            cell.parse::<f64>()
                .unwrap_or_else(|_| panic!("{what}: not a number"));
        }
        "date" => {
            assert!(
                pattern("[0-9]{4}-[0-9]{2}-[0-9]{2}").is_match(cell),
                "{what}"
            );
            passerelle::domain::parse_date(cell).unwrap_or_else(|e| panic!("{what}: {e}"));
        }
        "yearmonth" => assert!(pattern("[0-9]{4}-(0[1-9]|1[0-2])").is_match(cell), "{what}"),
        "boolean" => {
            let words: Vec<&Value> = f["trueValues"]
                .as_array()
                .into_iter()
                .chain(f["falseValues"].as_array())
                .flatten()
                .collect();
            assert!(
                words.iter().any(|w| *w == cell),
                "{what}: not a listed boolean"
            );
        }
        other => panic!("{what}: unexpected type {other}"),
    }
    if let Some(values) = c["enum"].as_array() {
        assert!(values.iter().any(|v| v == cell), "{what}: outside enum");
    }
    assert!(matches(f, cell), "{what}: fails the pattern");
}

/// Downloads, decrypts and reads (CSV or XLSX) every waiting file of `id`,
/// acknowledges it, and checks it against the served schema of its kind.
/// Returns the `(kind, format)` of the files checked.
async fn check_files(app: &TestApp, id: &str) -> BTreeSet<(String, String)> {
    let c = app.client(id);
    let mut checked = BTreeSet::new();
    for f in c.outbox().await.unwrap() {
        let plain = decrypt(&c.download(&f.file_id).await.unwrap(), &app.identity(id));
        let table = passerelle::ingest::read_table(&plain, &Limits::default()).unwrap();
        let (status, schema) =
            status_json(app.get(id, &format!("/v1/schemas/outbox-{}", f.kind)).await).await;
        assert_eq!(status, 200, "{}", f.kind);
        assert_eq!(
            table.headers(),
            names(&schema),
            "{id}'s {} file ({}): the header is the schema's fields, in order",
            f.kind,
            f.format
        );
        let mut rows = 0;
        for row in table.rows() {
            let row = row.unwrap();
            let cells = row.cells();
            assert_eq!(cells.len(), fields(&schema).len());
            for (field, cell) in fields(&schema).iter().zip(cells) {
                check_cell(&schema, field, &cell.text);
            }
            rows += 1;
        }
        assert_eq!(rows as u64, f.rows);
        c.ack(&f.file_id).await.unwrap();
        checked.insert((f.kind.clone(), f.format.clone()));
    }
    checked
}

#[test]
fn the_outgoing_examples_follow_their_schemas() {
    for kind in OUTGOING.into_iter().chain(["retrait"]) {
        let schema = committed(&format!("outbox-{kind}"));
        let path = repo().join(format!("docs/examples/outbox-{kind}.csv"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let table = passerelle::ingest::read_table(&bytes, &Limits::default()).unwrap();
        assert_eq!(
            table.headers(),
            names(&schema),
            "docs/examples/outbox-{kind}.csv"
        );
        let mut rows = 0;
        for row in table.rows() {
            let row = row.unwrap();
            for (field, cell) in fields(&schema).iter().zip(row.cells()) {
                check_cell(&schema, field, &cell.text);
            }
            rows += 1;
        }
        assert!(rows > 0, "docs/examples/outbox-{kind}.csv has rows");
    }
}

async fn the_served_schemas_are_the_committed_files(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let bless = std::env::var("PASSERELLE_BLESS_SCHEMAS").is_ok_and(|v| v == "1");
    let (status, index) = status_json(app.get("vendee-habitat", "/v1/schemas").await).await;
    assert_eq!(status, 200, "{index}");
    let kinds: Vec<&str> = index["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    let mut expected: Vec<String> = INCOMING.iter().map(|(n, _)| (*n).to_owned()).collect();
    expected.extend(OUTGOING.iter().map(|k| format!("outbox-{k}")));
    expected.push("outbox-retrait".into());
    assert_eq!(kinds, expected);
    for entry in index["schemas"].as_array().unwrap() {
        let kind = entry["kind"].as_str().unwrap();
        assert_eq!(entry["href"], format!("/v1/schemas/{kind}"));
        let direction = if kind.starts_with("outbox-") {
            "outgoing"
        } else {
            "incoming"
        };
        assert_eq!(entry["direction"], direction, "{kind}");
        for id in ["caf", "dpo"] {
            let resp = app.get(id, &format!("/v1/schemas/{kind}")).await;
            assert_eq!(resp.status(), 200, "{kind} as {id}");
            assert_eq!(resp.headers()["content-type"], "application/json");
            let served: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
            assert_eq!(entry["title"], served["title"], "{kind}");
            if bless && direction == "outgoing" {
                let text = serde_json::to_string_pretty(&served).unwrap() + "\n";
                std::fs::write(schema_path(kind), text).unwrap();
            }
            assert_eq!(
                served,
                committed(kind),
                "{kind} as {id}: served = docs/schemas/{kind}.json"
            );
        }
    }
    // The outgoing schemas describe each field by the policy's purpose.
    for kind in OUTGOING {
        let view = app.app.config.policy.view(kind).unwrap();
        let served = committed(&format!("outbox-{kind}"));
        assert_eq!(names(&served), view.columns());
        for (f, rule) in fields(&served).iter().zip(&view.fields) {
            assert!(
                f["description"].as_str().unwrap().contains(&rule.purpose),
                "outbox-{kind}.{}: the purpose",
                rule.name
            );
        }
    }
    // Another kind: 404 in the API's error shape, and audited like any request.
    for unknown in ["outbox-withdrawal", "outbox-", "liste", "LIST"] {
        let (status, body) =
            status_json(app.get("caf", &format!("/v1/schemas/{unknown}")).await).await;
        assert_eq!(
            (status, code(&body)),
            (404, "not_found"),
            "{unknown}: {body}"
        );
        assert!(body["error"]["message"].is_string());
    }
    let logged = app
        .count("SELECT COUNT(*) FROM audit_log WHERE entry LIKE '%GET /v1/schemas%'")
        .await;
    assert_eq!(logged, 1 + 2 * 10 + 4, "every request is in the audit log");
    app.stop().await;
}
both!(the_served_schemas_are_the_committed_files);

async fn the_files_the_gateway_writes_follow_their_schemas(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    // Households in the town (CAF, MDSF and the CCAS, which takes XLSX),
    // tenants of Vendée Habitat.
    let list = list_csv(&[
        ["S-1", "Martin", "Zoé", "85100"],
        ["S-2", "Petit", "Loïc", "85100"],
        ["S-3", "Roux", "Anne", "85100"],
    ]);
    let (status, receipt) = app.push_list("2026-10", "text/csv", list).await;
    assert_eq!(status, 201, "{receipt}");
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut note = |files: BTreeSet<(String, String)>| {
        for (kind, format) in files {
            seen.entry(kind).or_default().insert(format);
        }
    };

    // CAF's enrichment file, then CAF's enrichment return for its tokens:
    // the members receive their concertation files, enriched.
    let caf = app.client("caf");
    let files = caf.outbox().await.unwrap();
    assert_eq!(files.len(), 1);
    let plain = decrypt(
        &caf.download(&files[0].file_id).await.unwrap(),
        &app.identity("caf"),
    );
    let table = passerelle::ingest::read_table(&plain, &Limits::default()).unwrap();
    let token_col = table.column_index("token").unwrap();
    let mut answer = String::from(
        "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n",
    );
    for (i, row) in table.rows().enumerate() {
        let token = row.unwrap().cells()[token_col].text.clone();
        let (birth, children) = if i == 0 {
            ("1961-07-12", "0,")
        } else {
            ("1984-03-12", "2,4;9")
        };
        answer.push_str(&format!("{token},oui,{birth},1,{children},oui,non\n"));
    }
    note(check_files(&app, "caf").await);
    let ct =
        passerelle::export::envelope::seal(answer.as_bytes(), &[app.gateway_recipient()]).unwrap();
    let (status, body) = caf.push_return("enrichment", ct).await.unwrap();
    assert_eq!(status, 201, "{body}");
    for member in ["caf", "mdsf", "ccas-sables", "vendee-habitat"] {
        note(check_files(&app, member).await);
    }

    // The concertation attributes two cases, to MDSF (CSV) and the CCAS
    // (XLSX): each receives its dossier file.
    let ddets = app.client("ddets");
    let (status, opened) = ddets
        .post_json(
            "/v1/concertations",
            &serde_json::json!({"date": "2026-10-20"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{opened}");
    let agenda = opened["agenda"].as_array().unwrap();
    assert_eq!(agenda.len(), 3);
    let decisions = serde_json::json!({"decisions": [
        {"token": agenda[0]["token"], "organisme": "mdsf"},
        {"token": agenda[1]["token"], "organisme": "ccas-sables"},
    ]});
    let id = opened["concertation_id"].as_str().unwrap();
    let (status, decided) = ddets
        .post_json(&format!("/v1/concertations/{id}/decisions"), &decisions)
        .await
        .unwrap();
    assert_eq!(status, 200, "{decided}");
    for referent in ["mdsf", "ccas-sables"] {
        note(check_files(&app, referent).await);
    }

    // EXPLOC's events for both households reach their referents as
    // `procedure` files.
    let explo = "ref_procedure,etape,date_etape,nom,prenom,adresse,code_postal,commune,date_audience\n\
                 E-1,assignation,2026-11-04,Martin,Zoé,1 rue Travot,85100,Les Sables,2026-12-15\n\
                 E-2,jugement_delais,2026-11-05,Petit,Loïc,2 rue Travot,85100,Les Sables,\n";
    let (status, r) = ddets
        .push_procedures("2026-11", "text/csv", explo.as_bytes().to_vec())
        .await
        .unwrap();
    assert_eq!(status, 201, "{r}");
    for referent in ["mdsf", "ccas-sables"] {
        note(check_files(&app, referent).await);
    }

    // Every outgoing kind was checked, in both formats where partners use them.
    let expected: BTreeMap<String, BTreeSet<String>> = [
        ("concertation", &["csv", "xlsx"][..]),
        ("dossier", &["csv", "xlsx"][..]),
        ("enrichment", &["csv"][..]),
        ("procedure", &["csv", "xlsx"][..]),
    ]
    .into_iter()
    .map(|(k, f)| (k.to_owned(), f.iter().map(|f| (*f).to_owned()).collect()))
    .collect();
    assert_eq!(seen, expected);
    app.stop().await;
}
both!(the_files_the_gateway_writes_follow_their_schemas);
