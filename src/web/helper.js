// What the connection still does in JS: the check of `send()`'s message and its
// serialisation (issue 21 moves them to Rust with the config's check), the warning
// prefix, and freeing the inbox late. Everything else of the shell is Rust
// (src/web/). Each export is documented where Rust declares it (src/web/js.rs), under
// the same name; the build renames them in the wasm and here alike (tools/wasm-rename).

const readProperty = (object, key) => {
  try {
    if (object === Object(object)) return object[key];
  } catch (_) {}
};

export function warn(text) {
  console.warn("[sse-courier] " + text);
}

export function freeLater(object) {
  queueMicrotask(() => object.free());
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
