//! Returns: `POST /v1/returns?kind=`, `GET /v1/returns/{return_id}`.

use super::HttpState;
use super::body::{media_type, open_file_body, query, spool_body};
use super::caller::Caller;
use super::error::ApiError;
use super::guard::audited;
use crate::circuit::returns::{self, ReturnOutcome};
use crate::ingest::intake::Encryption;
use crate::ingest::returns::ReturnKind;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/v1/returns", post(post_return))
        .route("/v1/returns/{return_id}", get(get_return))
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct KindQuery {
    kind: Option<String>,
}

pub(super) async fn post_return(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    q: Result<Query<KindQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let kind: ReturnKind = q
        .kind
        .as_deref()
        .ok_or_else(|| {
            ApiError::bad_request(
                "the kind query parameter (enrichment, referent or followup) is required",
            )
        })?
        .parse()
        .map_err(ApiError::bad_request)?;
    let input = spool_body(&st, body).await?;
    let plain = open_file_body(&st, input, media_type(&headers), Encryption::Required).await?;
    let (status, receipt) = match returns::accept_return(&st.app, &caller.0, kind, plain).await? {
        ReturnOutcome::Created(r) => (StatusCode::CREATED, r),
        ReturnOutcome::Duplicate(r) => (StatusCode::OK, r),
    };
    Ok(audited((status, Json(receipt)).into_response()))
}

pub(super) async fn get_return(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(audited(
        Json(returns::get_return(&st.app, &caller.0, &id).await?).into_response(),
    ))
}
