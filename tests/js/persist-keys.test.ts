// Outboxes never cross: in every store kind a page reads back only the stored messages
// of its own `persist.key`, and two keys never overwrite each other's. (One app store
// shared by two signed-in users on one device is the case that matters: a message
// sent as the wrong user is the worst thing this package can do.) And what happens to
// the records version 0.1.0 left behind, whose names did not say whose they were.
import { describe, it, expect, vi } from "vitest";
import { IDBFactory } from "fake-indexeddb";
import type { OutboxStore, OutgoingMessage, PersistOptions } from "sse-courier/persist";
import { FakeStorage, latest } from "./fakes";
import { usePages, warnings, restartBrowser, settle, openPage, recordOf } from "./persist-pages";

usePages();

type Store = PersistOptions["store"];

/** The app's own store over `values`, as an app would write one. */
function appStore(values = new Map<string, string>()): OutboxStore & { values: Map<string, string> } {
  return {
    values,
    load: async () => [...values].map(([key, value]) => ({ key, value })),
    put: async (key, value) => void values.set(key, value),
    remove: async (key) => void values.delete(key),
  };
}

/** Each store kind, made fresh for one test (its pages share it). */
const storeKinds: Array<[string, () => Store]> = [
  ["local", () => (vi.stubGlobal("localStorage", new FakeStorage()), "local")],
  ["session", () => (vi.stubGlobal("sessionStorage", new FakeStorage()), "session")],
  ["indexeddb", () => (vi.stubGlobal("indexedDB", new IDBFactory()), "indexeddb")],
  ["an app store", () => appStore()],
];

const prompt = (text: string, clientMsgId: string): OutgoingMessage => ({ type: "send", sessionId: "s", prompt: text, clientMsgId });

/** A page of outbox `key` sends `messages` while offline and closes: they stay stored. */
async function storedOffline(store: Store, key: string, ...messages: OutgoingMessage[]) {
  const page = openPage({ store, key });
  await settle(); // the owner lock is granted
  for (const message of messages) page.conn.send(message);
  await settle(); // written (IndexedDB commits, an app store's promises settle)
  page.conn.free();
  await settle();
}

/** A page of outbox `key` after a restart: what it restored, and what it sends once
 * its stream is welcomed. */
async function reopened(store: Store, key: string) {
  restartBrowser();
  const page = openPage({ store, key });
  const restored = await page.conn.whenRestored();
  latest().welcome(`conn-${key}`);
  return { restored: restored.map((m) => m.prompt), sent: page.sent().map((m) => m.prompt) };
}

describe.each(storeKinds)("%s", (_, makeStore) => {
  it("two keys on one store: each page restores and sends only its own key's messages", async () => {
    const store = makeStore();
    await storedOffline(store, "userA", prompt("from A", "a-secret"));
    await storedOffline(store, "userB", prompt("from B", "b-1"));
    expect(await reopened(store, "userB")).toEqual({ restored: ["from B"], sent: ["from B"] });
    expect(await reopened(store, "userA")).toEqual({ restored: ["from A"], sent: ["from A"] });
    expect(warnings()).toEqual([]);
  });

  it("the same clientMsgId under two keys is two stored messages, neither overwriting the other", async () => {
    const store = makeStore();
    await storedOffline(store, "userA", prompt("from A", "same"));
    await storedOffline(store, "userB", prompt("from B", "same"));
    expect(await reopened(store, "userA")).toEqual({ restored: ["from A"], sent: ["from A"] });
    expect(await reopened(store, "userB")).toEqual({ restored: ["from B"], sent: ["from B"] });
  });

  it('keys that start alike ("chat" and "chat:42") never share a stored name, nor each other\'s messages', async () => {
    const store = makeStore();
    await storedOffline(store, "chat", prompt("chat's", "42:m1"), prompt("chat's %", "%3A"));
    await storedOffline(store, "chat:42", prompt("chat:42's", "m1"), prompt("chat:42's %", ":"));
    expect(await reopened(store, "chat:42")).toEqual({ restored: ["chat:42's", "chat:42's %"], sent: ["chat:42's", "chat:42's %"] });
    expect(await reopened(store, "chat")).toEqual({ restored: ["chat's", "chat's %"], sent: ["chat's", "chat's %"] });
    expect(warnings()).toEqual([]);
  });
});

/** A record as version 0.1.0 stored it: the format is unchanged, only its name was. */
const recordOf010 = (key: string, text: string) => recordOf(key, prompt(text, key));

describe("records version 0.1.0 left behind", () => {
  it("in an app store, under their clientMsgId alone: left there unsent by every key, with one warning", async () => {
    const old = recordOf010("old-1", "whose?");
    const store = appStore(new Map([["old-1", old]]));
    for (const key of ["default", "userB"]) expect(await reopened(store, key)).toEqual({ restored: [], sent: [] });
    expect([...store.values]).toEqual([["old-1", old]]);
    expect(warnings()).toEqual([
      expect.stringMatching(/holds 1 message\(s\) stored by sse-courier 0\.1\.0 without their persist\.key; they are left there unsent/),
      expect.stringMatching(/holds 1 message\(s\) stored by sse-courier 0\.1\.0/),
    ]);
  });

  it("in Web Storage, named by a clientMsgId with ':' unescaped: restored by their own key alone, and renamed", async () => {
    const storage = localStorage as unknown as FakeStorage;
    const old = recordOf010("m:1", "chat's, from 0.1.0");
    storage.setItem("sse-courier:chat:m:1", old);
    // "chat:m" would read that name as its key "1": it must not take it, nor warn.
    expect(await reopened("local", "chat:m")).toEqual({ restored: [], sent: [] });
    expect(warnings()).toEqual([]);
    expect(await reopened("local", "chat")).toEqual({ restored: ["chat's, from 0.1.0"], sent: ["chat's, from 0.1.0"] });
    expect(storage.getItem("sse-courier:chat:m:1")).toBeNull();
    expect(JSON.parse(storage.getItem("sse-courier:chat:m%3A1")!)).toMatchObject({ key: "m:1" });
  });
});
