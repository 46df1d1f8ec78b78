//! Who is at the console: sessions (in the database, named by the SHA-256
//! of their cookie), the sign-in with a personal certificate (a session
//! starts at once, no click), the idle delay, sign-out, the CSRF token of
//! every form, and the audit entry of every page.

use super::page;
use super::{ConsoleState, Visitor};
use crate::audit::{self, AuditRecord, Outcome};
use crate::circuit::Actor;
use crate::config::PersonEntry;
use crate::store::console::{self as sessions, Session, SignInMethod};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// The session cookie's name. `__Host-`: the browser keeps it only if it
/// is `Secure`, for this host alone and the whole path.
pub const COOKIE: &str = "__Host-passerelle";

/// A signed-in person, as the handlers get them.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The person, acting for their partner with their own roles.
    pub actor: Actor,
    /// Their entry of `people.toml`.
    pub person: Arc<PersonEntry>,
    /// The session's CSRF token (the hidden `csrf` input of every form).
    pub csrf: String,
}

impl Signed {
    /// Refuses a form whose `csrf` is not the session's (compared in
    /// constant time).
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), page::Refusal> {
        use subtle::ConstantTimeEq;
        let ok = given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(self.csrf.as_bytes())));
        if ok {
            Ok(())
        } else {
            Err(page::Refusal::csrf())
        }
    }

    /// [`Signed::check_csrf`] on the `csrf` field of a form read as its
    /// list of fields.
    pub fn check_csrf_in(&self, fields: &[(String, String)]) -> Result<(), page::Refusal> {
        self.check_csrf(
            fields
                .iter()
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v.as_str()),
        )
    }
}

impl FromRequestParts<Arc<ConsoleState>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &Arc<ConsoleState>,
    ) -> Result<Self, Response> {
        parts.extensions.get::<Signed>().cloned().ok_or_else(|| {
            // The guard lets only the sign-in page and the stylesheet
            // through without a person.
            Redirect::to("/connexion").into_response()
        })
    }
}

/// Marks an answer whose action wrote its own audit entries.
#[derive(Debug, Clone, Copy)]
pub(super) struct Audited;

/// Marks `r` as audited by its action.
pub(super) fn audited(mut r: Response) -> Response {
    r.extensions_mut().insert(Audited);
    r
}

/// A session's name in the database: the SHA-256 of its cookie (the
/// cookie itself is never stored).
fn session_id(cookie: &str) -> String {
    crate::util::sha256_hex(cookie.as_bytes())
}

/// A new secret (a cookie, a CSRF token): 256 random bits.
fn secret() -> String {
    crate::util::random_hex(32)
}

/// The cookie `name` the browser sent.
fn cookie_named(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Pages reachable without a session.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/connexion" | "/connexion/oidc" | "/connexion/retour" | "/console.css"
    )
}

