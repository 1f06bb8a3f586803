// One stream for all tabs through the package's API (the `shareAcrossTabs` option, the
// `sse-courier/tabs` entry). A "tab" is a Connection; the tabs of one test share one
// browser: one Web Locks fake and one BroadcastChannel fake. Each tab has its own
// EventSource factory and fetch, so the test sees which tab holds a stream and which
// tab posted what; a small server model answers the POSTs (404 for the connections it
// forgot) and records them.
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import { Connection, type ConnectionConfig, type DeliveryReport, type ServerMessage } from "sse-courier/tabs";
import { Connection as DefaultConnection } from "sse-courier";
import { Connection as PersistConnection } from "sse-courier/persist";
import { FakeBroadcastChannel, FakeEventSource, FakeLocks, freshBrowserForTabs, BASE } from "./fakes";

let warnings: string[];
let tabs: Tab[];

beforeEach(() => {
  warnings = freshBrowserForTabs();
  tabs = [];
});
afterEach(() => {
  for (const tab of tabs) tab.close();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** Lets lock grants (promises) and channel messages (tasks) run their course. */
async function settle() {
  for (let i = 0; i < 40; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

type Post = { tab: number; endpoint: string; connectionId: string; body: Record<string, unknown> };

/** The server's side of the POSTs: every one recorded, 404 for a forgotten connection. */
class Server {
  posts: Post[] = [];
  forgotten = new Set<string>();
  fetchOf(tab: number) {
    return vi.fn(async (url: string, init: RequestInit) => {
      const connectionId = (init.headers as Record<string, string>)["X-Connection-ID"];
      const endpoint = url.replace(`${BASE}/api/chat/`, "");
      this.posts.push({ tab, endpoint, connectionId, body: JSON.parse(init.body as string) });
      return this.forgotten.has(connectionId) ? { ok: false, status: 404 } : { ok: true };
    });
  }
  to(endpoint: string) {
    return this.posts.filter((p) => p.endpoint === endpoint);
  }
}

class Tab {
  conn: Connection;
  streams: FakeEventSource[] = [];
  heard: ServerMessage[] = [];
  reports: DeliveryReport[] = [];
  /** This tab's end of the channel. */
  channel: FakeBroadcastChannel;
  private closed = false;

  constructor(
    public index: number,
    server: Server,
    overrides: Partial<ConnectionConfig> = {},
  ) {
    this.conn = new Connection({
      baseUrl: BASE,
      fetch: server.fetchOf(index) as never,
      createEventSource: (url: string) => {
        const stream = new FakeEventSource(url);
        this.streams.push(stream);
        return stream as unknown as EventSource;
      },
      onDelivery: (report) => this.reports.push(report),
      shareAcrossTabs: true,
      ...overrides,
    });
    this.conn.onMessage((message) => this.heard.push(message));
    this.channel = [...FakeBroadcastChannel.open].at(-1)!;
  }
  /** The stream this tab holds open, if any. */
  stream(): FakeEventSource | undefined {
    return this.streams.filter((s) => s.readyState !== 2).at(-1);
  }
  /** Server events this tab's listener got (notices left out). */
  events() {
    return this.heard.filter((m) => !m.type.startsWith("_"));
  }
  notices(type: string) {
    return this.heard.filter((m) => m.type === type).length;
  }
  close() {
    if (!this.closed) this.conn.free();
    this.closed = true;
  }
}

/** `count` tabs, connected one after the other (tab 0 first). */
function openTabs(count: number, server: Server, overrides: Partial<ConnectionConfig> = {}) {
  const opened = Array.from({ length: count }, (_, i) => new Tab(tabs.length + i, server, overrides));
  tabs.push(...opened);
  for (const tab of opened) tab.conn.connect();
  return opened;
}

const openStreams = () => FakeEventSource.all.filter((s) => s.readyState !== 2);

/** The one open stream, and the tab holding it. */
function leader() {
  expect(openStreams()).toHaveLength(1);
  const tab = tabs.find((t) => t.stream() === openStreams()[0])!;
  expect(tab).toBeDefined();
  return { tab, stream: tab.stream()! };
}

/** `count` tabs tracking session "s" from seq 0, sharing one stream past its welcome
 * ("conn-1") and handshake. */
async function connectedTabs(count: number, server: Server) {
  const opened = Array.from({ length: count }, (_, i) => new Tab(tabs.length + i, server));
  tabs.push(...opened);
  for (const tab of opened) {
    tab.conn.trackSeq("s", 0);
    tab.conn.connect();
  }
  await settle();
  leader().stream.welcome("conn-1");
  await settle();
  for (const tab of opened) expect(tab.conn.isConnected()).toBe(true);
  return opened;
}

const event = (seq: number, text = `event ${seq}`) => ({ type: "text", sessionId: "s", seq, text });

describe("one stream for all tabs", () => {
  it("N tabs open one stream, and every tab is connected on it with its own _open", async () => {
    const server = new Server();
    const four = openTabs(4, server);
    four.forEach((tab, i) => tab.conn.trackSeq(`s${i}`, 10 + i));
    await settle();
    const { tab, stream } = leader();
    expect(tab).toBe(four[0]);
    stream.welcome("conn-1");
    await settle();
    expect(FakeEventSource.all).toHaveLength(1);
    for (const t of four) {
      expect(t.conn.isConnected()).toBe(true);
      expect(t.conn.getConnectionId()).toBe("conn-1");
      expect(t.notices("_open")).toBe(1);
    }
    // A first welcome needs no handshake. The next (the EventSource reconnected by
    // itself) has one, by the leader alone, carrying every tab's sessions.
    expect(server.to("reconnect")).toEqual([]);
    stream.welcome("conn-2");
    await settle();
    const reconnects = server.to("reconnect");
    expect(reconnects).toHaveLength(1);
    expect(reconnects[0]).toMatchObject({ tab: 0, connectionId: "conn-2" });
    const sessions = (reconnects[0].body.sessions as Array<{ sessionId: string; lastSeq: number }>)
      .map((s) => `${s.sessionId}@${s.lastSeq}`)
      .sort();
    expect(sessions).toEqual(["s0@10", "s1@11", "s2@12", "s3@13"]);
    for (const t of four) {
      expect(t.conn.isConnected()).toBe(true);
      expect(t.conn.getConnectionId()).toBe("conn-2");
    }
  });

  it("every event of the stream reaches every tab's listener once, replays none", async () => {
    const server = new Server();
    const three = await connectedTabs(3, server);
    const { stream } = leader();
    stream.emit("message", event(1));
    stream.emit("message", { type: "status", text: "no seq" });
    stream.emit("message", event(2));
    stream.emit("message", event(1, "replayed"));
    await settle();
    for (const tab of three) {
      expect(tab.events()).toEqual([event(1), { type: "status", text: "no seq" }, event(2)]);
      expect(tab.conn.getLastSeq("s")).toBe(2);
    }
  });

  it("the leader relays the events of one task in one channel message, in order", async () => {
    const server = new Server();
    const [first, second] = await connectedTabs(2, server);
    const { tab, stream } = leader();
    const before = FakeBroadcastChannel.posted.length;
    for (let seq = 1; seq <= 5; seq++) stream.emit("message", event(seq));
    await settle();
    const relayed = FakeBroadcastChannel.posted.slice(before).filter((p) => p.name === tab.channel.name);
    expect(relayed).toHaveLength(1);
    // Each message names its parts: the wire message (tagged by its kind) and the event.
    const batch = relayed[0].data as Array<{ wire: { kind: string; seq: number }; data: { seq: number } }>;
    expect(batch.map((message) => [message.wire.kind, message.wire.seq, message.data.seq])).toEqual(
      [1, 2, 3, 4, 5].map((seq) => ["event", seq, seq]),
    );
    const follower = tab === first ? second : first;
    expect(follower.events()).toEqual([1, 2, 3, 4, 5].map((seq) => event(seq)));
  });

  it("a follower's send is posted by that tab with the shared connection id and reported to it alone", async () => {
    const server = new Server();
    const three = await connectedTabs(3, server);
    const before = server.posts.length;
    expect(three[2].conn.send({ type: "send", sessionId: "s", prompt: "hi", clientMsgId: "m1" })).toBe(true);
    await settle();
    expect(server.posts.slice(before)).toEqual([
      { tab: 2, endpoint: "send", connectionId: "conn-1", body: { type: "send", sessionId: "s", prompt: "hi", clientMsgId: "m1" } },
    ]);
    expect(three[2].reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: "m1" })]);
    expect(three[0].reports).toEqual([]);
    expect(three[1].reports).toEqual([]);
  });

  it("followers meeting 404 on one stale connection cause one reconnect, and their sends are delivered once", async () => {
    const server = new Server();
    const four = await connectedTabs(4, server);
    server.forgotten.add("conn-1");
    const followers = four.slice(1);
    followers.forEach((tab, i) => tab.conn.send({ type: "send", sessionId: "s", prompt: `p${i}`, clientMsgId: `m${i}` }));
    await settle();
    // One new stream, by the leader; every follower is back to waiting for it.
    expect(FakeEventSource.all).toHaveLength(2);
    const { tab, stream } = leader();
    expect(tab).toBe(four[0]);
    for (const t of four) expect(t.conn.isConnected()).toBe(false);
    stream.welcome("conn-2");
    await settle();
    expect(server.to("reconnect").filter((p) => p.connectionId === "conn-2")).toHaveLength(1);
    const resent = server.to("send").filter((p) => p.connectionId === "conn-2");
    expect(resent.map((p) => p.body.clientMsgId).sort()).toEqual(["m0", "m1", "m2"]);
    followers.forEach((t, i) => {
      expect(t.reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: `m${i}` })]);
      expect(t.conn.isConnected()).toBe(true);
      expect(t.notices("_open")).toBe(2);
      expect(t.notices("_close")).toBe(1);
    });
  });

  it("when the leader closes, another tab leads and replays what it missed: no event lost or doubled", async () => {
    const server = new Server();
    const three = await connectedTabs(3, server);
    const first = leader();
    first.stream.emit("message", event(1));
    first.stream.emit("message", event(2));
    await settle();
    first.tab.close();
    await settle();
    const second = leader();
    expect(second.tab).not.toBe(first.tab);
    second.stream.welcome("conn-2");
    await settle();
    // The new leader's handshake asks for everything after seq 2.
    const reconnect = server.to("reconnect").filter((p) => p.connectionId === "conn-2");
    expect(reconnect).toHaveLength(1);
    expect(reconnect[0].body.sessions).toEqual([{ sessionId: "s", lastSeq: 2 }]);
    // The server replays from there (the stored seq 3 included); seq 2 once more too.
    second.stream.emit("message", event(2));
    second.stream.emit("message", event(3));
    second.stream.emit("message", event(4));
    await settle();
    for (const tab of three.filter((t) => t !== first.tab)) {
      expect(tab.events()).toEqual([event(1), event(2), event(3), event(4)]);
      expect(tab.conn.isConnected()).toBe(true);
    }
  });

  it("a frozen leader is replaced: a follower that hears nothing for 5 s steals the lock, and the old leader, back, follows", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const server = new Server();
    const two = openTabs(2, server);
    two.forEach((tab) => tab.conn.trackSeq("s", 0));
    await vi.advanceTimersByTimeAsync(10);
    const first = leader();
    expect(first.tab).toBe(two[0]);
    first.stream.welcome("conn-1");
    first.stream.emit("message", event(1));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(two[1].events()).toEqual([event(1)]);
    // The leader's heartbeats stop reaching anyone; 5 s of silence later the follower
    // steals the lock (the old leader, told its lock was taken, closes its stream).
    first.tab.channel.frozen = true;
    await vi.advanceTimersByTimeAsync(4_000);
    expect(first.stream.readyState).not.toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    const second = leader();
    expect(second.tab).toBe(two[1]);
    first.tab.channel.frozen = false;
    second.stream.welcome("conn-2");
    await vi.advanceTimersByTimeAsync(10);
    second.stream.emit("message", event(2));
    await vi.advanceTimersByTimeAsync(10);
    for (const tab of two) {
      expect(tab.conn.getConnectionId()).toBe("conn-2");
      expect(tab.events()).toEqual([event(1), event(2)]);
    }
  });

  it("tabs on different channels do not share", async () => {
    const server = new Server();
    openTabs(1, server, { shareAcrossTabs: "one app" });
    openTabs(1, server, { shareAcrossTabs: "another app" });
    openTabs(1, server, { shareAcrossTabs: "one app" });
    await settle();
    expect(openStreams()).toHaveLength(2);
  });
});

