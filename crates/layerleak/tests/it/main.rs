//! Integration tests of the core crate, one binary, one module per area.

mod detect;
mod image;
mod layer;
mod lifecycle;
mod registry;
mod registry_harness;
