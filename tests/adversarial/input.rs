//! Attacks on input: see the module list in main.rs.
