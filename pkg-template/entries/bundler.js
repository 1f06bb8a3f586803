// `sse-courier/bundler`: wasm-pack's bundler build, which imports its `.wasm` as an ES
// module (the WebAssembly ESM integration). Smallest for apps whose bundler supports
// that; the wasm is then a separate, streamed file.
import { Connection as GeneratedConnection } from "./sse_courier.js";
import { keepAliveWhileConnected } from "../lifetime.js";

export const Connection = keepAliveWhileConnected(GeneratedConnection);
export { version } from "./sse_courier.js";
