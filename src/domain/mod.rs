//! Domain newtypes, parsed once at the edge ("parse, don't validate").

pub mod bailleur;
mod case;
pub mod date;
pub mod followup;
pub mod money;
mod partner;
mod period;
pub mod phone;
pub mod postal;
pub mod procedure;
mod role;
pub mod text;
mod vocabulary;

pub use bailleur::BailleurType;
pub use case::{CaseId, CaseState, Token};
pub use date::{excel_serial_to_date, parse_date};
pub use money::Euros;
pub use partner::PartnerId;
pub use period::Period;
pub use phone::Phone;
pub use postal::PostalCode;
pub use procedure::Etape;
pub use role::Role;
pub use text::{fold_key, header_key};
pub use vocabulary::{FileKind, NonTraiteMotif};
