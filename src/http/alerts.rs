//! The secretariat's follow-up: `GET /v1/alerts`, `GET /v1/stats` (JSON,
//! or CSV when asked for).

use super::HttpState;
use super::body::query;
use super::caller::Caller;
use super::error::ApiError;
use super::guard::audited;
use crate::circuit::{alerts, figures};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/v1/alerts", get(list))
        .route("/v1/stats", get(stats))
}

pub(super) async fn list(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let today = time::OffsetDateTime::now_utc().date();
    Ok(audited(
        Json(alerts::alerts(&st.app, &caller.0, today).await?).into_response(),
    ))
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct Window {
    from: Option<String>,
    to: Option<String>,
    /// `judiciarisation`: the CSV of that table instead of the referents'.
    table: Option<String>,
}

pub(super) async fn stats(
    State(st): State<Arc<HttpState>>,
    caller: Caller,
    q: Result<Query<Window>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Refused before the query is read.
    figures::may_read(&caller.0)?;
    let q = query(q)?;
    let date = |d: Option<String>| {
        d.map(|d| crate::domain::parse_date(&d).map_err(ApiError::bad_request))
            .transpose()
    };
    let (from, to) = (date(q.from)?, date(q.to)?);
    let judiciarisation = match q.table.as_deref() {
        None | Some("attributions") => false,
        Some("judiciarisation") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "table must be attributions or judiciarisation (got {other:?})"
            )));
        }
    };
    let s = figures::stats(&st.app, &caller.0, from, to).await?;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        let csv = if judiciarisation {
            figures::judiciarisation_csv(&s.judiciarisation)
        } else {
            figures::to_csv(&s)
        };
        let mut r = csv.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        Ok(r)
    } else {
        Ok(Json(s).into_response())
    }
}
