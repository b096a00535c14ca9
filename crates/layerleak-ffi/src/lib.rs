//! C ABI over layerleak.
