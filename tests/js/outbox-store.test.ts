// The persisted outbox's storage (src/web/outbox.js), every kind of store and its
// failures: each write reads back, nothing throws into the caller, a failure is one
// warning and the memory store, and nothing stored is deleted but on request.
// IndexedDB is fake-indexeddb (in memory); Web Storage is a small Storage fake.
import { describe, it, expect, beforeEach, afterEach, vi } from "vitest";
import { IDBFactory, IDBDatabase } from "fake-indexeddb";
import { entryKey, entryName, openOutboxStore } from "../../src/web/outbox.js";
import { FakeStorage } from "./fakes";

let warnings: string[];
const warn = (text: string) => warnings.push(text);

beforeEach(() => {
  warnings = [];
});
afterEach(() => {
  vi.unstubAllGlobals();
});

const sorted = (entries: Array<{ key: string; value: string }>) => [...entries].sort((a, b) => a.key.localeCompare(b.key));

describe("entry names in a store shared by several outboxes", () => {
  const namespaces = ["default", "chat", "chat:42", "chat:", "chat%3A42", "a:b:c", "%"];
  const keys = ["m1", "42:m1", ":", "%3A", "%", "%25", "a%b", "x:y:z", "", "uuid-0f8c"];
  const prefixOf = (namespace: string) => `sse-courier:${namespace}:`;

  it("no two outboxes' entries share a name, and a name reads back as its key in its own outbox only", () => {
    const owners = new Map<string, string>();
    for (const namespace of namespaces) {
      for (const key of keys) {
        const name = entryName(prefixOf(namespace), key);
        expect(owners.get(name), `${name} is both ${owners.get(name)} and ${namespace} / ${key}`).toBeUndefined();
        owners.set(name, `${namespace} / ${key}`);
        for (const reader of namespaces) {
          expect(entryKey(prefixOf(reader), name)).toBe(reader === namespace ? key : undefined);
        }
      }
    }
  });

  it("a key without ':' or '%' is its own name, as version 0.1.0 wrote it", () => {
    expect(entryName(prefixOf("chat"), "0f8c-uuid")).toBe("sse-courier:chat:0f8c-uuid");
  });
});

describe.each([
  ["local", "localStorage"],
  ["session", "sessionStorage"],
])("%s", (spec, global) => {
  it("writes, reads back and removes, namespaced, durable at once", async () => {
    const storage = new FakeStorage();
    vi.stubGlobal(global, storage);
    storage.setItem("another-app", "untouched");
    const store = await openOutboxStore(spec, "chat", warn);
    expect(store.kind).toBe(spec);
    store.put("m-1", '{"n":1}');
    store.put("m-2", '{"n":2}');
    expect(storage.getItem("sse-courier:chat:m-1")).toBe('{"n":1}'); // before any await
    await store.remove("m-1");
    const other = await openOutboxStore(spec, "other", warn);
    await other.put("m-9", "x");
    expect(await store.load()).toEqual([{ key: "m-2", value: '{"n":2}' }]);
    expect(storage.getItem("another-app")).toBe("untouched");
    expect(warnings).toEqual([]);
  });

  it("a full store warns, keeps what it had, and never throws", async () => {
    vi.stubGlobal(global, new FakeStorage(60));
    const store = await openOutboxStore(spec, "chat", warn);
    await store.put("m-1", "small");
    await expect(store.put("m-2", "x".repeat(100))).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/QuotaExceededError.*kept in memory/)]);
    expect(await store.load()).toEqual([{ key: "m-1", value: "small" }]);
  });

  it("a storage that refuses use (missing, or a throwing private mode) is the memory store, with one warning", async () => {
    vi.stubGlobal(global, {
      setItem() {
        throw new Error("SecurityError");
      },
    });
    const store = await openOutboxStore(spec, "chat", warn);
    expect(store.kind).toBe("memory");
    await store.put("m-1", "v");
    expect(await store.load()).toEqual([{ key: "m-1", value: "v" }]);
    expect(warnings).toEqual([expect.stringMatching(/cannot be used here/)]);
  });
});

