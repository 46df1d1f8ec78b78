//! The monthly circuit's routes: returns, routing a list, concertations,
//! alerts, figures.

use super::HttpState;
use super::caller::Caller;
use super::error::ApiError;
use super::guard::Audited;
use super::lists::{open_file_body, read_body, spool_body};
use crate::circuit::concertation::{self, DecisionRequest};
use crate::circuit::returns::{ReturnOutcome, accept_return, get_return};
use crate::config::Role;
use crate::ingest::intake::Encryption;
use crate::ingest::returns::ReturnKind;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

fn audited(mut r: Response) -> Response {
    r.extensions_mut().insert(Audited);
    r
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
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
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
    let media_type = super::lists::media_type(&headers);
    let plain = open_file_body(&st, input, media_type, Encryption::Required).await?;
    let (status, receipt) = match accept_return(&st.app, &caller.0, kind, plain).await? {
        ReturnOutcome::Created(r) => (StatusCode::CREATED, r),
        ReturnOutcome::Duplicate(r) => (StatusCode::OK, r),
    };
    Ok(audited((status, Json(receipt)).into_response()))
}

pub(super) async fn get_return_route(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(audited(
        Json(get_return(&st.app, &caller.0, &id).await?).into_response(),
    ))
}

pub(super) async fn route_list(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.require(Role::Secretariat)?;
    Ok(audited(
        Json(concertation::route_list(&st.app, actor, &id).await?).into_response(),
    ))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OpenRequest {
    date: String,
}

fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

pub(super) async fn open_concertation(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    body: Body,
) -> Result<Response, ApiError> {
    let actor = caller.require(Role::Secretariat)?;
    let req: OpenRequest = json_body(&read_body(&st, body).await?)?;
    let date = crate::domain::parse_date(&req.date).map_err(ApiError::bad_request)?;
    let (id, agenda) = concertation::open(&st.app, actor, date).await?;
    Ok(audited(
        (
            StatusCode::CREATED,
            Json(serde_json::json!({"concertation_id": id, "date": date.to_string(), "agenda": agenda})),
        )
            .into_response(),
    ))
}

pub(super) async fn get_concertation(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.require(Role::Secretariat)?;
    Ok(audited(
        Json(concertation::get(&st.app, actor, &id).await?).into_response(),
    ))
}

pub(super) async fn decide(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let actor = caller.require(Role::Secretariat)?;
    let req: DecisionRequest = json_body(&read_body(&st, body).await?)?;
    Ok(audited(
        Json(concertation::decide(&st.app, actor, &id, &req).await?).into_response(),
    ))
}

pub(super) async fn alerts(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let actor = caller.require(Role::Secretariat)?;
    let today = time::OffsetDateTime::now_utc().date();
    Ok(audited(
        Json(concertation::alerts(&st.app, actor, today).await?).into_response(),
    ))
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct Window {
    from: Option<String>,
    to: Option<String>,
}

pub(super) async fn stats(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    q: Result<Query<Window>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_any(&[Role::Secretariat, Role::Dpo])?;
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let from = crate::domain::parse_date(q.from.as_deref().unwrap_or("2000-01-01"))
        .map_err(ApiError::bad_request)?;
    let to = match q.to.as_deref() {
        Some(t) => crate::domain::parse_date(t).map_err(ApiError::bad_request)?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let s = crate::stats::compute(st.app.store.pool(), from, to)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        let mut r = crate::stats::to_csv(&s).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        Ok(r)
    } else {
        Ok(Json(s).into_response())
    }
}
