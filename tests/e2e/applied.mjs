// Acknowledged application (`acknowledgeEvents`; docs/delivery-rules.md, rules 20 to
// 22), end to end in each browser: the demo with `acknowledge=1` against the reference
// server, whose session events carry `prevSessionSeq`. Events the server drops from the
// live stream (stored, so a replay brings them) leave a gap the package notices, holds
// behind and, 15 s on, asks for again from the applied cursor: every event is shown
// once and in order. An event the page's listener refuses comes again after the
// resync. Either way the server ends up told the last seq applied.
import assert from "node:assert/strict";
import { test } from "node:test";
import { scenario } from "./lib/demo.mjs";
import { waitFor } from "./lib/processes.mjs";

const TIMEOUT_MS = 120000;

/** The demo's chat, past one prompt and its reply, with every event applied. */
async function chatting(page, server, browser, name) {
  await page.open({ acknowledge: 1, session: `${name}-${browser}` });
  await page.waitConnected();
  const id = await page.send("hello, then a few events");
  await waitFor(`${id} delivered`, async () => (await page.fates())[id]?.status === "delivered");
  return waitApplied(page, server, "the reply to be applied");
}

/** Waits until the page's applied cursor is the session's last seq; gives that seq. */
async function waitApplied(page, server, what, timeoutMs = 15000) {
  return waitFor(
    what,
    async () => {
      const { lastSeq } = await server.accepted(page.sessionId);
      const { appliedCursor } = await page.snapshot();
      return lastSeq > 0 && appliedCursor === lastSeq ? lastSeq : false;
    },
    { timeoutMs },
  );
}

/** The seqs the page showed, in order. */
function shownOrder(page) {
  return page.session.execute("return window.__demo.shownOrder.slice()");
}

/** Every seq from 1 to `last`, once each, in order: what the page must have shown. */
const upTo = (last) => Array.from({ length: last }, (_, i) => i + 1);

/** The server's applied cursor of the page's session, once it is `seq`. */
function serverApplied(server, page, seq) {
  return waitFor(`the server to be told ${seq} was applied`, async () => {
    const state = await server.get("state");
    return state.applied.cursors[page.sessionId] === seq;
  });
}

export function appliedTests(browser, getSession) {
  test("acknowledged application, events dropped from the live stream mid-conversation: the gap is noticed, held and recovered by a resync, every event shown once and in order", { timeout: TIMEOUT_MS }, () =>
    scenario(getSession(), "applied-gap", async (page, server) => {
      const before = await chatting(page, server, browser, "applied-gap");
      await server.control("drop-events", { count: 2 });
      await server.control("emit", { sessionId: page.sessionId, count: 5 });
      const last = before + 5;
      // The three sent live after the two dropped are held behind the gap: none shown.
      await waitFor("the gap to be held", async () => (await page.snapshot()).appliedCursor === before);
      assert.deepEqual(await shownOrder(page), upTo(before), "nothing past the gap shown");
      // The gap stays open: 15 s on, the package rebuilds the stream and asks from the cursor.
      await waitApplied(page, server, "the resync to bring every event", 45000);
      assert.deepEqual(await shownOrder(page), upTo(last), "each once, in order");
      const snapshot = await page.snapshot();
      assert.ok(snapshot.resyncs >= 1, `resynced (${snapshot.resyncs})`);
      assert.equal(snapshot.duplicates, 0);
      await serverApplied(server, page, last);
      const reconnects = (await server.log()).posts.filter((p) => p.endpoint === "reconnect");
      assert.ok(reconnects.length >= 1, "the replay was asked for");
    }),
  );

  test("acknowledged application, a listener that refuses an event: it comes again after the resync and is applied once, in order", { timeout: TIMEOUT_MS }, () =>
    scenario(getSession(), "applied-refused", async (page, server) => {
      const before = await chatting(page, server, browser, "applied-refused");
      await page.session.execute("window.__demo.refuseNextEvents(1)");
      await server.control("emit", { sessionId: page.sessionId, count: 3 });
      const last = before + 3;
      await waitApplied(page, server, "every event applied after the resync", 30000);
      const refused = await page.session.execute("return window.__demo.refusedSeqs.slice()");
      assert.deepEqual(refused, [before + 1], "the first new event was refused once");
      assert.deepEqual(await shownOrder(page), upTo(last), "shown once each, in order, the refused one too");
      assert.ok((await page.snapshot()).resyncs >= 1);
      await serverApplied(server, page, last);
    }),
  );
}
