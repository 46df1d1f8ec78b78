//! A partner's return arrives (CAF's enrichment, a member's answer about
//! known referents, a referent's follow-up events): validated whole,
//! authorised (the kind by role, then row by row: only tokens delivered to
//! this partner; follow-ups only on cases attributed to it), applied kind
//! by kind in one transaction with its audit entry, then routed (CAF's
//! enrichment sends each member its `concertation` file).

use super::cases::{self, Case};
use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome};
use crate::domain::followup::FollowupEvent;
use crate::domain::{CaseId, CaseState, Token};
use crate::ingest::Spool;
use crate::ingest::returns::{
    Enrichment, FollowUp, ReferentAnswer, ReturnKind, ReturnRecord, ReturnRow, read_return,
};
use crate::store::returns::{self as stored, NewReturn};
use crate::store::{Tx, decisions, enrichments, events, member_answers, tokens};
use crate::util::{new_id, now_ms};
use serde::Serialize;

pub use crate::store::returns::RowResult;

/// The answer to a return (docs/convention.md `POST /v1/returns`).
#[derive(Debug, Clone, Serialize)]
pub struct ReturnReceipt {
    /// Id.
    pub return_id: String,
    /// Rows read.
    pub rows: i64,
    /// Rows applied.
    pub applied: i64,
    /// Files routed as a consequence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routed: Vec<String>,
}

/// Whether the return was applied now or had been already.
#[derive(Debug, Clone)]
pub enum ReturnOutcome {
    /// Applied now.
    Created(ReturnReceipt),
    /// The same bytes were already applied.
    Duplicate(ReturnReceipt),
}

/// A row of the file, `(line, token, row)`.
type ReadRow = ReturnRecord;

/// A row whose token resolved to a case the caller may act on.
struct Resolved {
    line: u64,
    token: String,
    case_id: CaseId,
    row: ReturnRow,
}

/// What applying the rows did.
#[derive(Default)]
struct Applied {
    results: Vec<RowResult>,
    subjects: Vec<String>,
    /// Cases that became enriched, to route to the members.
    enriched: Vec<CaseId>,
}

/// Applies a return's plaintext, spooled (the decrypted body, a temporary
/// file; `Spool::from(bytes)` otherwise). Its rows are read from the spool
/// off the async threads.
pub async fn accept_return(
    app: &App,
    actor: &Actor,
    kind: ReturnKind,
    plaintext: Spool,
) -> Result<ReturnOutcome, CircuitError> {
    let sha = plaintext.sha256_hex().to_owned();
    let parsed = read(app, kind, plaintext).await;
    authorise_kind(actor, kind, &parsed)?;
    let rows = parsed?;
    let mut tx = app.store.begin().await?;
    if let Some(done) = stored::by_content(&mut tx, actor.partner_id(), kind, &sha).await? {
        return duplicate(tx, actor, done).await;
    }
    let resolved = authorise_rows(&mut tx, actor, kind, rows).await?;
    let return_id = new_id("ret");
    let at = now_ms();
    let applied = apply(app, &mut tx, actor, &return_id, resolved, at).await?;
    let routed = route_enriched(app, &mut tx, actor, &applied.enriched, at).await?;
    let n = applied.results.len() as i64;
    record(&mut tx, actor, kind, &return_id, sha, applied, &routed, at).await?;
    tx.commit().await?;
    Ok(ReturnOutcome::Created(ReturnReceipt {
        return_id,
        rows: n,
        applied: n,
        routed,
    }))
}

/// Reads and checks the file off the async threads.
async fn read(
    app: &App,
    kind: ReturnKind,
    plaintext: Spool,
) -> Result<Vec<ReadRow>, crate::ingest::FileError> {
    let limits = super::reading_limits(app);
    tokio::task::spawn_blocking(move || read_return(plaintext, kind, &limits))
        .await
        .expect("the validation task does not panic")
}

/// A kind outside the caller's roles is refused whatever the file holds
/// (naming its lines when they can be read).
fn authorise_kind<E>(
    actor: &Actor,
    kind: ReturnKind,
    parsed: &Result<Vec<ReadRow>, E>,
) -> Result<(), CircuitError> {
    let role = cases::role_for(kind);
    if actor.has(role) {
        return Ok(());
    }
    let rows = parsed.as_ref().map(Vec::as_slice).unwrap_or_default();
    Err(CircuitError::NotYourCase {
        message: format!(
            "returns of kind {} need the role {}, which your partner does not hold; nothing was applied",
            kind.as_str(),
            role.as_str()
        ),
        lines: rows
            .iter()
            .map(|(l, t, _)| (*l, t.clone(), "kind outside your roles".to_owned()))
            .collect(),
    })
}

