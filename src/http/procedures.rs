//! Procedure events from EXPLOC: `POST /v1/procedures` (upload),
//! `GET /v1/procedures/{procedures_id}` (what became of each line).

use super::HttpState;
use super::body::{open_file_body, query, spool_body};
use super::caller::Caller;
use super::error::ApiError;
use super::guard::audited;
use super::lists::{PeriodQuery, table_media_type};
use crate::circuit::procedures::{self, ProceduresOutcome};
use crate::ingest::intake::Encryption;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/v1/procedures", post(upload))
        .route("/v1/procedures/{procedures_id}", get(detail))
}

pub(super) async fn upload(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Refused before the body is taken in.
    procedures::may_upload(&caller.0)?;
    let period = query(q)?.required()?;
    let mt = table_media_type(&headers, "the procedure events")?;
    let input = spool_body(&st, body).await?;
    let plaintext = open_file_body(&st, input, mt, Encryption::Optional).await?;
    let (status, receipt) =
        match procedures::accept_procedures(&st.app, &caller.0, period, plaintext).await? {
            ProceduresOutcome::Created(r) => (StatusCode::CREATED, r),
            ProceduresOutcome::Duplicate(r) => (StatusCode::OK, r),
        };
    Ok(audited((status, Json(receipt)).into_response()))
}

pub(super) async fn detail(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(audited(
        Json(procedures::detail(&st.app, &caller.0, &id).await?).into_response(),
    ))
}
