// The persisted outbox through the package's API (the `persist` option): messages
// survive a reload in every store kind, in order, with a report in the new page; two
// tabs on one store never send the same message and lose none; store failures and
// foreign records are warnings, never errors, and nothing stored is deleted by mistake.
// Pages and reloads: persist-pages.ts.
import { describe, it, expect, vi } from "vitest";
import { IDBFactory } from "fake-indexeddb";
import { Connection } from "sse-courier/persist";
import { Connection as DefaultConnection } from "sse-courier";
import { FakeEventSource, FakeLocks, FakeStorage, latest, BASE } from "./fakes";
import { usePages, warnings as warned, restartBrowser, settle, openPage, stored } from "./persist-pages";

usePages();

describe("the default entry has no outbox", () => {
  it("it refuses the persist option, naming the entry that has it", () => {
    expect(() => new DefaultConnection({ baseUrl: BASE, persist: { store: "local" } } as never)).toThrow(
      'config.persist needs the "sse-courier/persist" entry',
    );
  });

  it("whenRestored() resolves at once with none", async () => {
    const conn = new DefaultConnection({ baseUrl: BASE, createEventSource: (url) => new FakeEventSource(url) as never });
    await expect(conn.whenRestored()).resolves.toEqual([]);
    conn.free();
  });

  it("restoredPending() is empty, and stats() counts no restore", () => {
    const conn = new DefaultConnection({ baseUrl: BASE, createEventSource: (url) => new FakeEventSource(url) as never });
    expect(conn.restoredPending()).toEqual([]);
    expect(conn.stats()).toMatchObject({ restored: 0, expired: 0 });
    conn.free();
  });
});

describe("off by default", () => {
  it("without persist nothing is stored and a send is posted at once", async () => {
    const page = openPage(undefined as never);
    latest().welcome("conn-1");
    page.conn.send({ type: "send", text: "hi" });
    expect(page.manual.calls).toHaveLength(1);
    expect(page.sent()[0]).toEqual({ type: "send", text: "hi" });
    await settle();
    expect(localStorage.length).toBe(0);
  });
});

