// `sse-courier/web`: the web build with its wasm as a separate file, for pages that
// fetch it themselves: `await init()` (the file beside this module) or
// `init({ module_or_path })`, or `initSync({ module })`, before `new Connection()`.
export { default, initSync, version } from "../web/sse_courier.js";
import { Connection as GeneratedConnection } from "../web/sse_courier.js";
import { keepAliveWhileConnected } from "../lifetime.js";

export const Connection = keepAliveWhileConnected(GeneratedConnection);
