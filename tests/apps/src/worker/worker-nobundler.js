// The worker of the no-bundler worker app: import maps do not reach workers, so the
// package's default entry is imported by its path, served from tests/apps/node_modules.
import { Connection } from "/node_modules/sse-courier/index.js";
import { runInWorker } from "./run.js";

runInWorker(Connection);