/// The same bytes were applied already: the first receipt, audited.
async fn duplicate(
    mut tx: Tx,
    actor: &Actor,
    done: stored::Summary,
) -> Result<ReturnOutcome, CircuitError> {
    let receipt = ReturnReceipt {
        return_id: done.return_id,
        rows: done.rows,
        applied: done.applied,
        routed: Vec::new(),
    };
    let mut rec = actor.record("return.apply", Outcome::Ok);
    rec.objects = vec![format!("return:{}", receipt.return_id)];
    rec.reason = Some("duplicate".into());
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(ReturnOutcome::Duplicate(receipt))
}

/// Row-level authorisation, before anything is applied: every token must
/// have been delivered to the caller; a follow-up needs the case
/// attributed to the caller, and a closure a case not closed yet.
async fn authorise_rows(
    tx: &mut Tx,
    actor: &Actor,
    kind: ReturnKind,
    rows: Vec<ReadRow>,
) -> Result<Vec<Resolved>, CircuitError> {
    let mut resolved = Vec::with_capacity(rows.len());
    let mut refused = Vec::new();
    let mut conflicts = Vec::new();
    for (line, token, row) in rows {
        let Some(case_id) = tokens::case_of(tx, actor.partner_id(), &Token::new(&token)).await?
        else {
            refused.push((
                line,
                token,
                "this token was never delivered to you".to_owned(),
            ));
            continue;
        };
        if kind == ReturnKind::Followup {
            let mine = decisions::of_case(tx, &case_id)
                .await?
                .and_then(|d| d.organisme)
                .is_some_and(|o| o == actor.partner_id());
            if !mine {
                refused.push((line, token, "this case is not attributed to you".to_owned()));
                continue;
            }
            if let ReturnRow::Followup(f) = &row
                && is_closure(f)
                && crate::store::cases::state_of(tx, &case_id).await? == Some(CaseState::Closed)
            {
                conflicts.push((line, token.clone(), "the case is already closed".to_owned()));
            }
        }
        resolved.push(Resolved {
            line,
            token,
            case_id,
            row,
        });
    }
    if !refused.is_empty() {
        return Err(CircuitError::NotYourCase {
            message: format!(
                "{} row(s) name cases you may not act on; nothing was applied",
                refused.len()
            ),
            lines: refused,
        });
    }
    if !conflicts.is_empty() {
        return Err(CircuitError::Conflict {
            message: format!(
                "{} row(s) conflict with the cases' state; nothing was applied",
                conflicts.len()
            ),
            lines: conflicts,
        });
    }
    Ok(resolved)
}

fn is_closure(f: &FollowUp) -> bool {
    f.evenement == FollowupEvent::Cloture
}

/// Applies the rows in file order. Each case is read in this transaction
/// after the file's earlier rows were applied: its state is current.
async fn apply(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    return_id: &str,
    rows: Vec<Resolved>,
    at: i64,
) -> Result<Applied, CircuitError> {
    let mut out = Applied::default();
    for r in rows {
        let c = cases::load(app, tx, &r.case_id).await?;
        out.subjects.push(c.subject.clone());
        let effect = match &r.row {
            ReturnRow::Enrichment(e) => {
                if apply_enrichment(app, tx, &c, return_id, e, at).await? {
                    out.enriched.push(c.case_id.clone());
                }
                "enrichment recorded".to_owned()
            }
            ReturnRow::Referent(a) => apply_referent(app, tx, actor, &c, return_id, a, at).await?,
            ReturnRow::Followup(f) => apply_followup(app, tx, actor, &c, return_id, f, at).await?,
        };
        out.results.push(RowResult {
            line: r.line,
            token: r.token,
            effect,
        });
    }
    Ok(out)
}

/// Seals and stores CAF's enrichment; a case just received becomes
/// enriched (returns whether it did).
async fn apply_enrichment(
    app: &App,
    tx: &mut Tx,
    c: &Case,
    return_id: &str,
    e: &Enrichment,
    at: i64,
) -> Result<bool, CircuitError> {
    let sealed = app.pseudo.seal(
        &cases::enrichment_context(&c.case_id),
        &serde_json::to_vec(e).expect("serialises"),
    );
    enrichments::put(tx, &c.case_id, return_id, sealed, at).await?;
    if c.state != CaseState::Received {
        return Ok(false);
    }
    crate::store::cases::set_state(tx, &c.case_id, CaseState::Enriched).await?;
    Ok(true)
}

