//! Attacks on audit: see the module list in main.rs.