// The channel carries each message's fields side by side; a field read into another's
// place must show. Here every field has a value no other has: a session id and a seq
// the tabs' own counters never reach, and tab ids drawn in descending order, so that
// a term whose epoch and leader were exchanged compares the other way round.
describe("what a follower reads from the leader's messages", () => {
  it("each relayed event's data, session and seq, and the term of the tab that leads next", async () => {
    let draw = 0.9;
    vi.spyOn(Math, "random").mockImplementation(() => (draw -= 0.01));
    const server = new Server();
    const [first, second, third] = openTabs(3, server);
    await settle();
    const firstLeader = leader();
    expect(firstLeader.tab).toBe(first);
    firstLeader.stream.welcome("conn-1");
    const hello = { type: "text", sessionId: "room-7", seq: 41, text: "hello", meta: { by: "ada" } };
    firstLeader.stream.emit("message", hello);
    await settle();
    for (const follower of [second, third]) {
      expect(follower.events()).toEqual([hello]);
      expect(follower.conn.getTrackedSessions()).toEqual(["room-7"]);
      expect(follower.conn.getLastSeq("room-7")).toBe(41);
    }
    // The leader leaves; the next tab in the lock's queue leads a term above the
    // first's (its epoch derived from the one it was told), and asks the server for
    // what follows seq 41 of room-7.
    first.close();
    await settle();
    const next = leader();
    expect(next.tab).toBe(second);
    next.stream.welcome("conn-2");
    await settle();
    expect(server.to("reconnect").map((p) => p.body.sessions)).toEqual([[{ sessionId: "room-7", lastSeq: 41 }]]);
    const reply = { type: "text", sessionId: "room-7", seq: 42, text: "again" };
    next.stream.emit("message", hello);
    next.stream.emit("message", reply);
    await settle();
    // The third tab follows the new term: it gets the new event once, the replayed
    // one not again.
    expect(third.events()).toEqual([hello, reply]);
    expect(third.conn.getLastSeq("room-7")).toBe(42);
    expect(third.conn.getConnectionId()).toBe("conn-2");
  });
});

