//! Every file format of the exchange as a Frictionless Table Schema
//! (docs/convention.md, "Machine-readable schemas"), served by
//! `GET /v1/schemas` and `GET /v1/schemas/{kind}`.
//!
//! The incoming formats (`list`, `procedures` and the three returns) are the committed
//! files of `docs/schemas/`, served as they are. The outgoing ones
//! (`outbox-enrichment`, `outbox-concertation`, `outbox-dossier`) are built
//! from the running configuration's policy (`outbox-retrait`, the gateway's
//! own, is committed), so that a partner reads the
//! columns its gateway really writes, each described by the purpose the
//! policy gives it. `tests/api/schemas.rs` checks both against the readers
//! and writers.

use crate::config::{FieldRule, Policy, Transform, View, ViewRows};
use crate::domain::FileKind;
use serde_json::{Map, Value, json};

/// The incoming formats, by kind: the committed schema files.
pub const INCOMING: [(&str, &str); 5] = [
    ("list", include_str!("../../docs/schemas/list.json")),
    (
        "procedures",
        include_str!("../../docs/schemas/procedures.json"),
    ),
    (
        "enrichment",
        include_str!("../../docs/schemas/enrichment.json"),
    ),
    ("referent", include_str!("../../docs/schemas/referent.json")),
    ("followup", include_str!("../../docs/schemas/followup.json")),
];

/// The `retrait` file (a withdrawn list's tokens), not a policy view: its
/// committed schema.
pub const RETRAIT: &str = include_str!("../../docs/schemas/outbox-retrait.json");

/// Outgoing kinds are named `outbox-<view>`: CAF's `enrichment` file and
/// CAF's `enrichment` return are two different formats.
pub const OUTBOX_PREFIX: &str = "outbox-";

/// The Frictionless profile the schemas follow (v2 for `fieldsMatch`).
const PROFILE: &str = "https://datapackage.org/profiles/2.0/tableschema.json";

/// The version of the exchange's formats, shared by every schema.
const VERSION: &str = "1.0.0";

/// How one case field is written in an outgoing file.
struct Written {
    title: &'static str,
    kind: &'static str,
    example: &'static str,
    /// Always filled (a required list column, or the token).
    filled: bool,
    /// What the cell holds.
    note: &'static str,
}

const YES_NO: &str = "`oui` or `non`; empty until CAF's enrichment is received.";

