// The page entry of the apps of the `sse-courier/persist` entry (esbuild, no bundler with
// an import map): the shared app with the persisted outbox in IndexedDB, so that the send
// is stored before it is posted and removed before its report.
import { Connection } from "sse-courier/persist";
import { apply, paramsFrom, runApp } from "../app.js";

const state = window.__app;
try {
  const params = { ...paramsFrom(location.search), persist: { store: "indexeddb", key: "apps" } };
  const conn = runApp(Connection, params, (kind, value) => apply(state, kind, value));
  window.__stop = () => conn.disconnect();
} catch (error) {
  apply(state, "error", error?.stack ?? error);
  state.state = "error";
}
