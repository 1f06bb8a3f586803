// The persisted outbox's stores (src/web/store/), every kind and its failures, through
// the package's `persist` option: each write is there when it should be, nothing
// throws into the app, a failure is one warning and the memory store, and nothing
// stored is deleted but on request. IndexedDB is fake-indexeddb (in memory); Web
// Storage is a small Storage fake. (Whose an entry is, by its name, is the core's
// decision, tested natively: src/core/persist/naming.rs.)
import { describe, it, expect, vi } from "vitest";
import { IDBFactory, IDBDatabase } from "fake-indexeddb";
import type { OutboxStore } from "sse-courier/persist";
import { FakeStorage } from "./fakes";
import { usePages, warnings, restartBrowser, settle, openPage, recordOf } from "./persist-pages";

usePages();

const storedRecord = (key: string) => recordOf(key, { type: "send", clientMsgId: key });

/** A page whose store could not be used: a send is still delivered, from memory. */
async function deliversFromMemory(page: ReturnType<typeof openPage>) {
  // The store's read (here: its failure) is awaited, not timed: a fake IndexedDB that
  // fails in a timer may answer after any fixed number of turns on a loaded machine.
  await page.conn.whenRestored();
  await settle();
  page.stream()!.welcome("conn-1");
  page.conn.send({ type: "send", clientMsgId: "m-1" });
  page.manual.calls[0].resolve({ ok: true });
  await settle();
  expect(page.reports).toEqual([expect.objectContaining({ status: "delivered" })]);
}

describe.each([
  ["local", "localStorage"],
  ["session", "sessionStorage"],
] as const)("%s", (spec, global) => {
  it("a record is written during send() and removed with its report, under its outbox's name; other entries are left alone", async () => {
    const storage = new FakeStorage();
    vi.stubGlobal(global, storage);
    storage.setItem("another-app", "untouched");
    const page = openPage({ store: spec, key: "chat" });
    await settle(); // the owner lock is granted
    page.conn.send({ type: "send", clientMsgId: "m:1" });
    expect(JSON.parse(storage.getItem("sse-courier:chat:m%3A1")!)).toMatchObject({ key: "m:1" }); // before any await
    page.stream()!.welcome("conn-1");
    page.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(page.reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: "m:1" })]);
    expect(storage.getItem("sse-courier:chat:m%3A1")).toBeNull();
    expect(storage.getItem("another-app")).toBe("untouched");
    expect(warnings()).toEqual([]);
  });

  it("a full store warns, keeps what it had, and never throws", async () => {
    const storage = new FakeStorage(600);
    vi.stubGlobal(global, storage);
    const page = openPage({ store: spec });
    await settle();
    page.conn.send({ type: "send", clientMsgId: "small" });
    expect(() => page.conn.send({ type: "send", clientMsgId: "big", text: "x".repeat(600) })).not.toThrow();
    expect(warnings()).toEqual([expect.stringMatching(/could not store an outbox message in .*QuotaExceededError.*kept in memory/)]);
    expect(storage.length).toBe(1);
    restartBrowser();
    const next = openPage({ store: spec });
    expect((await next.conn.whenRestored()).map((m) => m.clientMsgId)).toEqual(["small"]);
  });

  it("a storage that refuses use (a throwing private mode) is the memory store, with one warning", async () => {
    vi.stubGlobal(global, {
      setItem() {
        throw new Error("SecurityError");
      },
    });
    await deliversFromMemory(openPage({ store: spec }));
    expect(warnings()).toEqual([expect.stringMatching(new RegExp(`${global} cannot be used here; the outbox is kept in memory only`))]);
  });
});