/// What the gateway writes for `field` (every name of
/// [`crate::config::CASE_FIELDS`]; `crate::policy::cell` writes them).
fn written(field: &FieldRule) -> Written {
    let w = |title, kind, example, filled, note| Written {
        title,
        kind,
        example,
        filled,
        note,
    };
    match (field.name.as_str(), field.transform) {
        ("token", _) => w(
            "Token",
            "string",
            "v1-abcdefghijklmnopqrstuvwx",
            true,
            "This partner's own token for the case (`v<key version>-<24 characters a-z, 2-7>`); returns quote it.",
        ),
        ("ref_cdp", _) => w(
            "CDP reference",
            "string",
            "CDP-202610-00001",
            true,
            "The DDETS reference of the CDP.",
        ),
        ("date_cdp", Transform::Month) => w(
            "Month of the CDP",
            "yearmonth",
            "2026-10",
            true,
            "The month the CDP was served, `AAAA-MM` (transform `month`).",
        ),
        ("date_cdp", _) => w(
            "Date of the CDP",
            "date",
            "2026-10-05",
            true,
            "The date the CDP was served, `AAAA-MM-JJ`.",
        ),
        ("nom", _) => w(
            "Surname",
            "string",
            "Martin",
            true,
            "The main tenant's surname, as the list gave it.",
        ),
        ("prenom", _) => w(
            "First name",
            "string",
            "Zoé",
            true,
            "The main tenant's first name.",
        ),
        ("adresse", _) => w(
            "Address",
            "string",
            "12 rue Travot",
            true,
            "The rented dwelling's address.",
        ),
        ("code_postal", _) => w(
            "Postal code",
            "string",
            "85100",
            true,
            "The dwelling's postal code, 5 digits.",
        ),
        ("commune", _) => w(
            "Commune",
            "string",
            "Les Sables-d'Olonne",
            true,
            "The dwelling's town.",
        ),
        ("telephone", _) => w(
            "Phone",
            "string",
            "0612345678",
            false,
            "The tenant's phone, 10 digits; empty when the list gave none.",
        ),
        ("courriel", _) => w(
            "E-mail",
            "string",
            "zoe.martin@exemple.fr",
            false,
            "The tenant's e-mail; empty when the list gave none.",
        ),
        ("bailleur_type", _) => w(
            "Landlord type",
            "string",
            "social",
            true,
            "`social` or `prive`.",
        ),
        ("bailleur_nom", _) => w(
            "Landlord",
            "string",
            "Vendée Habitat",
            true,
            "The landlord's name.",
        ),
        ("montant_dette", Transform::AmountBand) => w(
            "Rent debt (band)",
            "string",
            "1000-2999",
            true,
            "The rent debt as a band in euros (transform `amount_band`).",
        ),
        ("montant_dette", _) => w(
            "Rent debt (euros)",
            "number",
            "2311.00",
            true,
            "The rent debt in euros, `.` before the 2 decimals.",
        ),
        ("loyer_mensuel", Transform::AmountBand) => w(
            "Monthly rent (band)",
            "string",
            "< 1000",
            false,
            "The monthly rent as a band in euros (transform `amount_band`); empty when the list gave none.",
        ),
        ("loyer_mensuel", _) => w(
            "Monthly rent (euros)",
            "number",
            "497.00",
            false,
            "The monthly rent in euros; empty when the list gave none.",
        ),
        ("commissaire_justice", _) => w(
            "Bailiff's office",
            "string",
            "SCP Océan Justice",
            false,
            "The commissaire de justice; empty when the list gave none.",
        ),
        ("allocataire", _) => w("Known to CAF", "boolean", "oui", false, YES_NO),
        ("date_naissance", _) => w(
            "Birth date",
            "date",
            "1984-03-12",
            false,
            "The main tenant's birth date, `AAAA-MM-JJ`; empty until CAF gives it.",
        ),
        ("age", _) => w(
            "Age",
            "integer",
            "42",
            false,
            "The main tenant's age in full years at the CDP's date, from CAF's birth date; empty until CAF gives it.",
        ),
        ("tranche_age", _) => w(
            "Age band",
            "string",
            "25-49",
            false,
            "The main tenant's age band at the CDP's date, from CAF's birth date; empty until CAF gives it.",
        ),
        ("nb_adultes", _) => w(
            "Adults",
            "integer",
            "1",
            false,
            "Adults in the household, from CAF; empty until CAF's enrichment is received.",
        ),
        ("nb_enfants", _) => w(
            "Children",
            "integer",
            "2",
            false,
            "Children in the household, from CAF; empty until CAF's enrichment is received.",
        ),
        ("ages_enfants", _) => w(
            "Children's ages",
            "string",
            "4;9",
            false,
            "The children's ages separated by `;`, from CAF; empty without children or before CAF's enrichment.",
        ),
        ("beneficiaire_alf", _) => w("Receives ALF", "boolean", "oui", false, YES_NO),
        ("beneficiaire_apl", _) => w("Receives APL", "boolean", "non", false, YES_NO),
        // The `procedure` view's own fields.
        ("etape", _) => w(
            "Step",
            "string",
            "assignation",
            true,
            "The step of the eviction procedure EXPLOC recorded, one code (see the `procedures` format's `etape`).",
        ),
        ("date_etape", _) => w(
            "Date of the step",
            "date",
            "2026-11-04",
            true,
            "The date of the step, `AAAA-MM-JJ`.",
        ),
        ("date_audience", _) => w(
            "Hearing",
            "date",
            "2026-12-15",
            false,
            "For an `assignation`: the date of the hearing, `AAAA-MM-JJ`; empty otherwise or when EXPLOC does not give it.",
        ),
        // The policy loader refuses any other name.
        (other, _) => unreachable!("field {other} passed the policy check"),
    }
}

/// The constraints of an outgoing field beyond `required`.
fn constraints(field: &FieldRule, filled: bool) -> Value {
    let mut c = Map::new();
    c.insert("required".into(), json!(filled));
    match (field.name.as_str(), field.transform) {
        ("token", _) => {
            c.insert("pattern".into(), json!("v[0-9]+-[a-z2-7]{24}"));
        }
        ("code_postal", _) => {
            c.insert("pattern".into(), json!("[0-9]{5}"));
        }
        ("telephone", _) => {
            c.insert("pattern".into(), json!("0[0-9]{9}"));
        }
        ("bailleur_type", _) => {
            c.insert("enum".into(), json!(["social", "prive"]));
        }
        ("montant_dette" | "loyer_mensuel", Transform::AmountBand) => {
            c.insert(
                "enum".into(),
                json!(["< 1000", "1000-2999", "3000-4999", ">= 5000"]),
            );
        }
        ("tranche_age", _) => {
            c.insert("enum".into(), json!(["< 25", "25-49", "50-64", ">= 65"]));
        }
        ("etape", _) => {
            c.insert(
                "enum".into(),
                json!(
                    crate::domain::Etape::ALL
                        .iter()
                        .map(|e| e.as_str())
                        .collect::<Vec<_>>()
                ),
            );
        }
        ("nb_adultes" | "nb_enfants", _) => {
            c.insert("minimum".into(), json!(0));
            c.insert("maximum".into(), json!(30));
        }
        ("age", _) => {
            c.insert("minimum".into(), json!(0));
        }
        ("ages_enfants", _) => {
            c.insert("pattern".into(), json!("([0-9]+(;[0-9]+)*)?"));
        }
        _ => {}
    }
    Value::Object(c)
}

