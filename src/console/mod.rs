//! The console: the people's pages (docs/convention.md "The console"), on
//! a listener of their own, over the same service layer as the API.
//!
//! A person signs in with a personal certificate of the partner CA
//! (presented by the browser: a session starts at once) or through the
//! OpenID Connect provider of `[console.oidc]` (ProConnect), and is known
//! by `people.toml`; the session lives in the database (`console_sessions`),
//! ends after the configured idle delay or on sign-out. Every page served
//! and every action is audited with the person beside the partner. Pages
//! are server-rendered French HTML (maud), readable without JavaScript and
//! with no script at all; the only asset, the stylesheet, is compiled into
//! the binary. Every POST form carries the session's `csrf` token.
//!
//! Handlers parse the form, call `circuit` and render: no rule, no SQL.

mod accueil;
mod alertes;
mod chiffres;
mod concertations;
mod dossiers;
mod journal;
mod listes;
pub mod oidc;
mod page;
mod perimetre;
mod session;

pub use session::{COOKIE, Signed};

use crate::app::App;
use crate::tls::PeerIdentity;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// The TLS peer of a console connection: the personal certificate, when
/// the browser presented one (verified against the partner CA and CRLs).
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The verified certificate, if any.
    pub identity: Option<Arc<PeerIdentity>>,
    /// The remote address.
    pub remote: SocketAddr,
}

/// What the console's handlers share.
#[derive(Debug)]
pub struct ConsoleState {
    /// The gateway.
    app: Arc<App>,
    /// How long a request may take (the API's `request_timeout_secs`).
    request_timeout: std::time::Duration,
    /// Requests per person, and per source address before sign-in: the
    /// API's quota.
    limiter: DefaultKeyedRateLimiter<String>,
    /// The OpenID Connect provider, when `[console.oidc]` names one.
    oidc: Option<Arc<oidc::OidcClient>>,
}

impl ConsoleState {
    /// The gateway.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }
}

/// The `Content-Security-Policy` of every answer: nothing but the
/// console's own stylesheet and forms; no script at all.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Largest body of an ordinary form (a list upload takes up to the API's
/// `max_body_bytes`).
const FORM_BODY_BYTES: usize = 256 * 1024;

/// The console's router over the gateway, with its OpenID provider if
/// any; requests time out as the API's.
pub fn router(
    app: Arc<App>,
    request_timeout: std::time::Duration,
    oidc: Option<Arc<oidc::OidcClient>>,
) -> Router {
    let limits = &app.config.gateway.limits;
    let quota =
        Quota::per_minute(NonZeroU32::new(limits.requests_per_minute).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(limits.burst).unwrap_or(NonZeroU32::MIN));
    let upload_limit = limits.max_body_bytes;
    let st = Arc::new(ConsoleState {
        limiter: RateLimiter::keyed(quota),
        app,
        request_timeout,
        oidc,
    });
    Router::new()
        .route("/", get(accueil::page))
        .route("/connexion", get(session::sign_in_page))
        .route("/connexion/oidc", get(session::oidc_start))
        .route("/connexion/retour", get(session::oidc_return))
        .route("/deconnexion", post(session::sign_out))
        .route("/console.css", get(stylesheet))
        .route(
            "/listes",
            get(listes::page)
                .post(listes::upload)
                .layer(DefaultBodyLimit::max(
                    upload_limit.saturating_add(64 * 1024),
                )),
        )
        .route("/listes/{list_id}/retrait", post(listes::withdraw))
        .route(
            "/concertations",
            get(concertations::index).post(concertations::open),
        )
        .route("/concertations/{id}", get(concertations::show))
        .route("/concertations/{id}/decisions", post(concertations::decide))
        .route("/perimetre", get(perimetre::page).post(perimetre::answer))
        .route("/dossiers", get(dossiers::page))
        .route("/dossiers/evenement", post(dossiers::record))
        .route("/alertes", get(alertes::page))
        .route("/journal", get(journal::page))
        .route("/journal/personne", post(journal::subject))
        .route("/journal/rapport", get(journal::report))
        .route("/journal/export", get(journal::export))
        .route("/registre", get(journal::register))
        .route("/registre.html", get(journal::register_file))
        .route("/registre.md", get(journal::register_file))
        .route("/chiffres", get(chiffres::page))
        .route("/chiffres.csv", get(chiffres::csv))
        .fallback(page::not_found)
        .layer(DefaultBodyLimit::max(FORM_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            st.clone(),
            session::guard,
        ))
        .layer(axum::middleware::map_response(headers))
        .with_state(st)
}

/// Every answer: the CSP, never sniffed, framed or cached, no referrer.
async fn headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// The stylesheet, compiled into the binary (the console works offline).
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("console.css"),
    )
        .into_response()
}
