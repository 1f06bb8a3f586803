// The lifetime promise of `Connection`: one that is connected, connecting or
// reconnecting stays alive with no reference from the app, until `disconnect()`. A
// stream is opened by `connect()`, or by `checkAndReconnect()` (which opens one unless
// connected, even on a connection never connected).
//
// wasm-bindgen frees a Rust object when its JS wrapper is garbage collected (a
// FinalizationRegistry). The stream's handlers hold the Rust side, not the wrapper, so
// without this a connected `Connection` the app no longer references would be freed
// at the next GC: its stream closed, no `_close`, every later event lost. The existing
// client's connection lives on through its EventSource's handlers; this set plays that
// part. After `disconnect()` (or `free()`) the wrapper leaves the set and is collected
// like any object.
//
// It also makes a freed connection say so. The generated class, once freed, passes a
// null pointer to the wasm on every call, which throws wasm-bindgen's "null pointer
// passed to rust": true, but no help to the app. Every method and getter of the
// wrapper checks first; `free()` a second time does nothing, as a dispose should
// (`using` disposes even after an explicit `free()`).

const liveConnections = new Set();
/** Connections freed by `free()` or `Symbol.dispose`. */
const freedConnections = new WeakSet();

function refuseIfFreed(connection) {
  if (freedConnections.has(connection)) {
    throw Error("this Connection was freed (by free() or Symbol.dispose); make a new one to go on");
  }
}

/** The exported `Connection`: the generated class, kept reachable while connected. */
export function keepAliveWhileConnected(GeneratedConnection) {
  class Connection extends GeneratedConnection {
    connect() {
      liveConnections.add(this);
      super.connect();
    }

    checkAndReconnect(force) {
      liveConnections.add(this);
      super.checkAndReconnect(force);
    }

    disconnect() {
      liveConnections.delete(this);
      super.disconnect();
    }

    free() {
      if (freedConnections.has(this)) return;
      liveConnections.delete(this);
      // Marked freed only afterwards: the generated `free` calls a method of its own.
      super.free();
      freedConnections.add(this);
    }
  }
  // Every other member of the generated class (the overrides above included), its
  // methods and its getters, read from the class rather than listed, so that one added
  // to the class later is covered too.
  for (const [name, generated] of Object.entries(Object.getOwnPropertyDescriptors(GeneratedConnection.prototype))) {
    if (name === "constructor" || name === "free") continue;
    const descriptor = Object.getOwnPropertyDescriptor(Connection.prototype, name) ?? generated;
    for (const part of ["value", "get", "set"]) {
      const original = descriptor[part];
      if (typeof original !== "function") continue;
      descriptor[part] = function (...args) {
        refuseIfFreed(this);
        return original.apply(this, args);
      };
    }
    Object.defineProperty(Connection.prototype, name, descriptor);
  }
  // The generated class may alias `Symbol.dispose` to its own `free`, which would skip
  // the override above.
  if (typeof Symbol.dispose === "symbol") {
    Connection.prototype[Symbol.dispose] = Connection.prototype.free;
  }
  return Connection;
}
