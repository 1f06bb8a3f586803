// The worker of the bundled worker app (the current Vite): the package by its name.
import { Connection } from "sse-courier";
import { runInWorker } from "./run.js";

runInWorker(Connection);
