// The one app every entry of the matrix runs (pages, the worker, Node): construct a
// Connection with the default config plus onDelivery (and `persist` for the apps of the
// `sse-courier/persist` entry, `shareAcrossTabs` for those of `sse-courier/tabs`, both for
// `sse-courier/full`), connect, and on the first `_open` send one message. Everything seen goes to `record(kind, value)`:
//   record("event", msg)        every message the listener gets (server events, _open...)
//   record("report", report)    every onDelivery report
//   record("set", { ... })      facts: connectionId, sendReturned, state
//   record("error", text)       anything thrown
// Values are plain JSON copies, so a worker can post them as they are.

/** `?server=&sessionId=&clientMsgId=` of a page (or a worker's own URL). */
export function paramsFrom(search) {
  const params = new URLSearchParams(search);
  return {
    server: params.get("server"),
    sessionId: params.get("sessionId"),
    clientMsgId: params.get("clientMsgId"),
  };
}

const plain = (value) => JSON.parse(JSON.stringify(value ?? null));

/** Records the package's warnings (`console.warn("[sse-courier] ...")`) as errors, so
 * that an app whose opt-in fell back (no Web Locks, no storage...) fails. */
export function failOnPackageWarnings(state) {
  const warn = console.warn;
  console.warn = (...args) => {
    if (String(args[0]).startsWith("[sse-courier]")) apply(state, "error", args.join(" "));
    warn.apply(console, args);
  };
}

export function runApp(Connection, { server, sessionId, clientMsgId, createEventSource, persist, shareAcrossTabs }, record) {
  if (!server || !sessionId || !clientMsgId) {
    throw new Error(`the app needs server, sessionId and clientMsgId (got ${JSON.stringify({ server, sessionId, clientMsgId })})`);
  }
  const config = { baseUrl: server, onDelivery: (report) => record("report", plain(report)) };
  if (createEventSource) config.createEventSource = createEventSource;
  if (persist) config.persist = persist;
  if (shareAcrossTabs) config.shareAcrossTabs = shareAcrossTabs;
  const conn = new Connection(config);
  let sent = false;
  conn.onMessage((msg) => {
    record("event", plain(msg));
    if (msg?.type === "_open" && !sent) {
      sent = true;
      record("set", { connectionId: conn.getConnectionId() });
      try {
        record("set", { sendReturned: conn.send({ type: "send", sessionId, clientMsgId, prompt: "hi" }) });
      } catch (error) {
        record("error", `send() threw: ${error?.stack ?? error}`);
      }
    }
  });
  conn.connect();
  record("set", { state: "running" });
  return conn;
}

/** The state a recorder fills in; `apply` is how a record lands in it (the page's own
 * window.__app, the worker relay, Node). */
export function newState(app) {
  return { app, state: "loading", errors: [], events: [], reports: [], connectionId: null, sendReturned: null };
}

export function apply(state, kind, value) {
  if (kind === "event") state.events.push(value);
  else if (kind === "report") state.reports.push(value);
  else if (kind === "error") {
    state.errors.push(String(value));
  } else if (kind === "set") Object.assign(state, value);
}
