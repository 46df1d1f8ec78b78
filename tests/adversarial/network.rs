//! Attacks on network: see the module list in main.rs.
