//! Placeholder library so the benches package builds; the benchmarks live in hot_path.rs.
