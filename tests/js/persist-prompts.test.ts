// Prompts in the persisted outbox under the strict contract, the existing client's
// `outboxStorage`, and an upgrade in place from the existing client's own outbox
// (docs/api.md, "The persisted outbox"; docs/persisted-outbox.md), with the existing
// client's style of fakes: a Map-backed `{ getItem, setItem }`.
import { describe, it, expect, vi } from "vitest";
import { Connection as DefaultConnection } from "sse-courier";
import { FakeEventSource, FakeStorage, BASE } from "./fakes";
import { usePages, warnings, restartBrowser, settle, openPage, stored } from "./persist-pages";

usePages();

/** The existing client's `outboxStorage` in its tests: a Map with getItem/setItem. */
function mapStorage(seed: Record<string, string> = {}) {
  const values = new Map(Object.entries(seed));
  return {
    values,
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
  };
}

const receipt = (clientMsgId: string, sessionId: string | null = "s1") => ({
  ok: true,
  status: 200,
  json: async () => ({ accepted: true, clientMsgId, sessionId }),
});

const LEGACY = `mitzo-send-outbox:${BASE}/api/chat/events`;
const OUTBOX = "sse-courier-outbox:default";

/** What the outbox keeps in `storage`, by clientMsgId, each record parsed. */
const outboxIn = (storage: ReturnType<typeof mapStorage>) =>
  JSON.parse(storage.values.get(OUTBOX) ?? "{}") as Record<string, { prompt?: object; body: string }>;

/** Answers every prompt POST with its receipt until none is left, in order. */
async function acceptAll(page: ReturnType<typeof openPage>) {
  for (let answered = 0; answered < page.manual.calls.length; answered++) {
    const body = JSON.parse(page.manual.calls[answered].init.body as string);
    page.manual.calls[answered].resolve(receipt(body.clientMsgId));
    await settle();
  }
}

describe("prompts persist under the strict contract", () => {
  it("a prompt is stored with its session and draft, and the next page sends it as a prompt, told pending, accepted once by its receipt", async () => {
    const first = openPage({ store: "local" }, { strict: true });
    await settle();
    first.conn.send({ type: "send", clientMsgId: "m1", sessionId: "s1", prompt: "one" });
    first.conn.send({ type: "send", clientMsgId: "m2", sessionId: null, prompt: "two" });
    expect(stored()["sse-courier:default:m1"]).toMatchObject({
      version: 2,
      key: "m1",
      prompt: { sessionId: "s1", draft: "m1", posted: true },
    });
    expect(stored()["sse-courier:default:m2"]).toMatchObject({ prompt: { draft: "m1", posted: false } }); // m1's draft; no sessionId: none

    restartBrowser();
    const heard: unknown[] = [];
    const second = openPage({ store: "local" }, { strict: true });
    second.conn.onMessage((m) => heard.push(m));
    await settle();
    expect(second.sent().map((m) => m.clientMsgId)).toEqual(["m1"]); // without the stream, one at a time
    expect(heard).toEqual([
      expect.objectContaining({ type: "_send_pending", clientMsgId: "m1", sessionId: "s1", retrying: false }),
      expect.objectContaining({ type: "_send_pending", clientMsgId: "m2", retrying: false }),
    ]);
    second.manual.calls[0].resolve({ ok: true, status: 200, json: async () => ({ ok: true }) }); // no receipt
    await settle();
    expect(second.reports).toEqual([]);
    await acceptAll(second);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the retry's delay
    await acceptAll(second);
    expect(second.reports.map((r) => [r.status, r.clientMsgId, r.receipt?.sessionId])).toEqual([
      ["delivered", "m1", "s1"],
      ["delivered", "m2", "s1"],
    ]);
    expect(second.sent()[0]).toEqual({ type: "send", clientMsgId: "m1", sessionId: "s1", prompt: "one" });
    expect(stored()).toEqual({});
  });
});

describe("outboxStorage", () => {
  it("alone it is the persist store: the outbox is one JSON value under a known name, and a reload sends what it holds", async () => {
    const outboxStorage = mapStorage();
    const first = openPage(undefined as never, { strict: true, outboxStorage });
    await settle();
    first.conn.send({ type: "send", clientMsgId: "m1", sessionId: "s1" });
    first.conn.send({ type: "send", clientMsgId: "m2", sessionId: "s1" });
    expect([...outboxStorage.values.keys()]).toEqual([OUTBOX]);
    expect(Object.keys(outboxIn(outboxStorage))).toEqual(["m1", "m2"]);
    expect(outboxIn(outboxStorage).m2).toMatchObject({ version: 2, prompt: { sessionId: "s1" } });

    restartBrowser();
    const second = openPage(undefined as never, { strict: true, outboxStorage });
    await settle();
    await acceptAll(second);
    expect(second.reports.map((r) => [r.status, r.clientMsgId])).toEqual([
      ["delivered", "m1"],
      ["delivered", "m2"],
    ]);
    expect(outboxIn(outboxStorage)).toEqual({});
    expect(warnings()).toEqual([]);
  });

  it("a value under its name that is not an outbox is never overwritten", async () => {
    const outboxStorage = mapStorage({ [OUTBOX]: "not json" });
    const page = openPage(undefined as never, { strict: true, outboxStorage });
    await settle();
    page.conn.send({ type: "send", clientMsgId: "m1", sessionId: "s1" });
    expect(outboxStorage.values.get(OUTBOX)).toBe("not json");
    expect(warnings().some((w) => w.includes("holds something else"))).toBe(true);
    await acceptAll(page);
    expect(page.reports.map((r) => r.status)).toEqual(["delivered"]); // kept in memory
  });

  it("bad values are refused, naming the option", () => {
    const make = (outboxStorage: unknown, persist?: object) => () =>
      openPage(persist as never, { outboxStorage: outboxStorage as never });
    expect(make("session")).toThrow("config.outboxStorage must be an object with getItem(key) and setItem(key, value) functions");
    expect(make({ setItem() {} })).toThrow("config.outboxStorage must have a getItem(key) function");
    expect(make({ getItem() {} })).toThrow("config.outboxStorage must have a setItem(key, value) function");
    expect(make(mapStorage(), { store: "local" })).toThrow(
      "config.outboxStorage must not be given with config.persist: give it as persist.store",
    );
  });

  it("the default entry refuses it, naming the entry that has it", () => {
    const config = { baseUrl: BASE, outboxStorage: mapStorage(), createEventSource: (url: string) => new FakeEventSource(url) };
    expect(() => new DefaultConnection(config as never)).toThrow('config.outboxStorage needs the "sse-courier/persist" entry');
  });

  it("it may be given as persist.store, with a key", async () => {
    const outboxStorage = mapStorage();
    const page = openPage({ store: outboxStorage, key: "chat" }, { strict: true });
    await settle();
    page.conn.send({ type: "send", clientMsgId: "m1", sessionId: "s1" });
    expect([...outboxStorage.values.keys()]).toEqual(["sse-courier-outbox:chat"]);
  });
});

