// The bundled worker app's page (the current Vite): Vite sees the
// `new Worker(new URL("./worker.js", import.meta.url))` pattern and bundles worker.js,
// the package with it. The page's query goes to the worker as its first message.
import { relay } from "./relay.js";

relay(new Worker(new URL("./worker.js", import.meta.url), { type: "module" }));
