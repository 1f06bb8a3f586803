// The JS half of the persisted outbox (the `persist` option, docs/persisted-outbox.md):
// the stores, the Web Locks that say which pages are alive, and the restore at start.
// It decides nothing about delivery: the core decides what is stored, removed, taken
// back, expired or left alone (src/core/persist.rs); this module writes, deletes and
// reads back what it is told, and turns every failure into a warning, so that the
// connection goes on in memory and nothing throws into the app.
//
// A store holds string values under string keys (a message's `clientMsgId`), and
// gives back only those of its outbox (the app's `persist.key`, the namespace):
// - "local" / "session": `localStorage` / `sessionStorage`, entries named
//   `sse-courier:<namespace>:<key>` (see `entryName`). Synchronous: a write is durable
//   when `put` returns.
// - "indexeddb": database `sse-courier:<namespace>`, object store `records`. A write is
//   durable when its transaction commits, which `put`'s promise reports.
// - an app's own store: `{ load(), put(name, value), remove(name) }`, each returning a
//   value or a promise (`load` gives `[{ key: name, value }]`), its entries named as in
//   Web Storage, since one app store may hold the outboxes of several keys.
// A store that cannot be used (no such API, a private mode that blocks it, a throw)
// becomes the memory store, after one warning.
//
// Private fields end in `_` (the build shortens them); the exports Rust calls are
// documented where it declares them (src/web/js.rs).

const PREFIX = "sse-courier";

// ---- entry names -------------------------------------------------------------------
// Web Storage and an app's store are one flat space shared by every outbox of the app
// (two signed-in users on one device, say), so an entry's name says whose it is:
// `sse-courier:<namespace>:<key>`, the key with `%` and `:` escaped. The last `:` of a
// name then ends its namespace: two outboxes never share a name (namespaces "chat"
// and "chat:42" included), and a page reads back only the entries of its own.

const escapeKey = (key) => key.replace(/%/g, "%25").replace(/:/g, "%3A");
const unescapeKey = (escaped) => escaped.replace(/%(25|3A)/g, (_, code) => (code === "25" ? "%" : ":"));

/** The start of every entry name of the outbox `namespace`. */
const entryPrefix = (namespace) => `${PREFIX}:${namespace}:`;

/** The name of the entry `key` of the outbox whose names start with `prefix`. */
export const entryName = (prefix, key) => prefix + escapeKey(key);

/** The key `name` holds when it is an entry of the outbox whose names start with
 * `prefix`, else undefined (another outbox's entry, or not an outbox entry at all). */
export function entryKey(prefix, name) {
  if (!name.startsWith(prefix)) return;
  const escaped = name.slice(prefix.length);
  const key = unescapeKey(escaped);
  if (escapeKey(key) === escaped) return key;
}

/** The `key` field of a stored record, or undefined when `value` is not one. */
function recordKey(value) {
  try {
    const key = JSON.parse(value)?.key;
    if (typeof key === "string") return key;
  } catch (_) {}
}

/**
 * The key of the entry `name` (holding `value`) when it is an entry of the outbox whose
 * names start with `prefix`, else undefined. With `unescapedNames` (Web Storage, where
 * version 0.1.0 named an entry by its key unescaped), such an entry is taken too: the
 * record's own key says whose it is, since no other outbox's name can end so.
 */
