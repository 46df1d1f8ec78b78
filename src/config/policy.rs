//! `policy.toml`: territories and views. A view says, for one kind of file,
//! which role receives it, which rows (all, or the partner's scope) and which
//! fields, each with the purpose that justifies it and its transform.

use super::{ConfigError, Partners, Role, read_toml};
use crate::domain::{FileKind, NonTraiteMotif};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Fields a view may draw from a case.
pub const CASE_FIELDS: &[&str] = &[
    "token",
    "ref_cdp",
    "date_cdp",
    "nom",
    "prenom",
    "adresse",
    "code_postal",
    "commune",
    "telephone",
    "courriel",
    "bailleur_type",
    "bailleur_nom",
    "montant_dette",
    "loyer_mensuel",
    "commissaire_justice",
    // From CAF's enrichment:
    "allocataire",
    "date_naissance",
    "age",
    "tranche_age",
    "nb_adultes",
    "nb_enfants",
    "ages_enfants",
    "beneficiaire_alf",
    "beneficiaire_apl",
];

/// Fields the `procedure` view may carry: the step of the procedure,
/// never the tenant's identity (its referent holds the dossier).
pub const PROCEDURE_FIELDS: &[&str] = &["token", "etape", "date_etape", "date_audience"];

/// How a field is transformed before it leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// As stored.
    #[default]
    Clear,
    /// An amount replaced by a band (`< 1000`, `1000-2999`, `3000-4999`, `>= 5000`).
    AmountBand,
    /// A date replaced by its month (`AAAA-MM`).
    Month,
}

/// Which rows a view holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewRows {
    /// Every case of the list.
    All,
    /// Only the cases in the receiving partner's territory or landlord scope.
    Scope,
}

/// One disclosed field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// Column name in the file (and case field it comes from).
    pub name: String,
    /// Why the recipient needs it (GDPR art. 5(1)(b)-(c)); required.
    #[serde(default)]
    pub purpose: String,
    /// Transform applied.
    #[serde(default)]
    pub transform: Transform,
}

/// A view: one kind of file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    /// What the file is for.
    pub description: String,
    /// The role that receives it.
    pub to: String,
    /// Which rows.
    pub rows: ViewRows,
    /// Which fields, in column order.
    pub fields: Vec<FieldRule>,
}

impl View {
    /// The column names, in order.
    pub fn columns(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }
}

/// A territory: the communes it covers (matched accent-, case- and
/// punctuation-insensitively) and, optionally, postal codes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Territory {
    /// Communes.
    #[serde(default)]
    pub communes: Vec<String>,
    /// Postal codes, when a whole code belongs to the territory.
    #[serde(default)]
    pub postal_codes: Vec<String>,
}

/// One attribution rule (docs/domain.md "Attribution criteria"). Rules are
/// tried in order; the first whose conditions all hold gives the proposal.
/// A condition that needs a missing fact (no birth date, no enrichment yet)
/// stops the search: no proposal, and the reason says what is missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The referent proposed (a partner with the `referent` role)…
    #[serde(default)]
    pub organisme: Option<String>,
    /// …or a not-processed motif (`hors_secteur`…).
    #[serde(default)]
    pub non_traite: Option<String>,
    /// Why, shown in the agenda.
    pub reason: String,
    /// `social` or `prive`.
    #[serde(default)]
    pub bailleur_type: Option<String>,
    /// At least one child younger than this many years.
    #[serde(default)]
    pub enfant_moins_de: Option<u32>,
    /// With (true) or without (false) children.
    #[serde(default)]
    pub avec_enfants: Option<bool>,
    /// Receives ALF.
    #[serde(default)]
    pub beneficiaire_alf: Option<bool>,
    /// Main tenant younger than this many years at the CDP date.
    #[serde(default)]
    pub age_moins_de: Option<u32>,
    /// Main tenant at least this many years old at the CDP date.
    #[serde(default)]
    pub age_au_moins: Option<u32>,
    /// The dwelling is in this territory.
    #[serde(default)]
    pub territoire: Option<String>,
    /// The dwelling is outside this territory.
    #[serde(default)]
    pub hors_territoire: Option<String>,
}

