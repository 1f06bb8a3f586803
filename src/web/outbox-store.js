// The persisted outbox's storage: where the shell keeps the records the core asks it to
// store (docs/persisted-outbox.md, "The contract for the shell", items 3 and 5). It
// decides nothing about delivery: it writes, deletes and reads back what it is given,
// and turns every failure into a warning, so that the connection goes on in memory.
//
// Not wired into the shell yet: the next step of the persisted outbox builds the
// `persist` option on it.
//
// A store holds string values under string keys, namespaced by the app's
// `persist.key`:
// - "local" / "session": `localStorage` / `sessionStorage`, keys
//   `sse-courier:<namespace>:<key>`. Synchronous: a write is durable when `put` returns
//   (so before `send()` returns).
// - "indexeddb": database `sse-courier:<namespace>`, object store `records`. A write is
//   durable when its transaction commits, which `put`'s promise reports.
// - an app's own store: `{ load(), put(key, value), remove(key) }`, each returning a
//   value or a promise (`load` gives `[{ key, value }]`).
// A store that cannot be used (no such API, a private mode that blocks it, a throw)
// becomes the memory store, after one warning.

const PREFIX = "sse-courier";

/** A store that keeps nothing across pages: the fallback when no other can be used. */
function memoryStore(reason) {
  const values = new Map();
  return {
    kind: "memory",
    durable: false,
    reason,
    load: async () => [...values].map(([key, value]) => ({ key, value })),
    put: async (key, value) => void values.set(key, value),
    remove: async (key) => void values.delete(key),
  };
}

const describeError = (error) => (error && typeof error === "object" && "name" in error ? `${error.name}: ${error.message}` : String(error));

/** `localStorage` or `sessionStorage`, or undefined when it is missing or refuses use. */
function webStorage(name) {
  try {
    const storage = globalThis[name];
    const probe = `${PREFIX}:probe`;
    storage.setItem(probe, "1");
    storage.removeItem(probe);
    return storage;
  } catch (_) {}
}

function webStorageStore(kind, storage, namespace, warn) {
  const prefix = `${PREFIX}:${namespace}:`;
  return {
    kind,
    durable: true,
    load: async () => {
      const entries = [];
      try {
        for (let i = 0; i < storage.length; i++) {
          const name = storage.key(i);
          if (name !== null && name.startsWith(prefix)) {
            entries.push({ key: name.slice(prefix.length), value: storage.getItem(name) });
          }
        }
      } catch (error) {
        warn(`could not read the ${kind} outbox (${describeError(error)}); going on in memory`);
      }
      return entries;
    },
    put: async (key, value) => {
      try {
        storage.setItem(prefix + key, value);
      } catch (error) {
        // A full store (QuotaExceededError) keeps the message in memory only.
        warn(`could not store an outbox message in ${kind} (${describeError(error)}); it is kept in memory`);
      }
    },
    remove: async (key) => {
      try {
        storage.removeItem(prefix + key);
      } catch (error) {
        warn(`could not remove an outbox message from ${kind} (${describeError(error)})`);
      }
    },
  };
}

const RECORDS = "records";

/** Resolves when an IndexedDB transaction commits, rejects when it fails. */
const committed = (transaction) =>
  new Promise((resolve, reject) => {
    transaction.addEventListener("complete", () => resolve());
    transaction.addEventListener("error", () => reject(transaction.error));
    transaction.addEventListener("abort", () => reject(transaction.error ?? new Error("aborted")));
  });

function openDatabase(namespace) {
  return new Promise((resolve, reject) => {
    const request = globalThis.indexedDB.open(`${PREFIX}:${namespace}`, 1);
    request.addEventListener("upgradeneeded", () => request.result.createObjectStore(RECORDS));
    request.addEventListener("success", () => resolve(request.result));
    request.addEventListener("error", () => reject(request.error));
    // An older version held open elsewhere can leave the request blocked for ever:
    // that counts as a failure.
    request.addEventListener("blocked", () => reject(new Error("the database is blocked")));
  });
}

function indexedDbStore(database, warn) {
  const transact = (mode, work) => {
    const transaction = database.transaction(RECORDS, mode);
    const result = work(transaction.objectStore(RECORDS));
    return committed(transaction).then(() => result);
  };
  return {
    kind: "indexeddb",
    durable: true,
    load: async () => {
      try {
        const entries = [];
        await transact("readonly", (records) => {
          const cursor = records.openCursor();
          cursor.addEventListener("success", () => {
            const at = cursor.result;
            if (!at) return;
            entries.push({ key: String(at.key), value: at.value });
            at.continue();
          });
        });
        return entries;
      } catch (error) {
        warn(`could not read the indexeddb outbox (${describeError(error)}); going on in memory`);
        return [];
      }
    },
    put: async (key, value) => {
      try {
        await transact("readwrite", (records) => records.put(value, key));
      } catch (error) {
        warn(`could not store an outbox message in indexeddb (${describeError(error)}); it is kept in memory`);
      }
    },
    remove: async (key) => {
      try {
        await transact("readwrite", (records) => records.delete(key));
      } catch (error) {
        warn(`could not remove an outbox message from indexeddb (${describeError(error)})`);
      }
    },
  };
}

/** The app's own store, each call guarded so that nothing it does throws into delivery. */
function customStore(store, warn) {
  const call = async (what, fallback, ...args) => {
    try {
      return await store[what](...args);
    } catch (error) {
      warn(`the app's outbox store failed in ${what} (${describeError(error)})`);
      return fallback;
    }
  };
  return {
    kind: "custom",
    durable: true,
    load: async () => {
      const entries = await call("load", []);
      if (!Array.isArray(entries)) {
        warn("the app's outbox store's load() did not give an array; going on in memory");
        return [];
      }
      return entries.filter((entry) => entry && typeof entry.key === "string" && typeof entry.value === "string");
    },
    put: (key, value) => call("put", undefined, key, value),
    remove: (key) => call("remove", undefined, key),
  };
}

const isCustomStore = (store) =>
  store !== null && typeof store === "object" && ["load", "put", "remove"].every((name) => typeof store[name] === "function");

/**
 * The store `spec` names, for the app's `namespace`: "local", "session", "indexeddb" or
 * the app's own `{ load, put, remove }`. Never throws: a store that cannot be used is
 * the memory store, after `warn(text)`. An unknown `spec` is refused by the config
 * check before this is reached; here it too becomes the memory store.
 */
export async function openOutboxStore(spec, namespace, warn) {
  if (spec === "local" || spec === "session") {
    const storage = webStorage(spec === "local" ? "localStorage" : "sessionStorage");
    if (storage) return webStorageStore(spec, storage, namespace, warn);
    warn(`${spec}Storage cannot be used here; the outbox is kept in memory only`);
    return memoryStore(`${spec}Storage unavailable`);
  }
  if (spec === "indexeddb") {
    if (!globalThis.indexedDB) {
      warn("IndexedDB is missing here; the outbox is kept in memory only");
      return memoryStore("indexeddb missing");
    }
    try {
      return indexedDbStore(await openDatabase(namespace), warn);
    } catch (error) {
      warn(`IndexedDB could not be opened (${describeError(error)}); the outbox is kept in memory only`);
      return memoryStore("indexeddb failed to open");
    }
  }
  if (isCustomStore(spec)) return customStore(spec, warn);
  warn("persist.store is not a store; the outbox is kept in memory only");
  return memoryStore("no store");
}
