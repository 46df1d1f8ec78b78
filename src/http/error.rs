//! The API's one error type: JSON, always the same shape, a stable code
//! (docs/convention.md "Errors"). The public message never carries internals or
//! personal data; causes of 500s go to the log only.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One detail line (a bad row, a missing column).
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    /// The line in the file, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The column, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// An API error.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine code.
    pub code: &'static str,
    /// Human message.
    pub message: String,
    /// Details.
    pub details: Vec<Detail>,
    /// Seconds to wait, for 429 and 503.
    pub retry_after: Option<u64>,
    /// When `details` lists only the first errors: how many there are in
    /// all.
    pub details_total: Option<usize>,
}

/// The `Retry-After` of a 503 `unavailable`, in seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 10;

/// The error code of a response, for the audit layer.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl ApiError {
    /// A new error without details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            details_total: None,
        }
    }

    /// 403 for a route outside the caller's roles.
    pub fn forbidden_role(role: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this route needs the role {role}, which your partner configuration does not hold"
            ),
        )
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 404.
    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such resource for you",
        )
    }

    /// 503 `unavailable` with `Retry-After`, after logging the cause: the
    /// disk is full or the database cannot be reached; nothing was stored.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::warn!(error = %cause, "storage unavailable");
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the gateway's storage is unavailable for now (disk full or database unreachable); \
             nothing was stored; retry after the delay in Retry-After",
        );
        e.retry_after = Some(UNAVAILABLE_RETRY_AFTER_SECS);
        e
    }

    /// 500, after logging the cause.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the gateway could not complete the request; nothing was stored",
        )
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[Detail]>::is_empty")]
    details: &'a [Detail],
    /// Present (true) when `details` lists only the first errors.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    details_truncated: bool,
    /// Every error counted, when `details` is truncated.
    #[serde(skip_serializing_if = "Option::is_none")]
    details_total: Option<usize>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(Body {
                error: Inner {
                    code: self.code,
                    message: &self.message,
                    details: &self.details,
                    details_truncated: self.details_total.is_some(),
                    details_total: self.details_total,
                },
            }),
        )
            .into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp.extensions_mut().insert(ErrorCode(self.code));
        resp
    }
}

/// Details naming each refused row by its line (0: none) and token.
fn with_token_lines(mut err: ApiError, lines: Vec<(u64, String, String)>) -> ApiError {
    err.details = lines
        .into_iter()
        .map(|(line, token, why)| Detail {
            line: (line > 0).then_some(line),
            column: Some("token".into()),
            message: format!("{token}: {why}"),
        })
        .collect();
    err
}

impl From<crate::ingest::FileError> for ApiError {
    /// A refused file (a list or a return), from its envelope to its rows.
    fn from(e: crate::ingest::FileError) -> ApiError {
        use crate::ingest::envelope::OpenError;
        use crate::ingest::{FileError as F, TableError};
        match e {
            F::InvalidRows(rows) => {
                let n = rows.rows();
                let listed = if rows.truncated() {
                    format!(
                        " ({} errors; the first {} are listed)",
                        rows.total(),
                        rows.len()
                    )
                } else {
                    String::new()
                };
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_rows",
                    format!(
                        "{n} row{} invalid{listed}; nothing was stored",
                        if n == 1 { " is" } else { "s are" }
                    ),
                );
                err.details_total = rows.truncated().then(|| rows.total());
                err.details = rows
                    .into_iter()
                    .map(|r| Detail {
                        line: Some(r.line),
                        column: r.column,
                        message: r.message,
                    })
                    .collect();
                err
            }
            F::MissingColumns(cols) => {
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "missing_columns",
                    format!(
                        "missing required columns: {}; nothing was stored",
                        cols.join(", ")
                    ),
                );
                err.details = cols
                    .into_iter()
                    .map(|c| Detail {
                        line: Some(1),
                        message: format!("{c} is required"),
                        column: Some(c),
                    })
                    .collect();
                err
            }
            F::Table(t @ TableError::Storage(_)) => ApiError::internal(&t),
            F::Table(
                t @ (TableError::TooManyRows { .. }
                | TableError::XlsxTooLarge { .. }
                | TableError::XlsxTooManyCells { .. }
                | TableError::XlsxTooMuchText { .. }),
            ) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("{t}; nothing was stored"),
            ),
            F::Table(t) => {
                let line = match &t {
                    TableError::MixedEncoding { line, .. } | TableError::Csv { line, .. } => {
                        Some(*line)
                    }
                    _ => None,
                };
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unreadable_file",
                    format!("{t}; nothing was stored"),
                );
                if let Some(line) = line {
                    err.details = vec![Detail {
                        line: Some(line),
                        column: None,
                        message: t.to_string(),
                    }];
                }
                err
            }
            F::NotEncrypted => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                e.to_string(),
            ),
            F::Envelope(o @ OpenError::Storage(_)) => ApiError::internal(&o),
            F::NotAge | F::Envelope(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "undecryptable", e.to_string())
            }
        }
    }
}

impl From<crate::circuit::CircuitError> for ApiError {
    fn from(e: crate::circuit::CircuitError) -> ApiError {
        use crate::circuit::CircuitError as C;
        match e {
            C::File(f) => f.into(),
            C::OtherPeriod { .. } => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            C::NotYourCase { message, lines } => with_token_lines(
                ApiError::new(StatusCode::FORBIDDEN, "not_your_case", message),
                lines,
            ),
            C::Conflict { message, lines } => with_token_lines(
                ApiError::new(StatusCode::CONFLICT, "conflict", message),
                lines,
            ),
            C::BadRequest(m) => ApiError::bad_request(m),
            C::Forbidden(roles) => ApiError::forbidden_role(&roles),
            C::NotFound => ApiError::not_found(),
            other if crate::store::unavailable_cause(&other) => ApiError::unavailable(&other),
            other => ApiError::internal(&other),
        }
    }
}