describe("without Web Locks or BroadcastChannel", () => {
  for (const [missing, stub] of [
    ["Web Locks", () => vi.stubGlobal("navigator", {})],
    ["BroadcastChannel", () => vi.stubGlobal("BroadcastChannel", undefined)],
  ] as const) {
    it(`without ${missing}: one warning per tab, and a stream per tab`, async () => {
      stub();
      const server = new Server();
      openTabs(2, server);
      await settle();
      expect(openStreams()).toHaveLength(2);
      expect(warnings).toHaveLength(2);
      for (const warning of warnings) expect(warning).toContain("shareAcrossTabs");
    });
  }
});

describe("a lock request the browser refuses", () => {
  it("the tab warns once, leaves sharing and opens its own stream, events and sends as without the option", async () => {
    const locks = new FakeLocks();
    locks.refusal = new DOMException("the document's origin is opaque", "SecurityError");
    vi.stubGlobal("navigator", { locks });
    const server = new Server();
    const [tab] = openTabs(1, server);
    tab.conn.trackSeq("s", 0);
    await settle();
    expect(openStreams()).toHaveLength(1);
    const stream = tab.stream()!;
    stream.welcome("conn-1");
    stream.emit("message", event(1));
    tab.conn.send({ type: "send", sessionId: "s", prompt: "hi", clientMsgId: "m1" });
    await settle();
    expect(tab.conn.isConnected()).toBe(true);
    expect(tab.events()).toEqual([event(1)]);
    expect(tab.reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: "m1" })]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("shareAcrossTabs");
    expect(FakeBroadcastChannel.open.size).toBe(0);
  });
});

