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
