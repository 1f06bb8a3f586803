// Node, CommonJS: `require` of the package's default entry (the shared app source is
// ESM, loaded with import(), which CommonJS may use).
const { Connection } = require("sse-courier");
const { EventSource } = require("eventsource");

import("./run.mjs").then(({ runInNode }) => runInNode(Connection, EventSource, "node-cjs"));
