// The page lifecycle scenarios (docs/delivery-rules.md, rule 9), end to end in each
// browser: the back/forward cache, hidden then shown, and the suspend on pagehide,
// each asserted on the reference server. The page: tests/e2e/lifecycle/index.html.
import assert from "node:assert/strict";
import { test } from "node:test";
import { NATIVE_RETRY_MS, lifecycleScenario, visibilitySwitch } from "./lib/lifecycle.mjs";
import { waitFor } from "./lib/processes.mjs";

const TIMEOUT_MS = 60000;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's log entries for `endpoint`. */
async function logged(server, endpoint) {
  return (await server.log()).posts.filter((p) => p.endpoint === endpoint);
}

/** `s.page`'s last event of `type` (with `persisted` when given). */
const lastPageEvent = (s, type, persisted) =>
  s.page.findLast((e) => e.type === type && (persisted === undefined || e.persisted === persisted));

/** Firefox keeps no page with an open EventSource in its back/forward cache (its stream
 * is a pending request; closing it on pagehide is too late): probed with a bare page. */
const KEEPS_OPEN_STREAMS_IN_BFCACHE = { chromium: true, firefox: false, webkit: true };

export function lifecycleTests(browser, getSession) {
  test("back/forward cache, the connection dropped before the page left: the beacon suspends it on pagehide, the restored page reconnects at once (pageshow persisted: checkAndReconnect) and the send queued while down is delivered once", { timeout: TIMEOUT_MS }, () =>
    lifecycleScenario(getSession(), "bfcache-down", async (page, server) => {
      const sessionId = `bfcache-down-${browser}`;
      await page.open(sessionId);
      const first = await page.waitConnected();
      await page.sendDelivered("m1");
      const { lastSeq } = await server.accepted(sessionId);

      // The server drops the connection; the browser would retry only after
      // NATIVE_RETRY_MS, so the page stays down, and a send is queued.
      await server.control("kill-streams");
      await page.until("the page to see its stream drop", (s) => !s.connected && s.notices.some((n) => n.type === "_close"));
      assert.equal(await page.send("m2"), true, "send() while down and recovering queues");

      // Leaving while down: the suspend goes by beacon, with the last connection id.
      await page.leave();
      const beacons = await waitFor("the suspend beacon on the server", async () => {
        const b = await logged(server, "suspend-beacon");
        return b.length ? b : false;
      });
      assert.equal(beacons[0].connectionId, first.connectionId);
      assert.deepEqual(beacons[0].sessions, [sessionId]);

      const back = await page.back();
      assert.equal(back.loadId, first.loadId, `restored from the back/forward cache, not loaded anew (navigation type ${back.navigationType})`);
      const shown = lastPageEvent(back, "pageshow", true);
      assert.ok(shown, `pageshow with persisted: ${JSON.stringify(back.page)}`);

      const end = await page.until("m2 to be reported", (s) => s.reports.some((r) => r.clientMsgId === "m2"));
      const reopened = end.streams.filter((st) => st.opened >= shown.t);
      assert.equal(reopened.length >= 1, true, `a new stream after the restore: ${JSON.stringify(end.streams)}`);
      assert.ok(reopened[0].opened - shown.t < NATIVE_RETRY_MS / 10, "opened by the package at pageshow, not by the browser's retry");
      assert.deepEqual(end.reports.filter((r) => r.clientMsgId === "m2").map((r) => r.status), ["delivered"], "one report, delivered");
      assert.deepEqual((await server.accepted(sessionId)).accepted, ["m1", "m2"], "each accepted once");
      const sends = (await logged(server, "send")).filter((p) => p.clientMsgId === "m2");
      assert.deepEqual(sends.map((p) => [p.status, p.connectionId]), [[200, end.connectionId]], "m2 waited in the queue for the new connection");
      const reconnects = await logged(server, "reconnect");
      assert.deepEqual(reconnects.map((p) => [p.status, p.connectionId]), [[200, end.connectionId]], "one replay request, on the new connection");
      assert.ok(lastSeq > 0);
    }),
  );

  const keeps = KEEPS_OPEN_STREAMS_IN_BFCACHE[browser];
  test(keeps
    ? "back/forward cache, the server dropped the connection while the page was away: the restored page reconnects and a send made at pageshow is delivered once"
    : "back/forward cache, the server dropped the connection while the page was away: Firefox keeps no page with an open stream in its bfcache, so it comes back loaded anew and connects afresh", { timeout: TIMEOUT_MS }, () =>
    lifecycleScenario(getSession(), "bfcache-away", async (page, server) => {
      // The restored page still counts itself connected (pageshow's checkAndReconnect
      // leaves a connected stream alone); its stream errors right after and the
      // browser retries it after the welcome's `retry:` (500 ms here, as the demo's).
      const sessionId = `bfcache-away-${browser}`;
      await page.open(sessionId);
      const first = await page.waitConnected();
      await page.sendDelivered("m1");
      // The page's own pageshow listener sends m2 the moment the page is restored.
      await page.session.execute("window.__life.sendOnRestore = 'm2'");
      await page.leave();
      await server.control("kill-streams");
      await pause(300);
      const back = await page.back();
      if (!keeps) {
        assert.notEqual(back.loadId, first.loadId, "Firefox loaded the page anew (if this fails, Firefox now caches it: drop the exception)");
        assert.equal(back.navigationType, "back_forward");
        const again = await page.waitConnected("the new page to connect");
        assert.notEqual(again.connectionId, first.connectionId);
        return;
      }
      assert.equal(back.loadId, first.loadId, `restored from the back/forward cache, not loaded anew (navigation type ${back.navigationType})`);
      assert.ok(lastPageEvent(back, "pageshow", true), `pageshow with persisted: ${JSON.stringify(back.page)}`);
      assert.equal(back.restoreSend?.returned, true, "send() at pageshow accepted");
      const end = await page.until("m2 to be reported and the page connected", (s) =>
        s.reports.some((r) => r.clientMsgId === "m2") && s.connected && s.connectionId !== first.connectionId,
      );
      assert.deepEqual(end.reports.filter((r) => r.clientMsgId === "m2").map((r) => r.status), ["delivered"], "one report, delivered");
      assert.deepEqual((await server.accepted(sessionId)).accepted, ["m1", "m2"], "each accepted once");
      const sends = (await logged(server, "send")).filter((p) => p.clientMsgId === "m2");
      assert.equal(sends.filter((p) => p.status === 200).length, 1);
      assert.equal(sends.at(-1).connectionId, end.connectionId, "delivered on the new connection");
      // Whether m2 first met the dropped connection (a 404, then the stale path) depends
      // on whether the stream's error came before pageshow: logged, not asserted.
      console.log(`# ${browser} bfcache-away: m2 POSTs ${JSON.stringify(sends.map((p) => p.status))}; restoreSend ${JSON.stringify(back.restoreSend)}`);
    }, { retryMs: 500 }),
  );

  // The suspend sent as the page goes away is keepalive (WebKit cancels other requests
  // as the page enters the bfcache; Firefox unloads a page with an open stream). Should
  // the stream's error come before pagehide, the connection is down and the suspend
  // goes by beacon, as it should: either is accepted.
  test("pagehide sends the suspend: leaving a connected page suspends it (POST, or the beacon when the stream closed first) with its connection id and sessions, received by the server", { timeout: TIMEOUT_MS }, () =>
    lifecycleScenario(getSession(), "pagehide", async (page, server) => {
      const sessionId = `pagehide-${browser}`;
      await page.open(sessionId);
      const first = await page.waitConnected();
      await page.sendDelivered("m1");
      await page.leave();
      const suspends = await waitFor("the suspend (POST or beacon) on the server", async () => {
        const s = [...(await logged(server, "suspend")), ...(await logged(server, "suspend-beacon"))];
        return s.length ? s : false;
      });
      for (const s of suspends) {
        assert.equal(s.connectionId, first.connectionId);
        assert.deepEqual(s.sessions, [sessionId]);
      }
      // Chromium keeps the stream open in the bfcache: 200. Firefox (page unloaded)
      // and WebKit (loads cancelled on entering the bfcache) close it as the page
      // leaves, so the server may have forgotten the connection first: 404.
      console.log(`# ${browser} pagehide: suspends ${JSON.stringify(suspends.map((s) => `${s.endpoint} ${s.status}`))}`);
      await page.back();
    }),
  );

  test(`hidden then shown (${visibilitySwitch(null, browser).how}): hidden suspends (POST), shown while connected only notifies _foreground; shown after the server dropped the connection reconnects at once (checkAndReconnect) then _foreground`, { timeout: TIMEOUT_MS }, () =>
    lifecycleScenario(getSession(), "visibility", async (page, server) => {
      const session = getSession();
      const sessionId = `visibility-${browser}`;
      const view = visibilitySwitch(session, browser);
      await page.open(sessionId);
      const first = await page.waitConnected();
      await page.sendDelivered("m1");

      // Hidden while connected: a suspend POST.
      await view.hide();
      await waitFor("the suspend POST on the server", async () => (await logged(server, "suspend")).length > 0);
      await view.show();
      let s = await page.until("the page visible again, _foreground", (s) => {
        const shown = lastPageEvent(s, "visibilitychange");
        return shown?.visibility === "visible" && s.notices.some((n) => n.type === "_foreground" && n.t >= shown.t);
      });
      assert.ok(s.page.some((e) => e.type === "visibilitychange" && e.visibility === "hidden"), "the page was hidden");
      const suspend = (await logged(server, "suspend"))[0];
      assert.deepEqual([suspend.status, suspend.connectionId, suspend.sessions], [200, first.connectionId, [sessionId]]);
      assert.equal(s.streams.length, 1, "connected: checkAndReconnect left the stream alone");
      assert.equal(s.connectionId, first.connectionId);

      // Hidden, the server drops the connection (the browser retries only after
      // NATIVE_RETRY_MS); shown: the package rebuilds the stream at once.
      // The hide's suspend POST is answered first: killed before it arrived, the
      // connection would answer it 404, and a 404 on the current connection rebuilds the
      // stream at once (rule 3), while still hidden: a race of the test, not the case.
      const suspendsBefore = (await logged(server, "suspend")).length;
      await view.hide();
      await waitFor("the second suspend POST on the server", async () => (await logged(server, "suspend")).length > suspendsBefore);
      await server.control("kill-streams");
      await pause(1000);
      await view.show();
      s = await page.until("a new connection after the page was shown", (s) => s.connected && s.connectionId !== first.connectionId);
      const shown = lastPageEvent(s, "visibilitychange");
      assert.equal(shown.visibility, "visible");
      assert.equal(s.streams.length, 2, `one new stream: ${JSON.stringify(s.streams)}`);
      // Under load Firefox sometimes gives the killed stream up (an error with
      // readyState CLOSED) instead of waiting out its retry: the package then reopens it
      // after reconnectDelayMs, while still hidden, as rule 9 says, and the page is shown
      // connected. That run cannot show the reconnect at show time; it checks the
      // reconnect it made instead.
      const gaveUp = s.streams[0].log.some((entry) => entry.what === "error" && entry.readyState === 2);
      if (gaveUp && s.streams[1].opened < shown.t) {
        console.log(`# ${browser} hidden then shown: the browser closed the killed stream; the package reopened it while hidden`);
        const closedAt = s.streams[0].log.find((entry) => entry.what === "error" && entry.readyState === 2).t;
        assert.ok(s.streams[1].opened >= closedAt && s.streams[1].opened - closedAt < NATIVE_RETRY_MS / 10, `reopened by the package after the browser gave up (closed at ${closedAt}, opened at ${s.streams[1].opened})`);
      } else {
        assert.ok(s.streams[1].opened >= shown.t && s.streams[1].opened - shown.t < NATIVE_RETRY_MS / 10, `opened by checkAndReconnect when shown (shown at ${shown.t}, opened at ${s.streams[1].opened}; stream 1: ${JSON.stringify(s.streams[0].log)}; POSTs: ${JSON.stringify(s.posts)}; page events: ${JSON.stringify(s.page)}; notices: ${JSON.stringify(s.notices)})`);
      }
      const foreground = s.notices.filter((n) => n.type === "_foreground" && n.t >= shown.t);
      assert.equal(foreground.length, 1, `_foreground once after being shown: ${JSON.stringify(s.notices)}`);
      const reconnects = await logged(server, "reconnect");
      assert.deepEqual(reconnects.map((p) => [p.status, p.connectionId]), [[200, s.connectionId]], "the replay request on the new connection");
    }),
  );
}
