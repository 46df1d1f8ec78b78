//! Views: what each partner receives, computed from the policy. A view
//! projects a case onto the fields the policy grants (with their
//! transforms) and keeps only the rows in the partner's scope.

pub mod attribution;
pub mod schema;
mod scope;
mod view;

pub use scope::{in_scope, in_territory};
pub use view::cell;
