//! `stats()` hands the app the core's `Stats` serialised: each counter must come out
//! under the name the package's TypeScript `ConnectionStats` gives it, and no other.
//! The typings are the contract, so the names are read from them. (What each counter
//! counts is pinned by the JS suites, each asserted non-zero.)

#![cfg(not(target_arch = "wasm32"))]

use sse_courier::core::Stats;

/// The field names of `interface ConnectionStats` in the package typings.
fn typed_names() -> Vec<String> {
    let typings = include_str!("../src/web/types.rs");
    let body = typings
        .split("export interface ConnectionStats {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("types.rs declares interface ConnectionStats");
    body.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("/*") && !line.starts_with('*'))
        .filter_map(|line| line.strip_suffix(": number;"))
        .map(String::from)
        .collect()
}

#[test]
fn every_counter_is_serialised_under_the_name_connection_stats_types() {
    let serialised = serde_json::to_value(Stats::default()).unwrap();
    // serde_json's map is sorted (no preserve_order): compare the names as sets.
    let names: Vec<String> = serialised.as_object().unwrap().keys().cloned().collect();
    let mut typed = typed_names();
    assert_eq!(typed.len(), 24, "the typings list {typed:?}");
    typed.sort();
    assert_eq!(names, typed);
}
