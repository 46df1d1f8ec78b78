//! Sign-in through an OpenID Connect provider (ProConnect, the State's
//! identity federation for public agents, in production; any standard
//! provider works): the authorization code flow with PKCE and `nonce`, by
//! the `openidconnect` crate over the gateway's own reqwest (no redirect
//! followed, bounded answers, the configured CAs only).
//!
//! The provider's metadata and keys are fetched at the first sign-in and
//! kept an hour, so that the gateway starts while the provider is down and
//! follows its key rotations. The e-mail comes from the ID token when the
//! provider puts it there, else from the userinfo endpoint (ProConnect
//! gives it there, as a signed JWT, which the crate verifies).

use crate::app::StartError;
use crate::config::{ConfigError, OidcSettings};
use crate::store::console::Login;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    HttpRequest, HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// How long the provider's metadata and keys are kept.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// Largest answer read from the provider.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Why a sign-in through the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached, or answered something else than
    /// the protocol's answer.
    #[error("the OpenID provider failed: {0}")]
    Provider(String),
    /// The ID token does not carry the `nonce` this sign-in sent.
    #[error("the ID token's nonce is not this sign-in's")]
    Nonce,
    /// The ID token (or the userinfo answer) does not verify.
    #[error("the ID token does not verify: {0}")]
    Token(String),
    /// Neither the ID token nor userinfo gives an e-mail address.
    #[error("the provider gave no e-mail address")]
    NoEmail,
}

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The provider's subject.
    pub subject: String,
    /// The e-mail address.
    pub email: String,
    /// The provider's `email_verified`, when it gives one.
    pub email_verified: Option<bool>,
}

/// The console's client of its provider.
pub struct OidcClient {
    /// The provider's name on the sign-in page.
    pub name: String,
    issuer: IssuerUrl,
    client_id: ClientId,
    secret: ClientSecret,
    redirect: RedirectUrl,
    http: Http,
    metadata: tokio::sync::Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .field("redirect", &self.redirect.as_str())
            .finish_non_exhaustive()
    }
}

