// The persisted outbox (issue 15, docs/persisted-outbox.md), end to end in each
// browser: the demo with its "persist" switch on (`persist=indexeddb`: the Connection
// keeps every message in IndexedDB until its fate is known) against the reference
// server, which de-duplicates sends by clientMsgId. Messages survive a reload made
// offline and a tab closed with a POST in flight, two tabs on one store never lose or
// double each other's messages, a follower of a shared stream (both switches: the
// `sse-courier/full` entry) leaves its unsent message to the leader when it closes,
// and a store that fails leaves a warning and a connection that still delivers from
// memory.
import assert from "node:assert/strict";
import { test } from "node:test";
import { prng, scenario, serverFaults } from "./lib/demo.mjs";
import { closeOtherWindows } from "./lib/lifecycle.mjs";
import { OFFLINE_HOW, offlineSwitch } from "./lib/network.mjs";
import { waitFor } from "./lib/processes.mjs";

const TIMEOUT_MS = 120000;
const TWO_TABS_SENDS = Number(process.env.E2E_TWO_TABS_SENDS ?? 60);
const TWO_TABS_SEED = Number(process.env.E2E_SEED ?? 406);
/** The server holds a POST's answer this long (the `delay` fault): longer than any test
 * waits on it, so the page is closed while its POST is still in flight. */
const HOLD_MS = 30000;

/** The demo's query for a persisting page. Each scenario has its own server (its own
 * origin, so its own IndexedDB), and its own store key all the same, in case a port
 * (the origin) comes round again within one browser session. */
function persistQuery(name, browser, extra = {}) {
  return {
    session: `${name}-${browser}`,
    persist: "indexeddb",
    persistKey: `e2e-${name}-${Date.now().toString(36)}`,
    ...extra,
  };
}

/** The server's log entries of `send` POSTs for `clientMsgId`, in order. */
async function sendsOf(server, clientMsgId) {
  return (await server.log()).posts.filter((p) => p.endpoint === "send" && p.clientMsgId === clientMsgId);
}

/** Whether the page in front has POSTed `clientMsgId` and been refused (the server
 * logs an injected failure without reading the body, so the page's timeline says). */
function refusedIn(session, clientMsgId) {
  return session.execute(
    "return window.__demo.timeline.some((e) => e.kind === 'post' && e.text === `POST send ${arguments[0]} ← 503`)",
    clientMsgId,
  );
}

/** Closes the current window (its page goes with it, as when a user closes the tab)
 * and carries on in a new, blank one. */
async function closePage(session) {
  const { handle } = await session.cmd("POST", "/window/new", { type: "tab" });
  await session.cmd("DELETE", "/window");
  await session.cmd("POST", "/window", { handle });
}

const sorted = (ids) => [...ids].sort();

