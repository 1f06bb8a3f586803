// The foreground liveness probe (`foregroundProbe`; docs/delivery-rules.md, rule 23)
// through the built package: back in the foreground on a connection that looks
// connected, POST /api/chat/probe {nonce}; the stream's `{type: "_probe", nonce}` echo
// within 1 s keeps it (and never reaches the listener), no echo or a failed POST
// rebuilds it; a bfcache restore rebuilds at once. The page is faked with counting
// event targets, the clock with fake timers.
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import { Connection, type ConnectionConfig, type ProbeResult } from "sse-courier";
import { Connection as TabsConnection } from "sse-courier/tabs";
import { BASE, FakeEventSource, latest, makeConnection, manualFetch, noCounts, useFakePage } from "./fakes";

const page = useFakePage();
let warnings: string[];

beforeEach(() => {
  warnings = [];
  vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void warnings.push(args.join(" ")));
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Connected ("conn-1"), POSTs answered by hand, listener calls recorded. */
function connected(overrides: Partial<ConnectionConfig> = { foregroundProbe: true }) {
  const manual = manualFetch();
  const listener = vi.fn();
  const conn = makeConnection({ fetch: manual.fn as never, ...overrides });
  page.track(conn);
  conn.onMessage(listener);
  conn.connect();
  latest().welcome("conn-1");
  return { conn, manual, listener };
}

function shown() {
  page.doc.visibilityState = "visible";
  page.doc.fire("visibilitychange");
}

/** The probe POSTs made so far: their connection id and nonce. */
function probes(manual: ReturnType<typeof manualFetch>) {
  return manual.calls
    .filter((c) => c.url === `${BASE}/api/chat/probe`)
    .map((c) => ({
      connectionId: (c.init.headers as Record<string, string>)["X-Connection-ID"],
      body: JSON.parse(c.init.body as string) as { nonce: string },
      call: c,
    }));
}

const heard = (listener: ReturnType<typeof vi.fn>) => listener.mock.calls.map(([m]) => (m as { type: string }).type);

describe("off by default (the existing client)", () => {
  it("shown while connected posts nothing, and a `_probe` event reaches the listener like any other", () => {
    const { conn, manual, listener } = connected({});
    shown();
    page.win.fire("pageshow", { persisted: true });
    expect(manual.calls).toHaveLength(0);
    expect(FakeEventSource.all).toHaveLength(1);
    latest().emit("message", { type: "_probe", nonce: "x" });
    expect(heard(listener)).toEqual(["_open", "_foreground", "_probe"]);
    expect(conn.lastProbe()).toBeNull();
    expect(conn.stats()).toEqual({ ...noCounts, streamsOpened: 1 });
  });
});

describe("foregroundProbe", () => {
  it("shown while connected: POST /probe {nonce} on the connection; the echo within 1 s keeps the stream and never reaches the listener", async () => {
    const { conn, manual, listener } = connected();
    shown();
    const [probe] = probes(manual);
    expect(probe.connectionId).toBe("conn-1");
    expect(Object.keys(probe.body)).toEqual(["nonce"]);
    expect(probe.body.nonce).toMatch(/^[0-9a-f]{16}$/);
    probe.call.resolve({ ok: true, status: 200 });
    await vi.advanceTimersByTimeAsync(250);
    latest().emit("message", { type: "_probe", nonce: probe.body.nonce });
    expect(heard(listener)).toEqual(["_open", "_foreground"]);
    const result: ProbeResult | null = conn.lastProbe();
    expect(result).toEqual({ result: "echoed", ok: true, roundTripMs: 250 });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(FakeEventSource.all).toHaveLength(1);
    expect(conn.isConnected()).toBe(true);
    expect(conn.stats()).toEqual({ ...noCounts, streamsOpened: 1, probesSent: 1 });
  });

  it("no echo within 1 s: the stream is rebuilt (with _close and a warning), and lastProbe() says why", async () => {
    const { conn, manual, listener } = connected();
    shown();
    probes(manual)[0].call.resolve({ ok: true, status: 200 });
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeEventSource.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.all).toHaveLength(2);
    expect(FakeEventSource.all[0].readyState).toBe(2);
    expect(heard(listener)).toEqual(["_open", "_foreground", "_close"]);
    expect(conn.lastProbe()).toEqual({ result: "no_echo", ok: false });
    expect(warnings.some((w) => w.includes("foregroundProbe"))).toBe(true);
    expect(conn.stats()).toMatchObject({ probesSent: 1, probesFailed: 1, reconnects: 1 });
  });

  it("a probe answered non-2xx, or failing on the network, rebuilds at once", async () => {
    for (const [answer, expected] of [
      [{ ok: false, status: 503 }, { result: "refused", ok: false, httpStatus: 503 }],
      [new TypeError("Failed to fetch"), { result: "network", ok: false }],
    ] as const) {
      FakeEventSource.all = [];
      const { conn, manual } = connected();
      shown();
      const { call } = probes(manual)[0];
      if (answer instanceof Error) call.reject(answer);
      else call.resolve(answer);
      await vi.advanceTimersByTimeAsync(0);
      expect(FakeEventSource.all).toHaveLength(2);
      expect(conn.lastProbe()).toEqual(expected);
      conn.disconnect();
    }
  });

  it("an echo of another nonce (or of no string) proves nothing; a late echo after the rebuild changes nothing", async () => {
    const { conn, manual, listener } = connected();
    shown();
    const { body } = probes(manual)[0];
    const first = latest();
    first.emit("message", { type: "_probe", nonce: "0000000000000000" });
    first.emit("message", { type: "_probe", nonce: [body.nonce] });
    first.emit("message", { type: "_probe" });
    expect(heard(listener)).toEqual(["_open", "_foreground"]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeEventSource.all).toHaveLength(2);
    first.emit("message", { type: "_probe", nonce: body.nonce });
    expect(conn.lastProbe()).toEqual({ result: "no_echo", ok: false });
    expect(FakeEventSource.all).toHaveLength(2);
  });

  it("disconnect() cancels the probe: no rebuild when its deadline passes", async () => {
    const { conn } = connected();
    shown();
    conn.disconnect();
    expect(conn.lastProbe()).toEqual({ result: "cancelled", ok: false });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(FakeEventSource.all).toHaveLength(1);
    expect(conn.stats().probesFailed).toBe(0);
  });

  it("after the echo, the sessions suspended on hide are replayed on the same connection", async () => {
    const { conn, manual } = connected();
    conn.trackSeq("s1", 4);
    page.doc.visibilityState = "hidden";
    page.doc.fire("visibilitychange");
    shown();
    latest().emit("message", { type: "_probe", nonce: probes(manual)[0].body.nonce });
    expect(manual.endpoints()).toEqual(["suspend", "probe", "reconnect"]);
    const replay = manual.calls[2];
    expect((replay.init.headers as Record<string, string>)["X-Connection-ID"]).toBe("conn-1");
    expect(JSON.parse(replay.init.body as string)).toEqual({ type: "reconnect", sessions: [{ sessionId: "s1", lastSeq: 4 }] });
  });

  it("messages never wait for the probe", () => {
    const { conn, manual } = connected();
    shown();
    expect(conn.send({ type: "send", sessionId: "s", prompt: "hi" })).toBe(true);
    expect(manual.endpoints()).toEqual(["probe", "send"]);
  });

  it("a page restored from the back/forward cache rebuilds even a connected stream", () => {
    const { listener } = connected();
    page.win.fire("pageshow", { persisted: false });
    expect(FakeEventSource.all).toHaveLength(1);
    page.win.fire("pageshow", { persisted: true });
    expect(FakeEventSource.all).toHaveLength(2);
    expect(heard(listener)).toEqual(["_open", "_close"]);
  });
});

