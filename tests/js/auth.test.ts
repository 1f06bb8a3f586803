// The authentication latch (docs/delivery-rules.md, rule 24; docs/api.md, "The
// authentication latch") through the public API with the existing client's style of
// fakes: `auth_expired` on the stream, the check after a stream error, the methods,
// the reports and notices of what was settled, and the options. Off by default:
// tests/js/drop-in.test.ts pins the defaults.
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import type { ConnectionConfig, DeliveryReport, ServerMessage } from "sse-courier";
import { Connection as TabsConnection } from "sse-courier/tabs";
import { BASE, FakeEventSource, latest, makeConnection, manualFetch } from "./fakes";

let warnings: string[];

beforeEach(() => {
  FakeEventSource.all = [];
  vi.useFakeTimers();
  warnings = [];
  vi.spyOn(console, "warn").mockImplementation((line: string) => warnings.push(line));
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const CHECK_URL = `${BASE}/api/auth/check`;
const receipt = (clientMsgId: string) => ({
  ok: true,
  status: 200,
  json: async () => ({ accepted: true, clientMsgId, sessionId: "s1" }),
});

/** A connection with `config`, connected and welcomed ("conn-1"), its requests
 * answered by hand, its reports and listener events recorded. */
function welcomed(config: Partial<ConnectionConfig>) {
  const manual = manualFetch();
  const reports: DeliveryReport[] = [];
  const heard: ServerMessage[] = [];
  const conn = makeConnection({ fetch: manual.fn as never, onDelivery: (r) => reports.push(r), ...config });
  conn.onMessage((m) => heard.push(m));
  conn.connect();
  latest().welcome("conn-1");
  return { conn, manual, reports, heard, types: () => heard.map((m) => m.type) };
}

describe("off by default", () => {
  it("auth_expired is an event like any other, a stream error checks nothing, and the methods throw naming authLatch", async () => {
    const { conn, manual, heard } = welcomed({});
    latest().emit("message", { type: "auth_expired" });
    expect(heard).toEqual([{ type: "_open" }, { type: "auth_expired" }]);
    latest().fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(manual.calls).toHaveLength(0);
    for (const method of ["blockAuthentication", "invalidateAuthentication", "restoreAuthentication"] as const) {
      expect(() => conn[method]()).toThrow(`${method}() needs config.authLatch: true (or config.strict)`);
    }
    expect(conn.stats()).toMatchObject({ uncertain: 0, authLosses: 0 });
  });
});

describe("losing authentication", () => {
  it("auth_expired closes the stream, fails the queued prompt, makes the posted one uncertain, and tells _auth_lost last", async () => {
    const { conn, manual, reports, heard, types } = welcomed({ strict: true });
    expect(conn.send({ type: "send", sessionId: "s1", prompt: "one", clientMsgId: "m1" })).toBe(true);
    expect(conn.send({ type: "send", sessionId: "s1", prompt: "two", clientMsgId: "m2" })).toBe(true);
    expect(manual.calls).toHaveLength(1);
    const stream = latest();

    stream.emit("message", { type: "auth_expired" });

    expect(stream.readyState).toBe(2);
    expect(types()).toEqual([
      "_open",
      "_send_pending",
      "_send_pending",
      "_close",
      "_send_failed",
      "_send_uncertain",
      "_auth_lost",
    ]);
    expect(heard).toContainEqual(expect.objectContaining({ type: "_send_failed", clientMsgId: "m2", error: "auth_lost" }));
    expect(heard).toContainEqual(expect.objectContaining({ type: "_send_uncertain", clientMsgId: "m1", sessionId: "s1" }));
    expect(reports).toEqual([
      expect.objectContaining({ status: "failed", reason: "auth_lost", clientMsgId: "m2" }),
      expect.objectContaining({ status: "uncertain", reason: "auth_lost", clientMsgId: "m1" }),
    ]);
    expect(warnings).toContainEqual(expect.stringContaining("authentication lost"));
    expect(conn.stats()).toMatchObject({ uncertain: 1, failed: 1, authLosses: 1 });
    expect([conn.pendingCount, conn.inFlightCount, conn.isConnected()]).toEqual([0, 0, false]);
  });

  it("while latched send() is false, nothing reconnects, and an answer to an uncertain POST changes nothing", async () => {
    const { conn, manual, reports } = welcomed({ strict: true });
    conn.send({ type: "send", sessionId: "s1", prompt: "one", clientMsgId: "m1" });
    conn.send({ type: "stop", sessionId: "s1" });
    conn.invalidateAuthentication();
    expect(reports.map((r) => [r.endpoint, r.status])).toEqual([
      ["send", "uncertain"],
      ["stop", "uncertain"],
    ]);

    manual.calls[0].resolve(receipt("m1"));
    manual.calls[1].resolve({ ok: true });
    expect(conn.send({ type: "send", sessionId: "s1", prompt: "two" })).toBe(false);
    conn.connect();
    conn.checkAndReconnect(true);
    await vi.advanceTimersByTimeAsync(120_000);

    expect(reports).toHaveLength(2);
    expect(FakeEventSource.all).toHaveLength(1);
    expect(manual.calls).toHaveLength(2);
  });

  it("queued control messages are dropped, and are no errors for the listener", () => {
    const manual = manualFetch();
    const reports: DeliveryReport[] = [];
    const heard: ServerMessage[] = [];
    const conn = makeConnection({ strict: true, fetch: manual.fn as never, onDelivery: (r) => reports.push(r) });
    conn.onMessage((m) => heard.push(m));
    conn.connect();
    conn.send({ type: "stop", sessionId: "s1" });

    latest().emit("message", { type: "auth_expired" });

    expect(reports).toEqual([expect.objectContaining({ status: "dropped", reason: "auth_lost", endpoint: "stop" })]);
    expect(heard.map((m) => m.type)).toEqual(["_auth_lost"]);
  });

  it("after a stream error the check URL is fetched through config.fetch; a 401 latches and cancels the reconnect", async () => {
    const { manual, types } = welcomed({ strict: true });
    latest().readyState = 2;
    latest().fail();
    expect(manual.calls.map((c) => [c.url, c.init.method])).toEqual([[CHECK_URL, "GET"]]);

    manual.calls[0].resolve({ ok: false, status: 401 });
    await vi.advanceTimersByTimeAsync(60_000);

    expect(types()).toEqual(["_open", "_close", "_auth_lost"]);
    expect(FakeEventSource.all).toHaveLength(1);
  });

  it("any other answer to the check lets the reconnect go on; authCheckUrl is used as given", async () => {
    const { manual, types } = welcomed({ authLatch: true, authCheckUrl: "https://auth.example/whoami" });
    latest().readyState = 2;
    latest().fail();
    expect(manual.calls[0].url).toBe("https://auth.example/whoami");

    manual.calls[0].resolve({ ok: true, status: 200 });
    await vi.advanceTimersByTimeAsync(1_000);

    expect(FakeEventSource.all).toHaveLength(2);
    expect(types()).toEqual(["_open", "_close"]);
  });
});

describe("the methods", () => {
  it("blockAuthentication before connect: connect() opens nothing until restoreAuthentication(), and no _auth_lost", async () => {
    const heard: ServerMessage[] = [];
    const conn = makeConnection({ authLatch: true });
    conn.onMessage((m) => heard.push(m));
    conn.blockAuthentication();
    conn.connect();
    expect(FakeEventSource.all).toHaveLength(0);
    expect(conn.send({ type: "stop", sessionId: "s1" })).toBe(false);

    conn.restoreAuthentication();
    expect(FakeEventSource.all).toHaveLength(1);
    latest().welcome("conn-1");

    expect(heard).toEqual([{ type: "_open" }]);
    expect(conn.send({ type: "stop", sessionId: "s1" })).toBe(true);
  });

  it("restoreAuthentication after a loss rebuilds the stream and delivery goes on", async () => {
    const { conn, manual, reports, types } = welcomed({ strict: true });
    latest().emit("message", { type: "auth_expired" });

    conn.restoreAuthentication();
    expect(FakeEventSource.all).toHaveLength(2);
    latest().welcome("conn-2");
    conn.send({ type: "send", sessionId: "s1", prompt: "again", clientMsgId: "m3" });
    manual.calls[0].resolve(receipt("m3"));
    await vi.advanceTimersByTimeAsync(0);

    expect(types()).toEqual(["_open", "_close", "_auth_lost", "_open", "_send_pending", "_send_accepted"]);
    expect(reports.map((r) => r.status)).toEqual(["delivered"]);
    expect(conn.getConnectionId()).toBe("conn-2");
  });

  it("with authLatch, disconnect() forgets the connection id", () => {
    const { conn } = welcomed({ authLatch: true });
    conn.disconnect();
    expect(conn.getConnectionId()).toBeNull();
  });
});

describe("options", () => {
  it("authLatch must be a boolean and authCheckUrl a string, given with authLatch", () => {
    expect(() => makeConnection({ authLatch: "yes" as never })).toThrow("config.authLatch must be a boolean");
    expect(() => makeConnection({ authLatch: true, authCheckUrl: 7 as never })).toThrow(
      "config.authCheckUrl must be a string",
    );
    expect(() => makeConnection({ authCheckUrl: "/check" })).toThrow(
      "config.authCheckUrl is used only with config.authLatch: true (or config.strict)",
    );
    expect(() => makeConnection({ strict: true, authCheckUrl: "/check" })).not.toThrow();
    expect(() => makeConnection({ strict: true, authLatch: false }).blockAuthentication()).toThrow("authLatch");
  });

  it("the tabs entry without sharing latches as the default entry does", () => {
    const heard: ServerMessage[] = [];
    const conn = new TabsConnection({
      baseUrl: BASE,
      authLatch: true,
      fetch: manualFetch().fn as never,
      createEventSource: (url: string) => new FakeEventSource(url),
    });
    conn.onMessage((m) => heard.push(m));
    conn.connect();
    latest().welcome("conn-1");
    latest().emit("message", { type: "auth_expired" });
    conn.connect();
    expect(heard.map((m) => m.type)).toEqual(["_open", "_close", "_auth_lost"]);
    expect(FakeEventSource.all).toHaveLength(1);
    conn.restoreAuthentication();
    expect(FakeEventSource.all).toHaveLength(2);
    conn.free();
  });

  it("with shareAcrossTabs, strict leaves the latch off and asking for it is refused naming both options", () => {
    const config = { baseUrl: BASE, createEventSource: (url: string) => new FakeEventSource(url) };
    const sharing = new TabsConnection({ ...config, strict: true, shareAcrossTabs: true });
    expect(() => sharing.blockAuthentication()).toThrow("needs config.authLatch");
    sharing.free();
    expect(() => new TabsConnection({ ...config, authLatch: true, shareAcrossTabs: true })).toThrow(
      "config.authLatch must not be true with config.shareAcrossTabs",
    );
  });
});
