//! The monthly concertation (`secretariat`): an agenda of the cases
//! awaiting a referent, each with a proposal and its reason; decisions,
//! each attributed case routed to its referent as a `dossier` file.

use super::cases::{self, Case};
use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome};
use crate::config::Role;
use crate::domain::{CaseId, CaseState, FileKind, NonTraiteMotif, Token};
use crate::policy::attribution::{Proposal, propose};
use crate::store::{Tx, concertations, decisions, member_answers, tokens};
use crate::util::{new_id, now_ms};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The fields of a case an agenda ([`AgendaEntry`]) discloses to the
/// secretariat, each with its purpose: what the audit log records for an
/// agenda and what the register of processing declares.
pub const AGENDA_FIELDS: [(&str, &str); 5] = [
    (
        "token",
        "désigner le dossier dans les décisions de la concertation",
    ),
    ("nom", "identifier le ménage en concertation"),
    ("prenom", "identifier le ménage en concertation"),
    (
        "commune",
        "identifier le ménage et son secteur en concertation",
    ),
    (
        "date_cdp",
        "classer les dossiers selon les jours restant avant l'expiration du délai légal",
    ),
];

/// One agenda entry (docs/convention.md `POST /v1/concertations`).
#[derive(Debug, Clone, Serialize)]
pub struct AgendaEntry {
    /// The secretariat's token for the case.
    pub token: String,
    /// Tenant.
    pub nom: String,
    /// Tenant.
    pub prenom: String,
    /// Commune.
    pub commune: String,
    /// CDP date.
    pub date_cdp: String,
    /// Proposed referent (or not-processed motif) and why; `null` when the
    /// facts to decide are missing.
    pub proposal: Option<Proposal>,
    /// Why there is no proposal, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_proposal_reason: Option<String>,
    /// The referent a member said already follows the household.
    pub referent_connu: Option<String>,
    /// The household had an earlier CDP; its referent then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referent_precedent: Option<String>,
    /// Days left before the legal delay runs out (negative: passed).
    pub jours_restants: i64,
    /// The decision, once taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

/// A decision on one case.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Decision {
    /// The case, by the secretariat's token.
    pub token: String,
    /// The designated referent…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisme: Option<String>,
    /// …or a not-processed motif.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_traite: Option<String>,
}

/// `POST /v1/concertations/{id}/decisions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Accept every proposal not yet decided.
    #[serde(default)]
    pub accept_proposals: bool,
    /// Explicit decisions.
    #[serde(default)]
    pub decisions: Vec<Decision>,
}

/// Days left for a case on `day`.
pub(super) fn days_left(app: &App, date_cdp: time::Date, day: time::Date) -> i64 {
    let deadline = date_cdp + time::Duration::days(i64::from(app.config.policy.legal_delay_days));
    (deadline - day).whole_days()
}

/// A case's agenda entry on `day`, under the secretariat's token: the
/// referent of an earlier CDP of the household first, then one a member
/// said already follows it, else the policy's attribution rules.
async fn entry(
    app: &App,
    tx: &mut Tx,
    secretariat: &str,
    c: &Case,
    day: time::Date,
) -> Result<AgendaEntry, CircuitError> {
    let known = member_answers::known_referent(tx, &c.case_id).await?;
    let households = app
        .pseudo
        .household_tokens(&crate::pseudo::household_identity(
            &c.row.nom,
            &c.row.prenom,
            c.row.code_postal.as_ref(),
        ));
    let earlier = decisions::earlier_referent(tx, &households, &c.case_id).await?;
    let (proposal, why) = if let Some(o) = &earlier {
        (
            Some(Proposal {
                organisme: Some(o.clone()),
                non_traite: None,
                reason: format!(
                    "household already followed: its referent for an earlier CDP was {o}"
                ),
            }),
            None,
        )
    } else if let Some(o) = &known {
        (
            Some(Proposal {
                organisme: Some(o.clone()),
                non_traite: None,
                reason: format!("referent already known: {o} follows the household"),
            }),
            None,
        )
    } else {
        match propose(&app.config.policy, &c.row, c.enrichment.as_ref()) {
            Ok(p) => (Some(p), None),
            Err(why) => (None, Some(why)),
        }
    };
    let token = app
        .pseudo
        .case_token(c.key_version, secretariat, c.case_id.as_str());
    Ok(AgendaEntry {
        token,
        nom: c.row.nom.clone(),
        prenom: c.row.prenom.clone(),
        commune: c.row.commune.clone(),
        date_cdp: c.row.date_cdp.to_string(),
        proposal,
        no_proposal_reason: why,
        referent_connu: known,
        referent_precedent: earlier,
        jours_restants: days_left(app, c.row.date_cdp, day),
        decision: None,
    })
}

