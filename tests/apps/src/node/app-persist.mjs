// Node, ESM: `import` of the package's `sse-courier/persist` entry, with the app's own
// outbox store (Node has no IndexedDB or Web Storage): an object over a Map.
import { Connection } from "sse-courier/persist";
import { EventSource } from "eventsource";
import { runInNode } from "./run.mjs";

const values = new Map();
const store = {
  load: () => [...values].map(([key, value]) => ({ key, value })),
  put: (key, value) => void values.set(key, value),
  remove: (key) => void values.delete(key),
};
runInNode(Connection, EventSource, "node-persist", { store });
