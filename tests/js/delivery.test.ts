// What the package adds over the existing client (docs/delivery-rules.md, and "Bad
// input" in docs/api.md), through the public API: every message's fate is reported,
// stale 404s recover, lifecycle messages are never replayed, bad input throws and
// changes nothing.
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import { Connection, type DeliveryReport } from "sse-courier";
import { FakeEventSource, connectedWithManualFetch, latest, makeConnection, noCounts } from "./fakes";

beforeEach(() => {
  FakeEventSource.all = [];
  vi.useFakeTimers();
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const setup = connectedWithManualFetch;

describe("stale connection (the seed)", () => {
  it("a send that meets 404 is re-sent once on a fresh connection, same body", async () => {
    const { conn, manual, reports } = setup();
    conn.send({ type: "send", sessionId: "s", prompt: "hi", clientMsgId: "m-1" });
    const streams = FakeEventSource.all.length;
    manual.calls[0].resolve({ ok: false, status: 404 });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.all.length).toBe(streams + 1);
    expect(conn.pendingCount).toBe(1);
    latest().welcome("conn-2");
    expect(manual.endpoints()).toEqual(["send", "send"]);
    expect(manual.calls[1].init.body).toBe(manual.calls[0].init.body);
    expect((manual.calls[1].init.headers as Record<string, string>)["X-Connection-ID"]).toBe("conn-2");
    manual.calls[1].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: "m-1", endpoint: "send" })]);
    expect(conn.stats()).toMatchObject({ stale404s: 1, reconnects: 1, lateAnswers: 0 });
  });

  it("N sends all meeting 404 on one stale connection cause one reconnect", async () => {
    const { conn, manual } = setup();
    for (let i = 0; i < 5; i++) conn.send({ type: "send", clientMsgId: `m-${i}` });
    const streams = FakeEventSource.all.length;
    for (const call of manual.calls) call.resolve({ ok: false, status: 404 });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.all.length).toBe(streams + 1);
    latest().welcome("conn-2");
    const resent = manual.calls.slice(5).map((c) => JSON.parse(c.init.body as string).clientMsgId);
    expect(resent).toEqual(["m-0", "m-1", "m-2", "m-3", "m-4"]);
    // Every 404 is counted; the first rebuilt the stream, so the other four answered
    // for a connection already replaced.
    expect(conn.stats()).toMatchObject({ stale404s: 5, lateAnswers: 4, reconnects: 1 });
  });

  it("a message meeting 404 on 3 fresh connections is dropped and reported", async () => {
    const { conn, manual, reports } = setup();
    conn.send({ type: "send", clientMsgId: "doomed" });
    for (let attempt = 0; attempt < 3; attempt++) {
      manual.calls[attempt].resolve({ ok: false, status: 404 });
      await vi.advanceTimersByTimeAsync(0);
      if (attempt < 2) latest().welcome(`conn-${attempt + 2}`);
    }
    expect(manual.calls).toHaveLength(3);
    expect(reports).toEqual([expect.objectContaining({ status: "dropped", reason: "stale_retries_exhausted" })]);
  });

  it.each([
    ["session_suspend", "suspend"],
    ["session_close", "close"],
    ["unwatch", "unwatch"],
    ["stop", "stop"],
  ])("a %s meeting 404 is reported failed and never replayed", async (type, endpoint) => {
    const { conn, manual, reports } = setup();
    conn.send({ type });
    manual.calls[0].resolve({ ok: false, status: 404 });
    await vi.advanceTimersByTimeAsync(0);
    latest().welcome("conn-2");
    await vi.runAllTimersAsync();
    expect(manual.endpoints()).toEqual([endpoint]);
    expect(reports).toEqual([expect.objectContaining({ status: "failed", reason: "stale_connection", endpoint })]);
  });
});

