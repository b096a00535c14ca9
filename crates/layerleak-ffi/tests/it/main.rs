//! Integration tests of the C ABI, one binary, one module per area.

mod c_example;
mod cdylib;
mod header;
mod python_example;
mod readme;
