// The part of the browser shell still in JS: the streams (opening them, parsing each
// event), the app's listener and the input checks. The POSTs, the beacon, the timer,
// the lifecycle listeners, the reports and the counters are Rust's (src/web/);
// issue 21 moves the rest there too. It holds no delivery logic: the Rust shell
// decides, this module carries out.
//
// Each connection has one state object, made by `createState` and owned by the Rust
// shell. Everything the platform reports reaches Rust through the state's inbox, one
// call per event: `inbox.tell(kind, id, now, number, text)`, with `kind` one of the
// `INBOX_` codes below. Everything here is defensive: injected fakes are plain objects,
// and nothing an app or a fake does may throw into the delivery loop.
//
// The build shortens every name: the state's fields end in `_` so that esbuild's
// `--mangle-props=_$` renames them, and the exported functions are renamed in the wasm
// and here alike (tools/wasm-rename). Each export is documented where Rust declares it
// (src/web/js.rs), under the same name.

// What the inbox hears, as `kind`. Rust reads the same codes (src/web/inputs.rs).
/** A `welcome` event: `text` is its connection id (undefined when malformed). */
const INBOX_WELCOME = 0;
/** A server event: `number` its seq (NaN when none), `text` its session id when it
 * differs from the last one reported. The inbox answers whether to dispatch it. */
const INBOX_MESSAGE = 1;
/** An event whose data is not a JSON object within `maxEventBytes`. */
const INBOX_MALFORMED = 2;
/** The stream failed: `number` is 1 when it is closed for good (readyState CLOSED). */
const INBOX_STREAM_ERROR = 3;

/** The notices the listener gets, by the code Rust passes to `notify`. */
const NOTICE_TYPES = ["_open", "_close", "_foreground"];

const EVENT_SOURCE_CLOSED = 2;

/** `object[key]`, or undefined when `object` is not an object or the getter throws. */
export function readProperty(object, key) {
  try {
    if (object === Object(object)) return object[key];
  } catch (_) {}
}

/** A new connection state for the app's `config` and the shell's `inbox`. */
export function createState(config, inbox, maxEventLength, timedEvents) {
  return {
    // A copy, like the existing client's `{ ...defaults, ...config }`: the app may
    // replace `connection.config.fetch` later and the next POST uses it. Its options
    // are plain data properties (the copy read any getters once), so they are read
    // directly.
    config_: Object.assign({}, config),
    inbox_: inbox,
    maxEventLength_: maxEventLength,
    /** Whether the inbox reads the time of each server event (1 or 0, the core's
     * `event_time_needed`): `Date.now()` per event is not free (0.1-0.3 µs). */
    timedEvents_: timedEvents,
    listener_: undefined,
    /** The session id last handed to the inbox with an event. */
    reportedSession_: undefined,
    /** Open streams by stream id: `[source, welcome listener]`. */
    streams_: new Map(),
  };
}

/** Tells the inbox what happened at `now`; 0 once the state is retired. `data` is a
 * server event's, for the build that relays events to other tabs (the others' inbox
 * takes no such argument). */
const tellAt = (state, kind, id, now, number, text, data) =>
  state.inbox_ ? state.inbox_.tell(kind, id, now, number, text, data) : 0;

const tell = (state, kind, id, number, text) => tellAt(state, kind, id, Date.now(), number, text);

/** The config copy of a state (`connection.config`). */
export function configOf(state) {
  return state.config_;
}

/** The connection is gone: nothing may reach its inbox again. */
export function retire(state) {
  const inbox = state.inbox_;
  state.inbox_ = null;
  // Freed once the current call into the wasm has returned: it may be the inbox's
  // own (an app listener freeing its connection), and an object is not freed while
  // one of its methods runs.
  if (inbox) queueMicrotask(() => inbox.free());
  for (const id of [...state.streams_.keys()]) closeStream(state, id);
}

// ---- streams ---------------------------------------------------------------------

const listen = (list, target, type, handler) => {
  try {
    target.addEventListener(type, handler, { passive: true });
  } catch (_) {}
  list.push([target, type, handler]);
};

const unlisten = (target, type, handler) => {
  try {
    target.removeEventListener(type, handler, false);
  } catch (_) {}
};

const setProperty = (object, key, value) => {
  try {
    Reflect.set(object, key, value);
  } catch (_) {}
};

/** The event's data as a plain object, or undefined when it is not a string of at most
 * `maxLength` UTF-16 units holding a JSON object. */
function parseEventData(event, maxLength) {
  let data, value;
  try {
    data = event.data;
  } catch (_) {
    return;
  }
  if (typeof data !== "string" || data.length > maxLength) return;
  try {
    value = JSON.parse(data);
  } catch (_) {
    return;
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) return value;
}

