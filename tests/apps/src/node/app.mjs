// Node, ESM: `import` of the package's default entry.
import { Connection } from "sse-courier";
import { EventSource } from "eventsource";
import { runInNode } from "./run.mjs";

runInNode(Connection, EventSource, "node-esm");
