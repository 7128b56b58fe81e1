//! See `tests/crate_option.rs`.
