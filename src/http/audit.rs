//! The log's routes: `GET /v1/audit/checkpoint` (and `POST` to sign one
//! now), proofs for every partner (the partners are the log's witnesses),
//! the DPO's `GET /v1/audit` and `POST /v1/audit/subject`.

use super::HttpState;
use super::body::{json_body, query};
use super::caller::Caller;
use super::error::ApiError;
use super::guard::audited;
use crate::audit::query::Filter;
use crate::circuit::dpo::{self, SubjectQuery};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/v1/audit", get(list))
        .route("/v1/audit/checkpoint", get(checkpoint).post(sign_now))
        .route("/v1/audit/proof/consistency", get(consistency))
        .route("/v1/audit/proof/inclusion", get(inclusion))
        .route("/v1/audit/subject", post(subject))
}

/// `GET /v1/audit/checkpoint`: the latest signed checkpoint (signed now if
/// the log grew since the last one).
pub(super) async fn checkpoint(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    Ok(Json(dpo::checkpoint(&st.app, &caller.0).await?).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct ConsistencyQuery {
    from: u64,
    to: u64,
}

/// `GET /v1/audit/proof/consistency?from=&to=`.
pub(super) async fn consistency(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    q: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    Ok(Json(dpo::consistency(&st.app, &caller.0, q.from, q.to).await?).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct InclusionQuery {
    index: u64,
    size: u64,
}

/// `GET /v1/audit/proof/inclusion?index=&size=`.
pub(super) async fn inclusion(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    q: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    Ok(Json(dpo::inclusion(&st.app, &caller.0, q.index, q.size).await?).into_response())
}

/// `GET /v1/audit`: the DPO's filtered view, newest first.
pub(super) async fn list(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    // Refused before the filter is read.
    dpo::may_query(&caller.0)?;
    let f = query(q)?;
    Ok(Json(dpo::audit_log(&st.app, &caller.0, &f).await?).into_response())
}

/// `POST /v1/audit/subject`: every access to one household's data.
pub(super) async fn subject(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    body: Body,
) -> Result<Response, ApiError> {
    // Refused before the body is read.
    dpo::may_query(&caller.0)?;
    let req: SubjectQuery = json_body(&st, body).await?;
    Ok(audited(
        Json(dpo::subject_access(&st.app, &caller.0, &req).await?).into_response(),
    ))
}

/// `POST /v1/audit/checkpoint`: signs a checkpoint now (DPO, secretariat).
pub(super) async fn sign_now(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    Ok(Json(dpo::sign_now(&st.app, &caller.0).await?).into_response())
}
