//! Procedure events (docs/convention.md "Procedure events"): the month's
//! export of EXPLOC arrives from the `source` (the DDETS); each event is
//! linked, pseudonymously, to the CDP case it belongs to — by `ref_cdp`
//! when given and known, else by the household to its most recent CDP on
//! or before the event — or kept `hors_circuit`; each linked event of a
//! case with a referent goes to that referent as a `procedure` file. One
//! transaction with its audit entries: applied whole or not at all.

use super::routing::Route;
use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome};
use crate::config::{Partner, Role};
use crate::domain::{CaseId, FileKind, Period, Token, fold_key};
use crate::ingest::procedures::{ProcedureRow, read_procedures};
use crate::ingest::{self, CdpRow};
use crate::pseudo::household_identity;
use crate::store::procedures::{self as store, Candidate, LineEffect, Summary};
use crate::util::{new_id, now_ms};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// What a lookup key of a CDP's reference is made for.
pub(crate) const REF_CDP: &str = "ref_cdp";
/// What a lookup key of a procedure event is made for.
const EVENT: &str = "procedure_event";

/// The answer to an upload (docs/convention.md `POST /v1/procedures`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProceduresReceipt {
    /// The upload.
    pub procedures_id: String,
    /// Rows read.
    pub rows: i64,
    /// New events linked to a case.
    pub linked: i64,
    /// New events that matched no case (`hors_circuit`).
    pub unlinked: i64,
    /// Events already received, in an earlier file or higher in this one.
    pub repeated: i64,
}

impl From<Summary> for ProceduresReceipt {
    fn from(s: Summary) -> Self {
        ProceduresReceipt {
            procedures_id: s.procedures_id,
            rows: s.rows,
            linked: s.linked,
            unlinked: s.unlinked,
            repeated: s.repeated,
        }
    }
}

/// Whether the upload stored the events or found the same file already.
#[derive(Debug, Clone)]
pub enum ProceduresOutcome {
    /// New events stored, linked and routed.
    Created(ProceduresReceipt),
    /// The same content was already received: nothing done.
    Duplicate(ProceduresReceipt),
}

/// What became of an upload, line by line (`GET /v1/procedures/{id}`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProceduresDetail {
    /// Its counts.
    #[serde(flatten)]
    pub receipt: ProceduresReceipt,
    /// The export's month.
    pub period: String,
    /// Per line.
    pub lines: Vec<LineEffect>,
}

/// Refuses unless the actor may send procedure events (`source`).
pub fn may_upload(actor: &Actor) -> Result<(), CircuitError> {
    actor.require(Role::Source)
}

/// The lookup key of an event: its procedure, step and date.
fn event_identity(r: &ProcedureRow) -> String {
    format!(
        "{}|{}|{}",
        fold_key(&r.ref_procedure),
        r.etape.as_str(),
        r.date_etape
    )
}

