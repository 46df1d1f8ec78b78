//! Attacks on defended: see the module list in main.rs.