describe("a reload", () => {
  it("messages queued offline are stored, and the next page sends them in order, before its own, with reports there", async () => {
    const first = openPage({ store: "local", key: "chat" });
    await settle(); // the owner lock is granted
    for (let i = 1; i <= 3; i++) first.conn.send({ type: "send", clientMsgId: `m-${i}`, text: `t${i}` });
    expect(first.manual.calls).toHaveLength(0); // offline: no welcome yet
    expect(Object.keys(stored()).sort()).toEqual(["sse-courier:chat:m-1", "sse-courier:chat:m-2", "sse-courier:chat:m-3"]);
    expect(stored()["sse-courier:chat:m-2"]).toMatchObject({ version: 2, key: "m-2", endpoint: "send", stale404s: 0, retries: 0 });

    restartBrowser();
    const second = openPage({ store: "local", key: "chat" });
    second.conn.send({ type: "send", clientMsgId: "new-1" });
    await settle(); // the store is read back
    expect(second.conn.restoredPending().map((m) => m.clientMsgId)).toEqual(["m-1", "m-2", "m-3"]);
    latest().welcome("conn-2");
    expect(second.sent().map((m) => m.clientMsgId)).toEqual(["m-1", "m-2", "m-3", "new-1"]);
    expect(second.sent()[0]).toEqual({ type: "send", clientMsgId: "m-1", text: "t1" });
    for (const call of second.manual.calls) call.resolve({ ok: true });
    await settle();
    expect(second.reports.map((r) => [r.status, r.clientMsgId])).toEqual([
      ["delivered", "m-1"],
      ["delivered", "m-2"],
      ["delivered", "m-3"],
      ["delivered", "new-1"],
    ]);
    expect(second.reports[0].message).toEqual({ type: "send", clientMsgId: "m-1", text: "t1" });
    expect(second.conn.restoredPending()).toEqual([]);
    expect(second.conn.stats()).toMatchObject({ restored: 3, delivered: 4 });
    expect(stored()).toEqual({});
    expect(warned()).toEqual([]);
  });

  it("whenRestored() resolves once the store is read back, with what restoredPending() then lists", async () => {
    const first = openPage({ store: "local" });
    await settle();
    first.conn.send({ type: "send", clientMsgId: "r-1" });
    first.conn.send({ type: "send", clientMsgId: "r-2" });
    restartBrowser();
    const second = openPage({ store: "local" }); // connect() was called
    // Even a synchronous store is read a few tasks later (the locks first).
    expect(second.conn.restoredPending()).toEqual([]);
    const restored = await second.conn.whenRestored();
    expect(restored.map((m) => m.clientMsgId)).toEqual(["r-1", "r-2"]);
    expect(second.conn.restoredPending()).toEqual(restored);
    latest().welcome("conn-2");
    second.manual.calls[0].resolve({ ok: true });
    await settle();
    // Asked again later: at once, with what is still pending then.
    expect((await second.conn.whenRestored()).map((m) => m.clientMsgId)).toEqual(["r-2"]);
  });

  it("whenRestored() asked before connect() waits for it; a connection freed first resolves it with none", async () => {
    const first = openPage({ store: "local" });
    await settle();
    first.conn.send({ type: "send", clientMsgId: "w-1" });
    restartBrowser();
    const config = { baseUrl: BASE, createEventSource: (url: string) => new FakeEventSource(url) as never, persist: { store: "local" as const } };
    const waiting = new Connection(config);
    let restored: unknown[] | undefined;
    waiting.whenRestored().then((list) => (restored = list));
    await settle();
    expect(restored).toBeUndefined(); // the store is read at the first connect()
    waiting.connect();
    await settle();
    expect(restored).toEqual([expect.objectContaining({ clientMsgId: "w-1" })]);
    waiting.free();

    const freed = new Connection(config);
    const answer = freed.whenRestored();
    freed.free();
    await expect(answer).resolves.toEqual([]);
  });

  it("a browser that refuses every Web Lock: warnings, and the sends held for the store's read still go out", async () => {
    const locks = new FakeLocks();
    locks.refusal = new DOMException("refused", "SecurityError");
    vi.stubGlobal("navigator", { locks });
    const page = openPage({ store: "local" });
    page.conn.send({ type: "send", clientMsgId: "held" });
    await expect(page.conn.whenRestored()).resolves.toEqual([]);
    latest().welcome("conn-1");
    expect(page.sent().map((m) => m.clientMsgId)).toEqual(["held"]);
    expect(warned()).toEqual([expect.stringMatching(/owner lock failed/), expect.stringMatching(/restore failed/)]);
  });

  it("a message in flight when the page died is sent again and reported in the new page", async () => {
    const first = openPage({ store: "local" });
    await settle();
    latest().welcome("conn-1");
    first.conn.send({ type: "send", clientMsgId: "in-flight" });
    expect(first.manual.calls).toHaveLength(1); // posted, never answered

    restartBrowser();
    const second = openPage({ store: "local" });
    await settle();
    latest().welcome("conn-2");
    expect(second.sent().map((m) => m.clientMsgId)).toEqual(["in-flight"]);
    second.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(second.reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: "in-flight" })]);
    expect(stored()).toEqual({});
  });

  it("a message without a clientMsgId gets one, in its body, its record and its report; the app's object is unchanged", async () => {
    const page = openPage({ store: "local" });
    await settle();
    latest().welcome("conn-1");
    const message = { type: "send", text: "hello" };
    page.conn.send(message);
    expect(message).toEqual({ type: "send", text: "hello" });
    const id = page.sent()[0].clientMsgId;
    expect(id).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(Object.keys(stored())).toEqual([`sse-courier:default:${id}`]);
    page.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(page.reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: id })]);
    expect(page.reports[0].message).toBe(message);
  });

  it("non-retryable messages (a stop) are never stored", async () => {
    const page = openPage({ store: "local" });
    await settle();
    latest().welcome("conn-1");
    page.conn.send({ type: "stop", sessionId: "s" });
    expect(page.sent()[0]).toEqual({ type: "stop", sessionId: "s" });
    expect(stored()).toEqual({});
  });

  it("a stored message older than maxAgeMs is reported dropped / expired, not sent", async () => {
    const now = Date.now();
    const first = openPage({ store: "local", maxAgeMs: 60_000 });
    await settle();
    first.conn.send({ type: "send", clientMsgId: "old" });
    restartBrowser();
    vi.spyOn(Date, "now").mockReturnValue(now + 61_000);
    const second = openPage({ store: "local", maxAgeMs: 60_000 });
    await settle();
    latest().welcome("conn-2");
    expect(second.manual.calls).toHaveLength(0);
    expect(second.reports).toEqual([
      expect.objectContaining({ status: "dropped", reason: "expired", clientMsgId: "old", endpoint: "send" }),
    ]);
    expect(second.conn.stats()).toMatchObject({ expired: 1, dropped: 1 });
    expect(stored()).toEqual({});
    expect(warned()).toEqual([expect.stringMatching(/older than persist.maxAgeMs/)]);
  });

  it("the queue bound holds across a reload: the oldest stored message overflows, reported", async () => {
    const first = openPage({ store: "local" }, { maxPendingSends: 5 });
    await settle();
    for (let i = 1; i <= 3; i++) first.conn.send({ type: "send", clientMsgId: `m-${i}` });
    restartBrowser();
    const second = openPage({ store: "local" }, { maxPendingSends: 2 });
    await settle();
    expect(second.reports).toEqual([
      expect.objectContaining({ status: "dropped", reason: "queue_overflow", clientMsgId: "m-1" }),
    ]);
    latest().welcome("conn-2");
    expect(second.sent().map((m) => m.clientMsgId)).toEqual(["m-2", "m-3"]);
  });
});