function onWelcome(state, id, event) {
  const connectionId = readProperty(parseEventData(event, state.maxEventLength_), "connectionId");
  tell(state, INBOX_WELCOME, id, 0, typeof connectionId === "string" ? connectionId : undefined);
}

/** One crossing per event: the inbox gets the seq and (when it changed) the session,
 * and answers whether the listener gets the event. */
function onServerEvent(state, id, event) {
  const message = parseEventData(event, state.maxEventLength_);
  if (!message) return tell(state, INBOX_MALFORMED, id);
  const { sessionId, seq } = message;
  let newSession;
  const tracked = typeof sessionId === "string" && Number.isSafeInteger(seq) && seq >= 0;
  if (tracked && sessionId !== state.reportedSession_) newSession = state.reportedSession_ = sessionId;
  const now = state.timedEvents_ ? Date.now() : 0;
  if (tellAt(state, INBOX_MESSAGE, id, now, tracked ? seq : NaN, newSession, message)) dispatch(state, message);
}

/** Opens stream `id`; 0, after a warning saying why, when no EventSource could be made. */
export function openStream(state, id) {
  const factory = state.config_.createEventSource;
  const url = state.config_.baseUrl + "/api/chat/events";
  const given = typeof factory === "function";
  let source;
  try {
    source = given ? factory.call(undefined, url) : new EventSource(url);
  } catch (error) {
    // The app's own error is the one thing that says what went wrong: keep it.
    warn(
      given
        ? `could not open an EventSource: config.createEventSource threw ${describeError(error)}`
        : `could not open an EventSource (${describeError(error)}); pass config.createEventSource`,
    );
    return 0;
  }
  if (source === null || typeof source !== "object") {
    warn(`could not open an EventSource: config.createEventSource returned ${String(source)}, not an EventSource`);
    return 0;
  }
  const welcome = (event) => onWelcome(state, id, event);
  listen([], source, "welcome", welcome);
  setProperty(source, "onmessage", (event) => onServerEvent(state, id, event));
  setProperty(source, "onerror", () => {
    const closed = readProperty(source, "readyState") === EVENT_SOURCE_CLOSED;
    tell(state, INBOX_STREAM_ERROR, id, closed ? 1 : 0);
  });
  state.streams_.set(id, [source, welcome]);
  return 1;
}

/** Closes stream `id`, then detaches its handlers (so `close()` cannot call back). */
export function closeStream(state, id) {
  const stream = state.streams_.get(id);
  if (!stream) return;
  state.streams_.delete(id);
  const [source, welcome] = stream;
  try {
    source.close();
  } catch (_) {}
  unlisten(source, "welcome", welcome);
  setProperty(source, "onmessage", null);
  setProperty(source, "onerror", null);
}

// ---- the app ---------------------------------------------------------------------

/** `callback.call(null, value)`; the app's exception is reported, never let through. */
function callApp(callback, value) {
  try {
    callback.call(null, value);
  } catch (error) {
    console.error("[sse-courier] listener threw", error);
  }
}

/** The app's listener (`onMessage`): a function, or anything else for none. */
export function setListener(state, listener) {
  state.listener_ = typeof listener === "function" ? listener : undefined;
}

/** Hands a server event to the listener (also one another tab relayed, `shareAcrossTabs`). */
export function dispatch(state, message) {
  if (state.listener_) callApp(state.listener_, message);
}

/** Dispatches the notice `_open`, `_close` or `_foreground` (by its index in NOTICE_TYPES). */
export function notify(state, notice) {
  dispatch(state, { type: NOTICE_TYPES[notice] });
}

export function warn(text) {
  console.warn("[sse-courier] " + text);
}

/** A thrown value as a warning quotes it: `Name: message` for an Error. */
function describeError(error) {
  try {
    return error && typeof error === "object" && "name" in error ? `${error.name}: ${error.message}` : String(error);
  } catch (_) {
    return "an unprintable value"; // e.g. an object without a prototype
  }
}

// ---- input checks ----------------------------------------------------------------

// The checks give an Error rather than throw it (Rust tells them apart with
// `isError` and throws it): an import that may throw costs a wrapper in the glue.

export function isError(value) {
  return value instanceof Error;
}

/** The `type` of a message given to `send()`, or an Error when the message is wrong. */
export function messageType(message) {
  if (message === null || typeof message !== "object" || Array.isArray(message)) {
    return Error("send: message must be a plain object");
  }
  const type = readProperty(message, "type");
  return typeof type === "string" ? type : Error("send: message.type must be a string");
}

/** `JSON.stringify(message)`, or an Error naming JSON when it cannot. */
export function messageBody(message) {
  let body, cause;
  try {
    body = JSON.stringify(message);
  } catch (error) {
    cause = error;
  }
  return typeof body === "string"
    ? body
    : Error("send: message cannot be serialised to JSON: " + (readProperty(cause, "message") ?? ""));
}
