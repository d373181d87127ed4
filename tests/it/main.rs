//! The integration tests: one binary, one module per theme.
//!
//! Statistical tests are seeded, so each either always passes or always fails; their
//! tolerances are four standard errors (a two-sided 99.994 % band), so that a change of
//! seed or of draw order does not turn a correct simulator red.

mod analytic;
mod application;
mod causes;
mod cli;
mod common;
mod common_random_numbers;
mod compare;
mod determinism;
mod durability;
mod fuzz_corpus;
mod html;
mod interrupt;
mod occupation;
mod properties;
mod sla_contracts;
mod sla_windows;
mod sweep;
mod trace;
