// The page entry of the app of the `sse-courier/full` entry (no bundler, an import map):
// the shared app with both opt-ins, the persisted outbox in IndexedDB and
// `shareAcrossTabs`, so that the one tab leads, holds the stream, and stores its send
// before posting it. A package warning (storage or sharing unavailable) fails the app.
import { Connection } from "sse-courier/full";
import { apply, failOnPackageWarnings, paramsFrom, runApp } from "../app.js";

const state = window.__app;
failOnPackageWarnings(state);
try {
  const params = {
    ...paramsFrom(location.search),
    persist: { store: "indexeddb", key: "apps-full" },
    shareAcrossTabs: "apps-full",
  };
  const conn = runApp(Connection, params, (kind, value) => apply(state, kind, value));
  window.__stop = () => conn.disconnect();
} catch (error) {
  apply(state, "error", error?.stack ?? error);
  state.state = "error";
}
