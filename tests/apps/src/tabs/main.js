// The page entry of the apps of the `sse-courier/tabs` entry (esbuild, no bundler with an
// import map): the shared app with `shareAcrossTabs`, so that the tab takes the Web Lock,
// leads, and holds the stream itself. The package's warning that Web Locks or
// BroadcastChannel is missing (a stream per tab) fails the app: every engine has both.
import { Connection } from "sse-courier/tabs";
import { apply, failOnPackageWarnings, paramsFrom, runApp } from "../app.js";

const state = window.__app;
failOnPackageWarnings(state);
try {
  const params = { ...paramsFrom(location.search), shareAcrossTabs: "apps" };
  const conn = runApp(Connection, params, (kind, value) => apply(state, kind, value));
  window.__stop = () => conn.disconnect();
} catch (error) {
  apply(state, "error", error?.stack ?? error);
  state.state = "error";
}
