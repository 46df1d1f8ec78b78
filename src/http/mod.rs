//! The HTTPS API (CONTRACT.md "API (v1)"): routes, the guard every request
//! passes, and the mTLS server that feeds it.

mod audit;
mod caller;
mod circuit;
mod error;
mod guard;
mod lists;
mod meta;
mod outbox;
mod schemas;
mod server;

pub use caller::{Caller, Peer};
pub use error::{ApiError, Detail};
pub use server::{RunningServer, start};

use crate::app::App;
use axum::Router;
use axum::routing::{get, post};
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
    pub limiter: DefaultKeyedRateLimiter<String>,
    /// Longest a request may take.
    pub request_timeout: Duration,
}

/// The router, with the guard around every route (and around 404s).
pub fn router(app: Arc<App>) -> Router {
    let limits = &app.config.gateway.limits;
    let quota =
        Quota::per_minute(NonZeroU32::new(limits.requests_per_minute).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(limits.burst).unwrap_or(NonZeroU32::MIN));
    let state = Arc::new(HttpState {
        limiter: RateLimiter::keyed(quota),
        request_timeout: Duration::from_secs(app.config.gateway.server.request_timeout_secs),
        app,
    });
    Router::new()
        .route("/healthz", get(meta::healthz))
        .route("/v1/recipient", get(meta::recipient))
        .route("/v1/openapi.json", get(meta::openapi))
        .route("/v1/schemas", get(schemas::index))
        .route("/v1/schemas/{kind}", get(schemas::get))
        .route("/v1/lists", post(lists::upload).get(lists::index))
        .route("/v1/outbox", get(outbox::list))
        .route("/v1/outbox/{file_id}", get(outbox::download))
        .route("/v1/outbox/{file_id}/ack", post(outbox::ack))
        .route("/v1/lists/{list_id}/route", post(circuit::route_list))
        .route("/v1/returns", post(circuit::post_return))
        .route("/v1/returns/{return_id}", get(circuit::get_return_route))
        .route("/v1/concertations", post(circuit::open_concertation))
        .route("/v1/concertations/{id}", get(circuit::get_concertation))
        .route("/v1/concertations/{id}/decisions", post(circuit::decide))
        .route("/v1/alerts", get(circuit::alerts))
        .route("/v1/stats", get(circuit::stats))
        .route("/v1/audit", get(audit::list))
        .route(
            "/v1/audit/checkpoint",
            get(audit::checkpoint).post(audit::sign_now),
        )
        .route("/v1/audit/proof/consistency", get(audit::consistency))
        .route("/v1/audit/proof/inclusion", get(audit::inclusion))
        .route("/v1/audit/subject", post(audit::subject))
        .fallback(meta::not_found)
        .method_not_allowed_fallback(meta::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .with_state(state)
}
