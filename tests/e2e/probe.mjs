// The foreground liveness probe (`foregroundProbe`; docs/delivery-rules.md, rule 23),
// end to end in each browser, on the page lifecycle page (lifecycle/index.html with
// ?probe=1) against the reference server: shown on a live stream, the probe's echo keeps
// it; hidden while the server silences the stream (open, known, but carrying nothing:
// `silence-streams`), then shown, the probe gets no echo and the package rebuilds the
// stream within about a second, the browser's own retry being a minute away. Prompts
// sent while hidden and right after being shown are each accepted once and delivered.
import assert from "node:assert/strict";
import { test } from "node:test";
import { NATIVE_RETRY_MS, lifecycleScenario, visibilitySwitch } from "./lib/lifecycle.mjs";
import { waitFor } from "./lib/processes.mjs";

const TIMEOUT_MS = 60000;

/** The server's log entries for `endpoint`. */
async function logged(server, endpoint) {
  return (await server.log()).posts.filter((p) => p.endpoint === endpoint);
}

export function probeTests(browser, getSession) {
  test(`foreground probe (${visibilitySwitch(null, browser).how}): shown on a live stream, the echo keeps it and the suspended session is replayed; hidden while the server silences the stream, then shown: no echo, the stream rebuilt within about a second, no prompt lost`, { timeout: TIMEOUT_MS }, () =>
    lifecycleScenario(getSession(), "probe", async (page, server) => {
      const session = getSession();
      const sessionId = `probe-${browser}`;
      const view = visibilitySwitch(session, browser);
      await page.open(sessionId, { probe: "1" });
      const first = await page.waitConnected();
      await page.sendDelivered("m1");

      // Hidden, then shown on a live stream: the probe is echoed, the stream kept, and
      // the session the hide suspended is replayed on the same connection.
      await view.hide();
      await waitFor("the suspend POST on the server", async () => (await logged(server, "suspend")).length > 0);
      await view.show();
      let s = await page.until("the probe echoed", (s) => s.lastProbe?.result === "echoed");
      assert.equal(s.lastProbe.ok, true);
      assert.equal(s.streams.length, 1, "the stream was kept");
      assert.equal(s.connectionId, first.connectionId);
      const replay = await waitFor("the replay request after the echo", async () => {
        const r = await logged(server, "reconnect");
        return r.length ? r : false;
      });
      assert.deepEqual(replay.map((p) => [p.status, p.connectionId]), [[200, first.connectionId]]);

      // Hidden again; the suspend is answered, then the server silences the stream: it
      // stays open and known (POSTs to it are answered) but carries nothing more. A
      // prompt the page sends meanwhile (by itself: WebDriver is on the tab over it) is
      // accepted; its reply goes nowhere but the store.
      await page.session.execute("window.__life.sendWhenHidden(arguments[0], arguments[1])", "m2", 1500);
      const suspendsBefore = (await logged(server, "suspend")).length;
      await view.hide();
      await waitFor("the second suspend POST on the server", async () => (await logged(server, "suspend")).length > suspendsBefore);
      assert.equal((await server.control("silence-streams", { connectionId: first.connectionId })).silenced, 1);
      await waitFor("m2, sent by the hidden page, accepted", async () => (await server.accepted(sessionId)).accepted.includes("m2"), { timeoutMs: 15000 });

      await view.show();
      const shownAt = (await page.until("the page visible again", (s) => s.visibility === "visible")).now;
      assert.equal(await page.send("m3"), true, "a prompt right after being shown goes out at once");
      assert.equal((await page.snapshot()).hiddenSend?.returned, true, "m2's send() while hidden");
      s = await page.until("a new connection after the probe failed", (s) => s.connected && s.connectionId !== first.connectionId && s.lastProbe?.result === "no_echo", 15000);
      const rebuilt = s.streams[1];
      assert.equal(s.streams.length, 2, `one new stream: ${JSON.stringify(s.streams)}`);
      assert.ok(rebuilt.opened - shownAt < NATIVE_RETRY_MS / 10, `rebuilt by the package after the failed probe (shown at ${shownAt}, opened at ${rebuilt.opened}), not by the browser's retry`);
      assert.ok(s.streams[0].log.some((e) => e.what === "closed by the package"), "the silent stream was closed");
      assert.equal(s.stats.probesSent, 2);
      assert.equal(s.stats.probesFailed, 1);
      const probes = await logged(server, "probe");
      assert.deepEqual(probes.map((p) => [p.status, p.connectionId]), [[200, first.connectionId], [200, first.connectionId]], "both probes answered: only the stream was dead");
      assert.ok(s.notices.some((n) => n.type === "_close" && n.t >= shownAt), "_close after the failed probe");
      assert.ok(!s.notices.some((n) => n.type === "_probe") && !s.events.some((e) => e.type === "_probe"), "no echo reached the listener");

      // No prompt lost: each accepted once, each reported delivered once, and the
      // replies the silent stream never carried replayed on the new connection.
      const end = await page.until("m3 reported and the replies of m2 and m3 shown", (s) =>
        s.reports.some((r) => r.clientMsgId === "m3") &&
        ["m2", "m3"].every((id) => s.events.some((e) => e.type === "message_done" && e.clientMsgId === id)),
      );
      assert.deepEqual((await server.accepted(sessionId)).accepted, ["m1", "m2", "m3"], "each accepted once");
      for (const id of ["m1", "m2", "m3"]) {
        assert.deepEqual(end.reports.filter((r) => r.clientMsgId === id).map((r) => r.status), ["delivered"], `${id}: one report, delivered`);
      }
      const seqs = end.events.filter((e) => e.seq !== undefined).map((e) => e.seq);
      assert.equal(new Set(seqs).size, seqs.length, "no event dispatched twice");
      const reconnects = await logged(server, "reconnect");
      assert.deepEqual(reconnects.at(-1).connectionId, end.connectionId, "the replay on the new connection");
    }),
  );
}
