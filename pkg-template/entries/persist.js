// The package's `sse-courier/persist` entry: the default entry's build with the
// persisted outbox (the `persist` option), wasm embedded alike. A build of its own so
// that the default entry's users do not carry the outbox.
import { initSync, Connection as GeneratedConnection } from "../persist/sse_courier.js";
import { wasmBytes } from "./persist-wasm-bytes.js";
import { keepAliveWhileConnected } from "../lifetime.js";

initSync({ module: new WebAssembly.Module(wasmBytes()) });

export const Connection = keepAliveWhileConnected(GeneratedConnection);
export { version } from "../persist/sse_courier.js";