/// The middleware: finds or starts the session, checks the rate, runs
/// the handler and writes the page's audit entry (unless its action wrote
/// its own).
pub(super) async fn guard(
    State(st): State<Arc<ConsoleState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let request_id = crate::util::new_id("req");
    let route = format!(
        "{} {}",
        req.method(),
        crate::audit::bounded(req.uri().path())
    );
    let Some(visitor) = req.extensions().get::<Visitor>().cloned() else {
        return page::Refusal::internal(&"console request without TLS peer").into_response();
    };
    let mut rec = AuditRecord::new("console.request", Outcome::Ok);
    rec.route = Some(route.clone());
    rec.request_id = Some(request_id.clone());
    rec.cert_sha256 = visitor.identity.as_ref().map(|i| i.sha256.clone());
    let (signed, set_cookie) =
        match resolve(&st, &visitor, cookie_named(req.headers(), COOKIE)).await {
            Ok(v) => v,
            Err(e) => return page::Refusal::internal(&e).into_response(),
        };
    let limiter_key = match &signed {
        Some(s) => format!("person:{}", s.person.id),
        None => format!("ip:{}", visitor.remote.ip()),
    };
    let resp = if st.limiter.check_key(&limiter_key).is_err() {
        page::Refusal::rate_limited().into_response()
    } else {
        match signed {
            Some(mut s) => {
                rec.partner = Some(s.actor.partner_id().to_owned());
                rec.person = Some(s.person.id.clone());
                s.actor.request_id = request_id.clone();
                s.actor.route = route.clone();
                req.extensions_mut().insert(s);
                run(&st, req, next).await
            }
            None if is_public(req.uri().path()) => run(&st, req, next).await,
            None if req.method() == Method::GET || req.method() == Method::HEAD => {
                if visitor.identity.is_some() {
                    // A certificate of the CA that is nobody's of people.toml.
                    page::Refusal::unknown_person().into_response()
                } else {
                    Redirect::to("/connexion").into_response()
                }
            }
            None => page::Refusal::not_signed_in().into_response(),
        }
    };
    let mut resp = if resp.extensions().get::<Audited>().is_some() {
        resp
    } else {
        rec.answered(resp.status().as_u16());
        rec.reason = resp
            .extensions()
            .get::<page::Reason>()
            .map(|r| r.0.to_owned());
        match crate::circuit::audit_alone(st.app(), &rec).await {
            Ok(()) => resp,
            Err(e) => page::Refusal::internal(&e).into_response(),
        }
    };
    if let Some(c) = set_cookie
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    tracing::info!(
        request = %request_id,
        partner = rec.partner.as_deref().unwrap_or("-"),
        person = rec.person.as_deref().unwrap_or("-"),
        route = %route,
        status = resp.status().as_u16(),
        "console answered"
    );
    resp
}

async fn run(st: &ConsoleState, req: Request, next: Next) -> Response {
    match tokio::time::timeout(st.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => page::Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "La demande a pris trop de temps ; rien n'a été enregistré.",
        )
        .into_response(),
    }
}

/// The person at the browser: the session of the cookie if it is alive
/// (and, when the browser presents a personal certificate, that person's),
/// else a new session for the certificate's person. Returns the cookie to
/// set when a session starts.
async fn resolve(
    st: &ConsoleState,
    visitor: &Visitor,
    cookie: Option<String>,
) -> Result<(Option<Signed>, Option<String>), crate::circuit::CircuitError> {
    let app = st.app();
    let people = &app.config.people;
    let by_cert = visitor
        .identity
        .as_ref()
        .filter(|i| i.check_unambiguous().is_ok())
        .and_then(|i| {
            people
                .by_certificate(i.common_name.as_deref(), &i.sha256)
                .map(|p| (p.clone(), i.sha256.clone()))
        });
    let now = crate::util::now_ms();
    let idle_ms = app.config.gateway.console.session_idle_minutes as i64 * 60_000;
    if let Some(c) = cookie {
        let id = session_id(&c);
        let mut tx = app.store.begin().await?;
        let found = sessions::touch(&mut tx, &id, now - idle_ms, now).await?;
        tx.commit().await?;
        if let Some(s) = found {
            let same_person = match &by_cert {
                Some((p, _)) => p.id == s.person,
                None => s.method != SignInMethod::Certificate,
            };
            if same_person && let Some(signed) = signed(app, &s, visitor) {
                return Ok((Some(signed), None));
            }
        }
    }
    let Some((person, cert_sha256)) = by_cert else {
        return Ok((None, None));
    };
    let (s, cookie) = open_session(app, &person, SignInMethod::Certificate, cert_sha256).await?;
    Ok((signed(app, &s, visitor), Some(cookie)))
}