impl OidcClient {
    /// The client of `[console.oidc]`, for a console listening on
    /// `console_addr` (the default return address). Reads the client
    /// secret and the provider's CAs.
    pub fn new(
        settings: &OidcSettings,
        config_path: &std::path::Path,
        console_addr: SocketAddr,
    ) -> Result<OidcClient, StartError> {
        let invalid = |key: &str, problem: String, fix: &str| {
            StartError::Config(ConfigError::invalid(config_path, key, problem, fix))
        };
        let secret = std::fs::read_to_string(&settings.client_secret_file)
            .map_err(|e| {
                invalid(
                    "console.oidc.client_secret_file",
                    format!("{}: {e}", settings.client_secret_file.display()),
                    "point it at a readable file holding the client secret",
                )
            })?
            .trim()
            .to_owned();
        if secret.is_empty() {
            return Err(invalid(
                "console.oidc.client_secret_file",
                format!("{} is empty", settings.client_secret_file.display()),
                "write the client secret the provider gave into it",
            ));
        }
        let redirect = settings
            .redirect_url_for(Some(console_addr))
            .and_then(|u| RedirectUrl::new(u).ok())
            .ok_or_else(|| {
                invalid(
                    "console.oidc.redirect_url",
                    "no return address".into(),
                    "give the console's address as people reach it, followed by /connexion/retour",
                )
            })?;
        let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(|e| {
            invalid(
                "console.oidc.issuer",
                e.to_string(),
                "give the provider's issuer URL",
            )
        })?;
        let ca_file = settings
            .ca_file
            .clone()
            .unwrap_or_else(|| crate::config::SYSTEM_CA_BUNDLE.into());
        let ca = std::fs::read(&ca_file).map_err(|e| {
            invalid(
                "console.oidc.ca_file",
                format!("{}: {e}", ca_file.display()),
                "point it at the PEM certificates of the provider's CA",
            )
        })?;
        crate::tls::install_crypto_provider();
        let tls = crate::tls::client_config(&ca, None, None)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            // Following redirects would let the provider's answers send
            // the gateway elsewhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| {
                invalid(
                    "console.oidc",
                    format!("HTTP client: {e}"),
                    "check the provider's settings",
                )
            })?;
        Ok(OidcClient {
            name: settings.name.clone(),
            issuer,
            client_id: ClientId::new(settings.client_id.clone()),
            secret: ClientSecret::new(secret),
            redirect,
            http: Http(http),
            metadata: tokio::sync::Mutex::new(None),
        })
    }

    /// The provider's metadata (discovery document and keys), fetched at
    /// most once an hour.
    async fn metadata(&self) -> Result<CoreProviderMetadata, OidcError> {
        let mut cached = self.metadata.lock().await;
        if let Some((at, md)) = cached.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(md.clone());
        }
        let md = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| OidcError::Provider(format!("discovery: {}", chain(&e))))?;
        *cached = Some((Instant::now(), md.clone()));
        Ok(md)
    }

    /// Starts a sign-in: the provider's address to send the browser to,
    /// and what its return must match.
    pub async fn begin(&self) -> Result<(String, Login), OidcError> {
        let client = CoreClient::from_provider_metadata(
            self.metadata().await?,
            self.client_id.clone(),
            Some(self.secret.clone()),
        )
        .set_redirect_uri(self.redirect.clone());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok((
            url.to_string(),
            Login {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        ))
    }

    /// Finishes the sign-in `login` with the provider's `code`: exchanges
    /// it (with the PKCE verifier), verifies the ID token (signature,
    /// issuer, audience, expiry, `nonce`, access-token hash) and reads the
    /// e-mail.
    pub async fn finish(&self, login: Login, code: String) -> Result<Identity, OidcError> {
        let client = CoreClient::from_provider_metadata(
            self.metadata().await?,
            self.client_id.clone(),
            Some(self.secret.clone()),
        )
        .set_redirect_uri(self.redirect.clone());
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Provider(format!("token: {}", chain(&e))))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| OidcError::Token("no ID token in the answer".into()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(login.nonce))
            .map_err(|e| match e {
                openidconnect::ClaimsVerificationError::InvalidNonce(_) => OidcError::Nonce,
                other => OidcError::Token(other.to_string()),
            })?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(|e| OidcError::Token(e.to_string()))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| OidcError::Token(e.to_string()))?;
            let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
                .map_err(|e| OidcError::Token(e.to_string()))?;
            if actual != *expected {
                return Err(OidcError::Token("the access token's hash differs".into()));
            }
        }
        let subject = claims.subject().to_string();
        if let Some(email) = claims.email() {
            return Ok(Identity {
                subject,
                email: email.to_string(),
                email_verified: claims.email_verified(),
            });
        }
        let info: CoreUserInfoClaims = client
            .user_info(
                tokens.access_token().to_owned(),
                Some(claims.subject().clone()),
            )
            .map_err(|e| OidcError::Provider(format!("userinfo: {e}")))?
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Token(format!("userinfo: {}", chain(&e))))?;
        let email = info.email().ok_or(OidcError::NoEmail)?;
        Ok(Identity {
            subject,
            email: email.to_string(),
            email_verified: info.email_verified(),
        })
    }
}

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// The gateway's reqwest as the crate's HTTP client.
#[derive(Debug, Clone)]
struct Http(reqwest::Client);

/// A failed call to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct HttpError(String);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)
                .map_err(|e| HttpError(format!("request: {e}")))?;
            let mut resp = self
                .0
                .execute(request)
                .await
                .map_err(|e| HttpError(chain(&e)))?;
            let mut answer = openidconnect::http::Response::builder().status(resp.status());
            for (name, value) in resp.headers() {
                answer = answer.header(name, value);
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| HttpError(chain(&e)))? {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(HttpError(format!(
                        "the answer exceeds {MAX_ANSWER_BYTES} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            answer.body(body).map_err(|e| HttpError(e.to_string()))
        })
    }
}