/// How long each category of data is kept (CNIL: access logs 6 months to a
/// year by default).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Case data, in months after the case was closed or not processed.
    pub cases_months_after_closure: u32,
    /// Outbox files, in days after their acknowledgement.
    pub outbox_days_after_ack: u32,
    /// Outbox files never acknowledged, in days after their production.
    pub outbox_max_days: u32,
    /// Returns' records, in days.
    pub returns_days: u32,
    /// Audit entries, in days (their leaf hashes stay, so the log remains
    /// verifiable).
    pub audit_days: u32,
    /// Cases never decided, in months after they arrived: a case the
    /// concertation never took up is not kept for ever.
    pub undecided_cases_months: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            cases_months_after_closure: 12,
            outbox_days_after_ack: 30,
            outbox_max_days: 90,
            returns_days: 365,
            audit_days: 365,
            undecided_cases_months: 24,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    retention: Retention,
    #[serde(default)]
    territories: BTreeMap<String, Territory>,
    views: BTreeMap<String, View>,
    #[serde(default)]
    attribution: Vec<Rule>,
    #[serde(default = "default_legal_delay")]
    legal_delay_days: u32,
}

fn default_legal_delay() -> u32 {
    42
}

/// The policy, checked.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The file it came from.
    pub path: PathBuf,
    /// Territories by name.
    pub territories: BTreeMap<String, Territory>,
    /// Views by kind.
    pub views: BTreeMap<String, View>,
    /// Attribution rules, in order.
    pub attribution: Vec<Rule>,
    /// Days between the CDP and a possible summons (six weeks by default).
    pub legal_delay_days: u32,
    /// Retention periods.
    pub retention: Retention,
}