describe("indexeddb", () => {
  it("the writes of one task commit in one transaction, the last write of a key winning", async () => {
    vi.stubGlobal("indexedDB", new IDBFactory());
    const page = openPage({ store: "indexeddb", key: "chat" });
    await settle(); // opened, and read back
    const transactions = vi.spyOn(IDBDatabase.prototype, "transaction");
    page.conn.send({ type: "send", clientMsgId: "a" });
    page.conn.send({ type: "send", clientMsgId: "b" });
    page.conn.clearPendingSends(); // a and b: put and removed in this task
    page.conn.send({ type: "send", clientMsgId: "c" });
    await settle();
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(page.reports.map((r) => [r.clientMsgId, r.reason])).toEqual([
      ["a", "cleared"],
      ["b", "cleared"],
    ]);
    page.conn.send({ type: "send", clientMsgId: "d" }); // a later task: a transaction of its own
    await settle();
    expect(transactions).toHaveBeenCalledTimes(2);
    restartBrowser();
    const next = openPage({ store: "indexeddb", key: "chat" });
    expect((await next.conn.whenRestored()).map((m) => m.clientMsgId)).toEqual(["c", "d"]);
    expect(warnings()).toEqual([]);
  });

  it("a transaction of removals alone asks for relaxed durability; one that writes a record keeps the default", async () => {
    vi.stubGlobal("indexedDB", new IDBFactory());
    const page = openPage({ store: "indexeddb", key: "chat" });
    await settle(); // opened, and read back
    const transactions = vi.spyOn(IDBDatabase.prototype, "transaction");
    const durabilities = () => transactions.mock.results.map((r) => (r.value as IDBTransaction).durability);
    page.conn.send({ type: "send", clientMsgId: "a" });
    page.conn.send({ type: "send", clientMsgId: "b" });
    page.conn.clearPendingSends(); // a and b: put and removed in this task, so only removed
    page.conn.send({ type: "send", clientMsgId: "c" });
    await settle();
    expect(durabilities()).toEqual(["default"]); // c's record, a's and b's removals beside it
    page.stream()!.welcome("conn-1");
    page.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(page.reports.map((r) => [r.clientMsgId, r.status])).toEqual([
      ["a", "dropped"],
      ["b", "dropped"],
      ["c", "delivered"],
    ]);
    expect(durabilities()).toEqual(["default", "relaxed"]); // c delivered: its removal alone
    page.conn.send({ type: "send", clientMsgId: "d" });
    await settle();
    expect(durabilities()).toEqual(["default", "relaxed", "default"]); // d's record alone
    restartBrowser();
    const next = openPage({ store: "indexeddb", key: "chat" });
    expect((await next.conn.whenRestored()).map((m) => m.clientMsgId)).toEqual(["d"]);
    expect(warnings()).toEqual([]);
  });

  it("a removal waits while other messages are in flight: a burst's answers share one transaction", async () => {
    vi.stubGlobal("indexedDB", new IDBFactory());
    const page = openPage({ store: "indexeddb", key: "chat" });
    await settle(); // opened, and read back
    const transactions = vi.spyOn(IDBDatabase.prototype, "transaction");
    for (const id of ["a", "b", "c"]) page.conn.send({ type: "send", clientMsgId: id });
    page.stream()!.welcome("conn-1");
    await settle();
    expect(transactions).toHaveBeenCalledTimes(1); // the three records
    page.manual.calls[0].resolve({ ok: true });
    await settle();
    page.manual.calls[1].resolve({ ok: true });
    await settle();
    expect(page.reports.map((r) => [r.clientMsgId, r.status])).toEqual([
      ["a", "delivered"],
      ["b", "delivered"],
    ]);
    expect(transactions).toHaveBeenCalledTimes(1); // c is in flight: a's and b's removals wait
    page.manual.calls[2].resolve({ ok: true });
    await settle();
    expect(transactions).toHaveBeenCalledTimes(2); // all three removals, together
    restartBrowser();
    const next = openPage({ store: "indexeddb", key: "chat" });
    expect(await next.conn.whenRestored()).toEqual([]);
    expect(warnings()).toEqual([]);
  });

  it("free() writes the removals held back, so a page closed cleanly leaves no delivered message stored", async () => {
    vi.stubGlobal("indexedDB", new IDBFactory());
    const page = openPage({ store: "indexeddb", key: "chat" });
    await settle();
    page.conn.send({ type: "send", clientMsgId: "delivered" });
    page.conn.send({ type: "send", clientMsgId: "in-flight" });
    page.stream()!.welcome("conn-1");
    page.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(page.reports.map((r) => r.clientMsgId)).toEqual(["delivered"]);

    page.conn.free();
    await settle();

    restartBrowser();
    const next = openPage({ store: "indexeddb", key: "chat" });
    expect((await next.conn.whenRestored()).map((m) => m.clientMsgId)).toEqual(["in-flight"]);
    expect(warnings()).toEqual([]);
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
    await deliversFromMemory(openPage({ store: "indexeddb" }));
    expect(warnings()).toEqual([
      expect.stringMatching(/IndexedDB could not be opened \(InvalidStateError: denied\); the outbox is kept in memory only/),
    ]);
  });
});

describe("the app's own store", () => {
  it("is used as given, sync or async, its entries named after their outbox", async () => {
    const values = new Map<string, string>();
    const store = {
      load: async () => [...values].map(([key, value]) => ({ key, value })),
      put: (key: string, value: string) => void values.set(key, value),
      remove: async (key: string) => void values.delete(key),
    };
    const page = openPage({ store, key: "chat" });
    await page.conn.whenRestored();
    await settle();
    page.conn.send({ type: "send", clientMsgId: "a" });
    page.conn.send({ type: "send", clientMsgId: "b:2" });
    await settle();
    expect([...values.keys()]).toEqual(["sse-courier:chat:a", "sse-courier:chat:b%3A2"]);
    page.stream()!.welcome("conn-1");
    page.manual.calls[0].resolve({ ok: true });
    await settle();
    expect([...values.keys()]).toEqual(["sse-courier:chat:b%3A2"]);
    expect(warnings()).toEqual([]);
  });

  it("its failures become warnings, never throws; other outboxes' and foreign entries are not read back", async () => {
    const calls: string[] = [];
    const store: OutboxStore = {
      load: () =>
        [
          { key: "sse-courier:chat:ok", value: storedRecord("ok") },
          { key: "sse-courier:other:theirs", value: storedRecord("theirs") },
          { key: "not-ours", value: "v" },
          { key: 5, value: "x" },
          null,
          { key: "sse-courier:chat:no-value" },
        ] as never,
      put: (key) => {
        calls.push(`put ${key}`);
        throw new Error("full");
      },
      remove: (key) => {
        calls.push(`remove ${key}`);
        return Promise.reject(new Error("offline"));
      },
    };
    const page = openPage({ store, key: "chat" });
    expect((await page.conn.whenRestored()).map((m) => m.clientMsgId)).toEqual(["ok"]);
    page.stream()!.welcome("conn-1");
    expect(page.sent().map((m) => m.clientMsgId)).toEqual(["ok"]);
    page.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(page.reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: "ok" })]);
    // The claim (a put), then the removal: each tried once, each failure a warning.
    expect(calls).toEqual(["put sse-courier:chat:ok", "remove sse-courier:chat:ok"]);
    expect(warnings()).toEqual([
      expect.stringMatching(/the app's outbox store failed in put \(Error: full\)/),
      expect.stringMatching(/the app's outbox store failed in remove \(Error: offline\)/),
    ]);
  });
});
