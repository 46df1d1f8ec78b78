//! About the gateway itself: `GET /healthz`, `GET /v1/recipient`,
//! `GET /v1/openapi.json`, and the JSON 404 and 405.

use super::HttpState;
use super::caller::Caller;
use super::error::ApiError;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/recipient", get(recipient))
        .route("/v1/openapi.json", get(openapi))
}

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

/// The OpenAPI description of this API (kept in step with the router by
/// `tests/api/openapi.rs`).
pub const OPENAPI: &str = include_str!("openapi.json");

pub(super) async fn openapi(_caller: Caller) -> Response {
    let mut resp = OPENAPI.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// No route matches: a distinct code, so clients (and the OpenAPI test)
/// tell a wrong path from a missing object.
pub(super) async fn not_found() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "no_route",
        "no such route; see GET /v1/openapi.json",
    )
}

/// A known path with another method: JSON 405, like every other answer.
pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method; see GET /v1/openapi.json",
    )
}
