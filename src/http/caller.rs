//! Who is calling: the verified certificate (set per connection by the
//! server) and the partner it maps to (set per request by the guard).

use super::error::ApiError;
use crate::circuit::Actor;
use crate::config::{Partner, Role};
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

/// Extracts the authenticated partner (the guard put it there).
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl Caller {
    /// Refuses with 403 unless the partner holds `role`.
    pub fn require(&self, role: Role) -> Result<&Actor, ApiError> {
        if self.0.partner.has(role) {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden_role(role.as_str()))
        }
    }

    /// Refuses with 403 unless the partner holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<&Actor, ApiError> {
        if roles.iter().any(|r| self.0.partner.has(*r)) {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden_role(
                &roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
            ))
        }
    }
}

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
