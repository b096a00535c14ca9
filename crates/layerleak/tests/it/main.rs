//! Integration tests of the layerleak crate, one binary.

mod registry;
mod registry_harness;
