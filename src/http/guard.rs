//! The guard every request passes: the certificate must be within its rate
//! (by SHA-256 fingerprint, before any partner lookup, so certificates of no
//! partner too; else 429 with `Retry-After`), name one identity (else 403
//! `ambiguous_identity`) and map to a partner (else 403
//! `unknown_certificate`), the partner must be within its rate (else 429),
//! the request must finish in time (else 408); and every answer that no step
//! audited itself is written to the audit log here, before it leaves. If the
//! log cannot be written, the answer is a 500: no access goes unrecorded.
//!
//! Bounded: what an entry stores of the request is bounded (a long path is
//! cut, with its length and SHA-256), and refusals before authentication
//! are audited in full once per certificate, reason and interval, the
//! others of the interval counted into one summary entry
//! (`refused.summary`, its `rows` the count): a flood cannot grow the log
//! without limit.

use super::HttpState;
use super::caller::Peer;
use super::error::{ApiError, ErrorCode};
use crate::audit::{AuditRecord, Outcome, bounded};
use crate::circuit::Actor;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Refusals before authentication, by certificate (or address) and reason:
/// the first of an interval is audited in full, the next ones are counted
/// and summarised in one entry when the interval ends.
#[derive(Debug)]
pub struct Refusals {
    interval: Duration,
    windows: Mutex<HashMap<(String, String), Window>>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    counted: u64,
    first: AuditRecord,
}

impl Refusals {
    /// Windows of `interval`.
    pub fn new(interval: Duration) -> Refusals {
        Refusals {
            interval,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `rec`, a refusal for `key`, is to be written in full (the
    /// first of its key and reason in the interval); else it is counted.
    pub fn first_of_interval(&self, key: &str, rec: &AuditRecord) -> bool {
        let reason = rec.reason.clone().unwrap_or_default();
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(&(key.to_owned(), reason.clone())) {
            Some(w) => {
                w.counted += 1;
                false
            }
            None => {
                map.insert(
                    (key.to_owned(), reason),
                    Window {
                        started: Instant::now(),
                        counted: 0,
                        first: rec.clone(),
                    },
                );
                true
            }
        }
    }

    /// Closes the windows older than the interval (all with `all`): one
    /// summary record for each that counted refusals.
    fn close(&self, all: bool) -> Vec<AuditRecord> {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        map.retain(|_, w| {
            if !all && w.started.elapsed() < self.interval {
                return true;
            }
            if w.counted > 0 {
                let mut rec = AuditRecord::new("refused.summary", w.first.outcome);
                rec.objects = vec![format!("action:{}", w.first.action)];
                // The source address of refused handshakes (their key).
                rec.objects.extend(
                    w.first
                        .objects
                        .iter()
                        .filter(|o| o.starts_with("remote:"))
                        .cloned(),
                );
                rec.partner = w.first.partner.clone();
                rec.cert_sha256 = w.first.cert_sha256.clone();
                rec.status = w.first.status;
                rec.reason = w.first.reason.clone();
                rec.rows = Some(w.counted);
                out.push(rec);
            }
            false
        });
        out
    }
}

/// Writes the summaries of closed refusal windows, every interval, and of
/// all of them when the server stops.
pub(super) async fn summarise_refusals(
    st: Arc<super::HttpState>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(st.refusals.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let all = tokio::select! {
            _ = tick.tick() => false,
            _ = stopped.changed() => true,
        };
        for rec in st.refusals.close(all) {
            if let Err(e) = crate::circuit::audit_alone(&st.app, &rec).await {
                tracing::error!(error = %e, "cannot audit a summary of refusals");
            }
        }
        if all {
            break;
        }
    }
}

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
    let route = format!("{} {}", req.method(), bounded(req.uri().path()));
    let Some(peer) = req.extensions().get::<Peer>().cloned() else {
        return ApiError::internal(&"request without TLS peer").into_response();
    };
    let mut rec = AuditRecord::new("request", Outcome::Ok);
    rec.cert_sha256 = Some(peer.identity.sha256.clone());
    rec.route = Some(route.clone());
    rec.request_id = Some(request_id.clone());

    // Refused before any handler: audited in bounded form.
    let mut before_auth = true;
    let resp = if let Err(not_until) = st.by_certificate.check_key(&peer.identity.sha256) {
        tracing::warn!(remote = %peer.remote, cert = %peer.identity.sha256, "certificate over its request rate");
        rec.partner = peer.partner.as_ref().map(|p| p.id.to_string());
        rate_limited(not_until.wait_time_from(DefaultClock::default().now()))
    } else {
        match (&peer.identity.check_unambiguous(), &peer.partner) {
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
                        rate_limited(not_until.wait_time_from(DefaultClock::default().now()))
                    }
                    Ok(()) => {
                        before_auth = false;
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
        }
    };
    let resp = if resp.extensions().get::<Audited>().is_some() {
        resp
    } else {
        rec.answered(resp.status().as_u16());
        rec.reason = resp.extensions().get::<ErrorCode>().map(|c| c.0.to_owned());
        if before_auth && !st.refusals.first_of_interval(&peer.identity.sha256, &rec) {
            // Counted into the interval's summary entry.
            return finish(resp, &request_id, &rec, &route);
        }
        match crate::circuit::audit_alone(&st.app, &rec).await {
            Ok(()) => resp,
            Err(e) => ApiError::from(e).into_response(),
        }
    };
    finish(resp, &request_id, &rec, &route)
}

fn rate_limited(wait: Duration) -> Response {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many requests; retry after the delay in Retry-After",
    );
    e.retry_after = Some(wait.as_secs() + 1);
    e.into_response()
}

fn finish(mut resp: Response, request_id: &str, rec: &AuditRecord, route: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
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
