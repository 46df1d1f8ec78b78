//! Lists: `POST /v1/lists` (upload), `GET /v1/lists`,
//! `DELETE /v1/lists/{list_id}` (withdrawal), `POST /v1/lists/{list_id}/route`.

use super::HttpState;
use super::body::{AGE, CSV, XLSX, media_type, open_file_body, query, spool_body};
use super::caller::Caller;
use super::error::ApiError;
use super::guard::audited;
use crate::circuit::lists::{self, ListOutcome};
use crate::domain::Period;
use crate::ingest::intake::Encryption;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/v1/lists", post(upload).get(index))
        .route("/v1/lists/{list_id}", delete(withdraw))
        .route("/v1/lists/{list_id}/route", post(route_list))
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct PeriodQuery {
    period: Option<String>,
}

impl PeriodQuery {
    /// The `period` given, required.
    pub(super) fn required(&self) -> Result<Period, ApiError> {
        self.period
            .as_deref()
            .ok_or_else(|| {
                ApiError::bad_request("the period query parameter (AAAA-MM) is required")
            })
            .and_then(|p| Period::parse(p).map_err(ApiError::bad_request))
    }
}

/// The media type of a table sent by the source (`what`: "the list"…):
/// CSV, XLSX or an age envelope; anything else 415.
pub(super) fn table_media_type(headers: &HeaderMap, what: &str) -> Result<String, ApiError> {
    let mt = media_type(headers);
    if [CSV, XLSX, AGE].contains(&mt.as_str()) {
        Ok(mt)
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send {what} as {CSV}, {XLSX} or {AGE}"),
        ))
    }
}

pub(super) async fn upload(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Refused before the body is taken in.
    lists::may_upload(&caller.0)?;
    let period = query(q)?.required()?;
    let mt = table_media_type(&headers, "the list")?;
    let input = spool_body(&st, body).await?;
    let plaintext = open_file_body(&st, input, mt, Encryption::Optional).await?;
    let outcome = lists::accept_list(&st.app, &caller.0, period, plaintext).await?;
    let (status, receipt) = match outcome {
        ListOutcome::Created(r) => (StatusCode::CREATED, r),
        ListOutcome::Duplicate(r) => (StatusCode::OK, r),
    };
    Ok(audited((status, Json(receipt)).into_response()))
}

pub(super) async fn index(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    Ok(Json(lists::all(&st.app, &caller.0).await?).into_response())
}

pub(super) async fn route_list(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(audited(
        Json(lists::route_list(&st.app, &caller.0, &id).await?).into_response(),
    ))
}

pub(super) async fn withdraw(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(audited(
        Json(lists::withdraw_list(&st.app, &caller.0, &id).await?).into_response(),
    ))
}
