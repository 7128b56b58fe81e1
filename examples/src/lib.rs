//! Runnable examples of the `host` crate: see the `NN_topic.rs` files beside this folder.