describe("transient failures", () => {
  it("a 500 does not rebuild the stream; the send is retried after a backoff", async () => {
    const { conn, manual, reports } = setup();
    conn.send({ type: "send", clientMsgId: "m" });
    const streams = FakeEventSource.all.length;
    manual.calls[0].resolve({ ok: false, status: 500 });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.all.length).toBe(streams);
    expect(manual.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(manual.calls).toHaveLength(2);
    manual.calls[1].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(reports.map((r) => r.status)).toEqual(["delivered"]);
    expect(conn.stats()).toMatchObject({ sendRetries: 1, delivered: 1, reconnects: 0 });
  });

  it("a network error does not rebuild the stream", async () => {
    const { conn, manual } = setup();
    conn.send({ type: "send", clientMsgId: "m" });
    const streams = FakeEventSource.all.length;
    manual.calls[0].reject(new TypeError("Failed to fetch"));
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.all.length).toBe(streams);
    expect(conn.isConnected()).toBe(true);
  });

  it("a non-retryable message meeting 500 is reported failed at once", async () => {
    const { conn, manual, reports } = setup();
    conn.send({ type: "stop" });
    manual.calls[0].resolve({ ok: false, status: 500 });
    await vi.runAllTimersAsync();
    expect(manual.calls).toHaveLength(1);
    expect(reports).toEqual([expect.objectContaining({ status: "failed", reason: "server_error", httpStatus: 500 })]);
  });
});

