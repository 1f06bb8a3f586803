// The Node side of the shared app: argv `<server> <sessionId> <clientMsgId>`, an
// EventSource from the `eventsource` package (Node 20 has none), the shared app; prints
// the state as one JSON line once the send is delivered and its reply is done (or after
// 10 s), then disconnects and exits. Used by app.mjs (ESM), app.cjs (CommonJS) and
// app-persist.mjs (the `sse-courier/persist` entry, with `persist`).
import { apply, newState, runApp } from "../app.js";

export function runInNode(Connection, EventSource, app, persist) {
  const [server, sessionId, clientMsgId] = process.argv.slice(2);
  const state = newState(app);
  process.on("uncaughtException", (error) => apply(state, "error", `uncaught: ${error?.stack ?? error}`));
  process.on("unhandledRejection", (error) => apply(state, "error", `unhandled rejection: ${error?.stack ?? error}`));
  let conn;
  const finish = () => {
    try {
      conn?.disconnect();
    } catch (error) {
      apply(state, "error", `disconnect() threw: ${error?.stack ?? error}`);
    }
    process.stdout.write(`${JSON.stringify(state)}\n`, () => process.exit(0));
  };
  const done = () =>
    state.reports.some((r) => r?.clientMsgId === clientMsgId) &&
    state.events.some((e) => e?.type === "message_done" && e.clientMsgId === clientMsgId);
  try {
    conn = runApp(
      Connection,
      { server, sessionId, clientMsgId, createEventSource: (url) => new EventSource(url), persist },
      (kind, value) => {
        apply(state, kind, value);
        // A moment after the reply ends, so a second report would be seen too.
        if (done() && !state.finishing) {
          state.finishing = true;
          setTimeout(finish, 200);
        }
      },
    );
  } catch (error) {
    apply(state, "error", error?.stack ?? error);
    state.state = "error";
    finish();
    return;
  }
  setTimeout(finish, 10000);
}
