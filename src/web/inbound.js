// The inbound hot path: each server event of a stream, parsed here and handed to the
// wasm in one call. It is JS because the figures say so. With the same work done in
// Rust (the stream's `onmessage` a Rust closure; `event.data`, `JSON.parse`, the object
// checks and the `seq` and `sessionId` reads each a call across the boundary; the
// listener called from the wasm), `make bench` (2026-12-07 02:16, against the build
// with the JS shell, 6056fee, in the same pages, alternating) measured the listener
// alone at 0.50 / 0.40 / 0.26 of that build (Chromium / Firefox / WebKit) and sustained
// inbound at 0.79 / 0.78 / 0.81. With this file (02:37 run): 1.10 / 0.93 / 0.88 and
// 0.99 / 0.95 / 1.01, within the runs' noise of it.
// Nothing here decides anything: the shell's `StreamInbox` (src/web/stream.rs) gets the
// parsed event, its `seq` and its `sessionId` as its methods' arguments, and answers
// the listener when the event is to be dispatched, which is called from here (from
// the wasm, each call goes through a wrapper that catches).

/** A connection's memory of the last `sessionId` it handed the wasm, shared by its
 * streams' handlers: events come in runs of one session, and the id is copied into
 * the wasm only when it changes (what the shell keeps as `last_session`). `chained`:
 * the connection applies events by acknowledgement (`acknowledgeEvents`); `probes`: it
 * takes the foreground probe's echoes (`foregroundProbe`). */
export function sessionMemory(chained, probes) {
  return { last: undefined, chained, probes };
}

/** The `onmessage` handler of one stream: each event's data parsed when it is a string
 * of at most `maxLength` UTF-16 units holding a JSON object, then
 * `inbox.event(message, seq, newSessionId)`, which answers the listener to hand the
 * event to (when the core lets it through), or `inbox.malformed()`. `seq` is -1 unless
 * the event carries a `sessionId` and a whole `seq`; `newSessionId` is that
 * `sessionId` when it differs from the last one handed over (`memory`), else
 * undefined.
 * With `memory.chained`, an event with a `sessionId`, a `seq` and a `prevSessionSeq`
 * goes to `inbox.chained(message, seq, prev, newSessionId, length)` instead (the wasm
 * calls the listener, whose answer it needs: `applyApp`), and a reconnect snapshot
 * offer to `inbox.snapshot(message)`.
 * With `memory.probes`, a `{type: "_probe", nonce}` echo goes to
 * `inbox.probeEcho(nonce)` instead, never to the listener. */
export function eventHandler(inbox, maxLength, memory) {
  return (event) => {
    const message = parseEventData(event, maxLength);
    if (message === undefined) return inbox.malformed();
    if (memory.probes && message.type === "_probe") {
      const { nonce } = message;
      return inbox.probeEcho(typeof nonce === "string" ? nonce : undefined);
    }
    // `authLatch` (the shell sets `memory.watchAuth`): authentication's, not the app's.
    if (memory.watchAuth && message.type === "auth_expired") return inbox.authExpired();
    const { sessionId, seq } = message;
    const tracked = typeof sessionId === "string" && Number.isSafeInteger(seq) && seq >= 0;
    let newSession;
    if (tracked && sessionId !== memory.last) newSession = memory.last = sessionId;
    if (memory.chained) {
      const prev = message.prevSessionSeq;
      if (tracked && Number.isSafeInteger(prev) && prev >= 0) {
        return inbox.chained(message, seq, prev, newSession, event.data.length);
      }
      if (message.type === "session_reconnect_snapshot") return inbox.snapshot(message);
    }
    const listener = inbox.event(message, tracked ? seq : -1, newSession);
    if (listener) callApp(listener, message);
  };
}

/** Calls the app's `callback` with `value` (its listener, `onDelivery`); what it throws
 * is reported with `console.error`, never let through into delivery. The shell calls
 * the app through this too (src/web/app.rs). */
export function callApp(callback, value) {
  try {
    callback.call(null, value);
  } catch (error) {
    console.error("[sse-courier] listener threw", error);
  }
}

/** Calls the app's listener with a chained event and says what it answered: 1 for
 * `true` (applied), -1 for `false` or a throw (refused: the throw is reported with
 * `console.error`), 0 for anything else (not applied yet). */
export function applyApp(listener, message) {
  try {
    const answer = listener.call(null, message);
    return answer === true ? 1 : answer === false ? -1 : 0;
  } catch (error) {
    console.error("[sse-courier] listener threw", error);
    return -1;
  }
}

/** The event's data as a plain object, or undefined when it is not a string of at most
 * `maxLength` UTF-16 units holding a JSON object. The shell parses a stream's
 * `welcome` with it too (src/web/stream.rs). */
export function parseEventData(event, maxLength) {
  let data, value;
  try {
    data = event.data;
    if (typeof data !== "string" || data.length > maxLength) return;
    value = JSON.parse(data);
  } catch (_) {
    return;
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) return value;
}