describe("answers", () => {
  it("accepts real Response objects and cancels their unread bodies", async () => {
    const { conn, manual, reports } = setup();
    conn.send({ type: "send", clientMsgId: "real" });
    const response = new Response(JSON.stringify({ ok: true }), { status: 200 });
    manual.calls[0].resolve(response);
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([expect.objectContaining({ status: "delivered" })]);
    expect(response.bodyUsed).toBe(true);
  });

  it("reads a real 404 Response as stale", async () => {
    const { conn, manual } = setup();
    conn.send({ type: "send", clientMsgId: "real-404" });
    const streams = FakeEventSource.all.length;
    manual.calls[0].resolve(new Response("{}", { status: 404 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.all.length).toBe(streams + 1);
  });
});

describe("post timeout", () => {
  it("is off by default: the init has no signal", () => {
    const { conn, manual } = setup();
    conn.send({ type: "send", clientMsgId: "m" });
    expect(Object.keys(manual.calls[0].init)).toEqual(["method", "headers", "body"]);
  });

  it("aborts a POST unanswered after postTimeoutMs and reports a non-retryable one failed", async () => {
    const { conn, manual, reports } = setup({ postTimeoutMs: 1000 });
    conn.send({ type: "stop" });
    const signal = manual.calls[0].init.signal as AbortSignal;
    expect(signal).toBeDefined();
    signal.addEventListener("abort", () => manual.calls[0].reject(new DOMException("aborted", "AbortError")));
    await vi.advanceTimersByTimeAsync(999);
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(signal.aborted).toBe(true);
    expect(reports).toEqual([expect.objectContaining({ status: "failed", reason: "timeout" })]);
    expect(conn.stats()).toMatchObject({ postTimeouts: 1, failed: 1, lateAnswers: 0 });
  });
});

describe("retryableEndpoints", () => {
  it("makes the named endpoints retryable and only those", async () => {
    const { conn, manual, reports } = setup({ retryableEndpoints: ["watch"] });
    conn.send({ type: "watch", clientMsgId: "w" });
    conn.send({ type: "send", clientMsgId: "s" });
    manual.calls[0].resolve({ ok: false, status: 404 });
    manual.calls[1].resolve({ ok: false, status: 404 });
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([expect.objectContaining({ status: "failed", reason: "stale_connection", clientMsgId: "s" })]);
    latest().welcome("conn-2");
    expect(manual.endpoints()).toEqual(["watch", "send", "watch"]);
  });
});

describe("de-duplication", () => {
  it("a replayed event not newer than the tracked seq is not dispatched twice", () => {
    const { listener } = setup();
    const event = { type: "block_delta", sessionId: "s", seq: 3, delta: "x" };
    latest().emit("message", event);
    latest().emit("message", event);
    expect(listener.mock.calls.filter(([m]) => m.type === "block_delta")).toHaveLength(1);
  });
});

describe("queue bound", () => {
  it("evicting the oldest is reported, never silent", () => {
    const reports: DeliveryReport[] = [];
    const conn = makeConnection({ maxPendingSends: 2, onDelivery: (r) => reports.push(r) });
    conn.connect();
    for (const id of ["a", "b", "c"]) conn.send({ type: "send", clientMsgId: id });
    expect(conn.pendingCount).toBe(2);
    expect(reports).toEqual([expect.objectContaining({ status: "dropped", reason: "queue_overflow", clientMsgId: "a" })]);
  });
});

describe("bad input", () => {
  it.each([
    [undefined, /config/],
    [{}, /baseUrl/],
    [{ baseUrl: 5 }, /baseUrl/],
    [{ baseUrl: "https://x/" }, /baseUrl/],
    [{ baseUrl: "", fetch: "nope" }, /fetch/],
    [{ baseUrl: "", maxPendingSends: 0 }, /maxPendingSends/],
    [{ baseUrl: "", maxStaleRetries: -1 }, /maxStaleRetries/],
    [{ baseUrl: "", reconnectDelayMs: "soon" }, /reconnectDelayMs/],
    [{ baseUrl: "", retryableEndpoints: ["suspend"] }, /retryableEndpoints/],
    [{ baseUrl: "", retryableEndpoints: ["nope"] }, /retryableEndpoints/],
    [{ baseUrl: "", staleAfterMs: 0 }, /staleAfterMs/],
    [{ baseUrl: "", postTimeoutMs: 2 ** 31 }, /postTimeoutMs/],
    [{ baseUrl: "", maxSendRetries: 1.5 }, /maxSendRetries/],
    [{ baseUrl: "", orderedSends: 1 }, /orderedSends/],
    [{ baseUrl: "", retryableEndpoints: [1] }, /retryableEndpoints/],
    [{ baseUrl: "", retryableEndpoints: "send" }, /retryableEndpoints/],
    [{ baseUrl: "", backoff: 5 }, /config\.backoff must be an object/],
    [{ baseUrl: "", backoff: { initialMs: -1 } }, /backoff\.initialMs/],
    [{ baseUrl: "", backoff: { initialMs: 40_000 } }, /config\.backoff\.maxMs/],
  ])("config %j is refused naming the field", (config, field) => {
    expect(() => new Connection(config as never)).toThrow(field);
  });

  it("send refuses non-objects, non-string types and unserialisable bodies, losing nothing queued", () => {
    const fetch = vi.fn().mockResolvedValue({ ok: true });
    const conn = makeConnection({ fetch });
    conn.connect();
    conn.send({ type: "send", clientMsgId: "kept" });
    const cyclic: Record<string, unknown> = { type: "send" };
    cyclic.self = cyclic;
    expect(() => conn.send("hello" as never)).toThrow(/object/);
    expect(() => conn.send({ type: 7 } as never)).toThrow(/type/);
    expect(() => conn.send(cyclic as never)).toThrow(/JSON/);
    expect(() => conn.send({ type: "send", n: 10n } as never)).toThrow(/JSON/);
    expect(conn.pendingCount).toBe(1);
    latest().welcome("conn-1");
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(JSON.parse(fetch.mock.calls[0][1].body).clientMsgId).toBe("kept");
  });

  it("send's errors, exactly: the cause of a JSON failure is quoted, none when there is no cause", () => {
    const conn = makeConnection();
    const thrown = (message: unknown) => {
      try {
        conn.send(message as never);
      } catch (error) {
        return (error as Error).message;
      }
      return "accepted";
    };
    expect(thrown(["send"])).toBe("send: message must be a plain object");
    expect(thrown(null)).toBe("send: message must be a plain object");
    expect(thrown({ type: 7 })).toBe("send: message.type must be a string");
    let cause = "";
    try {
      JSON.stringify({ n: 10n });
    } catch (error) {
      cause = (error as Error).message;
    }
    expect(thrown({ type: "send", n: 10n })).toBe("send: message cannot be serialised to JSON: " + cause);
    expect(thrown({ type: "send", toJSON: () => undefined })).toBe("send: message cannot be serialised to JSON: ");
    expect(thrown({ type: "nope" })).toBe("accepted");
    conn.free();
  });
});

describe("timers", () => {
  it("leaves no timer behind by default once idle", async () => {
    const { conn } = setup();
    conn.send({ type: "send", clientMsgId: "m" });
    await vi.runAllTimersAsync();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a silent stream is rebuilt after staleAfterMs when enabled", async () => {
    const { conn } = setup({ staleAfterMs: 1000 });
    const streams = FakeEventSource.all.length;
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeEventSource.all.length).toBe(streams);
    await vi.advanceTimersByTimeAsync(2);
    expect(FakeEventSource.all.length).toBe(streams + 1);
    // The whole object: the one scenario where staleStreams is non-zero and restored
    // and expired are not, so a swap of those names in stats() shows here.
    expect(conn.stats()).toEqual({ ...noCounts, streamsOpened: 2, reconnects: 1, staleStreams: 1 });
  });
});
