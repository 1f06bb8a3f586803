// The no-bundler worker app's page: a module worker straight from the source tree.
import { relay } from "./relay.js";

relay(new Worker(new URL("./worker-nobundler.js", import.meta.url), { type: "module" }));
