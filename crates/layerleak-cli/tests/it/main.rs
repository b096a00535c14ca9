//! Integration tests of the `layerleak` binary: output contracts, exit codes, redaction.

mod by_secret;
mod common;
mod coverage;
mod errors;
mod html;
mod layers;
mod packaged;
mod people;
mod pipe;
mod postgres_store;
mod readme;
mod redaction;
mod registry;
mod rules;
mod sarif;
mod scan;
mod served;
mod severity;
mod suppress;
// The core tests' builders of tars, gzip and gzip layers, shared rather than copied.
#[path = "../../../layerleak/tests/it/support.rs"]
mod support;
mod terminal;
