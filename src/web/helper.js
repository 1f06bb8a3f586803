// The JS half of the browser shell: what is cheaper done in JS than through one wasm
// import per property. It holds no delivery logic; the Rust shell (src/web/) decides,
// this module touches the platform objects.
//
// Each connection has one state object `S`, made by `u` and owned by the Rust shell:
//   S.c  the live config (`connection.config`, a copy of the app's object): `fetch`,
//        `createEventSource`, `onDelivery`, `baseUrl`, `suspendUrl` are read from it
//        at each use, as the existing client does;
//   S.f  the shell's one inbox, called `S.f(kind, id, value)` (null once retired);
//   S.s  the open streams, by stream id: [source, welcome listener];
//   S.a  the AbortControllers of POSTs in flight, by POST id (with postTimeoutMs);
//   S.t  the host timer; S.l  the page lifecycle listeners, when listening.
// Inbox kinds: 0 welcome (stream id, event), 1 message (stream id, event), 2 stream
// error (stream id, 1 when readyState is CLOSED), 3 POST answer (POST id, 0 accepted /
// HTTP status / -1 network error), 4 page lifecycle (code), 5 timer.
//
// The export names are one letter: the wasm and the glue spell each of them. Each is
// documented where Rust declares it (src/web/js.rs). Everything here is defensive:
// injected fakes are plain objects, and nothing an app or a fake does may throw into
// the delivery loop.

const call = (S, kind, id, value) => S.f && S.f(kind, id, value);

/** `obj[key]`, or undefined when `obj` is not an object or the getter throws. */
export function g(obj, key) {
  try {
    if (obj === Object(obj)) return obj[key];
  } catch (_) {}
}

/** A new connection state for the app's `config` and the shell's `inbox`. */
export function u(config, inbox) {
  return { c: Object.assign({}, config), f: inbox, s: new Map(), a: new Map(), t: undefined, l: null };
}

/** The config copy of a state (`connection.config`). */
export function C(S) {
  return S.c;
}

/** The connection is gone: nothing may reach its inbox again. */
export function f(S) {
  S.f = null;
  for (const id of [...S.s.keys()]) h(S, id);
  m(S, -1);
  z(S);
}

// ---- events ----------------------------------------------------------------------

let seqCode;

