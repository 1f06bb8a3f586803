//! Values that cross to JS with a shape (the counters of `stats()`, delivery reports)
//! cross as serde types, each field under its own name: nothing is passed by position.

use serde::Serialize;
use wasm_bindgen::JsValue;

/// `value` as a plain JS object (a `JsValue` field kept as the same JS value, see
/// `serde_wasm_bindgen::preserve`); the error is a JS `Error` saying what would not
/// serialise.
pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new())
        .map_err(JsValue::from)
}

/// `None` as JS `null`, for a field the TypeScript types `string | null`:
/// serde-wasm-bindgen writes `None` as `undefined`, which a strict `=== null` misses.
pub fn str_or_null<S: serde::Serializer>(
    value: &Option<&str>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let value = value.map_or(JsValue::NULL, JsValue::from_str);
    serde_wasm_bindgen::preserve::serialize(&value, serializer)
}
