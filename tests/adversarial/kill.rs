//! Attacks on kill: see the module list in main.rs.
