//! The log's routes: signed checkpoints and proofs for every partner (the
//! partners are the log's witnesses), the DPO's queries.

use super::HttpState;
use super::caller::Caller;
use super::error::ApiError;
use super::guard::Audited;
use crate::audit::{self, Outcome, tlog};
use crate::config::Role;
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::sync::Arc;

/// A connection to the store for a read.
async fn connection(st: &HttpState) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, ApiError> {
    st.app
        .store
        .pool()
        .acquire()
        .await
        .map_err(|e| ApiError::internal(&e))
}

fn tlog_err(e: tlog::TlogError) -> ApiError {
    match e {
        tlog::TlogError::Bad(m) => ApiError::bad_request(m),
        other => ApiError::internal(&other),
    }
}

/// `GET /v1/audit/checkpoint`: the latest signed checkpoint (signed now if
/// the log grew since the last one).
pub(super) async fn checkpoint(
    State(st): State<Arc<HttpState>>,
    _caller: Caller,
) -> Result<Response, ApiError> {
    let (size, note) = st
        .app
        .checkpoint()
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let root = note.lines().nth(2).unwrap_or_default().to_owned();
    Ok(Json(serde_json::json!({
        "size": size,
        "root": root,
        "checkpoint": note,
        "verifier_key": st.app.signer.verifier_key(),
    }))
    .into_response())
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct ConsistencyQuery {
    from: u64,
    to: u64,
}

/// `GET /v1/audit/proof/consistency?from=&to=`.
pub(super) async fn consistency(
    State(st): State<Arc<HttpState>>,
    _caller: Caller,
    q: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut conn = connection(&st).await?;
    let proof = tlog::consistency(&mut conn, q.from, q.to)
        .await
        .map_err(tlog_err)?;
    Ok(Json(serde_json::json!({
        "from": q.from, "to": q.to,
        "hashes": proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct InclusionQuery {
    index: u64,
    size: u64,
}

/// `GET /v1/audit/proof/inclusion?index=&size=`.
pub(super) async fn inclusion(
    State(st): State<Arc<HttpState>>,
    _caller: Caller,
    q: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut conn = connection(&st).await?;
    let (leaf, proof) = tlog::inclusion(&mut conn, q.index, q.size)
        .await
        .map_err(tlog_err)?;
    Ok(Json(serde_json::json!({
        "index": q.index, "size": q.size, "leaf": B64.encode(leaf),
        "hashes": proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// `GET /v1/audit`: the DPO's filtered view, newest first.
pub(super) async fn list(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    q: Result<Query<audit::query::Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Dpo)?;
    let Query(f) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut conn = connection(&st).await?;
    let (entries, total) = audit::query::list(&mut conn, &f)
        .await
        .map_err(ApiError::bad_request)?;
    Ok(Json(serde_json::json!({
        "total": total,
        "page": f.page.unwrap_or(1).max(1),
        "per_page": f.per_page.unwrap_or(100).clamp(1, 500),
        "entries": entries,
    }))
    .into_response())
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubjectRequest {
    nom: String,
    prenom: String,
    code_postal: String,
}

/// `POST /v1/audit/subject`: every access to one household's data. The
/// request itself is audited with that household's reference, so the
/// answer to a subject-access request is also on record.
pub(super) async fn subject(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    body: Body,
) -> Result<Response, ApiError> {
    let actor = caller.require(Role::Dpo)?;
    let bytes = super::lists::read_body(&st, body).await?;
    let req: SubjectRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let refs = st
        .app
        .pseudo
        .subject_refs(&crate::pseudo::household_identity(
            &req.nom,
            &req.prenom,
            &req.code_postal,
        ));
    let mut tx = st
        .app
        .store
        .begin()
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let entries = audit::query::by_subject(&mut tx, &refs)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let accesses: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "seq": e["seq"], "at": e["at"], "partner": e["partner"], "action": e["action"],
                "fields": e["fields"], "objects": e["objects"], "rows": e["rows"], "outcome": e["outcome"],
            })
        })
        .collect();
    let mut rec = actor.record("audit.subject", Outcome::Ok);
    rec.rows = Some(accesses.len() as u64);
    rec.subjects = refs;
    audit::append(&mut tx, &rec)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    tx.commit().await.map_err(|e| ApiError::internal(&e))?;
    let mut resp = Json(serde_json::json!({"accesses": accesses})).into_response();
    resp.extensions_mut().insert(Audited);
    Ok(resp)
}

/// `POST /v1/audit/checkpoint`: signs a checkpoint now (DPO, secretariat).
pub(super) async fn sign_now(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require_any(&[Role::Dpo, Role::Secretariat])?;
    let (size, note) = st
        .app
        .checkpoint()
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(serde_json::json!({"size": size, "checkpoint": note})).into_response())
}