describe("every store kind", () => {
  it("indexeddb: stored when its transaction commits, restored by the next page", async () => {
    vi.stubGlobal("indexedDB", new IDBFactory());
    const first = openPage({ store: "indexeddb", key: "chat" });
    await settle();
    first.conn.send({ type: "send", clientMsgId: "a" });
    first.conn.send({ type: "send", clientMsgId: "b" });
    await settle();
    restartBrowser();
    const second = openPage({ store: "indexeddb", key: "chat" });
    await settle();
    latest().welcome("conn-2");
    expect(second.sent().map((m) => m.clientMsgId)).toEqual(["a", "b"]);
    for (const call of second.manual.calls) call.resolve({ ok: true });
    await settle();
    expect(second.reports.map((r) => r.status)).toEqual(["delivered", "delivered"]);
    restartBrowser();
    const third = openPage({ store: "indexeddb", key: "chat" });
    await settle();
    expect(third.conn.restoredPending()).toEqual([]);
    expect(warned()).toEqual([]);
  });

  it("session: sessionStorage", async () => {
    vi.stubGlobal("sessionStorage", new FakeStorage());
    const first = openPage({ store: "session" });
    await settle();
    first.conn.send({ type: "send", clientMsgId: "s-1" });
    expect(sessionStorage.getItem("sse-courier:default:s-1")).toContain('"key":"s-1"');
    restartBrowser();
    const second = openPage({ store: "session" });
    await settle();
    expect(second.conn.restoredPending().map((m) => m.clientMsgId)).toEqual(["s-1"]);
  });

  it("the app's own store, promises and all", async () => {
    const values = new Map<string, string>();
    const store = {
      load: async () => [...values].map(([key, value]) => ({ key, value })),
      put: async (key: string, value: string) => void values.set(key, value),
      remove: async (key: string) => void values.delete(key),
    };
    const first = openPage({ store });
    await settle();
    first.conn.send({ type: "send", clientMsgId: "c-1" });
    await settle();
    expect([...values.keys()]).toEqual(["sse-courier:default:c-1"]); // named after its outbox (persist.key)
    restartBrowser();
    const second = openPage({ store });
    await settle();
    latest().welcome("conn-2");
    second.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(second.reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: "c-1" })]);
    expect(values.size).toBe(0);
  });
});

describe("several tabs, one store", () => {
  it("a live tab's messages are left to it; when it closes, another tab sends them, each once", async () => {
    const a = openPage({ store: "local" });
    await settle();
    a.conn.send({ type: "send", clientMsgId: "from-a" });
    const b = openPage({ store: "local" });
    await settle();
    expect(b.conn.restoredPending()).toEqual([]);
    b.stream()!.welcome("conn-b");
    expect(b.manual.calls).toHaveLength(0);

    a.conn.free(); // the tab closes with its message unsent
    await settle();
    await settle();
    expect(b.sent().map((m) => m.clientMsgId)).toEqual(["from-a"]);
    b.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(b.reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: "from-a" })]);
    expect(a.manual.calls).toHaveLength(0);
    expect(stored()).toEqual({});
  });

  it.each([
    ["the other tab opened first", false],
    ["the other tab opened later", true],
  ])("a tab's messages stored after another tab read the store go to that tab when it closes (%s)", async (_, bFirst) => {
    const b0 = bFirst ? openPage({ store: "local" }) : undefined;
    await settle();
    const a = openPage({ store: "local" });
    await settle();
    const b = b0 ?? openPage({ store: "local" });
    await settle();
    b.stream()!.welcome("conn-b");
    a.conn.send({ type: "send", clientMsgId: "late" });
    expect(b.manual.calls).toHaveLength(0);
    a.conn.free();
    await settle();
    await settle();
    expect(b.sent().map((m) => m.clientMsgId)).toEqual(["late"]);
    b.conn.free();
  });

  it("a tab freed while it waits for another's messages stops waiting", async () => {
    const a = openPage({ store: "local" });
    await settle();
    a.conn.send({ type: "send", clientMsgId: "kept-by-a" });
    const b = openPage({ store: "local" });
    await settle();
    const locks = (navigator as unknown as { locks: FakeLocks }).locks;
    const waits = async () => (await locks.query()).pending.filter((p) => p.mode === "shared").length;
    expect(await waits()).toBeGreaterThan(0);
    b.conn.free();
    await settle();
    expect(await waits()).toBe(0);
    a.conn.free();
  });

  it("a tab that crashes leaves its messages to a live tab", async () => {
    const a = openPage({ store: "local" });
    await settle();
    a.conn.send({ type: "send", clientMsgId: "orphan" });
    const b = openPage({ store: "local" });
    await settle();
    b.stream()!.welcome("conn-b");
    expect(b.manual.calls).toHaveLength(0);
    const owner = Object.values(stored())[0] as { owner: string };
    (navigator as unknown as { locks: FakeLocks }).locks.crash(new RegExp(`owner:${owner.owner}$`));
    await settle();
    await settle();
    expect(b.sent().map((m) => m.clientMsgId)).toEqual(["orphan"]);
    expect((Object.values(stored())[0] as { owner: string }).owner).not.toBe(owner.owner);
  });
});