describe("the option", () => {
  it("is off by default and with false: no channel, a stream per tab", async () => {
    const server = new Server();
    openTabs(1, server, { shareAcrossTabs: undefined });
    openTabs(1, server, { shareAcrossTabs: false });
    await settle();
    expect(openStreams()).toHaveLength(2);
    expect(FakeBroadcastChannel.open.size).toBe(0);
    expect(warnings).toEqual([]);
  });

  it("refuses what is neither a boolean nor a non-empty string, naming it", () => {
    for (const value of [1, "", {}, []]) {
      expect(() => new Connection({ baseUrl: BASE, shareAcrossTabs: value as never })).toThrow(
        "config.shareAcrossTabs must be a boolean or a non-empty string",
      );
    }
  });

  it("the other entries refuse it, naming the entry that has it; this one refuses persist", () => {
    for (const Other of [DefaultConnection, PersistConnection]) {
      expect(() => new Other({ baseUrl: BASE, shareAcrossTabs: true } as never)).toThrow(
        'config.shareAcrossTabs needs the "sse-courier/tabs" entry: import { Connection } from "sse-courier/tabs"',
      );
      expect(() => new Other({ baseUrl: BASE, shareAcrossTabs: false }).free()).not.toThrow();
    }
    expect(() => new Connection({ baseUrl: BASE, persist: { store: "local" } } as never)).toThrow(
      'config.persist needs the "sse-courier/persist" entry',
    );
  });
});
