//! Outbox: `GET /v1/outbox`, `GET /v1/outbox/{file_id}`,
//! `POST /v1/outbox/{file_id}/ack`.

use super::HttpState;
use super::caller::Caller;
use super::error::ApiError;
use super::guard::audited;
use crate::circuit::outbox;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/v1/outbox", get(list))
        .route("/v1/outbox/{file_id}", get(download))
        .route("/v1/outbox/{file_id}/ack", post(ack))
}

pub(super) async fn list(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let files = outbox::waiting(&st.app, &caller.0).await?;
    Ok(audited(Json(files).into_response()))
}

pub(super) async fn download(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(file_id): Path<String>,
) -> Result<Response, ApiError> {
    let meta = outbox::download(&st.app, &caller.0, &file_id).await?;
    // Streamed from the store chunk by chunk; a failure midway cuts the
    // body short of its Content-Length, which every client notices (and
    // age refuses a truncated file).
    let chunks = outbox::body(&st.app, file_id);
    let mut resp = axum::body::Body::from_stream(chunks).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/age"),
    );
    let name = format!(
        "{}-{}-{}.{}.age",
        meta.period, meta.kind, meta.file_id, meta.format
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&meta.sha256) {
        h.insert("x-content-sha256", v);
    }
    Ok(audited(resp))
}

pub(super) async fn ack(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(file_id): Path<String>,
) -> Result<Response, ApiError> {
    outbox::ack(&st.app, &caller.0, &file_id).await?;
    Ok(audited(StatusCode::NO_CONTENT.into_response()))
}