/// An agenda (docs/convention.md `POST /v1/concertations`,
/// `GET /v1/concertations/{id}`).
#[derive(Debug, Clone, Serialize)]
pub struct Agenda {
    /// The cases, in CDP date order.
    pub agenda: Vec<AgendaEntry>,
    /// Id.
    pub concertation_id: String,
    /// Its date (`AAAA-MM-JJ`).
    pub date: String,
}

/// Refuses unless the actor runs the concertation (`secretariat`). The
/// operations here check it; an adapter may check it before reading the
/// request's body.
pub fn may_hold(actor: &Actor) -> Result<(), CircuitError> {
    actor.require(Role::Secretariat)
}

/// Every concertation held, newest first (`secretariat`).
pub async fn all(app: &App, actor: &Actor) -> Result<Vec<concertations::Held>, CircuitError> {
    may_hold(actor)?;
    Ok(concertations::all(app.store.pool()).await?)
}

/// Opens a concertation on `date`: the agenda of every case awaiting a
/// referent.
pub async fn open(app: &App, actor: &Actor, date: time::Date) -> Result<Agenda, CircuitError> {
    may_hold(actor)?;
    let mut tx = app.store.begin().await?;
    let waiting = cases::open_all(app, crate::store::cases::awaiting_decision(&mut tx).await?)?;
    let id = new_id("cct");
    let at = now_ms();
    concertations::insert(&mut tx, &id, &date.to_string(), at).await?;
    let mut agenda = Vec::new();
    let mut shown = Vec::new();
    for c in &waiting {
        let e = entry(app, &mut tx, actor.partner_id(), c, date).await?;
        concertations::add_to_agenda(
            &mut tx,
            &id,
            concertations::AgendaLine {
                case_id: c.case_id.clone(),
                proposal: e.proposal.as_ref().and_then(|p| p.organisme.clone()),
                non_traite: e.proposal.as_ref().and_then(|p| p.non_traite.clone()),
                reason: e
                    .proposal
                    .as_ref()
                    .map(|p| p.reason.clone())
                    .or(e.no_proposal_reason.clone())
                    .unwrap_or_default(),
                referent_connu: e.referent_connu.clone(),
            },
        )
        .await?;
        shown.push((Token::new(e.token.clone()), c.case_id.clone()));
        agenda.push(e);
    }
    tokens::insert(&mut tx, actor.partner_id(), shown, at).await?;
    audit_agenda(&mut tx, actor, "concertation.open", &id, &waiting).await?;
    tx.commit().await?;
    Ok(Agenda {
        agenda,
        concertation_id: id,
        date: date.to_string(),
    })
}

/// Audits an agenda disclosed to the secretariat.
async fn audit_agenda(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    id: &str,
    listed: &[Case],
) -> Result<(), CircuitError> {
    let mut rec = actor.record(action, Outcome::Ok);
    rec.objects = vec![format!("concertation:{id}")];
    rec.fields = AGENDA_FIELDS.map(|(f, _)| f.to_owned()).to_vec();
    rec.rows = Some(listed.len() as u64);
    rec.subjects = listed.iter().map(|c| c.subject.clone()).collect();
    audit::append(tx, &rec).await?;
    Ok(())
}

async fn concertation_date(tx: &mut Tx, id: &str) -> Result<time::Date, CircuitError> {
    let date = concertations::date(tx, id)
        .await?
        .ok_or(CircuitError::NotFound)?;
    crate::domain::parse_date(&date).map_err(CircuitError::BadRequest)
}

