//! `POST /v1/lists`, `GET /v1/lists`.

use super::HttpState;
use super::caller::Caller;
use super::error::ApiError;
use super::guard::Audited;
use crate::circuit::lists::{ListOutcome, accept_list};
use crate::config::Role;
use crate::domain::Period;
use crate::ingest::intake::{Encryption, open_body};
use crate::ingest::{Spool, SpoolError};
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Media types a list may come in.
pub const CSV: &str = "text/csv";
/// XLSX.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// age.
pub const AGE: &str = "application/age";

#[derive(Debug, serde::Deserialize)]
pub(super) struct PeriodQuery {
    period: Option<String>,
}

/// Reads a body up to the configured limit, in memory.
pub(super) async fn read_body(st: &HttpState, body: Body) -> Result<Vec<u8>, ApiError> {
    let limit = st.app.config.gateway.limits.max_body_bytes;
    axum::body::to_bytes(body, limit)
        .await
        // `Bytes` → `Vec` without a copy when the buffer is uniquely owned.
        .map(Vec::from)
        .map_err(|_| too_large(limit))
}

/// 413 for a body over `limit` bytes (or cut by the client).
fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the body exceeds {limit} bytes (or was cut); nothing was stored"),
    )
}

/// Streams a body into an unnamed temporary file of the spool folder, up
/// to the configured limit (same answers as [`read_body`]).
pub(super) async fn spool_body(st: &HttpState, body: Body) -> Result<Spool, ApiError> {
    let limit = st.app.config.gateway.limits.max_body_bytes;
    Spool::from_body(body, &st.app.spool_dir(), limit)
        .await
        .map_err(|e| match e {
            SpoolError::TooLarge { .. } | SpoolError::Cut => too_large(limit),
            other => ApiError::internal(&other),
        })
}

/// Opens a spooled file body (lists and returns alike): decrypts an age
/// envelope into a temporary file, off the async threads.
pub(super) async fn open_file_body(
    st: &HttpState,
    input: Spool,
    media_type: String,
    encryption: Encryption,
) -> Result<Spool, ApiError> {
    let app = st.app.clone();
    tokio::task::spawn_blocking(move || {
        open_body(
            input,
            &media_type,
            encryption,
            &app.identity,
            app.config.gateway.limits.max_body_bytes,
            &app.spool_dir(),
        )
    })
    .await
    .expect("the decryption task does not panic")
    .map_err(ApiError::from)
}

/// The media type, without parameters.
pub(super) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

pub(super) async fn upload(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let actor = caller.require(Role::Source)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let period = q
        .period
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("the period query parameter (AAAA-MM) is required"))
        .and_then(|p| Period::parse(p).map_err(ApiError::bad_request))?;
    let mt = media_type(&headers);
    if ![CSV, XLSX, AGE].contains(&mt.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the list as {CSV}, {XLSX} or {AGE}"),
        ));
    }
    let input = spool_body(&st, body).await?;
    let plaintext = open_file_body(&st, input, mt, Encryption::Optional).await?;
    let outcome = accept_list(&st.app, actor, period, plaintext).await?;
    let (status, receipt) = match outcome {
        ListOutcome::Created(r) => (StatusCode::CREATED, r),
        ListOutcome::Duplicate(r) => (StatusCode::OK, r),
    };
    let mut resp = (status, Json(receipt)).into_response();
    resp.extensions_mut().insert(Audited);
    Ok(resp)
}

pub(super) async fn index(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require_any(&[Role::Source, Role::Secretariat])?;
    let lists = crate::store::lists::all(st.app.store.pool())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(lists).into_response())
}
