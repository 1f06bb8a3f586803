// Acknowledged application (docs/delivery-rules.md, rules 20 to 22; docs/api.md,
// "Acknowledged application"), through the public API with the existing client's style
// of fakes: chained events applied when the listener returns true, acknowledged by
// POST; gaps held and resynced; refusals resynced; reconnect snapshot offers; the
// option's checks. Off by default: tests/js/drop-in.test.ts pins the defaults.
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import type { ServerMessage } from "sse-courier";
import { BASE, FakeEventSource, latest, makeConnection, manualFetch } from "./fakes";

beforeEach(() => {
  FakeEventSource.all = [];
  vi.useFakeTimers();
  vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const bodyOf = (init: RequestInit) => JSON.parse(init.body as string);
const event = (seq: number, prevSessionSeq: number, sessionId = "s1") => ({
  type: "assistant_text",
  sessionId,
  seq,
  prevSessionSeq,
  text: `event ${seq}`,
});

/** A connection with acknowledged application, welcomed; its listener answers with
 * `answer(message)` (true by default) and records what it was handed. */
function chained(answer: (m: ServerMessage) => boolean | void = () => true, config = {}) {
  const manual = manualFetch();
  const handed: ServerMessage[] = [];
  const conn = makeConnection({ fetch: manual.fn as never, acknowledgeEvents: true, ...config });
  conn.onMessage((m) => {
    handed.push(m);
    return answer(m);
  });
  conn.connect();
  latest().welcome("conn-1");
  const acks = () =>
    manual.calls
      .filter((c) => c.url === `${BASE}/api/chat/session-event-applied`)
      .map((c) => bodyOf(c.init));
  const seqs = () => handed.filter((m) => m.prevSessionSeq !== undefined).map((m) => m.seq);
  return { conn, manual, handed, acks, seqs };
}

describe("acknowledged application", () => {
  it("an event the listener applies moves the cursor and is acknowledged by POST, with the connection id", async () => {
    const { conn, manual, acks } = chained();
    latest().emit("message", event(1, 0));
    expect(conn.getLastSeq("s1")).toBe(1);
    expect(acks()).toEqual([{ type: "session_event_applied", sessionId: "s1", seq: 1 }]);
    const headers = manual.calls[0].init.headers as Record<string, string>;
    expect(headers["X-Connection-ID"]).toBe("conn-1");
    expect(conn.stats()).toMatchObject({ acksPosted: 1 });
  });

  it("a listener that returns nothing leaves the cursor and owes no acknowledgement", () => {
    const { conn, acks } = chained(() => undefined);
    latest().emit("message", event(1, 0));
    expect(conn.getLastSeq("s1")).toBe(0);
    expect(acks()).toEqual([]);
  });

  it("a duplicate at or below the cursor is not handed again but acknowledged again", async () => {
    const { manual, acks, seqs, conn } = chained();
    latest().emit("message", event(1, 0));
    manual.calls[0].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(0);
    latest().emit("message", event(1, 0));
    expect(seqs()).toEqual([1]);
    expect(acks().map((a) => a.seq)).toEqual([1, 1]);
    expect(conn.stats()).toMatchObject({ duplicatesSkipped: 1 });
  });

  it("acknowledgements of one session wait for each other, and those owed meanwhile fold into the highest", async () => {
    const { manual, acks } = chained();
    for (const seq of [1, 2, 3]) latest().emit("message", event(seq, seq - 1));
    expect(acks().map((a) => a.seq)).toEqual([1]);
    manual.calls[0].resolve({ ok: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(acks().map((a) => a.seq)).toEqual([1, 3]);
  });

  it("a failed acknowledgement rebuilds the stream", async () => {
    const { manual, conn } = chained();
    latest().emit("message", event(1, 0));
    const before = FakeEventSource.all.length;
    manual.calls[0].resolve({ ok: false, status: 500 });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.all.length).toBe(before + 1);
    expect(conn.stats()).toMatchObject({ ackFailures: 1 });
  });

  it("an acknowledgement unanswered for 10 s is aborted and rebuilds the stream, even without postTimeoutMs", async () => {
    const { manual, conn } = chained();
    latest().emit("message", event(1, 0));
    const signal = manual.calls[0].init.signal as AbortSignal;
    const before = FakeEventSource.all.length;
    await vi.advanceTimersByTimeAsync(9_999);
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signal.aborted).toBe(true);
    expect(FakeEventSource.all.length).toBe(before + 1);
    expect(conn.stats()).toMatchObject({ ackFailures: 1 });
  });

  it("the reconnect POST names the applied cursor and says supportsAppliedCursor", async () => {
    const { conn, manual } = chained((m) => (m.seq === 3 ? undefined : true));
    for (const seq of [1, 2, 3]) latest().emit("message", event(seq, seq - 1));
    conn.checkAndReconnect(true);
    latest().welcome("conn-2");
    const reconnect = manual.calls.find((c) => c.url.endsWith("/reconnect"));
    expect(bodyOf(reconnect!.init)).toEqual({
      type: "reconnect",
      sessions: [{ sessionId: "s1", lastSeq: 2 }],
      supportsAppliedCursor: true,
    });
  });
});

describe("gap resync", () => {
  it("events behind a gap are held and handed in chain order once it fills", () => {
    const { seqs, conn } = chained();
    latest().emit("message", event(1, 0));
    latest().emit("message", event(3, 2));
    latest().emit("message", event(4, 3));
    expect(seqs()).toEqual([1]);
    latest().emit("message", event(2, 1));
    expect(seqs()).toEqual([1, 2, 3, 4]);
    expect(conn.getLastSeq("s1")).toBe(4);
  });

  it("a gap still open after 15 s rebuilds the stream and asks from the cursor", async () => {
    const { conn, manual, seqs } = chained();
    latest().emit("message", event(1, 0));
    manual.calls[0].resolve({ ok: true });
    latest().emit("message", event(3, 2));
    const first = latest();
    await vi.advanceTimersByTimeAsync(14_999);
    expect(latest()).toBe(first);
    await vi.advanceTimersByTimeAsync(1);
    expect(latest()).not.toBe(first);
    expect(first.readyState).toBe(2);
    expect(conn.stats()).toMatchObject({ resyncs: 1 });
    latest().welcome("conn-2");
    const reconnect = manual.calls.find((c) => c.url.endsWith("/reconnect"));
    expect(bodyOf(reconnect!.init).sessions).toEqual([{ sessionId: "s1", lastSeq: 1 }]);
    latest().emit("message", event(2, 1));
    latest().emit("message", event(3, 2));
    expect(seqs()).toEqual([1, 2, 3]);
  });

  it("a listener that returns false or throws gets the event again after the resync", () => {
    for (const refuse of [() => false, () => { throw new Error("bad state"); }]) {
      FakeEventSource.all = [];
      let refusals = 1;
      const { conn, seqs } = chained((m) => (m.seq === 2 && refusals-- > 0 ? refuse() : true));
      latest().emit("message", event(1, 0));
      latest().emit("message", event(2, 1));
      expect(conn.getLastSeq("s1")).toBe(1);
      expect(conn.stats()).toMatchObject({ resyncs: 1 });
      latest().welcome("conn-2");
      latest().emit("message", event(2, 1));
      expect(seqs()).toEqual([1, 2, 2]);
      expect(conn.getLastSeq("s1")).toBe(2);
      conn.free();
    }
  });

  it("events without prevSessionSeq keep the seq rule of the default", () => {
    const { conn, handed, acks } = chained(() => undefined);
    latest().emit("message", { type: "status", sessionId: "s1", seq: 5 });
    expect(handed.map((m) => m.type)).toEqual(["_open", "status"]);
    expect(conn.getLastSeq("s1")).toBe(5);
    expect(acks()).toEqual([]);
  });
});

describe("reconnect snapshots and the app's cursor", () => {
  const offer = { type: "session_reconnect_snapshot", sessionId: "s1", cursor: 5, offerId: "o1" };

  it("an offer holds the session until the server applies the snapshot, and the listener hears of it", async () => {
    const { conn, manual, handed, seqs } = chained();
    latest().emit("message", offer);
    expect(handed.filter((m) => m.type !== "_open")).toEqual([offer]);
    latest().emit("message", event(6, 5));
    latest().emit("message", event(7, 6));
    expect(seqs()).toEqual([]);
    expect(conn.acknowledgeReconnectSnapshot("s1", 4, "o1")).toBe(false);
    expect(conn.acknowledgeReconnectSnapshot("s1", 5, "o1")).toBe(true);
    const post = manual.calls.find((c) => c.url === `${BASE}/api/chat/reconnect-snapshot-applied`)!;
    expect(bodyOf(post.init)).toEqual({ type: "reconnect_snapshot_applied", sessionId: "s1", cursor: 5, offerId: "o1" });
    post.resolve({ ok: true, status: 200, json: async () => ({ applied: true }) });
    await vi.advanceTimersByTimeAsync(0);
    expect(seqs()).toEqual([6, 7]);
    expect(conn.getLastSeq("s1")).toBe(7);
    expect(conn.stats()).toMatchObject({ snapshotsApplied: 1 });
  });

  it("a 2xx without applied: true does not apply it, and the offer resyncs after 30 s", async () => {
    const { conn, manual, seqs } = chained();
    latest().emit("message", offer);
    latest().emit("message", event(6, 5));
    conn.acknowledgeReconnectSnapshot("s1", 5, "o1");
    manual.calls.at(-1)!.resolve({ ok: true, status: 200, json: async () => ({ ok: true }) });
    await vi.advanceTimersByTimeAsync(0);
    expect(seqs()).toEqual([]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(conn.stats()).toMatchObject({ resyncs: 1, snapshotsApplied: 0 });
  });

  it("commitTranscriptCursor moves the cursor forward, tells the server and releases what follows", () => {
    const { conn, seqs, acks } = chained();
    latest().emit("message", event(6, 5));
    conn.commitTranscriptCursor("s1", 5);
    expect(seqs()).toEqual([6]);
    expect(acks()[0]).toEqual({ type: "session_event_applied", sessionId: "s1", seq: 5 });
    conn.commitTranscriptCursor("s1", 2);
    expect(conn.getLastSeq("s1")).toBe(6);
  });

  it("the methods throw without the option or with a bad number, changing nothing", () => {
    const plain = makeConnection();
    expect(() => plain.commitTranscriptCursor("s1", 1)).toThrow(/commitTranscriptCursor: needs config.acknowledgeEvents/);
    expect(() => plain.acknowledgeReconnectSnapshot("s1", 1)).toThrow(/acknowledgeEvents/);
    const { conn } = chained();
    expect(() => conn.commitTranscriptCursor("s1", -1)).toThrow(/seq must be a whole number/);
    expect(() => conn.acknowledgeReconnectSnapshot("s1", 1.5, "o1")).toThrow(/cursor must be a whole number/);
    expect(conn.getLastSeq("s1")).toBe(0);
  });
});

describe("the option", () => {
  it("is off by default: a listener's false changes nothing and nothing is acknowledged", () => {
    const manual = manualFetch();
    const conn = makeConnection({ fetch: manual.fn as never });
    const handed: ServerMessage[] = [];
    conn.onMessage((m) => {
      handed.push(m);
      return false;
    });
    conn.connect();
    latest().welcome("conn-1");
    latest().emit("message", event(3, 2));
    expect(handed.map((m) => m.type)).toEqual(["_open", "assistant_text"]);
    expect(conn.getLastSeq("s1")).toBe(3);
    expect(manual.calls).toEqual([]);
  });

  it("is on with strict, and each part's own option still overrides it", () => {
    const strict = makeConnection({ strict: true });
    strict.connect();
    latest().welcome("conn-1");
    latest().emit("message", event(3, 2));
    expect(strict.getLastSeq("s1")).toBe(0);
    const off = makeConnection({ strict: true, acknowledgeEvents: false });
    off.connect();
    latest().welcome("conn-2");
    latest().emit("message", event(3, 2));
    expect(off.getLastSeq("s1")).toBe(3);
  });

  it("refuses a value that is not a boolean, naming the option", () => {
    expect(() => makeConnection({ acknowledgeEvents: "yes" as never })).toThrow(/acknowledgeEvents/);
  });
});
