//! A partner's roles in the circuit (`partners.toml`'s `roles`).

/// What a partner may do; the service layer's operations check these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Sends the monthly list (DDETS).
    Source,
    /// Completes cases with birth date, benefits, family (CAF).
    Enricher,
    /// Sits in the monthly concertation.
    Member,
    /// May be designated social referent.
    Referent,
    /// Runs the concertation, reads the figures (DDETS).
    Secretariat,
    /// Reviews accesses; sees no case content.
    Dpo,
}

impl std::str::FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Role, ()> {
        Ok(match s {
            "source" => Role::Source,
            "enricher" => Role::Enricher,
            "member" => Role::Member,
            "referent" => Role::Referent,
            "secretariat" => Role::Secretariat,
            "dpo" => Role::Dpo,
            _ => return Err(()),
        })
    }
}

impl Role {
    /// The role's name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Enricher => "enricher",
            Role::Member => "member",
            Role::Referent => "referent",
            Role::Secretariat => "secretariat",
            Role::Dpo => "dpo",
        }
    }
}