export function persistTests(browser, getSession) {
  test(`persist, reload while offline (${OFFLINE_HOW[browser]}): 3 messages sent offline are stored, the page is reloaded, and once online the new page sends them: each accepted once, in order, shown delivered`, { timeout: TIMEOUT_MS }, () =>
    scenario(getSession(), "persist-offline", async (page, server) => {
      const session = getSession();
      const network = await offlineSwitch(session, browser, server);
      try {
        const query = persistQuery("persist-offline", browser, { ordered: 1 });
        await page.open(query, network.origin);
        await page.waitConnected();
        const ids = [];
        try {
          await network.set(false);
          // A real outage also ends the open stream.
          await server.control("kill-streams");
          for (const text of ["first", "second", "third"]) ids.push(await page.typeAndSend(`${text}, written offline`));
          // IndexedDB: durable once each write's transaction has committed.
          await waitFor("the 3 messages to be in the store", async () => {
            const keys = await page.stored();
            return keys.length === 3 ? keys : false;
          });
          assert.deepEqual(await page.stored(), sorted(ids));
          assert.equal((await server.accepted(page.sessionId)).accepted.length, 0, "nothing reached the server offline");
          assert.equal((await page.snapshot()).reported, 0, "nothing reported while offline");
          // The reload, still offline: the page goes with its messages undelivered (a
          // page loaded offline would be the browser's error page, so the new one is
          // loaded once online). Its tab is closed: a page merely navigated away from
          // may sit in Chromium's back/forward cache (pagehide persisted) and was seen
          // to deliver some of its messages itself once the network was back.
          await closePage(session);
        } finally {
          await network.set(true);
        }

        await page.open(query, network.origin);
        await page.waitConnected("the reloaded page to connect");
        // The closed page's owner lock may outlive its tab briefly (seen in WebKit): its
        // records are then left to it and read back once the lock goes, so the new page
        // may connect first. Wait for the read before waiting for the reports.
        await waitFor("the reloaded page to read the stored messages back", async () => (await page.snapshot()).restored > 0);
        const end = await page.waitAllReported();
        assert.equal(end.sent, 0, "the new page sent nothing itself");
        assert.equal(end.restored, 3, "it read the 3 messages back from the store");
        assert.deepEqual((await server.accepted(page.sessionId)).accepted, ids, "accepted exactly once, in order");
        const fates = await page.fates();
        assert.deepEqual(ids.map((id) => fates[id]?.status), ["delivered", "delivered", "delivered"], "each reported delivered in the new page");
        for (const id of ids) {
          assert.deepEqual(
            (await page.bubbles(id)).map((b) => [b.fate, b.restored]),
            [["delivered", true]],
            `${id} shown once, restored, delivered`,
          );
        }
        const stats = await session.execute("return window.__demo.conn.stats()");
        assert.equal(stats.restored, 3);
        assert.equal(stats.expired, 0);
        assert.equal(end.reportedTwice, 0, "one report per message");
        await waitFor("the store to be empty", async () => (await page.stored()).length === 0);
      } finally {
        await network.close?.();
      }
    }),
  );

  test("persist, tab closed with its POST held by the server (delay): the reopened page shows the message as sending, sends it again, and it is accepted once and reported delivered", { timeout: TIMEOUT_MS }, () =>
    scenario(getSession(), "persist-close", async (page, server) => {
      const session = getSession();
      // Retries without end while the server refuses (below), so the restored message
      // stays "sending…" until the test lets it through.
      const query = persistQuery("persist-close", browser, { maxSendRetries: 1000, backoffMaxMs: 500 });
      await page.open(query);
      await page.waitConnected();
      await server.control("delay", { ms: HOLD_MS });
      const id = await page.typeAndSend("in flight when the tab closes");
      // The server has it (the agent's echo is stored, the answer held), the page
      // waits for the answer, and the message is in the store.
      await waitFor("the server to hold the answer of the stored message", async () => {
        const accepted = (await server.accepted(page.sessionId)).accepted;
        const s = await page.snapshot();
        const keys = await page.stored();
        return accepted.includes(id) && s.inFlight === 1 && s.reported === 0 && keys.includes(id);
      });

      // The next sends are refused (503, unprocessed): the new page's copy keeps retrying.
      await server.control("delay", { ms: 0 });
      await server.control("fail-next", { count: 10000, status: 503, endpoint: "send" });
      await closePage(session);
      await page.open(query);
      await page.waitConnected("the reopened page to connect");
      await waitFor("the restored message to be shown as sending and retried", async () => {
        const [shown] = await page.bubbles(id);
        const s = await page.snapshot();
        return shown?.fate === "pending" && shown.restored && s.restoredPending === 1 && (await refusedIn(session, id));
      });
      assert.deepEqual(
        await session.execute("return window.__demo.conn.restoredPending().map((m) => m.clientMsgId)"),
        [id],
        "restoredPending() lists it",
      );

      await server.control("fail-next", { count: 0 });
      const end = await page.waitAllReported();
      assert.deepEqual(
        [end.sent, end.restored, end.restoredPending, end.reportedTwice],
        [0, 1, 0, 0],
        "one restored message, reported once",
      );
      assert.equal((await page.fates())[id]?.status, "delivered");
      assert.deepEqual((await page.bubbles(id)).map((b) => [b.fate, b.restored]), [["delivered", true]]);
      assert.deepEqual((await server.accepted(page.sessionId)).accepted, [id], "accepted exactly once");
      const accepted = (await sendsOf(server, id)).filter((p) => p.status === 200);
      assert.deepEqual(
        accepted.map((p) => Boolean(p.duplicate)),
        [false, true],
        "the closed page's POST was processed; the new page sent it again and the server knew it",
      );
      await waitFor("the store to be empty", async () => (await page.stored()).length === 0);
    }),
  );

  test(`persist, two tabs on one store while seeded faults fire (${TWO_TABS_SENDS} sends, seed ${TWO_TABS_SEED}), then one tab closes with unsent messages: the other takes them; accepted == the union of both tabs' sends, each once, each tab's in order`, { timeout: TIMEOUT_MS * 2 }, () =>
    scenario(getSession(), "persist-two-tabs", async (page, server) => {
      const session = getSession();
      const query = persistQuery("persist-two-tabs", browser, {
        ordered: 1,
        maxStaleRetries: 20,
        maxSendRetries: 1000,
        backoffMaxMs: 500,
      });
      const refuseSends = () => server.control("fail-next", { count: 10000, status: 503, endpoint: "send" });
      const allowSends = () => server.control("fail-next", { count: 0 });
      const tabs = { a: await session.cmd("GET", "/window"), b: undefined };
      const sentIn = { a: [], b: [] };
      const to = (tab) => session.cmd("POST", "/window", { handle: tabs[tab] });
      try {
        // Tab A stores 2 messages it cannot deliver yet; tab B opens while A lives:
        // A's records are left to A.
        await page.open(query);
        await page.waitConnected("tab A to connect");
        await refuseSends();
        for (const text of ["a: before tab B", "a: before tab B, again"]) sentIn.a.push(await page.send(text));
        await waitFor("tab A's messages in the store", async () => (await page.stored()).length === 2);
        ({ handle: tabs.b } = await session.cmd("POST", "/window/new", { type: "window" }));
        await to("b");
        await page.open(query);
        await page.waitConnected("tab B to connect");
        sentIn.b.push(await page.send("b: first"));
        // B's first send waits for B's read of the store: once it was refused, B has
        // read the store (and left A's records to A).
        await waitFor("tab B's first send to be tried", () => refusedIn(session, sentIn.b[0]));
        assert.equal((await page.snapshot()).restored, 0, "tab B took nothing of live tab A");
        await allowSends();

        // Both tabs send while faults fire, through the page of the tab in front.
        const rand = prng(TWO_TABS_SEED);
        const control = (path, body = {}) =>
          session.execute("return window.__demo.control(arguments[0], arguments[1])", path, body);
        const faults = {
          ...serverFaults(page, control, rand, [0, 20, 50, 100]),
          "checkAndReconnect(force)": () => session.click('button[data-fault="reconnect"]'),
        };
        const fired = {};
        let n = 0;
        let front = "b";
        while (n < TWO_TABS_SENDS) {
          const tab = rand.next() < 0.5 ? "a" : "b";
          if (tab !== front) {
            await to(tab);
            front = tab;
          }
          if (rand.next() < 0.3) {
            const name = rand.pick(Object.keys(faults));
            fired[name] = (fired[name] ?? 0) + 1;
            await faults[name]();
          } else {
            const batch = Array.from({ length: Math.min(rand.int(1, 3), TWO_TABS_SENDS - n) }, () => `${tab}: ${++n}`);
            for (const text of batch) sentIn[tab].push(await page.send(text));
          }
        }
        await server.control("fail-next", { count: 0 });
        await server.control("delay", { ms: 0 });
        for (const tab of ["b", "a"]) {
          await to(tab);
          await page.waitAllReported(60000);
        }

        // Tab A closes with 2 messages it could not send: they are left to tab B.
        await refuseSends();
        for (const text of ["a: last", "a: last, again"]) sentIn.a.push(await page.send(text));
        const leftByA = sentIn.a.slice(-2);
        await waitFor("tab A's last messages to be stored and tried", async () => {
          const keys = await page.stored();
          const tried = await refusedIn(session, leftByA[0]);
          return tried && leftByA.every((id) => keys.includes(id));
        });
        const fatesInA = await page.fates();
        assert.deepEqual(leftByA.filter((id) => fatesInA[id]), [], "not reported in tab A");
        await session.cmd("DELETE", "/window");
        tabs.a = undefined;
        await to("b");
        await allowSends();

        await waitFor("tab B to take tab A's messages and every message to be reported", async () => {
          const s = await page.snapshot();
          return s.restored === leftByA.length && s.reported === s.sent + s.restored && s.pending === 0 && s.inFlight === 0;
        }, { timeoutMs: 60000, intervalMs: 200 });
        const fatesInB = await page.fates();
        const restoredInB = await session.execute("return window.__demo.restored.slice()");
        assert.deepEqual(sorted(restoredInB), sorted(leftByA), "tab B restored exactly what tab A left");
        for (const id of sentIn.a) {
          assert.equal(id in fatesInA && id in fatesInB, false, `${id} reported in one tab only`);
        }
        const union = [...sentIn.a, ...sentIn.b];
        const notDelivered = union.filter((id) => (fatesInA[id] ?? fatesInB[id])?.status !== "delivered");
        assert.deepEqual(notDelivered, [], "every message of both tabs reported delivered");

        const accepted = (await server.accepted(page.sessionId)).accepted;
        assert.deepEqual(sorted(accepted), sorted(union), "accepted == the union of both tabs' sends, each once");
        for (const tab of ["a", "b"]) {
          const order = accepted.filter((id) => sentIn[tab].includes(id));
          assert.deepEqual(order, sentIn[tab], `tab ${tab.toUpperCase()}'s messages accepted in its order`);
        }
        assert.equal((await page.snapshot()).reportedTwice, 0);
        await waitFor("the store to be empty", async () => (await page.stored()).length === 0);
        const resent = (await server.log()).posts.filter((p) => p.endpoint === "send" && p.duplicate).length;
        console.log(`# ${browser} two tabs: A sent ${sentIn.a.length}, B sent ${sentIn.b.length}, B took ${leftByA.length} of A's; faults fired ${JSON.stringify(fired)}; sends the server already had ${resent}`);
      } finally {
        await closeOtherWindows(session);
      }
    }),
  );

  test("persist and shared tabs (the sse-courier/full entry): a follower tab closed with its POST held by the server leaves its message to the leader, which sends it again on the one shared stream: accepted once, reported delivered there", { timeout: TIMEOUT_MS }, () =>
    scenario(getSession(), "persist-full", async (page, server) => {
      const session = getSession();
      const query = persistQuery("persist-full", browser, { share: "1" });
      const leaderHandle = await session.cmd("GET", "/window");
      await page.open(query);
      await page.waitConnected("the leader tab to connect");
      const { handle: followerHandle } = await session.cmd("POST", "/window/new", { type: "tab" });
      try {
        await session.cmd("POST", "/window", { handle: followerHandle });
        await page.open(query);
        await page.waitConnected("the follower tab to connect");
        assert.equal((await page.snapshot()).role, "follower", "the second tab follows");
        assert.equal((await server.get("state")).openStreams, 1, "one stream for both tabs");

        await server.control("delay", { ms: HOLD_MS });
        const id = await page.typeAndSend("from the follower, in flight when its tab closes");
        await waitFor("the server to hold the answer of the follower's stored message", async () => {
          const accepted = (await server.accepted(page.sessionId)).accepted;
          const s = await page.snapshot();
          return accepted.includes(id) && s.inFlight === 1 && (await page.stored()).includes(id);
        });
        await server.control("delay", { ms: 0 });
        await session.cmd("DELETE", "/window");
        await session.cmd("POST", "/window", { handle: leaderHandle });

        // The leader waited on the follower's owner lock; now it takes the record.
        await waitFor("the leader to show the follower's message delivered", async () =>
          (await page.bubbles(id)).some((b) => b.fate === "delivered" && b.restored),
        );
        const end = await page.waitAllReported();
        assert.deepEqual([end.restored, end.reportedTwice, end.role], [1, 0, "leader"]);
        assert.equal((await page.fates())[id]?.status, "delivered");
        assert.deepEqual((await server.accepted(page.sessionId)).accepted, [id], "accepted exactly once");
        const posts = (await sendsOf(server, id)).filter((p) => p.status === 200);
        assert.deepEqual(
          posts.map((p) => Boolean(p.duplicate)),
          [false, true],
          "the follower's POST was processed; the leader sent it again and the server knew it",
        );
        assert.equal(new Set(posts.map((p) => p.connectionId)).size, 1, "both on the one shared connection");
        assert.equal((await server.get("state")).openStreams, 1, "still one stream");
        await waitFor("the store to be empty", async () => (await page.stored()).length === 0);
      } finally {
        await closeOtherWindows(session);
      }
    }),
  );

  for (const [fault, what, warning] of [
    ["open", "IndexedDB refuses to open (SecurityError, as in some private modes)", /IndexedDB could not be opened \(SecurityError/],
    ["quota", "every IndexedDB write throws QuotaExceededError", /could not store an outbox message in indexeddb \(QuotaExceededError/],
  ]) {
    test(`persist, the store fails (${what}): a warning, and the connection delivers from memory, the stale-connection send too`, { timeout: TIMEOUT_MS }, () =>
      scenario(getSession(), `persist-store-${fault}`, async (page, server) => {
        await page.open(persistQuery(`persist-store-${fault}`, browser, { storeFault: fault }));
        const { connectionId } = await page.waitConnected();
        const ids = [await page.typeAndSend("the store fails, this is kept in memory")];
        await page.waitAllReported();
        // The seed's stale connection: a 404, a reconnect, the same message again.
        assert.equal((await page.snapshot()).connectionId, connectionId);
        assert.equal((await server.control("forget", { connectionId })).forgotten, 1);
        ids.push(await page.typeAndSend("after a stale connection"));
        const end = await page.waitAllReported();
        const warnings = await page.warnings();
        assert.ok(warnings.some((w) => warning.test(w)), `the package warned: ${JSON.stringify(warnings)}`);
        assert.ok(warnings.every((w) => w.startsWith("[sse-courier] ")));
        assert.deepEqual((await server.accepted(page.sessionId)).accepted, ids, "accepted exactly once");
        const fates = await page.fates();
        assert.deepEqual(ids.map((id) => fates[id]?.status), ["delivered", "delivered"]);
        assert.deepEqual(
          (await sendsOf(server, ids[1])).map((p) => p.status),
          [404, 200],
          "the stale connection's rule still holds: a 404, then accepted on a new connection",
        );
        assert.deepEqual([end.restored, end.reportedTwice], [0, 0]);
        assert.equal(await page.session.execute("return document.getElementById('status').dataset.state"), "connected");
      }),
    );
  }
}
