//! The HTTPS API (docs/convention.md "API (v1)"): one module per feature, each
//! with its routes (`router()`), merged here; the guard every request
//! passes; the mTLS server that feeds it. Handlers parse the request, call
//! the service layer (`circuit`) and map its answer to JSON: no rule, no
//! SQL.

mod alerts;
mod audit;
mod body;
mod caller;
mod concertations;
mod error;
mod guard;
mod lists;
mod meta;
mod outbox;
mod procedures;
mod returns;
mod schemas;
mod server;

pub use caller::{Caller, Peer};
pub use error::{ApiError, Detail};
pub use server::{ReloadError, ReloadHandle, RunningServer, start};

use crate::app::App;
use axum::Router;
use axum::routing::get;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// What handlers share.
#[derive(Debug)]
pub struct HttpState {
    /// The gateway.
    pub app: Arc<App>,
    /// Per-partner request limiter.
    pub limiter: DefaultKeyedRateLimiter<crate::domain::PartnerId>,
    /// Per-certificate request limiter (SHA-256 fingerprint), checked
    /// before the partner is looked at: certificates of no partner too.
    pub by_certificate: DefaultKeyedRateLimiter<String>,
    /// Refusals before authentication, audited in bounded form.
    pub refusals: guard::Refusals,
    /// Longest a request may take.
    pub request_timeout: Duration,
}

/// The router, with the guard around every route (and around 404s).
pub fn router(app: Arc<App>) -> Router {
    router_for(state(app))
}

/// The handlers' shared state.
pub(crate) fn state(app: Arc<App>) -> Arc<HttpState> {
    let limits = &app.config.gateway.limits;
    let quota =
        Quota::per_minute(NonZeroU32::new(limits.requests_per_minute).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(limits.burst).unwrap_or(NonZeroU32::MIN));
    Arc::new(HttpState {
        limiter: RateLimiter::keyed(quota),
        by_certificate: RateLimiter::keyed(quota),
        refusals: guard::Refusals::new(Duration::from_secs(
            limits.refused_log_interval_secs.max(1),
        )),
        request_timeout: Duration::from_secs(app.config.gateway.server.request_timeout_secs),
        app,
    })
}

/// The router over a given state.
pub(crate) fn router_for(state: Arc<HttpState>) -> Router {
    Router::new()
        .merge(meta::router())
        .route("/v1/schemas", get(schemas::index))
        .route("/v1/schemas/{kind}", get(schemas::get))
        .merge(lists::router())
        .merge(procedures::router())
        .merge(outbox::router())
        .merge(returns::router())
        .merge(concertations::router())
        .merge(alerts::router())
        .merge(audit::router())
        .fallback(meta::not_found)
        .method_not_allowed_fallback(meta::method_not_allowed)
        .layer(axum::middleware::from_fn(printable_path))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .layer(axum::middleware::map_response(never_a_page))
        .with_state(state)
}

/// Ids and names in paths are printable ASCII: a path that decodes to a
/// control character (a NUL the database would choke on) or to bytes that
/// are not UTF-8 names nothing here, and is answered 404 before any handler
/// (inside the guard, so the attempt is still audited).
async fn printable_path(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let decoded = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8();
    match decoded {
        Ok(p) if !p.chars().any(char::is_control) => next.run(req).await,
        _ => error::ApiError::not_found().into_response(),
    }
}

/// Every answer, refusals included: never sniffed into a page by a browser
/// (a file or an error quoting uploaded markup stays data), never cached.
async fn never_a_page(mut resp: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
