//! Benchmarks for layerleak.