/// Stores a member's answer (the referent's name sealed).
async fn apply_referent(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    c: &Case,
    return_id: &str,
    a: &ReferentAnswer,
    at: i64,
) -> Result<String, CircuitError> {
    let sealed = a.nom_referent.as_ref().map(|n| {
        app.pseudo.seal(
            &format!("{}/referent/{}", c.case_id, actor.partner_id()),
            n.as_bytes(),
        )
    });
    member_answers::replace(
        tx,
        member_answers::Answer {
            case_id: c.case_id.clone(),
            partner: actor.partner_id().to_owned(),
            referent_connu: a.referent_connu,
            organisme: a.organisme.clone(),
            sealed,
            return_id: return_id.to_owned(),
        },
        at,
    )
    .await?;
    Ok(if a.referent_connu {
        format!("referent known: {}", a.organisme.as_deref().unwrap_or("?"))
    } else {
        "no referent known".to_owned()
    })
}

/// Stores a referent's event (its detail sealed); a closure closes the
/// case, a successful contact moves an attributed case to contacted.
async fn apply_followup(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    c: &Case,
    return_id: &str,
    f: &FollowUp,
    at: i64,
) -> Result<String, CircuitError> {
    let event_id = new_id("evt");
    let sealed = f
        .detail
        .as_ref()
        .map(|d| app.pseudo.seal(&event_id, d.as_bytes()));
    events::insert(
        tx,
        events::NewEvent {
            event_id,
            case_id: c.case_id.clone(),
            partner: actor.partner_id().to_owned(),
            date: f.date.to_string(),
            evenement: f.evenement.as_str().to_owned(),
            motif: f.motif.map(|m| m.as_str().to_owned()),
            sealed,
            return_id: return_id.to_owned(),
        },
        at,
    )
    .await?;
    if is_closure(f) {
        crate::store::cases::set_state(tx, &c.case_id, CaseState::Closed).await?;
    } else if f.evenement.is_contact() && c.state == CaseState::Attributed {
        crate::store::cases::set_state(tx, &c.case_id, CaseState::Contacted).await?;
    }
    Ok(format!("event {} recorded", f.evenement))
}

/// CAF's enrichment: each member receives the newly enriched cases of its
/// scope.
async fn route_enriched(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    enriched: &[CaseId],
    at: i64,
) -> Result<Vec<String>, CircuitError> {
    if enriched.is_empty() {
        return Ok(Vec::new());
    }
    let mut loaded = Vec::with_capacity(enriched.len());
    for id in enriched {
        loaded.push(cases::load(app, tx, id).await?);
    }
    super::routing::to_concertation(app, tx, &loaded, actor, at).await
}

/// Stores the return's record and audits it.
#[allow(clippy::too_many_arguments)]
async fn record(
    tx: &mut Tx,
    actor: &Actor,
    kind: ReturnKind,
    return_id: &str,
    sha256: String,
    applied: Applied,
    routed: &[String],
    at: i64,
) -> Result<(), CircuitError> {
    let n = applied.results.len() as i64;
    stored::insert(
        tx,
        NewReturn {
            return_id: return_id.to_owned(),
            partner: actor.partner_id().to_owned(),
            kind,
            sha256,
            rows: n,
            applied: n,
            results: applied.results,
        },
        at,
    )
    .await?;
    let mut rec = actor.record("return.apply", Outcome::Ok);
    rec.objects = vec![
        format!("return:{return_id}"),
        format!("kind:{}", kind.as_str()),
    ];
    rec.objects
        .extend(routed.iter().map(|f| format!("file:{f}")));
    rec.fields = kind.columns().iter().map(|c| (*c).to_owned()).collect();
    rec.rows = Some(n as u64);
    rec.subjects = applied.subjects;
    audit::append(tx, &rec).await?;
    Ok(())
}

/// What a return applied, for its sender (docs/convention.md
/// `GET /v1/returns/{id}`).
#[derive(Debug, Clone, Serialize)]
pub struct ReturnReport {
    /// Rows applied.
    pub applied: i64,
    /// When it was applied (RFC 3339).
    pub created_at: String,
    /// Its kind.
    pub kind: String,
    /// Per row.
    pub results: Vec<RowResult>,
    /// Id.
    pub return_id: String,
    /// Rows read.
    pub rows: i64,
}

/// What a return applied, for its sender (anyone else: not found).
pub async fn get_return(
    app: &App,
    actor: &Actor,
    return_id: &str,
) -> Result<ReturnReport, CircuitError> {
    let mut tx = app.store.begin().await?;
    let r = stored::get(&mut tx, return_id)
        .await?
        .filter(|r| r.partner == actor.partner_id())
        .ok_or(CircuitError::NotFound)?;
    let mut rec = actor.record("return.read", Outcome::Ok);
    rec.objects = vec![format!("return:{return_id}")];
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(ReturnReport {
        applied: r.applied,
        created_at: crate::util::ms_to_rfc3339(r.created_at),
        kind: r.kind,
        results: r.results,
        return_id: return_id.to_owned(),
        rows: r.rows,
    })
}