/// Accepts the month's procedure events (plaintext CSV or XLSX, spooled)
/// from a `source`.
pub async fn accept_procedures(
    app: &Arc<App>,
    actor: &Actor,
    period: Period,
    input: ingest::Spool,
) -> Result<ProceduresOutcome, CircuitError> {
    may_upload(actor)?;
    let sha256 = input.sha256_hex().to_owned();
    let limits = super::reading_limits(app);
    let (rows, columns) = tokio::task::spawn_blocking(move || {
        let file = read_procedures(input, &limits)?;
        Ok::<_, ingest::FileError>((file.rows()?, file.columns()))
    })
    .await
    .expect("the reading task does not panic")?;

    let mut tx = app.store.begin().await?;
    if let Some(existing) = store::by_sha256(&mut tx, &sha256).await? {
        if existing.period != period.to_string() {
            return Err(CircuitError::OtherPeriod {
                list_id: existing.procedures_id,
                period: existing.period,
            });
        }
        let mut rec = actor.record("procedures.upload", Outcome::Ok);
        rec.objects = vec![format!("procedures:{}", existing.procedures_id)];
        rec.reason = Some("duplicate".into());
        rec.rows = Some(0);
        audit::append(&mut tx, &rec).await?;
        tx.commit().await?;
        return Ok(ProceduresOutcome::Duplicate(existing.into()));
    }
    backfill_ref_keys(app, &mut tx).await?;

    let procedures_id = new_id("prc");
    let at = now_ms();
    let version = app.pseudo.current_version();
    let mut seen: HashSet<String> = HashSet::new();
    let mut lines = Vec::with_capacity(rows.len());
    let mut subjects = Vec::with_capacity(rows.len());
    let mut shown: Vec<(Token, CaseId)> = Vec::new();
    let mut to_route: BTreeMap<String, Vec<(Candidate, &ProcedureRow)>> = BTreeMap::new();
    let (mut linked, mut unlinked, mut repeated) = (0i64, 0i64, 0i64);
    for row in &rows {
        let identity = event_identity(row);
        let keys = app.pseudo.lookup_keys(EVENT, &identity);
        let event_key = app.pseudo.lookup_key(EVENT, &identity);
        let household = household_identity(&row.nom, &row.prenom, row.code_postal.as_ref());
        // The household named, under the reference its case carries when
        // the event is linked to one (its key version's), else today's.
        let named = app
            .pseudo
            .subject_ref(&app.pseudo.household_token(&household));
        if !seen.insert(identity) || store::known_event(&mut tx, &keys).await? {
            repeated += 1;
            subjects.push(named);
            lines.push(LineEffect {
                line: row.line,
                etape: row.etape.as_str().to_owned(),
                effect: "repeated".into(),
                token: None,
                reason: "this event (ref_procedure, etape, date_etape) was already received".into(),
            });
            continue;
        }
        let (case, reason) = link(app, &mut tx, row, &household).await?;
        let effect = match &case {
            Some(c) => {
                linked += 1;
                subjects.push(c.subject.clone());
                let token = Token::new(app.pseudo.case_token(
                    c.key_version,
                    actor.partner_id(),
                    c.case_id.as_str(),
                ));
                shown.push((token.clone(), c.case_id.clone()));
                if let Some(referent) = &c.referent {
                    to_route
                        .entry(referent.clone())
                        .or_default()
                        .push((c.clone(), row));
                }
                LineEffect {
                    line: row.line,
                    etape: row.etape.as_str().to_owned(),
                    effect: "linked".into(),
                    token: Some(token.as_str().to_owned()),
                    reason,
                }
            }
            None => {
                unlinked += 1;
                subjects.push(named);
                LineEffect {
                    line: row.line,
                    etape: row.etape.as_str().to_owned(),
                    effect: "hors_circuit".into(),
                    token: None,
                    reason,
                }
            }
        };
        lines.push(effect);
        let event_id = new_id("evp");
        let json = serde_json::to_vec(row).expect("a row serialises");
        store::insert_event(
            &mut tx,
            store::NewEvent {
                sealed: app.pseudo.seal(&event_id, &json),
                event_id,
                procedures_id: procedures_id.clone(),
                line: row.line as i64,
                event_key,
                case_id: case.map(|c| c.case_id),
                etape: row.etape.as_str().to_owned(),
                date_etape: row.date_etape.to_string(),
                date_audience: row.date_audience.map(|d| d.to_string()),
                key_version: i64::from(version),
            },
            at,
        )
        .await?;
    }
    crate::store::tokens::insert(&mut tx, actor.partner_id(), shown, at).await?;
    let summary = Summary {
        procedures_id: procedures_id.clone(),
        period: period.to_string(),
        rows: rows.len() as i64,
        linked,
        unlinked,
        repeated,
    };
    store::insert_file(&mut tx, &summary, actor.partner_id(), &sha256, &lines, at).await?;
    let mut rec = actor.record("procedures.upload", Outcome::Ok);
    rec.objects = vec![format!("procedures:{procedures_id}")];
    rec.fields = columns;
    rec.rows = Some(rows.len() as u64);
    subjects.sort();
    subjects.dedup();
    rec.subjects = subjects;
    audit::append(&mut tx, &rec).await?;
    let files = route(app, &mut tx, to_route, period, actor, at).await?;
    tx.commit().await?;
    tracing::info!(
        procedures = %procedures_id,
        rows = rows.len(),
        linked,
        unlinked,
        repeated,
        files = files.len(),
        "procedure events accepted"
    );
    Ok(ProceduresOutcome::Created(summary.into()))
}

