// The package's `sse-courier/tabs` entry: the default entry's build with one stream for
// all tabs (the `shareAcrossTabs` option), wasm embedded alike. A build of its own so
// that the default entry's users do not carry the tabs' code.
import { initSync, Connection as GeneratedConnection } from "../tabs/sse_courier.js";
import { wasmBytes } from "./tabs-wasm-bytes.js";
import { keepAliveWhileConnected } from "../lifetime.js";

initSync({ module: new WebAssembly.Module(wasmBytes()) });

export const Connection = keepAliveWhileConnected(GeneratedConnection);
export { version } from "../tabs/sse_courier.js";
