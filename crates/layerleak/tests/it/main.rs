//! Integration tests of the core crate, one module per area.

mod layer;
