// What the connection still does in JS: the warning prefix, and freeing the inbox
// late. Everything else of the shell is Rust (src/web/). Each export is documented
// where Rust declares it (src/web/js.rs), under the same name; the build renames them
// in the wasm and here alike (tools/wasm-rename).

export function warn(text) {
  console.warn("[sse-courier] " + text);
}

export function freeLater(object) {
  queueMicrotask(() => object.free());
}