/// The agenda with the decisions taken so far.
pub async fn get(app: &App, actor: &Actor, id: &str) -> Result<Agenda, CircuitError> {
    may_hold(actor)?;
    let mut tx = app.store.begin().await?;
    let day = concertation_date(&mut tx, id).await?;
    let listed = cases::open_all(app, crate::store::cases::on_agenda(&mut tx, id).await?)?;
    let mut agenda = Vec::new();
    for c in &listed {
        let mut e = entry(app, &mut tx, actor.partner_id(), c, day).await?;
        if let Some(d) = decisions::of_case(&mut tx, &c.case_id).await? {
            e.decision = Some(Decision {
                token: e.token.clone(),
                organisme: d.organisme,
                non_traite: d.non_traite,
            });
        }
        agenda.push(e);
    }
    audit_agenda(&mut tx, actor, "concertation.read", id, &listed).await?;
    tx.commit().await?;
    Ok(Agenda {
        agenda,
        concertation_id: id.to_owned(),
        date: day.to_string(),
    })
}

/// The answer to decisions (docs/convention.md
/// `POST /v1/concertations/{id}/decisions`).
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    /// The concertation.
    pub concertation_id: String,
    /// The decisions recorded.
    pub decided: Vec<Decision>,
    /// The `dossier` files routed to the referents.
    pub files: Vec<String>,
}

/// What a decision says, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// A referent designated.
    Referent(String),
    /// Not processed, for this motif.
    NotProcessed(NonTraiteMotif),
}

impl Verdict {
    /// Checks a decision as the secretariat wrote it.
    fn of(d: &Decision) -> Result<Verdict, String> {
        match (&d.organisme, &d.non_traite) {
            (Some(_), Some(_)) | (None, None) => Err(format!(
                "{}: give exactly one of organisme and non_traite",
                d.token
            )),
            (None, Some(m)) => NonTraiteMotif::parse(m)
                .map(Verdict::NotProcessed)
                .ok_or_else(|| {
                    format!(
                        "{}: non_traite must be one of {}",
                        d.token,
                        NonTraiteMotif::names(", ")
                    )
                }),
            (Some(o), None) if o.trim().is_empty() => {
                Err(format!("{}: organisme is empty", d.token))
            }
            (Some(o), None) => Ok(Verdict::Referent(o.clone())),
        }
    }
}

/// A decision to record on a case.
struct Wanted {
    case_id: CaseId,
    verdict: Verdict,
    /// As answered.
    decision: Decision,
}

/// Records decisions; routes each newly attributed case to its referent.
pub async fn decide(
    app: &App,
    actor: &Actor,
    id: &str,
    req: &DecisionRequest,
) -> Result<Decided, CircuitError> {
    may_hold(actor)?;
    let mut tx = app.store.begin().await?;
    concertation_date(&mut tx, id).await?;
    let wanted = wanted(app, &mut tx, actor, id, req).await?;
    refuse_decided(&mut tx, &wanted).await?;
    let at = now_ms();
    let (by_referent, subjects) = record_decisions(app, &mut tx, id, &wanted, at).await?;
    let files = route_dossiers(app, &mut tx, actor, by_referent, at).await?;
    let mut rec = actor.record("concertation.decide", Outcome::Ok);
    rec.objects = vec![format!("concertation:{id}")];
    rec.objects
        .extend(files.iter().map(|f| format!("file:{f}")));
    rec.rows = Some(wanted.len() as u64);
    rec.subjects = subjects;
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(Decided {
        concertation_id: id.to_owned(),
        decided: wanted.into_iter().map(|w| w.decision).collect(),
        files,
    })
}

