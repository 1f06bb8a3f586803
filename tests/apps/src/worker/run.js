// Inside the dedicated worker: the shared app, every record posted to the page as
// [kind, value]; errors of the worker's own scope are posted too.
import { paramsFrom, runApp } from "../app.js";

export function runInWorker(Connection) {
  const post = (kind, value) => self.postMessage([kind, value]);
  self.addEventListener("error", (e) => post("error", `worker error: ${e.error?.stack ?? e.message}`));
  self.addEventListener("unhandledrejection", (e) => post("error", `worker unhandled rejection: ${e.reason?.stack ?? e.reason}`));
  post("set", { inWorker: typeof WorkerGlobalScope === "function" && self instanceof WorkerGlobalScope });
  // The page's first message is its query string.
  self.addEventListener("message", function start(e) {
    self.removeEventListener("message", start);
    try {
      self.__conn = runApp(Connection, paramsFrom(e.data), post);
    } catch (error) {
      post("error", error?.stack ?? error);
      post("set", { state: "error" });
    }
  });
}