impl Policy {
    /// Reads and checks `policy.toml` on its own.
    pub fn load(path: &Path) -> Result<Policy, ConfigError> {
        let raw: RawPolicy = read_toml(path)?;
        for (kind, view) in &raw.views {
            let key = |k: &str| format!("views.{kind}.{k}");
            if FileKind::parse(kind).is_none() {
                return Err(ConfigError::invalid(
                    path,
                    format!("views.{kind}"),
                    "unknown kind of file",
                    format!(
                        "use one of {}",
                        FileKind::ALL.map(FileKind::as_str).join(", ")
                    ),
                ));
            }
            if view.to.parse::<Role>().is_err() {
                return Err(ConfigError::invalid(
                    path,
                    key("to"),
                    format!("unknown role {:?}", view.to),
                    "use source, enricher, member, referent, secretariat or dpo",
                ));
            }
            if !view.fields.iter().any(|f| f.name == "token") {
                return Err(ConfigError::invalid(
                    path,
                    key("fields"),
                    "the view has no token field",
                    "add { name = \"token\", purpose = \"…\" }: returns quote it",
                ));
            }
            let mut seen = std::collections::BTreeSet::new();
            for f in &view.fields {
                let fkey = format!("views.{kind}.fields.{}", f.name);
                let known = if kind == FileKind::Procedure.as_str() {
                    PROCEDURE_FIELDS
                } else {
                    CASE_FIELDS
                };
                if !known.contains(&f.name.as_str()) {
                    return Err(ConfigError::invalid(
                        path,
                        fkey,
                        "unknown field",
                        format!("use one of {}", known.join(", ")),
                    ));
                }
                if !seen.insert(f.name.as_str()) {
                    return Err(ConfigError::invalid(
                        path,
                        fkey,
                        "field listed twice",
                        "list each field once",
                    ));
                }
                if f.purpose.trim().is_empty() {
                    return Err(ConfigError::invalid(
                        path,
                        fkey,
                        "the field has no purpose",
                        "add purpose = \"…\" saying why the recipient needs it, or remove the field",
                    ));
                }
                let ok = match f.transform {
                    Transform::Clear => true,
                    Transform::AmountBand => {
                        matches!(f.name.as_str(), "montant_dette" | "loyer_mensuel")
                    }
                    Transform::Month => f.name == "date_cdp",
                };
                if !ok {
                    return Err(ConfigError::invalid(
                        path,
                        format!("{}.transform", f.name),
                        "this transform does not apply to this field",
                        "amount_band applies to amounts, month to date_cdp",
                    ));
                }
            }
        }
        if !raw.views.contains_key(FileKind::Enrichment.as_str()) {
            return Err(ConfigError::invalid(
                path,
                "views.enrichment",
                "missing",
                "declare the view sent to the enricher when a list is accepted",
            ));
        }
        for (i, rule) in raw.attribution.iter().enumerate() {
            let key = format!("attribution[{i}]");
            if rule.organisme.is_some() == rule.non_traite.is_some() {
                return Err(ConfigError::invalid(
                    path,
                    key,
                    "a rule needs exactly one of organisme and non_traite",
                    "give the proposed referent's partner id, or a not-processed motif",
                ));
            }
            if let Some(m) = &rule.non_traite
                && NonTraiteMotif::parse(m).is_none()
            {
                return Err(ConfigError::invalid(
                    path,
                    format!("{key}.non_traite"),
                    format!("unknown motif {m:?}"),
                    format!("use one of {}", NonTraiteMotif::names(", ")),
                ));
            }
            if let Some(b) = &rule.bailleur_type
                && b != "social"
                && b != "prive"
            {
                return Err(ConfigError::invalid(
                    path,
                    format!("{key}.bailleur_type"),
                    format!("{b:?} is not a landlord type"),
                    "use \"social\" or \"prive\"",
                ));
            }
            for t in [&rule.territoire, &rule.hors_territoire]
                .into_iter()
                .flatten()
            {
                if !raw.territories.contains_key(t) {
                    return Err(ConfigError::invalid(
                        path,
                        format!("{key}.territoire"),
                        format!("unknown territory {t:?}"),
                        "declare it under [territories]",
                    ));
                }
            }
        }
        Ok(Policy {
            path: path.to_path_buf(),
            territories: raw.territories,
            views: raw.views,
            attribution: raw.attribution,
            legal_delay_days: raw.legal_delay_days,
            retention: raw.retention,
        })
    }

    /// Checks what depends on the partners: every view's role is held by
    /// someone.
    pub fn check_against(&self, partners: &Partners) -> Result<(), ConfigError> {
        self.check_rules(partners)?;
        for (kind, view) in &self.views {
            let role = self.view_role(view);
            if partners.with_role(role).next().is_none() {
                return Err(ConfigError::invalid(
                    &self.path,
                    format!("views.{kind}.to"),
                    format!("no partner holds the role {:?}", view.to),
                    "give a partner this role in partners.toml, or change the view",
                ));
            }
        }
        Ok(())
    }

    /// Checks the attribution rules' referents against the partners.
    fn check_rules(&self, partners: &Partners) -> Result<(), ConfigError> {
        for (i, rule) in self.attribution.iter().enumerate() {
            if let Some(o) = &rule.organisme
                && !partners.get(o).is_some_and(|p| p.has(Role::Referent))
            {
                return Err(ConfigError::invalid(
                    &self.path,
                    format!("attribution[{i}].organisme"),
                    format!("{o:?} is no partner with the referent role"),
                    "name a partner of partners.toml whose roles include referent",
                ));
            }
        }
        Ok(())
    }

    /// The view for a kind of file (a [`FileKind`], or its name).
    pub fn view(&self, kind: impl AsRef<str>) -> Option<&View> {
        self.views.get(kind.as_ref())
    }

    /// The role a view's files go to.
    pub fn view_role(&self, view: &View) -> Role {
        view.to.parse().expect("checked at load")
    }
}
