//! Domain newtypes, parsed once at the edge ("parse, don't validate").

pub mod bailleur;
pub mod date;
pub mod followup;
pub mod money;
mod period;
pub mod phone;
pub mod postal;
pub mod text;

pub use bailleur::BailleurType;
pub use date::{excel_serial_to_date, parse_date};
pub use money::Euros;
pub use period::Period;
pub use phone::Phone;
pub use postal::PostalCode;
pub use text::{fold_key, header_key};
