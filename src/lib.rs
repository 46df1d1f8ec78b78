//! passerelle — a hardened gateway for the monthly exchange of "commandements
//! de payer" between the institutions that prevent rental evictions.
//!
//! The data's path, module by module:
//!
//! ```text
//!  DDETS ─mTLS─▶ http ─▶ ingest ─▶ pseudo ─▶ store (cases, sealed)
//!               (tls)   (CSV/XLSX,  (tokens,        │
//!                        typed rows) sealing)       ▼
//!  partners ◀─mTLS─ http ◀─ store (outbox) ◀─ export ◀─ policy (views)
//!                                          (CSV/XLSX, age)
//!  every request, file produced, download, ack ─▶ audit (append-only log)
//! ```
#![forbid(unsafe_code)]

pub mod app; // the running gateway's state: config, store, keys
pub mod audit; // the access log: entries, leaf hashes, append in-transaction
pub mod circuit; // the workflow: lists accepted and routed, files fetched
pub mod client; // the partner side: an mTLS client of the API
pub mod config; // passerelle.toml, partners.toml, policy.toml, secret files
pub mod console; // the people's pages: sign-in, sessions, CSRF, French pages over the service layer
pub mod demo; // `passerelle demo`: the circuit on the example configuration
pub mod domain; // newtypes parsed once: PostalCode, Euros, Phone, Period…
pub mod export; // formula-safe CSV/XLSX writers, age envelopes
pub mod html; // HTML escaping, one helper for the register and the audit report
pub mod http; // axum routes, guard (identity, roles, rate, audit), server
pub mod ingest; // list readers: encodings, CSV/XLSX, typed rows, line errors
pub mod jobs; // scheduled work: audit checkpoints, retention
pub mod policy; // views: fields, transforms and row scope per partner
pub mod pseudo; // key derivation, household and partner tokens, sealing
pub mod register; // `passerelle register`: the GDPR art. 30 record, Markdown and HTML
pub mod retention; // deletion of what is past its period, audited
pub mod stats; // the CCAPEX figures: shares, new attributions, delays, court events
pub mod store; // sqlx on SQLite or PostgreSQL, migrations, repositories
pub mod tls; // rustls configs, CRLs, peer identity, development PKI
pub mod util; // ids, times, hashes