/// Opens a session for `person` (audited as `console.sign_in` with its
/// method); the session and its `Set-Cookie` value.
async fn open_session(
    app: &crate::app::App,
    person: &PersonEntry,
    method: SignInMethod,
    cert_sha256: String,
) -> Result<(Session, String), crate::circuit::CircuitError> {
    let now = crate::util::now_ms();
    let idle_ms = app.config.gateway.console.session_idle_minutes as i64 * 60_000;
    let cookie = secret();
    let s = Session {
        person: person.id.clone(),
        method,
        cert_sha256,
        csrf: secret(),
        last_seen: now,
    };
    let mut tx = app.store.begin().await?;
    sessions::insert(&mut tx, &session_id(&cookie), &s, now).await?;
    let mut rec = AuditRecord::new("console.sign_in", Outcome::Ok);
    rec.partner = Some(person.partner.to_string());
    rec.person = Some(person.id.clone());
    rec.cert_sha256 = Some(s.cert_sha256.clone()).filter(|c| !c.is_empty());
    rec.objects = vec![format!("method:{}", method.as_str())];
    audit::append(&mut tx, &rec).await?;
    // Sessions idle past the delay go with each sign-in.
    sessions::delete_idle(&mut tx, now - idle_ms).await?;
    tx.commit().await?;
    tracing::info!(person = %person.id, method = method.as_str(), "console session started");
    Ok((
        s,
        format!("{COOKIE}={cookie}; Path=/; Secure; HttpOnly; SameSite=Strict"),
    ))
}

fn signed(app: &crate::app::App, s: &Session, visitor: &Visitor) -> Option<Signed> {
    let person = app.config.people.get(&s.person)?.clone();
    let partner = app.partners().get(person.partner.as_ref())?.clone();
    let cert = visitor
        .identity
        .as_ref()
        .map(|i| i.sha256.clone())
        .unwrap_or_else(|| s.cert_sha256.clone());
    let actor = Actor::for_person(partner, person.clone(), cert, "", "")?;
    Some(Signed {
        actor,
        person,
        csrf: s.csrf.clone(),
    })
}

/// `GET /connexion`: how to sign in.
pub(super) async fn sign_in_page(
    State(st): State<Arc<ConsoleState>>,
    signed: Option<Signed>,
) -> Response {
    if signed.is_some() {
        return Redirect::to("/").into_response();
    }
    page::sign_in(st.oidc.as_ref().map(|o| o.name.as_str())).into_response()
}

/// The cookie an OpenID Connect sign-in carries while the browser is at
/// the provider. `Strict` like every cookie of the console: the
/// provider's redirect back, a navigation from another site, does not
/// carry it, so `/connexion/retour` relays itself once from this site
/// (see [`oidc_return`]).
const LOGIN_COOKIE: &str = "__Host-passerelle-oidc";

/// How long a sign-in may stay at the provider.
const LOGIN_MINUTES: i64 = 10;

fn oidc_of(st: &ConsoleState) -> Result<&super::oidc::OidcClient, page::Refusal> {
    st.oidc.as_deref().ok_or_else(|| {
        page::Refusal::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "La connexion par un fournisseur d'identité n'est pas ouverte sur cette passerelle : \
             utilisez votre certificat personnel.",
        )
    })
}

