// The `sse-courier/full` entry: the persisted outbox and one stream for all tabs in one
// build. Each tab keeps its own outbox of its own sends (rule 12) while the tabs share
// one stream (rule 13): a follower's stored message goes out on the shared connection,
// and the messages a closed tab left unsent are taken by a live tab, sent once on that
// connection and reported there. A "tab" is a Connection; the tabs of one test share
// one Web Locks fake, one BroadcastChannel fake and one localStorage.
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import { Connection, type DeliveryReport } from "sse-courier/full";
import { Connection as DefaultConnection } from "sse-courier";
import { Connection as TabsConnection } from "sse-courier/tabs";
import { FakeBroadcastChannel, FakeEventSource, FakeStorage, freshBrowserForTabs, BASE } from "./fakes";

let warnings: string[];
let tabs: Tab[];

beforeEach(() => {
  warnings = freshBrowserForTabs();
  tabs = [];
  vi.stubGlobal("localStorage", new FakeStorage());
});
afterEach(() => {
  for (const tab of tabs) tab.close();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** Lets lock grants, store writes and channel messages run their course. */
async function settle() {
  for (let i = 0; i < 40; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

type Post = { tab: number; endpoint: string; connectionId: string; clientMsgId: unknown };

/** Every POST of every tab, answered `ok`, and recorded. */
const posts: Post[] = [];
const sendsPosted = () => posts.filter((p) => p.endpoint === "send");

/** The records in the shared localStorage, by `clientMsgId`. */
const storedKeys = () => {
  const storage = localStorage as unknown as FakeStorage;
  const keys: string[] = [];
  for (let i = 0; i < storage.length; i++) keys.push(JSON.parse(storage.getItem(storage.key(i)!)!).key);
  return keys.sort();
};

class Tab {
  conn: Connection;
  streams: FakeEventSource[] = [];
  reports: DeliveryReport[] = [];
  private closed = false;

  constructor(public index: number) {
    this.conn = new Connection({
      baseUrl: BASE,
      fetch: (async (url: string, init: RequestInit) => {
        posts.push({
          tab: index,
          endpoint: url.replace(`${BASE}/api/chat/`, ""),
          connectionId: (init.headers as Record<string, string>)["X-Connection-ID"],
          clientMsgId: JSON.parse(init.body as string).clientMsgId,
        });
        return { ok: true };
      }) as never,
      createEventSource: (url: string) => {
        const stream = new FakeEventSource(url);
        this.streams.push(stream);
        return stream as unknown as EventSource;
      },
      onDelivery: (report) => this.reports.push(report),
      persist: { store: "local" },
      shareAcrossTabs: true,
    });
    tabs.push(this);
    this.conn.connect();
  }
  stream() {
    return this.streams.filter((s) => s.readyState !== 2).at(-1);
  }
  close() {
    if (!this.closed) this.conn.free();
    this.closed = true;
  }
}

/** Two tabs, connected one after the other: the first leads, the second follows. */
async function leaderAndFollower() {
  const leader = new Tab(0);
  await settle();
  const follower = new Tab(1);
  await settle();
  return { leader, follower };
}

describe("the full entry: a persisted outbox in every tab, one stream for all", () => {
  beforeEach(() => void (posts.length = 0));

  it("accepts both options; two tabs hold one stream, and a follower's send is stored until it is delivered on the shared connection", async () => {
    const { leader, follower } = await leaderAndFollower();
    expect(FakeEventSource.all.filter((s) => s.readyState !== 2)).toHaveLength(1);
    leader.stream()!.welcome("conn-1");
    await settle();
    expect(follower.conn.isConnected()).toBe(true);
    expect(follower.stream()).toBeUndefined();

    // Queued while the shared connection is being rebuilt (once the follower heard of
    // it): stored, not yet posted.
    leader.conn.checkAndReconnect(true);
    await settle();
    expect(follower.conn.isConnected()).toBe(false);
    expect(follower.conn.send({ type: "send", text: "hello", clientMsgId: "f1" })).toBe(true);
    await settle();
    expect(storedKeys()).toEqual(["f1"]);
    expect(sendsPosted()).toEqual([]);

    leader.stream()!.welcome("conn-2");
    await settle();
    expect(sendsPosted()).toEqual([{ tab: 1, endpoint: "send", connectionId: "conn-2", clientMsgId: "f1" }]);
    expect(follower.reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: "f1" })]);
    expect(leader.reports).toEqual([]);
    expect(storedKeys()).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("a follower that closes with its messages unsent leaves them to a live tab, which sends each once on the shared connection and reports it", async () => {
    const { leader, follower } = await leaderAndFollower();
    // No welcome yet: the follower's sends wait, stored.
    follower.conn.send({ type: "send", text: "one", clientMsgId: "left-1" });
    follower.conn.send({ type: "send", text: "two", clientMsgId: "left-2" });
    await settle();
    expect(storedKeys()).toEqual(["left-1", "left-2"]);

    follower.close(); // the tab closes: its owner lock goes with it
    await settle();
    leader.stream()!.welcome("conn-1");
    await settle();
    expect(sendsPosted()).toEqual([
      { tab: 0, endpoint: "send", connectionId: "conn-1", clientMsgId: "left-1" },
      { tab: 0, endpoint: "send", connectionId: "conn-1", clientMsgId: "left-2" },
    ]);
    expect(leader.reports.map((r) => [r.status, r.clientMsgId])).toEqual([
      ["delivered", "left-1"],
      ["delivered", "left-2"],
    ]);
    expect(leader.conn.stats().restored).toBe(2);
    expect(storedKeys()).toEqual([]);
  });

  it("when the leader closes with a message unsent, the follower leads, takes the message and sends it once on its new connection", async () => {
    const { leader, follower } = await leaderAndFollower();
    leader.conn.send({ type: "send", text: "mine", clientMsgId: "from-leader" });
    await settle();
    expect(storedKeys()).toEqual(["from-leader"]);

    leader.close();
    await settle();
    const stream = follower.stream();
    expect(stream).toBeDefined();
    stream!.welcome("conn-f");
    await settle();
    expect(sendsPosted()).toEqual([{ tab: 1, endpoint: "send", connectionId: "conn-f", clientMsgId: "from-leader" }]);
    expect(follower.reports).toEqual([expect.objectContaining({ status: "delivered", clientMsgId: "from-leader" })]);
    expect(storedKeys()).toEqual([]);
  });

  it("the other entries name it when they refuse an option they lack", () => {
    const share = () => new DefaultConnection({ baseUrl: BASE, shareAcrossTabs: true } as never);
    expect(share).toThrow('config.shareAcrossTabs needs the "sse-courier/tabs" entry');
    expect(share).toThrow('"sse-courier/full"');
    const persist = () => new TabsConnection({ baseUrl: BASE, persist: { store: "local" } } as never);
    expect(persist).toThrow('config.persist needs the "sse-courier/persist" entry');
    expect(persist).toThrow('"sse-courier/full"');
  });
});
