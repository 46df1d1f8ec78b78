//! The adversarial suite: each test is named after an attack, tried against
//! a live gateway the way an attacker would, and asserts both the refusal
//! and that the store is unchanged (`state::StoreState`). The README's
//! security section lists the classes and the tests that hold them.
//!
//! Tests needing PostgreSQL run on both databases (`both!`); the kill loop
//! drives the real binary.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[allow(dead_code)] // until every module uses it
mod state;

mod audit;
mod defended;
mod input;
mod kill;
mod network;
mod process;
