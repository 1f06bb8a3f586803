// The existing client's current contract (docs/delivery-rules.md, rules 14 to 19;
// docs/api.md, "The strict contract"), through the public API with the existing
// client's style of fakes: receipts, prompts that do not wait for the stream, the
// outbox's rules, the `_send_*` notices, `buildEventUrl`, and `strict` for all of it.
// Every part is opt-in: tests/js/drop-in.test.ts pins the defaults.
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import type { ConnectionConfig, DeliveryReport, ServerMessage } from "sse-courier";
import { BASE, FakeEventSource, connectedWithManualFetch, latest, makeConnection, manualFetch } from "./fakes";

beforeEach(() => {
  FakeEventSource.all = [];
  vi.useFakeTimers();
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A 2xx answer whose body is `body` (read with `json()`, as a `Response` is). */
const answer = (body: unknown) => ({ ok: true, status: 200, json: async () => body });
const receipt = (clientMsgId: string, sessionId: string | null = "s1") =>
  answer({ accepted: true, clientMsgId, sessionId });
/** A 2xx whose body is not JSON: `json()` rejects, as a `Response` of HTML does. */
const html = { ok: true, status: 200, json: async () => Promise.reject(new SyntaxError("Unexpected token <")) };

const bodyOf = (init: RequestInit) => JSON.parse(init.body as string);
const headersOf = (init: RequestInit) => init.headers as Record<string, string>;

/** A connection with `config`, connected but not welcomed, its POSTs answered by hand. */
function unwelcomed(config: Partial<ConnectionConfig>) {
  const manual = manualFetch();
  const reports: DeliveryReport[] = [];
  const heard: ServerMessage[] = [];
  const conn = makeConnection({ fetch: manual.fn as never, onDelivery: (r) => reports.push(r), ...config });
  conn.onMessage((m) => heard.push(m));
  conn.connect();
  return { conn, manual, reports, heard };
}

describe("receipts", () => {
  it("a 2xx with the prompt's own receipt delivers it once, the report carrying the receipt", async () => {
    const { conn, manual, reports } = connectedWithManualFetch({ receipts: true });
    conn.send({ type: "send", sessionId: "s1", prompt: "hi", clientMsgId: "m1" });
    manual.calls[0].resolve(receipt("m1"));
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([
      expect.objectContaining({
        status: "delivered",
        clientMsgId: "m1",
        receipt: { accepted: true, clientMsgId: "m1", sessionId: "s1" },
      }),
    ]);
    expect(manual.calls).toHaveLength(1);
  });

  it("a 2xx without its receipt (no body, HTML, another id, accepted as a string, no sessionId) sends the same body again until the receipt comes", async () => {
    const { conn, manual, reports } = connectedWithManualFetch({ receipts: true, maxSendRetries: 10 });
    conn.send({ type: "send", sessionId: "s1", prompt: "hi", clientMsgId: "m1" });
    const ambiguous = [
      { ok: true },
      html,
      receipt("m2"),
      answer({ accepted: "true", clientMsgId: "m1", sessionId: "s1" }),
      answer({ accepted: true, clientMsgId: "m1" }),
    ];
    for (const [i, bad] of ambiguous.entries()) {
      manual.calls[i].resolve(bad);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(reports).toEqual([]);
      expect(manual.calls).toHaveLength(i + 2);
    }
    manual.calls[ambiguous.length].resolve(receipt("m1"));
    await vi.advanceTimersByTimeAsync(0);
    expect(reports.map((r) => r.status)).toEqual(["delivered"]);
    const bodies = manual.calls.map((c) => c.init.body);
    expect(new Set(bodies).size).toBe(1);
    expect(conn.stats()).toMatchObject({ delivered: 1, sendRetries: ambiguous.length });
  });

  it("a prompt without a clientMsgId is given one, kept on every resend, and the app's object is left as it was", async () => {
    const { conn, manual, reports } = connectedWithManualFetch({ receipts: true });
    const message = { type: "send", sessionId: "s1", prompt: "hi" };
    conn.send(message);
    const id = bodyOf(manual.calls[0].init).clientMsgId;
    expect(id).toEqual(expect.any(String));
    expect(id.length).toBeGreaterThan(0);
    expect(message).not.toHaveProperty("clientMsgId");
    manual.calls[0].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(bodyOf(manual.calls[1].init).clientMsgId).toBe(id);
    manual.calls[1].resolve(receipt(id));
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: id, message })]);
  });

  it("ambiguous answers past maxSendRetries fail the prompt for want of a receipt", async () => {
    const { conn, manual, reports } = connectedWithManualFetch({ receipts: true, maxSendRetries: 1 });
    conn.send({ type: "send", sessionId: "s1", clientMsgId: "m1" });
    manual.calls[0].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(60_000);
    manual.calls[1].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([expect.objectContaining({ status: "failed", reason: "no_receipt" })]);
  });

  it("control messages are not prompts: a plain 2xx delivers them", async () => {
    const { conn, manual, reports } = connectedWithManualFetch({ receipts: true });
    conn.send({ type: "stop", sessionId: "s1" });
    manual.calls[0].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([expect.objectContaining({ status: "delivered", endpoint: "stop" })]);
  });
});

