//! Hosts the runnable examples; see `examples/*.rs`.
