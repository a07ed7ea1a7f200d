//! Hosts the integration tests; see `tests/*.rs`.
