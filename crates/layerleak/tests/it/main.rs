//! Integration tests of the core crate, one binary, one module per area.

mod api;
mod artifacts;
mod audit;
mod by_secret;
mod detect;
mod foreign_rules;
mod hostile;
mod html;
mod image;
mod layer;
mod lifecycle;
mod packaged;
mod redaction;
mod registry;
mod registry_harness;
mod registry_scan;
mod support;
