//! Concertations: `POST /v1/concertations`, `GET /v1/concertations/{id}`,
//! `POST /v1/concertations/{id}/decisions`.

use super::HttpState;
use super::body::json_body;
use super::caller::Caller;
use super::error::ApiError;
use super::guard::audited;
use crate::circuit::concertation::{self, DecisionRequest};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/v1/concertations", post(open))
        .route("/v1/concertations/{id}", get(read))
        .route("/v1/concertations/{id}/decisions", post(decide))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OpenRequest {
    date: String,
}

pub(super) async fn open(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    body: Body,
) -> Result<Response, ApiError> {
    // Refused before the body is read.
    concertation::may_hold(&caller.0)?;
    let req: OpenRequest = json_body(&st, body).await?;
    let date = crate::domain::parse_date(&req.date).map_err(ApiError::bad_request)?;
    let agenda = concertation::open(&st.app, &caller.0, date).await?;
    Ok(audited((StatusCode::CREATED, Json(agenda)).into_response()))
}

pub(super) async fn read(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(audited(
        Json(concertation::get(&st.app, &caller.0, &id).await?).into_response(),
    ))
}

pub(super) async fn decide(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    // Refused before the body is read.
    concertation::may_hold(&caller.0)?;
    let req: DecisionRequest = json_body(&st, body).await?;
    Ok(audited(
        Json(concertation::decide(&st.app, &caller.0, &id, &req).await?).into_response(),
    ))
}
