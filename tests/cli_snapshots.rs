//! The command line's exact output, pinned: `--help` of `passerelle` and of
//! every subcommand (nested `audit …` and `client …` included), and its
//! errors (unknown subcommand, missing or bad argument, a configuration file
//! that does not exist, bad configuration values).
//!
//! One case per `tests/cmd/NAME.toml` (arguments, exit status, and
//! `env.inherit = false` so that no variable of the shell leaks into the
//! output), its expected output beside it in `NAME.stdout` and
//! `NAME.stderr`; a `NAME.in/` folder, when present, is the working
//! directory (read only). Paths in the outputs are relative to it or to the
//! crate's root, so they are the same on every machine.
//!
//! When a change of wording is intended, update the snapshots with
//!
//! ```text
//! TRYCMD=overwrite cargo test --test cli_snapshots
//! ```
//!
//! and review the diff of `tests/cmd/` like code: these files are what the
//! operators and the partners' scripts see.

#[test]
fn cli_snapshots() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