describe("sendWithoutStream", () => {
  it("a prompt goes out before the welcome, without X-Connection-ID; control messages wait", async () => {
    const { conn, manual } = unwelcomed({ sendWithoutStream: true });
    conn.send({ type: "send", sessionId: "s1", clientMsgId: "m1" });
    conn.send({ type: "stop", sessionId: "s1" });
    expect(manual.endpoints()).toEqual(["send"]);
    expect(headersOf(manual.calls[0].init)).not.toHaveProperty("X-Connection-ID");
    expect(headersOf(manual.calls[0].init)["Content-Type"]).toBe("application/json");
    latest().welcome("conn-1");
    expect(manual.endpoints()).toEqual(["send", "stop"]);
    expect(headersOf(manual.calls[1].init)["X-Connection-ID"]).toBe("conn-1");
  });

  it("prompts go one at a time, in send order, with the connection id once known", async () => {
    const { conn, manual } = unwelcomed({ sendWithoutStream: true });
    for (const id of ["m1", "m2", "m3"]) conn.send({ type: "send", sessionId: "s1", clientMsgId: id });
    expect(manual.calls).toHaveLength(1);
    latest().welcome("conn-1");
    manual.calls[0].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(manual.calls).toHaveLength(2);
    expect(bodyOf(manual.calls[1].init).clientMsgId).toBe("m2");
    expect(headersOf(manual.calls[1].init)["X-Connection-ID"]).toBe("conn-1");
    manual.calls[1].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(manual.calls.map((c) => bodyOf(c.init).clientMsgId)).toEqual(["m1", "m2", "m3"]);
  });

  it("a 404 on a prompt is final and rebuilds nothing", async () => {
    const { conn, manual, reports } = connectedWithManualFetch({ sendWithoutStream: true });
    const streams = FakeEventSource.all.length;
    conn.send({ type: "send", sessionId: "s1", clientMsgId: "m1" });
    manual.calls[0].resolve({ ok: false, status: 404 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reports).toEqual([expect.objectContaining({ status: "failed", reason: "rejected", httpStatus: 404 })]);
    expect(FakeEventSource.all.length).toBe(streams);
    expect(manual.calls).toHaveLength(1);
  });
});

describe("promptOutbox", () => {
  it("a full outbox refuses a new prompt and evicts nothing", async () => {
    const { conn, manual, reports } = connectedWithManualFetch({ promptOutbox: true, maxPendingSends: 2 });
    expect(conn.send({ type: "send", sessionId: "s1", clientMsgId: "m1" })).toBe(true);
    expect(conn.send({ type: "send", sessionId: "s1", clientMsgId: "m2" })).toBe(true);
    expect(conn.send({ type: "send", sessionId: "s1", clientMsgId: "m3" })).toBe(false);
    expect(reports).toEqual([]);
    expect(console.warn).toHaveBeenCalledWith(expect.stringContaining("outbox full"));
    for (const call of manual.calls) call.resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(reports.map((r) => r.clientMsgId).sort()).toEqual(["m1", "m2"]);
  });

  it("clearPendingSends drops control messages and keeps prompts", async () => {
    const { conn, manual, reports } = unwelcomed({ promptOutbox: true });
    conn.send({ type: "send", sessionId: "s1", clientMsgId: "m1" });
    conn.send({ type: "watch", sessionId: "s1" });
    conn.clearPendingSends();
    expect(reports).toEqual([expect.objectContaining({ status: "dropped", reason: "cleared", endpoint: "watch" })]);
    latest().welcome("conn-1");
    expect(manual.endpoints()).toEqual(["send"]);
  });

  it("prompts of a new chat (sessionId null) take the session of the draft's first receipt", async () => {
    const { conn, manual } = unwelcomed({ promptOutbox: true, receipts: true, sendWithoutStream: true });
    conn.send({ type: "send", sessionId: null, clientMsgId: "m1", prompt: "new chat" });
    conn.send({ type: "send", sessionId: null, clientMsgId: "m2", prompt: "and more" });
    manual.calls[0].resolve(receipt("m1", "s-new"));
    await vi.advanceTimersByTimeAsync(0);
    expect(bodyOf(manual.calls[1].init)).toMatchObject({ clientMsgId: "m2", sessionId: "s-new", prompt: "and more" });
    expect(bodyOf(manual.calls[0].init).sessionId).toBeNull();
  });
});

describe("notices", () => {
  it("the listener hears each prompt pending, retrying and accepted, before its report", async () => {
    const order: string[] = [];
    const { conn, manual } = connectedWithManualFetch({
      notices: true,
      receipts: true,
      onDelivery: (r) => order.push(`report ${r.status}`),
    });
    conn.onMessage((m) => order.push(m.retrying ? `${m.type} retrying` : m.type));
    const message = { type: "send", sessionId: "s1", clientMsgId: "m1" };
    conn.send(message);
    manual.calls[0].resolve({ ok: false, status: 503 });
    await vi.advanceTimersByTimeAsync(60_000);
    manual.calls[1].resolve(receipt("m1"));
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(["_send_pending", "_send_pending retrying", "_send_accepted", "report delivered"]);
  });

  it("notices name the prompt, its session and the receipt, and hand back the app's message", async () => {
    const { conn, manual, listener } = connectedWithManualFetch({ notices: true, receipts: true });
    const message = { type: "send", sessionId: "s1", clientMsgId: "m1" };
    conn.send(message);
    manual.calls[0].resolve(receipt("m1"));
    await vi.advanceTimersByTimeAsync(0);
    expect(listener.mock.calls.map((c) => c[0]).filter((m) => m.type !== "_open")).toEqual([
      { type: "_send_pending", clientMsgId: "m1", sessionId: "s1", retrying: false, message },
      {
        type: "_send_accepted",
        clientMsgId: "m1",
        sessionId: "s1",
        receipt: { accepted: true, clientMsgId: "m1", sessionId: "s1" },
        message,
      },
    ]);
  });

  it("a prompt of a new chat, and a receipt naming no session, say sessionId: null, as typed", async () => {
    const { conn, manual, listener, reports } = connectedWithManualFetch({ notices: true, receipts: true });
    conn.send({ type: "send", sessionId: null, clientMsgId: "m1" });
    manual.calls[0].resolve(receipt("m1", null));
    await vi.advanceTimersByTimeAsync(0);
    const notices = listener.mock.calls.map((c) => c[0]).filter((m) => m.type !== "_open");
    expect(notices.map((m) => [m.type, m.sessionId])).toEqual([
      ["_send_pending", null],
      ["_send_accepted", null],
    ]);
    expect(notices[1].receipt.sessionId).toBeNull();
    expect(reports[0].receipt!.sessionId).toBeNull();
  });

  it("a failed prompt is _send_failed with the error", async () => {
    const { conn, manual, listener } = connectedWithManualFetch({ notices: true, maxSendRetries: 0 });
    conn.send({ type: "send", sessionId: "s1", clientMsgId: "m1" });
    manual.calls[0].resolve({ ok: false, status: 503 });
    await vi.advanceTimersByTimeAsync(0);
    expect(listener.mock.calls.at(-1)![0]).toMatchObject({
      type: "_send_failed",
      clientMsgId: "m1",
      error: "server_error (HTTP 503)",
    });
  });

  it("a failed control POST is an error event; a failed permission answer is permission_response_rejected", async () => {
    const { conn, manual, listener } = connectedWithManualFetch({ notices: true });
    conn.send({ type: "stop", sessionId: "s1" });
    conn.send({ type: "permission_response", sessionId: "s2", permId: "p7", allow: true });
    manual.calls[0].resolve({ ok: false, status: 500 });
    manual.calls[1].resolve({ ok: false, status: 400 });
    await vi.advanceTimersByTimeAsync(0);
    const events = listener.mock.calls.map((c) => c[0]);
    expect(events).toContainEqual(expect.objectContaining({ type: "error", sessionId: "s1", error: "server_error (HTTP 500)" }));
    expect(events).toContainEqual(
      expect.objectContaining({ type: "permission_response_rejected", sessionId: "s2", permId: "p7", error: "rejected (HTTP 400)" }),
    );
  });

  it("off by default: the listener hears nothing of sends", async () => {
    const { conn, manual, listener } = connectedWithManualFetch();
    conn.send({ type: "send", sessionId: "s1", clientMsgId: "m1" });
    conn.send({ type: "stop", sessionId: "s1" });
    manual.calls[0].resolve({ ok: true });
    manual.calls[1].resolve({ ok: false, status: 500 });
    await vi.advanceTimersByTimeAsync(0);
    expect(listener.mock.calls.map((c) => c[0])).toEqual([{ type: "_open" }]);
  });
});

describe("buildEventUrl", () => {
  it("is asked for the URL at every (re)connection attempt", async () => {
    let token = 0;
    const buildEventUrl = vi.fn(() => `${BASE}/api/chat/events?token=${++token}`);
    const { conn } = connectedWithManualFetch({ buildEventUrl });
    expect(latest().url).toBe(`${BASE}/api/chat/events?token=1`);
    conn.checkAndReconnect(true);
    expect(latest().url).toBe(`${BASE}/api/chat/events?token=2`);
    expect(buildEventUrl).toHaveBeenCalledTimes(2);
  });

  it("one that throws fails that attempt with a warning naming it, and the next attempt asks again", async () => {
    let fail = true;
    const buildEventUrl = () => {
      if (fail) throw new Error("token refresh failed");
      return `${BASE}/api/chat/events?token=fresh`;
    };
    const conn = makeConnection({ buildEventUrl });
    conn.connect();
    expect(FakeEventSource.all).toHaveLength(0);
    expect(console.warn).toHaveBeenCalledWith(expect.stringContaining("config.buildEventUrl threw"));
    expect(console.warn).toHaveBeenCalledWith(expect.stringContaining("token refresh failed"));
    fail = false;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(latest().url).toBe(`${BASE}/api/chat/events?token=fresh`);
  });
});

describe("strict", () => {
  it("turns every part on: a prompt before the welcome, its receipt, notices", async () => {
    const { conn, manual, reports, heard } = unwelcomed({ strict: true });
    conn.send({ type: "send", sessionId: "s1", clientMsgId: "m1" });
    expect(manual.endpoints()).toEqual(["send"]);
    manual.calls[0].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(manual.calls).toHaveLength(2);
    manual.calls[1].resolve(receipt("m1"));
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([expect.objectContaining({ status: "delivered", receipt: expect.anything() })]);
    expect(heard.map((m) => m.type)).toEqual(["_send_pending", "_send_pending", "_send_accepted"]);
  });

  it("retries without a limit, 1 s doubling to 10 s without jitter, each POST with a timeout", async () => {
    const { conn, manual } = connectedWithManualFetch({ strict: true });
    conn.send({ type: "send", sessionId: "s1", clientMsgId: "m1" });
    expect(manual.calls[0].init.signal).toBeInstanceOf(AbortSignal);
    const times: number[] = [];
    for (let i = 0; i < 8; i++) {
      manual.calls[i].resolve({ ok: false, status: 503 });
      const start = Date.now();
      await vi.advanceTimersByTimeAsync(0);
      while (manual.calls.length === i + 1) await vi.advanceTimersByTimeAsync(100);
      times.push(Date.now() - start);
    }
    expect(times).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000]);
  });

  it("each part's own option overrides strict's", async () => {
    const { conn, manual } = unwelcomed({ strict: true, sendWithoutStream: false });
    conn.send({ type: "send", sessionId: "s1", clientMsgId: "m1" });
    expect(manual.calls).toHaveLength(0);
  });
});

describe("options", () => {
  const refusal = (config: Partial<ConnectionConfig>) => {
    try {
      makeConnection(config);
      return "accepted";
    } catch (error) {
      return (error as Error).message;
    }
  };

  it("maxSendRetries takes Infinity, never a number past the bound", () => {
    expect(refusal({ maxSendRetries: Infinity })).toBe("accepted");
    expect(refusal({ maxSendRetries: -Infinity })).toMatch(/config\.maxSendRetries must be .*or Infinity/);
  });

  it("every switch of the contract must be a boolean", () => {
    for (const name of ["strict", "receipts", "sendWithoutStream", "promptOutbox", "notices", "replayEveryWelcome", "retryJitter"]) {
      expect(refusal({ [name]: "yes" } as never)).toBe(`config.${name} must be a boolean`);
    }
  });

  it("buildEventUrl must be a function", () => {
    expect(refusal({ buildEventUrl: "https://x" } as never)).toBe("config.buildEventUrl must be a function");
  });
});