/// The Frictionless Table Schema of the outgoing files of view `kind`.
pub fn outbox_schema(kind: &str, view: &View) -> Value {
    let fields: Vec<Value> = view
        .fields
        .iter()
        .map(|f| {
            let w = written(f);
            let mut v = Map::new();
            v.insert("name".into(), json!(f.name));
            v.insert("title".into(), json!(w.title));
            v.insert(
                "description".into(),
                json!(format!("Purpose: {}. {}", f.purpose.trim(), w.note)),
            );
            v.insert("type".into(), json!(w.kind));
            if w.kind == "boolean" {
                v.insert("trueValues".into(), json!(["oui"]));
                v.insert("falseValues".into(), json!(["non"]));
            }
            v.insert("example".into(), json!(w.example));
            v.insert("constraints".into(), constraints(f, w.filled));
            Value::Object(v)
        })
        .collect();
    let rows = match view.rows {
        ViewRows::All => {
            "every case concerned (the whole list, or the cases attributed to the receiver)"
        }
        ViewRows::Scope => {
            "only the cases in the receiving partner's scope: the communes or postal codes of its `territory`, or, for a partner with `landlord` names, its own tenants of a social landlord"
        }
    };
    // A case appears once in a file, except in a `procedure` file, once
    // per step.
    let key: &[&str] = if kind == FileKind::Procedure.as_str() {
        &["token", "etape", "date_etape"]
    } else {
        &["token"]
    };
    json!({
        "$schema": PROFILE,
        "name": format!("{OUTBOX_PREFIX}{kind}"),
        "title": format!("Outgoing `{kind}` file (gateway → {})", view.to),
        "description": format!(
            "{} Sent to the partners holding the role `{}`; rows: {rows}. The columns are those of \
             `[views.{kind}]` in the gateway's policy.toml, in this order, each with the purpose \
             that justifies it. CSV (UTF-8, comma, header row) or, for a partner whose `format` is \
             `xlsx`, the first sheet of an XLSX workbook with every cell a string; age-encrypted to \
             the partner, listed by `GET /v1/outbox` with kind `{kind}`. An empty cell is a missing \
             value. A cell is written so that no spreadsheet runs it: in each piece of the cell that \
             a spreadsheet may split off (the start of the cell, and what follows each `,`, `;`, \
             tab, carriage return or line feed), a leading `=`, `+`, `-` or `@` (after any white \
             space or double quotes) gets an apostrophe before it, as does a cell starting with a \
             tab or a carriage return; in CSV, a cell holding one of those separators or a double \
             quote is quoted.",
            view.description.trim(),
            view.to,
        ),
        "version": VERSION,
        "missingValues": [""],
        "fieldsMatch": "exact",
        "primaryKey": key,
        "fields": fields,
    })
}

/// Every kind served, with its direction (`incoming` or `outgoing`) and its
/// schema: incoming first, then the policy's views in the order files go out.
pub fn all(policy: &Policy) -> Vec<(String, &'static str, Value)> {
    let mut out: Vec<(String, &'static str, Value)> = INCOMING
        .iter()
        .map(|(kind, text)| {
            (
                (*kind).to_owned(),
                "incoming",
                serde_json::from_str(text).expect("docs/schemas holds JSON (checked by tests)"),
            )
        })
        .collect();
    // The order files go out in the month; the policy loader allows no
    // other kind of view.
    for kind in FileKind::ALL.map(FileKind::as_str) {
        if let Some(view) = policy.view(kind) {
            out.push((
                format!("{OUTBOX_PREFIX}{kind}"),
                "outgoing",
                outbox_schema(kind, view),
            ));
        }
    }
    out.push((
        format!("{OUTBOX_PREFIX}{}", FileKind::Retrait),
        "outgoing",
        serde_json::from_str(RETRAIT).expect("docs/schemas holds JSON (checked by tests)"),
    ));
    out
}

/// The schema of one kind, as served: an incoming one is the committed
/// text, an outgoing one is built from the policy; `None` for another kind.
pub fn one(policy: &Policy, kind: &str) -> Option<Schema> {
    if let Some((_, text)) = INCOMING.iter().find(|(k, _)| *k == kind) {
        return Some(Schema::Committed(text));
    }
    let name = kind.strip_prefix(OUTBOX_PREFIX)?;
    if name == FileKind::Retrait.as_str() {
        return Some(Schema::Committed(RETRAIT));
    }
    let view = policy.view(name)?;
    Some(Schema::Built(outbox_schema(name, view)))
}

/// A schema as served.
#[derive(Debug)]
pub enum Schema {
    /// A committed file of `docs/schemas/`, byte for byte.
    Committed(&'static str),
    /// Built from the running policy.
    Built(Value),
}
