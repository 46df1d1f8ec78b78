//! The log's readers: signed checkpoints and proofs for every partner (the
//! partners are the log's witnesses); the DPO's filtered listing and
//! subject-access answers (GDPR art. 15: "who has seen my file?").

use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::query::Filter;
use crate::audit::{self, Outcome, StoredEntry, tlog};
use crate::config::Role;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

/// The latest signed checkpoint (docs/convention.md `GET /v1/audit/checkpoint`).
#[derive(Debug, Clone, Serialize)]
pub struct Checkpoint {
    /// The signed note.
    pub checkpoint: String,
    /// Its root hash (base64).
    pub root: String,
    /// Entries it covers.
    pub size: u64,
    /// The key that verifies it.
    pub verifier_key: String,
}

/// The latest checkpoint, signed now if the log grew since the last one
/// (any partner).
pub async fn checkpoint(app: &App, _actor: &Actor) -> Result<Checkpoint, CircuitError> {
    let (size, note) = app.checkpoint().await?;
    let root = note.lines().nth(2).unwrap_or_default().to_owned();
    Ok(Checkpoint {
        checkpoint: note,
        root,
        size,
        verifier_key: app.signer.verifier_key(),
    })
}

/// A checkpoint signed on request (`POST /v1/audit/checkpoint`).
#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    /// The signed note.
    pub checkpoint: String,
    /// Entries it covers.
    pub size: u64,
}

/// Signs a checkpoint now (`dpo`, `secretariat`).
pub async fn sign_now(app: &App, actor: &Actor) -> Result<Signed, CircuitError> {
    actor.require_any(&[Role::Dpo, Role::Secretariat])?;
    let (size, checkpoint) = app.checkpoint().await?;
    Ok(Signed { checkpoint, size })
}

/// A consistency proof between two sizes of the log.
#[derive(Debug, Clone, Serialize)]
pub struct ConsistencyProof {
    /// The older size.
    pub from: u64,
    /// The proof's hashes (base64).
    pub hashes: Vec<String>,
    /// The newer size.
    pub to: u64,
}

/// Proves that the log of size `to` extends the one of size `from` (any
/// partner).
pub async fn consistency(
    app: &App,
    _actor: &Actor,
    from: u64,
    to: u64,
) -> Result<ConsistencyProof, CircuitError> {
    let mut conn = app.store.pool().acquire().await?;
    let proof = tlog::consistency(&mut conn, from, to).await?;
    Ok(ConsistencyProof {
        from,
        hashes: proof.iter().map(|h| B64.encode(h)).collect(),
        to,
    })
}

/// An inclusion proof of one entry in a size of the log.
#[derive(Debug, Clone, Serialize)]
pub struct InclusionProof {
    /// The proof's hashes (base64).
    pub hashes: Vec<String>,
    /// The entry.
    pub index: u64,
    /// Its leaf hash (base64).
    pub leaf: String,
    /// The size of the log.
    pub size: u64,
}

/// Proves that entry `index` is in the log of size `size` (any partner).
pub async fn inclusion(
    app: &App,
    _actor: &Actor,
    index: u64,
    size: u64,
) -> Result<InclusionProof, CircuitError> {
    let mut conn = app.store.pool().acquire().await?;
    let (leaf, proof) = tlog::inclusion(&mut conn, index, size).await?;
    Ok(InclusionProof {
        hashes: proof.iter().map(|h| B64.encode(h)).collect(),
        index,
        leaf: B64.encode(leaf),
        size,
    })
}

/// A page of the log (`GET /v1/audit`).
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    /// Its entries, newest first.
    pub entries: Vec<StoredEntry>,
    /// Page number, from 1.
    pub page: u32,
    /// Entries per page.
    pub per_page: u32,
    /// Entries matching the filter.
    pub total: i64,
}

/// The DPO's filtered view of the log, newest first (`dpo`).
pub async fn audit_log(app: &App, actor: &Actor, f: &Filter) -> Result<AuditPage, CircuitError> {
    may_query(actor)?;
    let mut conn = app.store.pool().acquire().await?;
    let (entries, total) = audit::query::list(&mut conn, f).await?;
    Ok(AuditPage {
        entries,
        page: f.page.unwrap_or(1).max(1),
        per_page: f.per_page.unwrap_or(100).clamp(1, 500),
        total,
    })
}

/// Refuses unless the actor is the DPO. The DPO's operations check it; an
/// adapter may check it before parsing the request.
pub fn may_query(actor: &Actor) -> Result<(), CircuitError> {
    actor.require(Role::Dpo)
}

/// Whose accesses the DPO asks for: a household's identity, as the list
/// gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectQuery {
    /// Tenant's name.
    pub nom: String,
    /// Tenant's first name.
    pub prenom: String,
    /// Postal code of the dwelling.
    pub code_postal: String,
}

/// One access to a household's data.
#[derive(Debug, Clone, Serialize)]
pub struct Access {
    /// The action.
    pub action: String,
    /// When.
    pub at: String,
    /// Fields disclosed.
    pub fields: Vec<String>,
    /// Objects concerned.
    pub objects: Vec<String>,
    /// Outcome.
    pub outcome: Option<Outcome>,
    /// By whom.
    pub partner: Option<String>,
    /// The person who acted on the console (id and name, from
    /// `people.toml`); absent for the API's machines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<AccessPerson>,
    /// Rows concerned.
    pub rows: Option<u64>,
    /// The entry.
    pub seq: i64,
}

