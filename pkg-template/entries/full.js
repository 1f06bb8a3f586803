// The package's `sse-courier/full` entry: the default entry's build with every opt-in,
// the persisted outbox (`persist`) and one stream for all tabs (`shareAcrossTabs`),
// wasm embedded alike. A build of its own so that the other entries' users do not
// carry what they do not use.
import { initSync, Connection as GeneratedConnection } from "../full/sse_courier.js";
import { wasmBytes } from "./full-wasm-bytes.js";
import { keepAliveWhileConnected } from "../lifetime.js";

initSync({ module: new WebAssembly.Module(wasmBytes()) });

export const Connection = keepAliveWhileConnected(GeneratedConnection);
export { version } from "../full/sse_courier.js";
