//! Integration tests: the real server over mutual TLS, driven the way
//! partners drive it. Each test runs on SQLite and, when
//! `PASSERELLE_TEST_POSTGRES_URL` is set, on PostgreSQL.

mod accountability;
mod audit;
mod browser;
mod circuit;
mod console;
mod desk;
mod helpers;
mod identity;
mod lists;
mod migration;
mod oidc;
mod openapi;
mod outbox;
mod procedures;
mod schemas;
