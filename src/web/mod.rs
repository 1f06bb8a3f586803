//! The browser shell: owns JS objects, holds no delivery logic.

use wasm_bindgen::prelude::*;

/// The package version, so a page can check which build it loaded.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").into()
}
