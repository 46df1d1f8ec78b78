//! `GET /v1/schemas` and `GET /v1/schemas/{kind}` (docs/convention.md,
//! "Machine-readable schemas"): the schemas of `policy::schema`, answered
//! as JSON. Audited by the guard, like any request.

use super::HttpState;
use super::caller::Caller;
use super::error::ApiError;
use crate::policy::schema::{self, Schema};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

fn json_answer(body: Response) -> Response {
    let mut resp = body;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// `GET /v1/schemas`: the kinds, each with its title and where to get it.
pub(super) async fn index(State(st): State<Arc<HttpState>>, _caller: Caller) -> Response {
    let kinds: Vec<Value> = schema::all(&st.app.config.policy)
        .into_iter()
        .map(|(kind, direction, schema)| {
            json!({
                "kind": kind,
                "direction": direction,
                "title": schema["title"],
                "href": format!("/v1/schemas/{kind}"),
            })
        })
        .collect();
    json_answer(Json(json!({ "schemas": kinds })).into_response())
}

/// `GET /v1/schemas/{kind}`: one schema; 404 `not_found` for another kind.
pub(super) async fn get(
    State(st): State<Arc<HttpState>>,
    _caller: Caller,
    Path(kind): Path<String>,
) -> Result<Response, ApiError> {
    match schema::one(&st.app.config.policy, &kind) {
        Some(Schema::Committed(text)) => Ok(json_answer(text.into_response())),
        Some(Schema::Built(value)) => Ok(json_answer(Json(value).into_response())),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no schema of that kind; GET /v1/schemas lists them",
        )),
    }
}
