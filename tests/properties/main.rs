//! Property tests (proptest) for the parsers and normalisers at the edge:
//! amounts, dates, phones, postal codes, header matching, the household
//! identity behind pseudonymisation, and CSV/XLSX write-then-read round
//! trips through the project's own writer and reader.
//!
//! Each property states what every input of a family must give, where the
//! unit tests pin single examples. Case counts stay modest (the suite runs
//! on two shared cores); a failure prints the shrunk input, to be pinned as
//! a unit test next to the code it breaks.

mod amounts;
mod dates;
mod headers;
mod identity;
mod periods;
mod phones;
mod postal;
mod tables;
mod writing;