describe("indexeddb", () => {
  beforeEach(() => {
    vi.stubGlobal("indexedDB", new IDBFactory());
  });

  it("writes, reads back and removes; a second page (a new open) sees what the first committed", async () => {
    const first = await openOutboxStore("indexeddb", "chat", warn);
    expect(first.kind).toBe("indexeddb");
    await first.put("m-1", '{"n":1}');
    await first.put("m-2", '{"n":2}');
    await first.put("m-3", '{"n":3}');
    await first.remove("m-2");
    const second = await openOutboxStore("indexeddb", "chat", warn);
    expect(sorted(await second.load())).toEqual([
      { key: "m-1", value: '{"n":1}' },
      { key: "m-3", value: '{"n":3}' },
    ]);
    const otherApp = await openOutboxStore("indexeddb", "other", warn);
    expect(await otherApp.load()).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("the writes of one task commit in one transaction, the last write of a key winning", async () => {
    const factory = new IDBFactory();
    vi.stubGlobal("indexedDB", factory);
    const store = await openOutboxStore("indexeddb", "chat", warn);
    await store.put("old", "stored earlier");
    const transactions = vi.spyOn(IDBDatabase.prototype, "transaction");
    const writes = [store.put("a", "1"), store.put("b", "2"), store.remove("a"), store.remove("old"), store.put("b", "3")];
    await Promise.all(writes);
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(await store.load()).toEqual([{ key: "b", value: "3" }]);
    await store.put("c", "4"); // a later task: a transaction of its own
    expect(transactions).toHaveBeenCalledTimes(3); // with the load's
    (store as { close?: () => void }).close?.();
    expect(warnings).toEqual([]);
  });

  it("missing IndexedDB is the memory store, with one warning", async () => {
    vi.stubGlobal("indexedDB", undefined);
    const store = await openOutboxStore("indexeddb", "chat", warn);
    expect(store.kind).toBe("memory");
    expect(warnings).toEqual([expect.stringMatching(/IndexedDB is missing/)]);
  });

  it("an IndexedDB that fails to open (as in some private modes) is the memory store, with one warning", async () => {
    vi.stubGlobal("indexedDB", {
      open() {
        const request = new EventTarget() as EventTarget & { error: Error; result: undefined };
        request.error = Object.assign(new Error("denied"), { name: "InvalidStateError" });
        setTimeout(() => request.dispatchEvent(new Event("error")));
        return request;
      },
    });
    const store = await openOutboxStore("indexeddb", "chat", warn);
    expect(store.kind).toBe("memory");
    expect(warnings).toEqual([expect.stringMatching(/could not be opened \(InvalidStateError: denied\)/)]);
  });
});

describe("the app's own store", () => {
  it("is used as given, sync or async", async () => {
    const values = new Map<string, string>();
    const store = await openOutboxStore(
      {
        load: async () => [...values].map(([key, value]) => ({ key, value })),
        put: (key: string, value: string) => void values.set(key, value),
        remove: async (key: string) => void values.delete(key),
      },
      "chat",
      warn,
    );
    expect(store.kind).toBe("custom");
    await store.put("a", "1");
    await store.put("b", "2");
    await store.remove("a");
    expect(await store.load()).toEqual([{ key: "b", value: "2" }]);
    expect([...values.keys()]).toEqual(["sse-courier:chat:b"]); // named after its outbox
  });

  it("its failures become warnings, never throws; other outboxes' and foreign entries are not read back", async () => {
    const store = await openOutboxStore(
      {
        load: () => [
          { key: "sse-courier:chat:ok", value: "v" },
          { key: "sse-courier:other:theirs", value: "v" },
          { key: "not-ours", value: "v" },
          { key: 5, value: "x" },
          null,
          { key: "sse-courier:chat:no-value" },
        ],
        put: () => {
          throw new Error("full");
        },
        remove: () => Promise.reject(new Error("offline")),
      },
      "chat",
      warn,
    );
    await expect(store.put("a", "1")).resolves.toBeUndefined();
    await expect(store.remove("a")).resolves.toBeUndefined();
    expect(await store.load()).toEqual([{ key: "ok", value: "v" }]);
    expect(warnings).toEqual([expect.stringMatching(/failed in put/), expect.stringMatching(/failed in remove/)]);
  });

  it("something that is not a store is the memory store, with a warning", async () => {
    const store = await openOutboxStore({ put() {} }, "chat", warn);
    expect(store.kind).toBe("memory");
    expect(warnings).toEqual([expect.stringMatching(/not a store/)]);
  });
});
