// The page entry of every browser app (Vite, webpack, esbuild, Rollup, no bundler with
// an import map): the package by its bare name, the shared app on window.__app.
import { Connection } from "sse-courier";
import { apply, paramsFrom, runApp } from "./app.js";

const state = window.__app;
try {
  const conn = runApp(Connection, paramsFrom(location.search), (kind, value) => apply(state, kind, value));
  // The driver ends each app with this before leaving the page: Chromium keeps a page it
  // navigates away from (back/forward cache) with its stream open, and six open streams
  // to the server's origin would stall the next app's requests.
  window.__stop = () => conn.disconnect();
} catch (error) {
  apply(state, "error", error?.stack ?? error);
  state.state = "error";
}
