// The existing client's current contract (`strict`; docs/api.md, "The strict
// contract"; docs/delivery-rules.md, rules 14 to 19), end to end in each browser: the
// demo with its "strict" switch on (`strict=1`) against the reference server, which
// answers every accepted prompt with its receipt and de-duplicates by clientMsgId. A
// prompt sent while the stream cannot open is accepted once and shown accepted; a
// server answering 2xx without the receipt gets the same body again until it gives
// one; the seeded chaos run, with broken receipts among its faults, delivers every
// prompt exactly once and in order (scenarios.mjs); an upgrade in place: prompts the
// existing client left in its outbox (`mitzo-send-outbox:<events URL>` in
// `sessionStorage`) are sent again by the demo built with `outboxStorage:
// sessionStorage` (`outboxStorage=session`), each accepted once, in order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { scenario } from "./lib/demo.mjs";
import { waitFor } from "./lib/processes.mjs";

const TIMEOUT_MS = 120000;

/** The server's log entries of `send` POSTs for `clientMsgId`, in order. */
async function sendsOf(server, clientMsgId) {
  return (await server.log()).posts.filter((p) => p.endpoint === "send" && p.clientMsgId === clientMsgId);
}

/** The states `clientMsgId`'s notices gave it, in order (`pending`, `retrying`,
 * `accepted`, `failed`, `uncertain`). */
function promptStates(page, clientMsgId) {
  return page.session.execute("return window.__demo.promptStates[arguments[0]] ?? []", clientMsgId);
}

/** Waits for `clientMsgId`'s bubble to show it delivered, after its notices. */
async function waitShownDelivered(page, clientMsgId) {
  return waitFor(`${clientMsgId} to show delivered`, async () => {
    const shown = await page.bubbles(clientMsgId);
    return shown.length === 1 && shown[0].fate === "delivered" ? shown : false;
  });
}

export function contractTests(browser, getSession) {
  test("strict, a prompt sent while the stream cannot open: posted at once without a connection id, accepted once and shown accepted; the stream opens later", { timeout: TIMEOUT_MS }, () =>
    scenario(getSession(), "strict-before-stream", async (page, server) => {
      await page.open({ strict: 1, session: `strict-before-stream-${browser}` });
      await page.waitConnected();
      // The server drops the stream and refuses the next attempts to open one: the page
      // is left without a connection for a few seconds (the package retries with its
      // backoff).
      await server.control("fail-next", { count: 3, status: 503, endpoint: "events" });
      await server.control("kill-streams");
      await waitFor("the page to see its stream drop", async () => (await page.snapshot()).state !== "connected");

      const id = await page.send("sent while the stream is down");
      const sends = await waitFor("the prompt's POST, made before any new stream", async () => {
        const posts = await sendsOf(server, id);
        return posts.length > 0 ? posts : false;
      });
      assert.deepEqual(
        sends.map((p) => [p.status, p.connectionId]),
        [[200, null]],
        "posted once, without X-Connection-ID, and accepted",
      );
      await waitShownDelivered(page, id);
      assert.deepEqual(await promptStates(page, id), ["pending", "accepted"]);
      assert.deepEqual((await server.accepted(page.sessionId)).accepted, [id], "accepted exactly once");
      const fate = (await page.fates())[id];
      assert.equal(fate.status, "delivered");

      await page.waitConnected("the stream to open once the server takes streams again", 30000);
      assert.equal((await sendsOf(server, id)).length, 1, "never sent again");
      assert.equal((await page.snapshot()).reportedTwice, 0);
    }),
  );

  test("strict, a server answering 200 without the receipt (an HTML page, another message's id, no sessionId): the same body is sent again until the receipt comes, accepted once, shown retrying then accepted", { timeout: TIMEOUT_MS }, () =>
    scenario(getSession(), "strict-bad-receipts", async (page, server) => {
      await page.open({ strict: 1, backoffMaxMs: 1000, session: `strict-bad-receipts-${browser}` });
      await page.waitConnected();
      // The next three receipts broken, each its own way, in this order.
      const faults = ["html", "wrong_id", "missing_session"];
      await server.control("break-receipts", { kinds: faults });
      const id = await page.send("answered without a receipt, three times");
      await waitShownDelivered(page, id);

      const sends = await sendsOf(server, id);
      assert.equal(sends.length, faults.length + 1, `one POST per broken receipt and the last: ${JSON.stringify(sends)}`);
      assert.deepEqual(sends.map((p) => p.status), sends.map(() => 200), "every answer a 200");
      assert.deepEqual(sends.map((p) => p.receiptFault ?? null), [...faults, null], "each broken receipt in turn, then the receipt");
      // The server refuses another body under an accepted clientMsgId (409): every
      // answer a 200 means the same body every time.
      assert.deepEqual((await server.accepted(page.sessionId)).accepted, [id], "accepted exactly once");
      assert.deepEqual(await promptStates(page, id), ["pending", "retrying", "retrying", "retrying", "accepted"]);
      const fate = (await page.fates())[id];
      assert.equal(fate.status, "delivered");
    }),
  );

  test("strict, an upgrade in place: prompts in the existing client's storage format are restored and sent, each accepted once, in order, before a new one, and its key is gone", { timeout: TIMEOUT_MS }, () =>
    scenario(getSession(), "strict-upgrade-in-place", async (page, server) => {
      const session = `strict-upgrade-${browser}`;
      // On the demo's origin (the default entry, nothing stored), the existing client's
      // outbox as it left it: two prompts of one draft, the second maybe sent.
      await page.open({ strict: 1, session });
      const ids = [`${session}-legacy-1`, `${session}-legacy-2`];
      const items = ids.map((clientMsgId, i) => ({
        body: JSON.stringify({ type: "send", sessionId: session, prompt: `typed before the upgrade ${i + 1}`, clientMsgId }),
        scope: 1,
        ...(i === 1 ? { uncertain: true } : {}),
      }));
      const legacyKey = "mitzo-send-outbox:/api/chat/events";
      await page.session.execute("sessionStorage.setItem(arguments[0], arguments[1])", legacyKey, JSON.stringify(items));

      await page.open({ strict: 1, session, outboxStorage: "session" });
      for (const id of ids) await waitShownDelivered(page, id);
      const fresh = await page.send("typed after the upgrade");
      await waitShownDelivered(page, fresh);

      assert.deepEqual((await server.accepted(session)).accepted, [...ids, fresh], "each accepted once, in order");
      for (const id of ids) {
        // The server refuses another body under an accepted clientMsgId (409): one 200
        // is the body as the existing client stored it.
        const sends = await sendsOf(server, id);
        assert.deepEqual(sends.map((p) => p.status), [200], `${id} sent once, accepted`);
        assert.deepEqual(await promptStates(page, id), ["pending", "accepted"], id);
      }
      const fates = await page.fates();
      assert.deepEqual([...ids, fresh].map((id) => fates[id]?.status), ["delivered", "delivered", "delivered"]);
      assert.equal(await page.session.execute("return sessionStorage.getItem(arguments[0])", legacyKey), null, "the old key is gone");
      assert.deepEqual(await page.stored(), [], "nothing left in the outbox");
      assert.equal((await page.snapshot()).reportedTwice, 0);
    }),
  );
}