/** Parses an event's data (see `read_event` in js.rs); notes its seq code for `c`. */
export function r(event, max, lastSession) {
  let data, value;
  try {
    data = event.data;
  } catch (_) {
    return;
  }
  if (typeof data !== "string" || data.length > max) return;
  try {
    value = JSON.parse(data);
  } catch (_) {
    return;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  const session = value.sessionId, seq = value.seq;
  seqCode =
    typeof session === "string" && Number.isSafeInteger(seq) && seq >= 0
      ? session === lastSession ? seq : -1 - seq
      : NaN;
  return value;
}

export function c() {
  return seqCode;
}

// ---- streams ---------------------------------------------------------------------

const hasListeners = (o) =>
  typeof g(o, "addEventListener") === "function" && typeof g(o, "removeEventListener") === "function";
const listen = (list, target, kind, fn) => {
  try {
    target.addEventListener(kind, fn, { passive: true });
  } catch (_) {}
  list.push([target, kind, fn]);
};
const unlisten = (target, kind, fn) => {
  try {
    target.removeEventListener(kind, fn, false);
  } catch (_) {}
};
const setProperty = (o, key, value) => {
  try {
    Reflect.set(o, key, value);
  } catch (_) {}
};

/** Opens stream `id`; false when no EventSource could be made. */
export function s(S, id) {
  const factory = g(S.c, "createEventSource"), url = g(S.c, "baseUrl") + "/api/chat/events";
  let source;
  try {
    source = typeof factory === "function" ? factory.call(undefined, url) : new EventSource(url);
  } catch (_) {
    return false;
  }
  if (source === null || typeof source !== "object") return false;
  const welcome = (event) => call(S, 0, id, event);
  listen([], source, "welcome", welcome);
  setProperty(source, "onmessage", (event) => call(S, 1, id, event));
  setProperty(source, "onerror", () => call(S, 2, id, g(source, "readyState") === 2 ? 1 : 0));
  S.s.set(id, [source, welcome]);
  return true;
}

/** Closes stream `id`, then detaches its handlers (so `close()` cannot call back). */
export function h(S, id) {
  const open = S.s.get(id);
  if (!open) return;
  S.s.delete(id);
  const [source, welcome] = open;
  try {
    source.close();
  } catch (_) {}
  unlisten(source, "welcome", welcome);
  setProperty(source, "onmessage", null);
  setProperty(source, "onerror", null);
}

// ---- POSTs -----------------------------------------------------------------------

/** POSTs `body` to `{baseUrl}/api/chat/{path}` as POST `post`; its answer reaches the inbox. */
export function p(S, path, connectionId, body, post, withSignal) {
  let self = S.c, fetch = g(self, "fetch"), controller, answer;
  if (typeof fetch !== "function") fetch = g((self = globalThis), "fetch");
  const init = {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Connection-ID": connectionId },
    body,
  };
  if (withSignal) {
    try {
      controller = new AbortController();
    } catch (_) {}
    if (controller) {
      init.signal = controller.signal;
      S.a.set(post, controller);
    }
  }
  if (typeof fetch !== "function") answer = Promise.reject();
  else {
    try {
      answer = fetch.call(self, g(S.c, "baseUrl") + "/api/chat/" + path, init);
    } catch (error) {
      answer = Promise.reject(error);
    }
  }
  Promise.allSettled([answer]).then(([settled]) => {
    const response = settled.value, responseBody = g(response, "body"), cancel = g(responseBody, "cancel");
    // An unread body holds the connection (Chromium fails every request after ~16k).
    if (typeof cancel === "function") {
      try {
        Promise.allSettled([cancel.call(responseBody)]);
      } catch (_) {}
    }
    S.a.delete(post);
    const status = g(response, "status");
    call(S, 3, post, g(response, "ok") === true ? 0 : typeof status === "number" && status >= 1 && status <= 999 ? status : -1);
  });
}

/** Aborts POST `post` through its AbortController, if it has one still. */
export function b(S, post) {
  const controller = S.a.get(post);
  if (controller) {
    S.a.delete(post);
    controller.abort();
  }
}

let sessions = [];

/** Adds `{ sessionId, lastSeq }` to the list the next `j` or `k` takes. */
export function a(sessionId, lastSeq) {
  sessions.push({ sessionId, lastSeq });
}

/** `JSON.stringify({ type, sessions })`, keys in the existing client's order. */
export function j(type) {
  const body = { type, sessions };
  sessions = [];
  return JSON.stringify(body);
}

/** The session ids pushed so far, as an array (for `getTrackedSessions`). */
export function i() {
  const ids = sessions.map((s) => s.sessionId);
  sessions = [];
  return ids;
}

/** `navigator.sendBeacon(suspendUrl, { connectionId, sessions })`, when possible. */
export function k(S, connectionId) {
  const nav = g(globalThis, "navigator"), send = g(nav, "sendBeacon"), list = sessions, url = g(S.c, "suspendUrl");
  sessions = [];
  if (typeof send !== "function" || typeof url !== "string" || !url) return;
  let blob;
  try {
    blob = new Blob([JSON.stringify({ connectionId, sessions: list })], { type: "application/json" });
  } catch (_) {
    return;
  }
  try {
    send.call(nav, url, blob);
  } catch (_) {}
}

// ---- the app ---------------------------------------------------------------------

/** The notice `_open` (0), `_close` (1) or `_foreground` (2). */
export function t(kind) {
  return { type: ["_open", "_close", "_foreground"][kind] };
}

/** `fn.call(null, value)`; the app's exception is reported, never let through. */
export function x(fn, value) {
  try {
    fn.call(null, value);
  } catch (error) {
    console.error("[sse-courier] listener threw", error);
  }
}

const reasons = ["queue_overflow", "stale_retries_exhausted", "cleared", "rejected", "stale_connection", "server_error", "network", "timeout"];

/** Hands `config.onDelivery` the report of `message`'s fate (see `report` in js.rs). */
export function d(S, fate, httpStatus, endpoint, message) {
  const onDelivery = g(S.c, "onDelivery");
  if (typeof onDelivery !== "function") return;
  const report = { status: fate ? (fate < 4 ? "dropped" : "failed") : "delivered" };
  if (fate) report.reason = reasons[fate - 1];
  if (httpStatus) report.httpStatus = httpStatus;
  report.endpoint = endpoint;
  const id = g(message, "clientMsgId");
  if (typeof id === "string") report.clientMsgId = id;
  report.message = message;
  x(onDelivery, report);
}

export function v(text) {
  console.warn("[sse-courier] " + text);
}

// ---- timer and page lifecycle --------------------------------------------------------

/** Arms the one host timer `ms` from now (disarms it when `ms` is negative).
 * `setTimeout` is looked up when armed, so fake timers see it. */
export function m(S, ms) {
  if (S.t !== undefined) clearTimeout(S.t);
  S.t = ms < 0 ? undefined : setTimeout(() => {
    S.t = undefined;
    call(S, 5, 0);
  }, ms);
}

/** Starts listening to page lifecycle events (once), whichever targets exist. */
export function y(S) {
  if (S.l) return;
  const list = (S.l = []), global = globalThis, doc = g(global, "document"), page = (code) => call(S, 4, code);
  if (hasListeners(doc)) {
    listen(list, doc, "visibilitychange", () => {
      const state = g(doc, "visibilityState");
      state === "visible" ? page(0) : state === "hidden" && page(1);
    });
  }
  if (hasListeners(global)) {
    listen(list, global, "pageshow", (event) => page(g(event, "persisted") === true ? 3 : 4));
    listen(list, global, "pagehide", () => page(2));
    listen(list, global, "online", () => page(5));
  }
}

/** Stops listening to page lifecycle events. */
export function z(S) {
  if (!S.l) return;
  for (const [target, kind, fn] of S.l) unlisten(target, kind, fn);
  S.l = null;
}

// ---- input checks ----------------------------------------------------------------

// The checks below give an Error rather than throw it (Rust tells them apart with
// `q` and throws it): an import that may throw costs a wrapper in the glue.

export function q(value) {
  return value instanceof Error;
}

/** The `type` of a message given to `send()`, or an Error when the message is wrong. */
export function o(message) {
  if (message === null || typeof message !== "object" || Array.isArray(message)) {
    return Error("send: message must be a plain object");
  }
  const type = g(message, "type");
  return typeof type === "string" ? type : Error("send: message.type must be a string");
}

/** `JSON.stringify(message)`, or an Error naming JSON when it cannot. */
export function e(message) {
  let body, cause;
  try {
    body = JSON.stringify(message);
  } catch (error) {
    cause = error;
  }
  return typeof body === "string"
    ? body
    : Error("send: message cannot be serialised to JSON: " + (g(cause, "message") ?? ""));
}

// Each optional field with its kind: 0 function, 1 string, 2 milliseconds from 0,
// 3 milliseconds above 0, 4 integer from 0, 5 integer from 1, 6 boolean, 7 array of
// strings (endpoint names, checked by Rust), 8 object. `backoff.*` is read from `backoff`.
const FIELDS =
  "fetch0createEventSource0onDelivery0suspendUrl1reconnectDelayMs2retryableEndpoints7maxPendingSends5" +
  "maxStaleRetries5maxSendRetries4staleAfterMs3postTimeoutMs3backoff8backoff.initialMs3backoff.maxMs3" +
  "orderedSends6maxEventBytes5";
const NEEDS = ["a function", "a string", "a non-negative number", "a positive number", "a non-negative integer", "a positive integer", "a boolean", "an array of endpoint names", "an object"];

/** Checks each config field alone (see `read_config` in js.rs). */
export function n(config) {
  try {
    return fields(config);
  } catch (error) {
    return error;
  }
}

function fields(config) {
  if (config === null || typeof config !== "object") throw Error("config must be an object with a baseUrl");
  const refuse = (field, must) => {
    throw Error("config." + field + " must " + must);
  };
  const baseUrl = g(config, "baseUrl");
  if (typeof baseUrl !== "string") refuse("baseUrl", 'be a string ("" for same-origin)');
  if (/[?#]|\/$/.test(baseUrl)) refuse("baseUrl", "not end with '/' nor contain '?' or '#'");
  let backoff;
  return FIELDS.match(/\D+\d/g).map((entry) => {
    const field = entry.slice(0, -1), kind = +entry.slice(-1);
    const value = field.startsWith("backoff.") ? g(backoff, field.slice(8)) : g(config, field), type = typeof value;
    if (value == null) return undefined;
    const ok =
      kind < 1 ? type === "function"
      : kind < 2 ? type === "string"
      : kind < 6
        ? type === "number" && (value > 0 || (value === 0 && !(kind & 1))) &&
          value <= (kind > 3 ? 4294967295 : 2147483647) && (kind < 4 || Number.isInteger(value))
      : kind < 7 ? type === "boolean"
      : kind < 8 ? Array.isArray(value) && [...value].every((name) => typeof name === "string")
      : type === "object";
    if (!ok) refuse(field, "be " + NEEDS[kind]);
    if (kind > 7) backoff = value;
    return kind < 2 ? 0 : kind < 6 ? Math.ceil(value) : kind < 7 ? +value : kind < 8 ? [...value] : 0;
  });
}
