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

const liveConnections = new Set();

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
      liveConnections.delete(this);
      super.free();
    }
  }
  // The generated class may alias `Symbol.dispose` to its own `free`, which would skip
  // the override above.
  if (typeof Symbol.dispose === "symbol") {
    Connection.prototype[Symbol.dispose] = Connection.prototype.free;
  }
  return Connection;
}