/// `GET /connexion/oidc`: sends the browser to the provider (a link, not
/// a form: the CSP's `form-action 'self'` would stop a form's redirect to
/// another site).
pub(super) async fn oidc_start(
    State(st): State<Arc<ConsoleState>>,
) -> Result<Response, page::Refusal> {
    let oidc = oidc_of(&st)?;
    let (url, login) = oidc.begin().await.map_err(page::Refusal::from)?;
    let cookie = secret();
    let now = crate::util::now_ms();
    let mut tx = st.app().store.begin().await?;
    sessions::insert_login(
        &mut tx,
        &session_id(&cookie),
        &login,
        now,
        now - LOGIN_MINUTES * 60_000,
    )
    .await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    let mut r = Redirect::to(&url).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={cookie}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
        LOGIN_MINUTES * 60
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// What the provider sends back.
#[derive(Debug, serde::Deserialize)]
pub(super) struct OidcReturn {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
    /// Set by the relay: the request comes from this site's page.
    relai: Option<String>,
}

impl OidcReturn {
    /// The same return, marked as relayed from this site.
    fn relayed(&self) -> String {
        let mut q = openidconnect::url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("code", &self.code),
            ("state", &self.state),
            ("error", &self.error),
            ("iss", &self.iss),
        ] {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        q.append_pair("relai", "1");
        format!("/connexion/retour?{}", q.finish())
    }
}

/// `GET /connexion/retour`: the provider's answer. Coming from another
/// site, it carries no `Strict` cookie: the first time, a page of this
/// site sends the browser to the same address (`relai=1`), a same-site
/// navigation that carries it. The sign-in under way (the cookie's) is
/// taken once; its `state` must be the one returned,
/// the ID token must carry its `nonce`, and the verified e-mail must be a
/// person's of `people.toml`.
pub(super) async fn oidc_return(
    State(st): State<Arc<ConsoleState>>,
    headers: axum::http::HeaderMap,
    axum::extract::Query(back): axum::extract::Query<OidcReturn>,
) -> Result<Response, page::Refusal> {
    use subtle::ConstantTimeEq;
    let oidc = oidc_of(&st)?;
    let app = st.app();
    let expired = || {
        page::Refusal::new(
            StatusCode::BAD_REQUEST,
            "oidc_no_login",
            "Cette connexion a expiré ou a déjà servi. Recommencez depuis la page de connexion.",
        )
    };
    let Some(cookie) = cookie_named(&headers, LOGIN_COOKIE) else {
        if back.relai.is_none() {
            return Ok(page::relay(&back.relayed()).into_response());
        }
        return Err(expired());
    };
    let now = crate::util::now_ms();
    let mut tx = app.store.begin().await?;
    let login =
        sessions::take_login(&mut tx, &session_id(&cookie), now - LOGIN_MINUTES * 60_000).await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    let login = login.ok_or_else(expired)?;
    let state_ok = back
        .state
        .as_deref()
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(login.state.as_bytes())));
    if !state_ok {
        return Err(page::Refusal::new(
            StatusCode::FORBIDDEN,
            "oidc_state",
            "La réponse du fournisseur d'identité ne correspond pas à cette connexion \
             (paramètre « state ») : elle est refusée. Recommencez depuis la page de connexion.",
        ));
    }
    if back.error.is_some() {
        return Err(page::Refusal::new(
            StatusCode::FORBIDDEN,
            "oidc_denied",
            "Le fournisseur d'identité n'a pas confirmé votre identité. \
             Recommencez depuis la page de connexion.",
        ));
    }
    let code = back.code.ok_or_else(|| {
        page::Refusal::bad_form("La réponse du fournisseur d'identité n'a pas de code.")
    })?;
    let who = oidc.finish(login, code).await?;
    if who.email_verified == Some(false) {
        return Err(page::Refusal::new(
            StatusCode::FORBIDDEN,
            "oidc_email_unverified",
            "Le fournisseur d'identité n'a pas vérifié votre adresse électronique : \
             la passerelle ne peut pas vous reconnaître.",
        ));
    }
    let Some(person) = app.config.people.by_email(&who.email).cloned() else {
        tracing::warn!(subject = %who.subject, "console: OpenID sign-in of nobody in people.toml");
        return Err(page::Refusal::new(
            StatusCode::FORBIDDEN,
            "unknown_person",
            "Votre identité est confirmée, mais votre adresse ne correspond à aucune personne \
             autorisée sur la passerelle. Demandez à votre correspondant d'ajouter votre accès.",
        ));
    };
    let (_, session_cookie) = open_session(app, &person, SignInMethod::Oidc, String::new()).await?;
    let mut r = page::signed_in(&person.name).into_response();
    for c in [
        session_cookie,
        format!("{LOGIN_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(r)
}

impl axum::extract::OptionalFromRequestParts<Arc<ConsoleState>> for Signed {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &Arc<ConsoleState>,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Signed>().cloned())
    }
}

/// The sign-out form.
#[derive(Debug, serde::Deserialize)]
pub(super) struct CsrfForm {
    csrf: Option<String>,
}

/// `POST /deconnexion`: ends the session.
pub(super) async fn sign_out(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    headers: axum::http::HeaderMap,
    form: axum::extract::Form<CsrfForm>,
) -> Result<Response, page::Refusal> {
    signed.check_csrf(form.csrf.as_deref())?;
    let mut tx = st.app().store.begin().await?;
    if let Some(c) = cookie_named(&headers, COOKIE) {
        sessions::delete(&mut tx, &session_id(&c)).await?;
    }
    let rec = signed.actor.record("console.sign_out", Outcome::Ok);
    audit::append(&mut tx, &rec).await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    let mut r = page::signed_out().into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "__Host-passerelle=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(audited(r))
}
