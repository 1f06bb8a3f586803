// The package's default entry (`import` / `require` of "sse-courier"): the web build's
// glue with the wasm embedded, compiled and instantiated synchronously when this module
// is evaluated. No bundler needs WebAssembly support for it, nothing is fetched, and no
// top-level await is needed, so `new Connection()` works as soon as the import resolves.
import { initSync, Connection as GeneratedConnection } from "../web/sse_courier.js";
import { wasmBytes } from "./wasm-bytes.js";
import { keepAliveWhileConnected } from "../lifetime.js";

initSync({ module: new WebAssembly.Module(wasmBytes()) });

export const Connection = keepAliveWhileConnected(GeneratedConnection);
export { version } from "../web/sse_courier.js";