describe("an upgrade in place from the existing client", () => {
  const legacy = (...items: object[]) => JSON.stringify(items);
  const item = (clientMsgId: string, scope: unknown, extra: object = {}) => ({
    body: JSON.stringify({ type: "send", clientMsgId, sessionId: null, prompt: `text of ${clientMsgId}` }),
    scope,
    ...extra,
  });

  it("its prompts are sent again as prompts, same bodies, in order, each accepted once, and its key goes once they are stored here", async () => {
    const outboxStorage = mapStorage({ [LEGACY]: legacy(item("old-1", 1), item("old-2", 1, { uncertain: true })) });
    const page = openPage(undefined as never, { strict: true, outboxStorage });
    page.conn.send({ type: "send", clientMsgId: "new-1", sessionId: null, prompt: "typed after the reload" });
    await settle();
    expect(outboxStorage.values.get(LEGACY)).toBe("[]"); // emptied: this storage has no removeItem
    expect(Object.keys(outboxIn(outboxStorage)).sort()).toEqual(["new-1", "old-1", "old-2"]);
    expect(page.manual.calls[0].init.body).toBe(item("old-1", 1).body);
    await acceptAll(page);
    expect(page.sent().map((m) => m.clientMsgId)).toEqual(["old-1", "old-2", "new-1"]);
    expect(page.reports.map((r) => [r.status, r.clientMsgId])).toEqual([
      ["delivered", "old-1"],
      ["delivered", "old-2"],
      ["delivered", "new-1"],
    ]);
    expect(outboxIn(outboxStorage)).toEqual({});
    expect(warnings()).toEqual([]);
  });

  it("from sessionStorage when that is the persist store", async () => {
    const session = new FakeStorage();
    vi.stubGlobal("sessionStorage", session);
    session.setItem(LEGACY, legacy(item("old-1", "draft")));
    const page = openPage({ store: "session" }, { strict: true });
    await settle();
    expect(session.getItem(LEGACY)).toBe(null);
    expect(session.getItem("sse-courier:default:old-1")).toContain('"draft":"mitzo-scope:\\"draft\\""');
    await acceptAll(page);
    expect(page.reports.map((r) => [r.status, r.clientMsgId])).toEqual([["delivered", "old-1"]]);
  });

  it("a malformed value is left in place with one warning, and what cannot be read in a good one stays there", async () => {
    const outboxStorage = mapStorage({ [LEGACY]: "{ not an array" });
    const page = openPage(undefined as never, { strict: true, outboxStorage });
    await settle();
    expect(outboxStorage.values.get(LEGACY)).toBe("{ not an array");
    expect(warnings().filter((w) => w.includes("mitzo-send-outbox"))).toHaveLength(1);

    restartBrowser();
    const unreadable = { body: "no json", scope: 0 };
    outboxStorage.values.set(LEGACY, legacy(item("old-1", 0), unreadable));
    const next = openPage(undefined as never, { strict: true, outboxStorage });
    await settle();
    expect(JSON.parse(outboxStorage.values.get(LEGACY)!)).toEqual([unreadable]);
    await acceptAll(next);
    expect(next.reports.map((r) => r.clientMsgId)).toEqual(["old-1"]);
  });

  it("a prompt already moved here is not sent twice when the old key could not be removed", async () => {
    const outboxStorage = mapStorage({ [LEGACY]: legacy(item("old-1", 0)) });
    const first = openPage(undefined as never, { strict: true, outboxStorage });
    await settle();
    outboxStorage.values.set(LEGACY, legacy(item("old-1", 0))); // as if the removal was lost
    restartBrowser();
    const second = openPage(undefined as never, { strict: true, outboxStorage });
    await settle();
    await acceptAll(second);
    expect(second.sent().map((m) => m.clientMsgId)).toEqual(["old-1"]);
    expect(second.reports.map((r) => r.clientMsgId)).toEqual(["old-1"]);
    expect(outboxStorage.values.get(LEGACY)).toBe("[]");
    void first;
  });

  it("the session of the existing client's draft is adopted from its first receipt", async () => {
    const outboxStorage = mapStorage({ [LEGACY]: legacy(item("old-1", 7), item("old-2", 7)) });
    const page = openPage(undefined as never, { strict: true, outboxStorage });
    await settle();
    page.manual.calls[0].resolve(receipt("old-1", "s-new"));
    await settle();
    expect(page.sent()[1]).toMatchObject({ clientMsgId: "old-2", sessionId: "s-new" });
  });
});
