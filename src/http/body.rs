//! Request bodies: read within the configured limit (in memory for small
//! JSON and returns, spooled to a temporary file for lists), their media
//! type, JSON decoding.

use super::HttpState;
use super::error::ApiError;
use crate::ingest::intake::{Encryption, open_body};
use crate::ingest::{Spool, SpoolError};
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};

/// Media types a list may come in.
pub const CSV: &str = "text/csv";
/// XLSX.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// age.
pub const AGE: &str = "application/age";

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
            other if crate::store::unavailable_cause(&other) => ApiError::unavailable(&other),
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

/// Reads a JSON body (400 when it is not the expected shape).
pub(super) async fn json_body<T: serde::de::DeserializeOwned>(
    st: &HttpState,
    body: Body,
) -> Result<T, ApiError> {
    serde_json::from_slice(&read_body(st, body).await?)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// A query string, or 400.
pub(super) fn query<T>(
    q: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|axum::extract::Query(q)| q)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}
