//! The monthly concertation: an agenda of the cases awaiting a referent,
//! each with a proposal and its reason; decisions, each attributed case
//! routed to its referent as a `dossier` file; the secretariat's deadline
//! alerts; and routing a list to the members before CAF answers.

use super::cases::{self, Case, state};
use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome};
use crate::config::{NON_TRAITE_MOTIFS, Role};
use crate::policy::attribution::{Proposal, propose};
use crate::util::{new_id, now_ms};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::BTreeMap;

/// One agenda entry (CONTRACT.md `POST /v1/concertations`).
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
fn days_left(app: &App, date_cdp: time::Date, day: time::Date) -> i64 {
    let deadline = date_cdp + time::Duration::days(i64::from(app.config.policy.legal_delay_days));
    (deadline - day).whole_days()
}

async fn entry(
    app: &App,
    tx: &mut crate::store::Tx,
    secretariat: &str,
    c: &Case,
    day: time::Date,
) -> Result<AgendaEntry, CircuitError> {
    let known = cases::known_referent(tx, &c.case_id).await?;
    let households = app
        .pseudo
        .household_tokens(&crate::pseudo::household_identity(
            &c.row.nom,
            &c.row.prenom,
            c.row.code_postal.as_ref(),
        ));
    let earlier = cases::earlier_referent(tx, &households, &c.case_id).await?;
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
        .case_token(c.key_version, secretariat, &c.case_id);
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

/// Opens a concertation on `date`: the agenda of every case awaiting a
/// referent.
pub async fn open(
    app: &App,
    actor: &Actor,
    date: time::Date,
) -> Result<(String, Vec<AgendaEntry>), CircuitError> {
    let mut tx = app.store.begin().await?;
    let waiting = cases::load_where(
        app,
        &mut tx,
        "c.case_id NOT IN (SELECT case_id FROM decisions) AND c.state <> $1",
        state::NON_TRAITE,
    )
    .await?;
    let id = new_id("cct");
    let at = now_ms();
    sqlx::query(
        "INSERT INTO concertations (concertation_id, date, created_at) VALUES ($1, $2, $3)",
    )
    .bind(id.clone())
    .bind(date.to_string())
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let mut agenda = Vec::new();
    let mut tokens = Vec::new();
    for c in &waiting {
        let e = entry(app, &mut tx, &actor.partner.id, c, date).await?;
        sqlx::query(
            "INSERT INTO agenda (concertation_id, case_id, proposal, non_traite, reason, referent_connu) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.clone())
        .bind(c.case_id.clone())
        .bind(e.proposal.as_ref().and_then(|p| p.organisme.clone()))
        .bind(e.proposal.as_ref().and_then(|p| p.non_traite.clone()))
        .bind(
            e.proposal
                .as_ref()
                .map(|p| p.reason.clone())
                .or(e.no_proposal_reason.clone())
                .unwrap_or_default(),
        )
        .bind(e.referent_connu.clone())
        .execute(&mut *tx)
        .await?;
        tokens.push((e.token.clone(), c.case_id.clone()));
        agenda.push(e);
    }
    crate::store::outbox::insert_tokens(&mut tx, &actor.partner.id, tokens, at).await?;
    let mut rec = actor.record("concertation.open", Outcome::Ok);
    rec.objects = vec![format!("concertation:{id}")];
    rec.fields = ["token", "nom", "prenom", "commune", "date_cdp"]
        .map(String::from)
        .to_vec();
    rec.rows = Some(agenda.len() as u64);
    rec.subjects = waiting.iter().map(|c| c.subject.clone()).collect();
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok((id, agenda))
}

async fn concertation_date(
    tx: &mut crate::store::Tx,
    id: &str,
) -> Result<time::Date, CircuitError> {
    let row = sqlx::query("SELECT date FROM concertations WHERE concertation_id = $1")
        .bind(id.to_owned())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(CircuitError::NotFound)?;
    crate::domain::parse_date(&row.try_get::<String, _>(0)?).map_err(CircuitError::BadRequest)
}

/// The agenda with the decisions taken so far.
pub async fn get(app: &App, actor: &Actor, id: &str) -> Result<serde_json::Value, CircuitError> {
    let mut tx = app.store.begin().await?;
    let day = concertation_date(&mut tx, id).await?;
    let listed = cases::load_where(
        app,
        &mut tx,
        "c.case_id IN (SELECT case_id FROM agenda WHERE concertation_id = $1)",
        id,
    )
    .await?;
    let mut agenda = Vec::new();
    for c in &listed {
        let mut e = entry(app, &mut tx, &actor.partner.id, c, day).await?;
        let d = sqlx::query("SELECT organisme, non_traite FROM decisions WHERE case_id = $1")
            .bind(c.case_id.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(d) = d {
            e.decision = Some(Decision {
                token: e.token.clone(),
                organisme: d.try_get(0)?,
                non_traite: d.try_get(1)?,
            });
        }
        agenda.push(e);
    }
    let mut rec = actor.record("concertation.read", Outcome::Ok);
    rec.objects = vec![format!("concertation:{id}")];
    rec.fields = ["token", "nom", "prenom", "commune", "date_cdp"]
        .map(String::from)
        .to_vec();
    rec.rows = Some(agenda.len() as u64);
    rec.subjects = listed.iter().map(|c| c.subject.clone()).collect();
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(serde_json::json!({"concertation_id": id, "date": day.to_string(), "agenda": agenda}))
}

/// Records decisions; routes each newly attributed case to its referent.
pub async fn decide(
    app: &App,
    actor: &Actor,
    id: &str,
    req: &DecisionRequest,
) -> Result<serde_json::Value, CircuitError> {
    let mut tx = app.store.begin().await?;
    concertation_date(&mut tx, id).await?;
    let mut wanted: Vec<(String, Decision)> = Vec::new(); // (case_id, decision)
    let mut conflicts = Vec::new();
    let mut bad = Vec::new();
    for d in &req.decisions {
        if d.organisme.is_some() == d.non_traite.is_some() {
            bad.push(format!(
                "{}: give exactly one of organisme and non_traite",
                d.token
            ));
            continue;
        }
        if let Some(m) = &d.non_traite
            && !NON_TRAITE_MOTIFS.contains(&m.as_str())
        {
            bad.push(format!(
                "{}: non_traite must be one of {}",
                d.token,
                NON_TRAITE_MOTIFS.join(", ")
            ));
            continue;
        }
        if let Some(o) = &d.organisme
            && o.trim().is_empty()
        {
            bad.push(format!("{}: organisme is empty", d.token));
            continue;
        }
        let Some(case_id) = cases::by_token(&mut tx, &actor.partner.id, &d.token).await? else {
            bad.push(format!("{}: unknown token", d.token));
            continue;
        };
        let on_agenda =
            sqlx::query("SELECT 1 FROM agenda WHERE concertation_id = $1 AND case_id = $2")
                .bind(id.to_owned())
                .bind(case_id.clone())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if !on_agenda {
            bad.push(format!("{}: not on this concertation's agenda", d.token));
            continue;
        }
        wanted.push((case_id, d.clone()));
    }
    if req.accept_proposals {
        let rows = sqlx::query(
            "SELECT a.case_id, a.proposal, a.non_traite, c.key_version FROM agenda a JOIN cases c ON c.case_id = a.case_id \
             WHERE a.concertation_id = $1 AND (a.proposal IS NOT NULL OR a.non_traite IS NOT NULL) \
             AND a.case_id NOT IN (SELECT case_id FROM decisions)",
        )
        .bind(id.to_owned())
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            let case_id: String = r.try_get(0)?;
            if wanted.iter().any(|(c, _)| *c == case_id) {
                continue; // an explicit decision wins over the proposal
            }
            wanted.push((
                case_id.clone(),
                Decision {
                    token: app.pseudo.case_token(
                        u32::try_from(r.try_get::<i64, _>(3)?).unwrap_or(1),
                        &actor.partner.id,
                        &case_id,
                    ),
                    organisme: r.try_get(1)?,
                    non_traite: r.try_get(2)?,
                },
            ));
        }
    }
    if !bad.is_empty() {
        return Err(CircuitError::BadRequest(format!(
            "nothing was decided: {}",
            bad.join("; ")
        )));
    }
    for (case_id, d) in &wanted {
        let done = sqlx::query("SELECT 1 FROM decisions WHERE case_id = $1")
            .bind(case_id.clone())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if done {
            conflicts.push((0, d.token.clone(), "already decided".to_owned()));
        }
    }
    if !conflicts.is_empty() {
        return Err(CircuitError::Conflict {
            message: format!(
                "{} case(s) already decided; nothing was recorded",
                conflicts.len()
            ),
            lines: conflicts,
        });
    }
    let at = now_ms();
    let mut by_referent: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    let mut subjects = Vec::new();
    let mut summary = Vec::new();
    for (case_id, d) in &wanted {
        let c = cases::load(app, &mut tx, case_id).await?;
        let known = cases::known_referent(&mut tx, case_id).await?;
        sqlx::query(
            "INSERT INTO decisions (case_id, concertation_id, organisme, non_traite, nouvelle, decided_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(case_id.clone())
        .bind(id.to_owned())
        .bind(d.organisme.clone())
        .bind(d.non_traite.clone())
        .bind(i64::from(known.is_none()))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let new_state = if d.non_traite.is_some() {
            state::NON_TRAITE
        } else {
            state::ATTRIBUTED
        };
        cases::set_state(&mut tx, case_id, new_state).await?;
        subjects.push(c.subject.clone());
        summary.push(d.clone());
        if let Some(o) = &d.organisme
            && app
                .config
                .partners
                .get(o)
                .is_some_and(|p| p.has(Role::Referent))
        {
            by_referent.entry(o.clone()).or_default().push(c);
        }
    }
    let mut files = Vec::new();
    for (referent, list) in &by_referent {
        let partner = app
            .config
            .partners
            .get(referent)
            .expect("checked above")
            .clone();
        files.extend(
            super::routing::route_cases(app, &mut tx, "dossier", list, &[partner], actor, at)
                .await?,
        );
    }
    let mut rec = actor.record("concertation.decide", Outcome::Ok);
    rec.objects = vec![format!("concertation:{id}")];
    rec.objects
        .extend(files.iter().map(|f| format!("file:{f}")));
    rec.rows = Some(summary.len() as u64);
    rec.subjects = subjects;
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(serde_json::json!({"concertation_id": id, "decided": summary, "files": files}))
}

/// Routes a list's cases not yet routed to the concertation members,
/// without waiting for CAF.
pub async fn route_list(
    app: &App,
    actor: &Actor,
    list_id: &str,
) -> Result<serde_json::Value, CircuitError> {
    let mut tx = app.store.begin().await?;
    if sqlx::query("SELECT 1 FROM lists WHERE list_id = $1")
        .bind(list_id.to_owned())
        .fetch_optional(&mut *tx)
        .await?
        .is_none()
    {
        return Err(CircuitError::NotFound);
    }
    let pending: Vec<Case> = cases::load_where(app, &mut tx, "c.list_id = $1", list_id)
        .await?
        .into_iter()
        .filter(|c| c.state == state::RECEIVED || c.state == state::ENRICHED)
        .collect();
    for c in &pending {
        cases::set_state(&mut tx, &c.case_id, state::IN_CONCERTATION).await?;
    }
    let members: Vec<_> = app
        .config
        .partners
        .with_role(Role::Member)
        .cloned()
        .collect();
    let at = now_ms();
    let files =
        super::routing::route_cases(app, &mut tx, "concertation", &pending, &members, actor, at)
            .await?;
    let mut rec = actor.record("list.route", Outcome::Ok);
    rec.objects = vec![format!("list:{list_id}")];
    rec.objects
        .extend(files.iter().map(|f| format!("file:{f}")));
    rec.rows = Some(pending.len() as u64);
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(serde_json::json!({"list_id": list_id, "cases": pending.len(), "files": files}))
}

/// Cases whose household has not been reached yet, with the days left
/// before the legal delay runs out (most urgent first).
pub async fn alerts(
    app: &App,
    actor: &Actor,
    today: time::Date,
) -> Result<Vec<serde_json::Value>, CircuitError> {
    let mut tx = app.store.begin().await?;
    let rows = sqlx::query(
        "SELECT c.case_id, c.date_cdp, c.state, d.organisme, c.key_version FROM cases c LEFT JOIN decisions d ON d.case_id = c.case_id \
         WHERE c.state NOT IN ('contacted', 'closed', 'non_traite') \
         AND c.case_id NOT IN (SELECT case_id FROM events WHERE evenement IN ('appel_reussi', 'visite', 'rdv_honore')) \
         ORDER BY c.date_cdp, c.case_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::new();
    let mut tokens = Vec::new();
    for r in rows {
        let case_id: String = r.try_get(0)?;
        let date: String = r.try_get(1)?;
        let d = crate::domain::parse_date(&date).map_err(CircuitError::BadRequest)?;
        let version = u32::try_from(r.try_get::<i64, _>(4)?).unwrap_or(1);
        let token = app.pseudo.case_token(version, &actor.partner.id, &case_id);
        tokens.push((token.clone(), case_id));
        out.push(serde_json::json!({
            "token": token,
            "date_cdp": date,
            "state": r.try_get::<String, _>(2)?,
            "referent": r.try_get::<Option<String>, _>(3)?,
            "jours_restants": days_left(app, d, today),
        }));
    }
    crate::store::outbox::insert_tokens(&mut tx, &actor.partner.id, tokens, now_ms()).await?;
    let mut rec = actor.record("alerts.read", Outcome::Ok);
    rec.fields = ["token", "date_cdp", "state", "referent"]
        .map(String::from)
        .to_vec();
    rec.rows = Some(out.len() as u64);
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(out)
}
