//! Who is calling: the verified certificate (set per connection by the
//! server) and the partner it maps to (set per request by the guard).

use super::error::ApiError;
use crate::circuit::Actor;
use crate::config::Partner;
use crate::tls::PeerIdentity;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::net::SocketAddr;
use std::sync::Arc;

/// The TLS peer of a connection.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The verified client certificate.
    pub identity: Arc<PeerIdentity>,
    /// The partner it maps to, if any.
    pub partner: Option<Arc<Partner>>,
    /// The remote address.
    pub remote: SocketAddr,
}

/// Extracts the authenticated partner (the guard put it there) as the
/// service layer's [`Actor`]; the operations check its roles.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError::internal(&"no authenticated partner on a routed request"))
    }
}

/// The partner as a plain reference.
impl std::ops::Deref for Caller {
    type Target = Partner;
    fn deref(&self) -> &Partner {
        &self.0.partner
    }
}