function keyOfEntry(prefix, name, value, unescapedNames) {
  const key = entryKey(prefix, name);
  const own = recordKey(value);
  if (own === undefined || own === key) return key;
  if (unescapedNames && name === prefix + own) return own;
  // An unescaped name of a shorter namespace ("chat" with key "m:1" seen from "chat:m")
  // is not ours; any other record that does not match its name is left to the core to
  // judge (it is unreadable: left alone, with a warning).
  if (unescapedNames && name.endsWith(":" + own)) return;
  return key;
}

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
  const prefix = entryPrefix(namespace);
  /** Every entry of this outbox, as `[name, key, value]`. */
  const entriesOfThisOutbox = () => {
    const found = [];
    for (let i = 0; i < storage.length; i++) {
      const name = storage.key(i);
      if (name === null || !name.startsWith(prefix)) continue;
      const value = storage.getItem(name);
      const key = keyOfEntry(prefix, name, value, true);
      if (key !== undefined) found.push([name, key, value]);
    }
    return found;
  };
  return {
    kind,
    durable: true,
    load: async () => {
      let found;
      try {
        found = entriesOfThisOutbox();
      } catch (error) {
        warn(`could not read the ${kind} outbox (${describeError(error)}); going on in memory`);
        return [];
      }
      const entries = [];
      for (const [name, key, value] of found) {
        if (name !== entryName(prefix, key)) {
          // Renamed once, so that every later put and remove of the key finds it. An
          // entry that cannot be renamed (a full store) stays for a later page.
          try {
            storage.setItem(entryName(prefix, key), value);
            storage.removeItem(name);
          } catch (error) {
            warn(`could not rename a stored outbox message in ${kind} (${describeError(error)}); it is left for later`);
            continue;
          }
        }
        entries.push({ key, value });
      }
      return entries;
    },
    put: async (key, value) => {
      try {
        storage.setItem(entryName(prefix, key), value);
      } catch (error) {
        // A full store (QuotaExceededError) keeps the message in memory only.
        warn(`could not store an outbox message in ${kind} (${describeError(error)}); it is kept in memory`);
      }
    },
    remove: async (key) => {
      try {
        storage.removeItem(entryName(prefix, key));
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
  // The writes of the current task, by key, committed together in one transaction
  // from a microtask: a transaction per write cost most of a send's time (500 sends
  // took 0.5 s of transactions in Chromium). The last write of a key wins, so a record
  // written and removed in the same task is only removed. A write is durable when its
  // batch commits, which its promise reports.
  let batch = null;
  const commit = async (writes) => {
    try {
      await transact("readwrite", (records) => {
        for (const [key, value] of writes) {
          if (value === undefined) records.delete(key);
          else records.put(value, key);
        }
      });
    } catch (error) {
      warn(`could not store an outbox message in indexeddb (${describeError(error)}); it is kept in memory`);
    }
  };
  const write = (key, value) => {
    if (!batch) {
      const writes = new Map();
      const done = new Promise((resolve) =>
        queueMicrotask(() => {
          batch = null;
          resolve(commit(writes));
        }),
      );
      batch = { writes, done };
    }
    batch.writes.set(key, value);
    return batch.done;
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
    put: (key, value) => write(key, value),
    remove: (key) => write(key, undefined),
    close: () => database.close(),
  };
}

/** The app's own store, each call guarded so that nothing it does throws into delivery.
 * Its entries are named as in Web Storage, so that the outboxes of several keys can
 * share it; entries named by their key alone (version 0.1.0 wrote them so) cannot be
 * told apart by outbox, and are left where they are, with one warning. */
function customStore(store, namespace, warn) {
  const call = async (what, fallback, ...args) => {
    try {
      return await store[what](...args);
    } catch (error) {
      warn(`the app's outbox store failed in ${what} (${describeError(error)})`);
      return fallback;
    }
  };
  const prefix = entryPrefix(namespace);
  let warnedOfUnkeyed = false;
  return {
    kind: "custom",
    durable: true,
    load: async () => {
      const entries = await call("load", []);
      if (!Array.isArray(entries)) {
        warn("the app's outbox store's load() did not give an array; going on in memory");
        return [];
      }
      const ours = [];
      let unkeyed = 0;
      for (const entry of entries) {
        if (!entry || typeof entry.key !== "string" || typeof entry.value !== "string") continue;
        const key = keyOfEntry(prefix, entry.key, entry.value, false);
        if (key !== undefined) ours.push({ key, value: entry.value });
        else if (!entry.key.startsWith(PREFIX + ":") && recordKey(entry.value) === entry.key) unkeyed++;
      }
      if (unkeyed && !warnedOfUnkeyed) {
        warnedOfUnkeyed = true;
        warn(
          `the app's outbox store holds ${unkeyed} message(s) stored by sse-courier 0.1.0 without their persist.key; they are left there unsent, since this page cannot tell whose they are (see "Upgrading from 0.1.0" in the docs)`,
        );
      }
      return ours;
    },
    put: (key, value) => call("put", undefined, entryName(prefix, key), value),
    remove: (key) => call("remove", undefined, entryName(prefix, key)),
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
  if (isCustomStore(spec)) return customStore(spec, namespace, warn);
  warn("persist.store is not a store; the outbox is kept in memory only");
  return memoryStore("no store");
}

// ---- the outbox of one connection ------------------------------------------------

const warnApp = (text) => console.warn("[sse-courier] " + text);

const isCount = (value) => Number.isSafeInteger(value) && value >= 0;

/** The Web Locks API, or undefined where it is missing. */
function webLocks() {
  try {
    const locks = globalThis.navigator?.locks;
    if (typeof locks?.request === "function" && typeof locks.query === "function") return locks;
  } catch (_) {}
}

/** A new page load's owner id: `crypto.randomUUID()`, or 128 random bits where it is
 * missing (an insecure origin), or, lacking those too, `Math.random`. */
export function newOwnerId() {
  const crypto = globalThis.crypto;
  try {
    return crypto.randomUUID();
  } catch (_) {}
  const bytes = new Uint8Array(16);
  try {
    crypto.getRandomValues(bytes);
  } catch (_) {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** `message` with a non-empty string `clientMsgId`: itself when it has one, else a
 * shallow copy with a new id (the app's object is never changed). */
export function withClientMsgId(message) {
  const id = message.clientMsgId;
  return typeof id === "string" && id ? message : { ...message, clientMsgId: newOwnerId() };
}

/**
 * Opens the outbox of one connection: the store `spec` names for `namespace`, and the
 * owner lock of this page load (`sse-courier:<namespace>:owner:<owner>`), held until
 * the connection is freed or the page goes. Writes wait until both are ready, so that
 * no other page ever sees a record of this one while its owner lock is not held yet.
 * `inbox.restore(entries, liveOwners)` hears each read of the store.
 */
export function openOutbox(spec, namespace, owner, inbox) {
  const outbox = {
    inbox_: inbox,
    owner_: owner,
    lockPrefix_: `${PREFIX}:${namespace}:`,
    store_: undefined,
    /** Writes made before the store and the owner lock were ready, in order. */
    waitingWrites_: [],
    /** Settles when every write started so far has. */
    written_: Promise.resolve(),
    locks_: webLocks(),
    /** The BroadcastChannel on which pages of this outbox announce themselves. */
    channel_: undefined,
    releaseOwnerLock_: undefined,
    closed_: false,
    /** Owners whose lock this page waits on (their records are restored when it goes). */
    awaitedOwners_: new Set(),
    /** Cancels those waits when the connection is freed. */
    stopWaiting_: typeof AbortController === "function" ? new AbortController() : undefined,
    restoring_: false,
    restoreAgain_: false,
    /** Settles when the first read of the store has reached the inbox (or failed, or
     * the connection was freed): the moment `restoredPending()` is complete. */
    firstRead_: undefined,
    firstReadDone_: undefined,
  };
  outbox.firstRead_ = new Promise((done) => (outbox.firstReadDone_ = done));
  let ownerLock;
  if (outbox.locks_) {
    ownerLock = new Promise((granted) => {
      outbox.locks_
        .request(outbox.lockPrefix_ + "owner:" + owner, () => {
          granted();
          return new Promise((release) => {
            outbox.releaseOwnerLock_ = release;
            if (outbox.closed_) release();
          });
        })
        .catch((error) => {
          warnApp(`the outbox's owner lock failed (${describeError(error)})`);
          granted();
        });
    });
  } else {
    warnApp(
      "Web Locks are missing here: another tab of this app may send a stored message again (the server de-duplicates it by clientMsgId)",
    );
  }
  outbox.ready_ = Promise.all([openOutboxStore(spec, namespace, warnApp), ownerLock]).then(([store]) => {
    outbox.store_ = store;
    announce(outbox, owner);
    for (const [operation, key, value] of outbox.waitingWrites_) write(outbox, operation, key, value);
    outbox.waitingWrites_ = [];
  });
  return outbox;
}

/** Tells the other pages of this outbox that this one is alive, and hears of those
 * that open later, so that every page waits on every other's owner lock: whichever
 * goes, with whatever it stored since, the others read the store again. (The pages
 * alive when this one reads the store are waited on from that read.) */
function announce(outbox, owner) {
  if (!outbox.locks_ || typeof BroadcastChannel !== "function") return;
  try {
    const channel = new BroadcastChannel(outbox.lockPrefix_ + "owners");
    channel.onmessage = (event) => {
      if (typeof event.data === "string" && event.data !== owner) outboxAwaitOwner(outbox, event.data);
    };
    channel.postMessage(owner);
    outbox.channel_ = channel;
  } catch (_) {}
}

/** Starts `store[operation](key, value)` now when the outbox is ready (a Web Storage
 * write is then done when this returns), else once it is. Writes start in call order;
 * an app's own store gets each after the previous one settled. */
function write(outbox, operation, key, value) {
  const store = outbox.store_;
  if (!store) {
    outbox.waitingWrites_.push([operation, key, value]);
    return;
  }
  if (store.kind === "custom") {
    outbox.written_ = outbox.written_.then(() => store[operation](key, value));
  } else {
    outbox.written_ = Promise.all([outbox.written_, store[operation](key, value)]);
  }
}

/** Stores `record` (the core's `Record`, serialised by Rust) and the message's JSON
 * `body` beside it, as one JSON string under `key`. */
export function outboxPut(outbox, key, record, body) {
  write(outbox, "put", key, JSON.stringify(Object.assign(record, { body })));
}

export function outboxRemove(outbox, key) {
  write(outbox, "remove", key);
}

/** A stored entry as Rust reads it: the record's fields when every field of the format
 * this library writes is readable (`record: 1`), else its key and, when readable, its
 * format version (`record: 0`); which versions it takes is the core's decision. The
 * body is parsed for the report's `message`. */
export function decodeEntry({ key, value }) {
  let stored;
  try {
    stored = JSON.parse(value);
  } catch (_) {}
  const version = stored?.version;
  const entry = { key, version: isCount(version) ? version : undefined, record: 0 };
  if (entry.version === undefined) return entry;
  const { endpoint, order, enqueuedAt, stale404s, retries, owner, body } = stored;
  const readable =
    stored.key === key &&
    typeof endpoint === "string" &&
    [order, enqueuedAt, stale404s, retries].every(isCount) &&
    typeof owner === "string" &&
    typeof body === "string";
  if (!readable) return entry;
  let message;
  try {
    message = JSON.parse(body);
  } catch (_) {}
  if (message === null || typeof message !== "object" || Array.isArray(message)) return entry;
  return Object.assign(entry, { record: 1, endpoint, order, enqueuedAt, stale404s, retries, owner, body, message });
}

/** The owner ids whose owner lock some page holds now. */
async function liveOwners(outbox) {
  if (!outbox.locks_) return [];
  const prefix = outbox.lockPrefix_ + "owner:";
  try {
    const { held } = await outbox.locks_.query();
    return held.map((lock) => lock.name).filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length));
  } catch (error) {
    warnApp(`could not list the live tabs (${describeError(error)})`);
    return [];
  }
}

/** One read of the store into the core, inside the restore lock when there are Web
 * Locks (so two tabs never read, judge and claim at once); the claims the core asks
 * for are written before the lock is released. */
async function readBack(outbox) {
  await outbox.ready_;
  let told = false;
  const restore = async () => {
    if (outbox.closed_) return;
    const entries = (await outbox.store_.load()).map(decodeEntry);
    const live = await liveOwners(outbox);
    if (outbox.closed_) return;
    // Every live page, records or not: what it stores later is ours once it goes.
    for (const other of live) outboxAwaitOwner(outbox, other);
    told = true;
    outbox.inbox_.restore(entries, live);
    await outbox.written_;
  };
  if (!outbox.locks_) return restore();
  try {
    await outbox.locks_.request(outbox.lockPrefix_ + "restore", restore);
  } catch (error) {
    warnApp(`the outbox's restore failed (${describeError(error)})`);
    // The core holds retryable sends until a read: a read that never happened counts
    // as an empty one, so that they go out.
    if (!told && !outbox.closed_) outbox.inbox_.restore([], []);
  }
}

/** Reads the store back into the core (at `connect()`, and when a page whose records
 * were left to it goes). One read at a time; a request during a read runs once after. */
export function outboxRestore(outbox) {
  if (outbox.restoring_) {
    outbox.restoreAgain_ = true;
    return;
  }
  outbox.restoring_ = true;
  readBack(outbox).finally(() => {
    outbox.restoring_ = false;
    outbox.firstReadDone_();
    if (outbox.restoreAgain_ && !outbox.closed_) {
      outbox.restoreAgain_ = false;
      outboxRestore(outbox);
    }
  });
}

/** Resolves with the messages read back that have no fate yet (the inbox's
 * `restoredPending()`), once the first read of the store has reached the core; with
 * none when the connection was freed first. */
export function outboxWhenRestored(outbox) {
  return outbox.firstRead_.then(() => outbox.inbox_?.restoredPending() ?? []);
}

/** Restores again once the page `owner` is gone (its owner lock released): its records
 * were left to it while it lived. A shared request waits for the exclusive holder. */
export function outboxAwaitOwner(outbox, owner) {
  if (!outbox.locks_ || owner === outbox.owner_ || outbox.awaitedOwners_.has(owner)) return;
  outbox.awaitedOwners_.add(owner);
  outbox.locks_
    .request(outbox.lockPrefix_ + "owner:" + owner, { mode: "shared", signal: outbox.stopWaiting_?.signal }, () => {})
    .then(
      () => {
        outbox.awaitedOwners_.delete(owner);
        if (!outbox.closed_) outboxRestore(outbox);
      },
      () => {},
    );
}

/** The connection is freed: nothing reaches its inbox again, and its owner lock goes
 * (its records are left to the next restore, here or in another tab). Writes already
 * started finish. */
export function closeOutbox(outbox) {
  outbox.closed_ = true;
  outbox.inbox_ = null;
  outbox.firstReadDone_();
  if (outbox.releaseOwnerLock_) outbox.releaseOwnerLock_();
  outbox.stopWaiting_?.abort();
  outbox.channel_?.close();
  // After the writes already started, so that `indexedDB.deleteDatabase` (an app
  // clearing its outbox at sign-out) is not blocked by this connection.
  outbox.written_.then(() => outbox.store_?.close?.());
}
