//! The guard every request passes: the certificate must name one identity
//! (else 403 `ambiguous_identity`) and map to a partner (else 403
//! `unknown_certificate`), the partner must be within its rate (else 429 with
//! `Retry-After`), the request must finish in time (else 408); and every
//! answer that no step audited itself is written to the audit log here,
//! before it leaves. If the log cannot be written, the answer is a 500:
//! no access goes unrecorded.

use super::HttpState;
use super::caller::Peer;
use super::error::{ApiError, ErrorCode};
use crate::audit::{self, AuditRecord, Outcome};
use crate::circuit::Actor;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use std::sync::Arc;

/// Marks a response whose action wrote its own audit entries in its
/// transaction.
#[derive(Debug, Clone, Copy)]
pub struct Audited;

/// Marks `r` as audited by its action (see [`Audited`]).
pub(super) fn audited(mut r: Response) -> Response {
    r.extensions_mut().insert(Audited);
    r
}

/// The middleware.
pub async fn guard(State(st): State<Arc<HttpState>>, mut req: Request, next: Next) -> Response {
    let request_id = crate::util::new_id("req");
    let route = format!("{} {}", req.method(), req.uri().path());
    let Some(peer) = req.extensions().get::<Peer>().cloned() else {
        return ApiError::internal(&"request without TLS peer").into_response();
    };
    let mut rec = AuditRecord::new("request", Outcome::Ok);
    rec.cert_sha256 = Some(peer.identity.sha256.clone());
    rec.route = Some(route.clone());
    rec.request_id = Some(request_id.clone());

    let resp = match (&peer.identity.check_unambiguous(), &peer.partner) {
        // Before any partner match, even a pinned fingerprint: a subject that
        // names two parties is refused, whoever it might also pass for.
        (Err(ambiguous), _) => {
            tracing::warn!(remote = %peer.remote, cert = %peer.identity.sha256, reason = %ambiguous, "certificate of ambiguous identity");
            ApiError::new(
                StatusCode::FORBIDDEN,
                "ambiguous_identity",
                "this certificate's subject names more than one identity (e.g. two common names); it is refused",
            )
            .into_response()
        }
        (Ok(()), None) => {
            tracing::warn!(remote = %peer.remote, cert = %peer.identity.sha256, "valid certificate of no partner");
            ApiError::new(
                StatusCode::FORBIDDEN,
                "unknown_certificate",
                "this certificate belongs to no partner of the gateway",
            )
            .into_response()
        }
        (Ok(()), Some(partner)) => {
            rec.partner = Some(partner.id.to_string());
            match st.limiter.check_key(&partner.id) {
                Err(not_until) => {
                    let wait = not_until.wait_time_from(DefaultClock::default().now());
                    let mut e = ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "rate_limited",
                        "too many requests; retry after the delay in Retry-After",
                    );
                    e.retry_after = Some(wait.as_secs() + 1);
                    e.into_response()
                }
                Ok(()) => {
                    req.extensions_mut().insert(Actor::new(
                        partner.clone(),
                        peer.identity.sha256.clone(),
                        request_id.clone(),
                        route.clone(),
                    ));
                    match tokio::time::timeout(st.request_timeout, next.run(req)).await {
                        Ok(r) => r,
                        Err(_) => ApiError::new(
                            StatusCode::REQUEST_TIMEOUT,
                            "timeout",
                            "the request took too long; nothing was stored",
                        )
                        .into_response(),
                    }
                }
            }
        }
    };
    let mut resp = if resp.extensions().get::<Audited>().is_some() {
        resp
    } else {
        let status = resp.status();
        rec.status = Some(status.as_u16());
        rec.outcome = if status.is_success() {
            Outcome::Ok
        } else if status.is_server_error() {
            Outcome::Error
        } else {
            Outcome::Refused
        };
        rec.reason = resp.extensions().get::<ErrorCode>().map(|c| c.0.to_owned());
        match write(&st, &rec).await {
            Ok(()) => resp,
            Err(e) => ApiError::from(e).into_response(),
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    tracing::info!(
        request = %request_id,
        partner = rec.partner.as_deref().unwrap_or("-"),
        route = %route,
        status = resp.status().as_u16(),
        "answered"
    );
    resp
}

async fn write(st: &HttpState, rec: &AuditRecord) -> Result<(), crate::circuit::CircuitError> {
    let mut tx = st.app.store.begin().await?;
    audit::append(&mut tx, rec).await?;
    tx.commit().await?;
    Ok(())
}