/// A person named in an access.
#[derive(Debug, Clone, Serialize)]
pub struct AccessPerson {
    /// Their id.
    pub id: String,
    /// Their name (`people.toml`; empty for a person since removed).
    pub name: String,
}

/// The answer to a subject-access request.
#[derive(Debug, Clone, Serialize)]
pub struct Accesses {
    /// Every access, oldest first.
    pub accesses: Vec<Access>,
}

/// Every access to one household's data (`dpo`). The request itself is
/// audited with that household's reference, so the answer to a
/// subject-access request is also on record.
pub async fn subject_access(
    app: &App,
    actor: &Actor,
    q: &SubjectQuery,
) -> Result<Accesses, CircuitError> {
    may_query(actor)?;
    let refs = app.pseudo.subject_refs(&crate::pseudo::household_identity(
        &q.nom,
        &q.prenom,
        &q.code_postal,
    ));
    let mut tx = app.store.begin().await?;
    let accesses: Vec<Access> = audit::query::by_subject(&mut tx, &refs)
        .await?
        .into_iter()
        .map(|e| Access {
            action: e.action,
            at: e.at,
            fields: e.fields,
            objects: e.objects,
            outcome: e.outcome,
            partner: e.partner,
            person: e.person.map(|id| AccessPerson {
                name: app
                    .config
                    .people
                    .get(&id)
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                id,
            }),
            rows: e.rows,
            seq: e.seq,
        })
        .collect();
    let mut rec = actor.record("audit.subject", Outcome::Ok);
    rec.rows = Some(accesses.len() as u64);
    rec.subjects = refs;
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(Accesses { accesses })
}

/// The log as the DPO reviews it: its verification, when the checkpoint
/// it rests on was signed, the period's unusual patterns.
#[derive(Debug, Clone)]
pub struct Review {
    /// The whole log recomputed and checked against its checkpoints.
    pub verification: tlog::Verification,
    /// When the latest checkpoint was signed (epoch ms).
    pub checkpoint_signed_at_ms: Option<i64>,
    /// Entries of the period.
    pub entries: u64,
    /// The period's anomalies (off-hours, volume spikes, refusal bursts).
    pub anomalies: Vec<crate::audit::report::Anomaly>,
}

/// Verifies the log and finds the anomalies of `from..=to` (`dpo`).
pub async fn review(
    app: &App,
    actor: &Actor,
    from: time::Date,
    to: time::Date,
) -> Result<Review, CircuitError> {
    may_query(actor)?;
    let mut conn = app.store.pool().acquire().await?;
    let verification = tlog::verify(&mut conn, &app.signer.verifier_key()).await?;
    let checkpoint_signed_at_ms = match &verification.latest_checkpoint {
        Some((size, _)) => tlog::checkpoint_signed_at(&mut conn, *size).await?,
        None => None,
    };
    let entries = crate::audit::reporting::entries(&mut conn, from, to).await?;
    Ok(Review {
        verification,
        checkpoint_signed_at_ms,
        entries: entries.len() as u64,
        anomalies: crate::audit::report::anomalies(&entries),
    })
}

/// Writes `action` for the DPO's download of `from..=to`, `rows` long.
async fn downloaded(
    app: &App,
    actor: &Actor,
    action: &str,
    from: time::Date,
    to: time::Date,
    rows: u64,
) -> Result<(), CircuitError> {
    let mut rec = actor.record(action, Outcome::Ok);
    rec.rows = Some(rows);
    rec.objects = vec![format!("period:{from}..{to}")];
    super::audit_alone(app, &rec).await
}

/// The self-contained HTML report of `from..=to` (`dpo`), as `passerelle
/// audit report` writes it; the download is audited (`audit.report`).
pub async fn report(
    app: &App,
    actor: &Actor,
    from: time::Date,
    to: time::Date,
) -> Result<String, CircuitError> {
    may_query(actor)?;
    let mut conn = app.store.pool().acquire().await?;
    let v = tlog::verify(&mut conn, &app.signer.verifier_key()).await?;
    let html = crate::audit::reporting::build(&mut conn, from, to, &v).await?;
    drop(conn);
    downloaded(app, actor, "audit.report", from, to, v.entries).await?;
    Ok(html)
}

/// The entries of `from..=to` as JSON lines (`dpo`), as `passerelle audit
/// export` writes them; the download is audited (`audit.export`).
pub async fn export(
    app: &App,
    actor: &Actor,
    from: time::Date,
    to: time::Date,
) -> Result<String, CircuitError> {
    may_query(actor)?;
    let mut conn = app.store.pool().acquire().await?;
    let lines = audit::query::export(&mut conn, &from.to_string(), &to.to_string()).await?;
    drop(conn);
    let rows = lines.lines().count() as u64;
    downloaded(app, actor, "audit.export", from, to, rows).await?;
    Ok(lines)
}
