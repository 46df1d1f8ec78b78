//! Row scope: a member sees the cases of its territory, a social landlord
//! the cases of its own tenants.

use crate::config::{Partner, Policy};
use crate::domain::{BailleurType, fold_key};
use crate::ingest::CdpRow;

/// Whether `row` is in `partner`'s scope. A partner with neither territory
/// nor landlord has no scope restriction.
pub fn in_scope(policy: &Policy, partner: &Partner, row: &CdpRow) -> bool {
    if !partner.landlord.is_empty() {
        let name = fold_key(&row.bailleur_nom);
        return row.bailleur_type == BailleurType::Social
            && partner.landlord.iter().any(|l| fold_key(l) == name);
    }
    match &partner.territory {
        Some(t) => in_territory(policy, t, row),
        None => true,
    }
}

/// Whether the dwelling is in the named territory (communes matched
/// accent-, case- and punctuation-insensitively, or whole postal codes).
pub fn in_territory(policy: &Policy, territory: &str, row: &CdpRow) -> bool {
    policy.territories.get(territory).is_some_and(|t| {
        let commune = fold_key(&row.commune);
        t.communes.iter().any(|c| fold_key(c) == commune)
            || t.postal_codes.iter().any(|p| p == row.code_postal.as_ref())
    })
}
