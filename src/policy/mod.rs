//! Views: what each partner receives, computed from the policy. A view
//! projects a case onto the fields the policy grants (with their
//! transforms) and keeps only the rows in the partner's scope.

mod scope;
mod view;

pub use scope::in_scope;
pub use view::cell;