describe("the option", () => {
  it("strict turns it on, and its own option overrides strict", () => {
    const strict = connected({ strict: true });
    shown();
    expect(probes(strict.manual)).toHaveLength(1);
    strict.conn.disconnect();
    const off = connected({ strict: true, foregroundProbe: false });
    shown();
    expect(probes(off.manual)).toHaveLength(0);
  });

  it("must be a boolean", () => {
    expect(() => makeConnection({ foregroundProbe: "yes" as never })).toThrow("config.foregroundProbe must be a boolean");
  });

  it("is refused with shareAcrossTabs, naming both options; strict leaves it off there", () => {
    const config = { baseUrl: BASE, createEventSource: (url: string) => new FakeEventSource(url) as unknown as EventSource };
    expect(() => new TabsConnection({ ...config, shareAcrossTabs: true, foregroundProbe: true })).toThrow(
      /config\.foregroundProbe must not be true with config\.shareAcrossTabs/,
    );
    // Without Web Locks the tab goes on alone (a warning), with strict's parts but the probe.
    const manual = manualFetch();
    const conn = new TabsConnection({ ...config, fetch: manual.fn as never, shareAcrossTabs: true, strict: true });
    page.track(conn);
    conn.connect();
    latest().welcome("conn-1");
    shown();
    expect(probes(manual)).toHaveLength(0);
    expect(new TabsConnection({ ...config, foregroundProbe: true })).toBeInstanceOf(TabsConnection);
  });
});

// A type-level check that the default entry's Connection has lastProbe().
export type HasLastProbe = ReturnType<Connection["lastProbe"]>;
