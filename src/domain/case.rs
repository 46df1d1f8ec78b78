//! A case's identity and the states it moves through: `CaseId` owns the
//! id's format (built when a list is stored, read back to find a list's
//! cases in order), `CaseState` the closed set of states stored as text.

use std::fmt;

/// A case's id: `cas_<list hex>_<line, 7 digits>`.
///
/// Ids are in line order within a list, so the store's indexes grow at
/// their end instead of at random places; the list's id keeps them unique.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId(String);

impl CaseId {
    const PREFIX: &'static str = "cas_";

    /// The id of the case at `line` of the list `list_id` (`lst_<hex>`).
    pub fn for_line(list_id: &str, line: u64) -> CaseId {
        CaseId(format!("{}{}_{line:07}", Self::PREFIX, list_hex(list_id)))
    }

    /// An id read back from the store (written by [`CaseId::for_line`] or
    /// by an earlier version of the gateway: not re-checked).
    pub fn from_stored(id: String) -> CaseId {
        CaseId(id)
    }

    /// Bounds `(low, high)`, both exclusive, between which every id of the
    /// list `list_id` sorts bytewise (`` ` `` follows `_` in ASCII): a
    /// primary-key range scan finds a list's cases in line order.
    pub fn list_bounds(list_id: &str) -> (String, String) {
        let hex = list_hex(list_id);
        (
            format!("{}{hex}_", Self::PREFIX),
            format!("{}{hex}`", Self::PREFIX),
        )
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A list id without its `lst_` prefix.
fn list_hex(list_id: &str) -> &str {
    list_id.strip_prefix("lst_").unwrap_or(list_id)
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CaseId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Case states, in the order a case moves through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Stored from the list.
    Received,
    /// CAF's enrichment applied.
    Enriched,
    /// Routed to the concertation members.
    InConcertation,
    /// A referent designated.
    Attributed,
    /// The household was reached.
    Contacted,
    /// The referent closed it.
    Closed,
    /// Not processed (moved out, debt paid, outside the sector…).
    NonTraite,
}

impl CaseState {
    /// Every state, in order.
    pub const ALL: [CaseState; 7] = [
        CaseState::Received,
        CaseState::Enriched,
        CaseState::InConcertation,
        CaseState::Attributed,
        CaseState::Contacted,
        CaseState::Closed,
        CaseState::NonTraite,
    ];

    /// The stored (and answered) name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Received => "received",
            CaseState::Enriched => "enriched",
            CaseState::InConcertation => "in_concertation",
            CaseState::Attributed => "attributed",
            CaseState::Contacted => "contacted",
            CaseState::Closed => "closed",
            CaseState::NonTraite => "non_traite",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<CaseState> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Still waiting to be routed to the concertation members.
    pub fn awaits_routing(self) -> bool {
        matches!(self, CaseState::Received | CaseState::Enriched)
    }

    /// The household has been reached or the case is over: no deadline
    /// alert.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            CaseState::Contacted | CaseState::Closed | CaseState::NonTraite
        )
    }

    /// Over: closed by its referent or not processed (retention counts
    /// from here).
    pub fn is_over(self) -> bool {
        matches!(self, CaseState::Closed | CaseState::NonTraite)
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A case token: what one partner sees of a case (its own keyed token,
/// never the case id), and what it sends back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    /// A token as computed by the pseudonymiser or received from a partner
    /// (unknown tokens simply match no case).
    pub fn new(token: impl Into<String>) -> Token {
        Token(token.into())
    }

    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token's text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_id_sorts_between_its_lists_bounds() {
        let id = CaseId::for_line("lst_00ff", 12);
        assert_eq!(id.as_str(), "cas_00ff_0000012");
        let (low, high) = CaseId::list_bounds("lst_00ff");
        assert!(low.as_str() < id.as_str() && id.as_str() < high.as_str());
        let other = CaseId::for_line("lst_00ff0", 1);
        assert!(!(low.as_str() < other.as_str() && other.as_str() < high.as_str()));
    }

    #[test]
    fn states_round_trip_through_their_stored_names() {
        for st in CaseState::ALL {
            assert_eq!(CaseState::parse(st.as_str()), Some(st));
        }
        assert_eq!(CaseState::parse("ko"), None);
    }
}
