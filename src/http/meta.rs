//! `GET /healthz`, `GET /v1/recipient`, and the JSON 404.

use super::HttpState;
use super::caller::Caller;
use super::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub(super) async fn healthz(_caller: Caller) -> Response {
    Json(serde_json::json!({"status": "ok"})).into_response()
}

pub(super) async fn recipient(State(st): State<Arc<HttpState>>, _caller: Caller) -> Response {
    let mut resp = format!("{}\n", st.app.recipient()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

pub(super) async fn not_found() -> ApiError {
    ApiError::not_found()
}