/// The case an event belongs to, and how (or why none).
async fn link(
    app: &App,
    tx: &mut crate::store::Tx,
    row: &ProcedureRow,
    household: &str,
) -> Result<(Option<Candidate>, String), CircuitError> {
    let mut unknown_ref = false;
    if let Some(r) = &row.ref_cdp {
        let keys = app.pseudo.lookup_keys(REF_CDP, r.trim());
        if let Some(c) = store::case_by_ref(tx, &keys).await? {
            return Ok((Some(c), "ref_cdp".into()));
        }
        unknown_ref = true;
    }
    let households = app.pseudo.household_tokens(household);
    let date = row.date_etape.to_string();
    let found = store::case_of_household(tx, &households, &date).await?;
    let reason = match (&found, unknown_ref) {
        (Some(_), false) => "identite".to_owned(),
        (Some(_), true) => "identite (ref_cdp unknown)".to_owned(),
        (None, false) => format!("no CDP of this household dated on or before {date}"),
        (None, true) => {
            format!("ref_cdp unknown, and no CDP of this household dated on or before {date}")
        }
    };
    Ok((found, reason))
}

/// Gives a lookup key of their `ref_cdp` to the cases stored without one
/// (lists received before procedure events existed).
async fn backfill_ref_keys(app: &App, tx: &mut crate::store::Tx) -> Result<(), CircuitError> {
    for (case_id, _, sealed) in store::cases_without_ref_key(tx).await? {
        let plain = app
            .pseudo
            .open(case_id.as_str(), &sealed)
            .map_err(|e| CircuitError::Sealed(e.to_string()))?;
        let row: CdpRow =
            serde_json::from_slice(&plain).map_err(|e| CircuitError::Sealed(e.to_string()))?;
        let key = app.pseudo.lookup_key(REF_CDP, row.ref_cdp.trim());
        store::set_ref_key(tx, &case_id, &key).await?;
    }
    Ok(())
}

/// One `procedure` file per referent (a partner of the circuit; a free
/// label such as `UDAF` has no outbox) with its cases' new events, when
/// the policy declares the view.
async fn route(
    app: &App,
    tx: &mut crate::store::Tx,
    by_referent: BTreeMap<String, Vec<(Candidate, &ProcedureRow)>>,
    period: Period,
    actor: &Actor,
    at: i64,
) -> Result<Vec<String>, CircuitError> {
    let Some(view) = app.config.policy.view(FileKind::Procedure) else {
        return Ok(Vec::new());
    };
    let columns = view.columns();
    let partners = app.partners();
    let mut files = Vec::new();
    for (referent, events) in by_referent {
        let Some(partner) = partners.get(&referent) else {
            continue;
        };
        let partner: Arc<Partner> = partner.clone();
        let mut file = Route::new(partner, &columns)?;
        for (case, row) in events {
            file.add_with(
                app,
                &case.case_id,
                case.key_version,
                &case.subject,
                |token| {
                    view.fields
                        .iter()
                        .map(|f| match f.name.as_str() {
                            "token" => token.to_owned(),
                            "etape" => row.etape.as_str().to_owned(),
                            "date_etape" => row.date_etape.to_string(),
                            "date_audience" => {
                                row.date_audience.map(|d| d.to_string()).unwrap_or_default()
                            }
                            _ => String::new(),
                        })
                        .collect()
                },
            )?;
        }
        files.push(
            file.emit(tx, FileKind::Procedure, period, None, None, actor, at)
                .await?,
        );
    }
    Ok(files)
}

/// What became of an upload, line by line, for the source that sent it
/// (anyone else: not found).
pub async fn detail(
    app: &App,
    actor: &Actor,
    procedures_id: &str,
) -> Result<ProceduresDetail, CircuitError> {
    may_upload(actor)?;
    let mut tx = app.store.begin().await?;
    let Some(f) = store::file(&mut tx, procedures_id).await? else {
        return Err(CircuitError::NotFound);
    };
    if f.source != actor.partner_id() {
        return Err(CircuitError::NotFound);
    }
    let mut rec = actor.record("procedures.read", Outcome::Ok);
    rec.objects = vec![format!("procedures:{procedures_id}")];
    rec.fields = vec!["token".into(), "etape".into()];
    rec.rows = Some(f.lines.len() as u64);
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(ProceduresDetail {
        period: f.summary.period.clone(),
        receipt: f.summary.into(),
        lines: f.lines,
    })
}