/// The decisions asked for, checked (each names a case of this agenda by
/// the secretariat's token, with one valid verdict), then the proposals
/// accepted on the agenda's other undecided cases. Nothing is decided if
/// one is wrong.
async fn wanted(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
    req: &DecisionRequest,
) -> Result<Vec<Wanted>, CircuitError> {
    let mut wanted: Vec<Wanted> = Vec::new();
    let mut bad = Vec::new();
    for d in &req.decisions {
        let verdict = match Verdict::of(d) {
            Ok(v) => v,
            Err(why) => {
                bad.push(why);
                continue;
            }
        };
        let Some(case_id) = tokens::case_of(tx, actor.partner_id(), &Token::new(&d.token)).await?
        else {
            bad.push(format!("{}: unknown token", d.token));
            continue;
        };
        if !concertations::is_on_agenda(tx, id, &case_id).await? {
            bad.push(format!("{}: not on this concertation's agenda", d.token));
            continue;
        }
        wanted.push(Wanted {
            case_id,
            verdict,
            decision: d.clone(),
        });
    }
    if req.accept_proposals {
        for p in concertations::undecided_proposals(tx, id).await? {
            if wanted.iter().any(|w| w.case_id == p.case_id) {
                continue; // an explicit decision wins over the proposal
            }
            let token =
                app.pseudo
                    .case_token(p.key_version, actor.partner_id(), p.case_id.as_str());
            let decision = Decision {
                token,
                organisme: p.organisme,
                non_traite: p.non_traite,
            };
            // The proposals came from the policy's rules, checked at load.
            let verdict =
                Verdict::of(&decision).map_err(|why| crate::store::StoreError::Invalid {
                    column: "agenda.proposal",
                    value: why,
                })?;
            wanted.push(Wanted {
                case_id: p.case_id,
                verdict,
                decision,
            });
        }
    }
    if !bad.is_empty() {
        return Err(CircuitError::BadRequest(format!(
            "nothing was decided: {}",
            bad.join("; ")
        )));
    }
    Ok(wanted)
}

/// Refuses the whole request if one of its cases is already decided.
async fn refuse_decided(tx: &mut Tx, wanted: &[Wanted]) -> Result<(), CircuitError> {
    let mut conflicts = Vec::new();
    for w in wanted {
        if decisions::of_case(tx, &w.case_id).await?.is_some() {
            conflicts.push((0, w.decision.token.clone(), "already decided".to_owned()));
        }
    }
    if conflicts.is_empty() {
        return Ok(());
    }
    Err(CircuitError::Conflict {
        message: format!(
            "{} case(s) already decided; nothing was recorded",
            conflicts.len()
        ),
        lines: conflicts,
    })
}

/// Cases to route, by referent partner.
type ByReferent = BTreeMap<String, Vec<Case>>;

/// Stores each decision and moves its case on (attributed, or not
/// processed); returns the attributed cases whose referent is a partner of
/// the gateway, and the households concerned.
async fn record_decisions(
    app: &App,
    tx: &mut Tx,
    id: &str,
    wanted: &[Wanted],
    at: i64,
) -> Result<(ByReferent, Vec<String>), CircuitError> {
    let mut by_referent = ByReferent::new();
    let mut subjects = Vec::new();
    for w in wanted {
        let c = cases::load(app, tx, &w.case_id).await?;
        let known = member_answers::known_referent(tx, &w.case_id).await?;
        let (organisme, non_traite, new_state) = match &w.verdict {
            Verdict::Referent(o) => (Some(o.clone()), None, CaseState::Attributed),
            Verdict::NotProcessed(m) => (None, Some(m.as_str().to_owned()), CaseState::NonTraite),
        };
        decisions::insert(
            tx,
            decisions::NewDecision {
                case_id: w.case_id.clone(),
                concertation_id: id.to_owned(),
                organisme,
                non_traite,
                nouvelle: known.is_none(),
            },
            at,
        )
        .await?;
        crate::store::cases::set_state(tx, &w.case_id, new_state).await?;
        subjects.push(c.subject.clone());
        if let Verdict::Referent(o) = &w.verdict
            && app.partners().get(o).is_some_and(|p| p.has(Role::Referent))
        {
            by_referent.entry(o.clone()).or_default().push(c);
        }
    }
    Ok((by_referent, subjects))
}

/// Sends each referent its newly attributed cases (`dossier` view).
async fn route_dossiers(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    by_referent: ByReferent,
    at: i64,
) -> Result<Vec<String>, CircuitError> {
    let mut files = Vec::new();
    for (referent, list) in &by_referent {
        let partner = app
            .partners()
            .get(referent)
            .expect("checked when grouped")
            .clone();
        files.extend(
            super::routing::route_cases(app, tx, FileKind::Dossier, list, &[partner], actor, at)
                .await?,
        );
    }
    Ok(files)
}