describe("failures are warnings, and the connection goes on in memory", () => {
  it("IndexedDB missing: a warning, and sends are delivered", async () => {
    vi.stubGlobal("indexedDB", undefined);
    const page = openPage({ store: "indexeddb" });
    await settle();
    latest().welcome("conn-1");
    page.conn.send({ type: "send", clientMsgId: "x" });
    page.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(page.reports).toEqual([expect.objectContaining({ status: "delivered" })]);
    expect(warned()).toEqual([expect.stringMatching(/IndexedDB is missing/)]);
  });

  it("a full store: a warning, the message is still delivered", async () => {
    vi.stubGlobal("localStorage", new FakeStorage(60));
    const page = openPage({ store: "local" });
    await settle();
    latest().welcome("conn-1");
    expect(() => page.conn.send({ type: "send", clientMsgId: "big" })).not.toThrow();
    page.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(page.reports).toEqual([expect.objectContaining({ status: "delivered" })]);
    expect(warned(), warned().join("\n")).toEqual([expect.stringMatching(/QuotaExceededError/)]);
  });

  it("an app store that throws: warnings, delivery goes on", async () => {
    const boom = () => {
      throw new Error("boom");
    };
    const page = openPage({ store: { load: boom, put: boom, remove: boom } });
    await settle();
    latest().welcome("conn-1");
    page.conn.send({ type: "send", clientMsgId: "y" });
    page.manual.calls[0].resolve({ ok: true });
    await settle();
    expect(page.reports).toEqual([expect.objectContaining({ status: "delivered" })]);
    expect(warned().length).toBeGreaterThan(0);
    expect(warned().every((w) => /app's outbox store failed/.test(w))).toBe(true);
  });

  it("no Web Locks: a warning, and the outbox still works in this tab", async () => {
    vi.stubGlobal("navigator", {});
    const first = openPage({ store: "local" });
    await settle();
    first.conn.send({ type: "send", clientMsgId: "z" });
    expect(warned()).toEqual([expect.stringMatching(/Web Locks are missing/)]);
    const second = openPage({ store: "local" });
    await settle();
    expect(second.conn.restoredPending().map((m) => m.clientMsgId)).toEqual(["z"]);
  });

  it("records of another format version and unreadable ones are left in the store, with a warning each kind", async () => {
    const storage = localStorage as unknown as FakeStorage;
    storage.setItem("sse-courier:default:future", JSON.stringify({ version: 3, key: "future" }));
    storage.setItem("sse-courier:default:junk", "{not json");
    const page = openPage({ store: "local" });
    await settle();
    latest().welcome("conn-1");
    expect(page.manual.calls).toHaveLength(0);
    expect(page.reports).toEqual([]);
    expect(storage.length).toBe(2);
    expect(storage.getItem("sse-courier:default:junk")).toBe("{not json");
    expect(JSON.parse(storage.getItem("sse-courier:default:future")!)).toEqual({ version: 3, key: "future" });
    expect(warned().sort()).toEqual([
      expect.stringMatching(/unknown format version/),
      expect.stringMatching(/unreadable stored messages/),
    ]);
  });
});

describe("bad persist options throw, naming the option", () => {
  it.each([
    [{ store: "cookies" }, /config.persist.store must be one of "indexeddb", "local", "session", an object/],
    [{}, /config.persist.store must be/],
    [{ store: "local", key: "" }, /config.persist.key must be a non-empty string/],
    [{ store: "local", maxAgeMs: 0 }, /config.persist.maxAgeMs must be a positive number/],
    ["local", /config.persist must be an object/],
  ])("%j", (persist, error) => {
    expect(() => new Connection({ baseUrl: BASE, persist: persist as never })).toThrow(error);
  });
});
