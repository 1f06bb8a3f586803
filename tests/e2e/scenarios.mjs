// The end-to-end scenarios, run in one real headless browser per test file: the demo
// page (the npm package bundled by esbuild) against the reference server, each
// scenario with its own server on a free port.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { appliedTests } from "./applied.mjs";
import { authTests } from "./auth.mjs";
import { contractTests } from "./contract.mjs";
import { lifecycleTests } from "./lifecycle.mjs";
import { persistTests } from "./persist.mjs";
import { probeTests } from "./probe.mjs";
import { tabsTests } from "./tabs.mjs";
import { prng, scenario, serverFaults } from "./lib/demo.mjs";
import { OFFLINE_HOW, offlineSwitch } from "./lib/network.mjs";
import { waitFor } from "./lib/processes.mjs";
import { webTargetScenario } from "./lib/web-target.mjs";
import { openBrowser } from "./lib/webdriver.mjs";

const SCENARIO_TIMEOUT_MS = 120000;
const CHAOS_SENDS = Number(process.env.E2E_CHAOS_SENDS ?? 300);
const CHAOS_SEED = Number(process.env.E2E_SEED ?? 406);

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function defineSuite(browser) {
  describe(`demo in ${browser}`, () => {
    let session;
    before(async () => {
      session = await openBrowser(browser);
      await session.setWindowSize(1600, 1000);
    });
    after(async () => {
      await session?.close();
    });

    test("stale connection (the seed's test plan): idle, the server forgets the connection, the user sends: it arrives exactly once and shows delivered", { timeout: SCENARIO_TIMEOUT_MS }, () =>
      scenario(session, "stale", async (page, server) => {
        await page.open();
        const { connectionId } = await page.waitConnected();
        // Idle: the stream is up and quiet but for heartbeats.
        await waitFor("a heartbeat on the idle stream", () =>
          session.execute("return document.getElementById('status').dataset.heartbeatAgeS !== ''"),
        );
        // The server drops the connection; the stream stays open and silent, so the
        // page still believes it is connected.
        assert.equal((await server.control("forget", { connectionId })).forgotten, 1);
        assert.equal((await page.snapshot()).state, "connected");

        const id = await page.typeAndSend("hello after an idle spell");
        await waitFor("the message to show delivered and echoed", async () => {
          const shown = await page.bubbles(id);
          return shown.length === 1 && shown[0].fate === "delivered" && shown[0].echoed;
        });

        assert.deepEqual((await server.accepted(page.sessionId)).accepted, [id], "accepted exactly once");
        const sends = (await server.log()).posts.filter((p) => p.endpoint === "send");
        assert.deepEqual(
          sends.map((p) => p.status),
          [404, 200],
          "one POST met the stale connection (404), the retry on a fresh one was accepted",
        );
        assert.equal(sends[0].connectionId, connectionId);
        assert.notEqual(sends[1].connectionId, connectionId);
        assert.equal((await page.fates())[id].status, "delivered");
        const s = await page.waitConnected();
        assert.equal(s.welcomes, 2, "exactly one reconnect");
        assert.equal(s.duplicates, 0);

        // The demo's own button does the same: forget, then send.
        await session.click("#try-stale");
        const again = await waitFor("the button's message to be delivered", async () => {
          const sent = await page.sent();
          const fates = await page.fates();
          return sent.length === 2 && fates[sent[1]]?.status === "delivered" ? sent[1] : false;
        });
        assert.deepEqual((await server.accepted(page.sessionId)).accepted, [id, again]);
        assert.equal((await page.snapshot()).reportedTwice, 0);
      }),
    );

    test("web target without a bundler: pkg/web as native ES modules, init() finds its wasm beside the glue (application/wasm, streaming compile; the fallback for a wrong type too), the stale-connection send is delivered and accepted exactly once", { timeout: SCENARIO_TIMEOUT_MS }, () =>
      webTargetScenario(session, async (page, server, staged) => {
        // What the server answers matters to the browser: module scripts (the glue and
        // its snippets, if the build has any) need a JavaScript type, streaming
        // compilation needs application/wasm.
        assert.ok(staged.files.includes("pkg/sse_courier.js") && staged.files.includes("pkg/sse_courier_bg.wasm"), `${staged.files}`);
        for (const path of staged.files) {
          const type = (await fetch(`${server.url}/${path}`, { method: "HEAD" })).headers.get("content-type");
          if (path.endsWith(".wasm")) assert.equal(type, "application/wasm", path);
          else assert.match(type, /^text\/javascript\b/, path);
        }

        // `import init, { Connection, version } from "./pkg/sse_courier.js"; await init();`
        const loaded = await page.open();
        assert.deepEqual(loaded.errors, []);
        assert.equal(loaded.version, staged.version, "version() is the built package's");
        assert.deepEqual(
          loaded.wasmFetches,
          [`${server.url}/pkg/sse_courier_bg.wasm`],
          "init() fetched the wasm beside the glue (new URL('sse_courier_bg.wasm', import.meta.url))",
        );
        assert.deepEqual(
          loaded.streaming.map((c) => [c.contentType, c.outcome]),
          [["application/wasm", "ok"]],
          "compiled once by WebAssembly.instantiateStreaming",
        );
        assert.deepEqual(loaded.warnings, [], "no MIME-type fallback warning");

        // The seed scenario: connected and idle, the server forgets the connection;
        // its stream stays open and silent, so the page still looks connected.
        const { connectionId } = await page.waitConnected();
        assert.equal((await server.control("forget", { connectionId })).forgotten, 1);
        assert.equal((await page.state()).connected, true);

        const sessionId = `web-target-${session.browser}`;
        const clientMsgId = `web-target-${session.browser}-1`;
        assert.equal(await page.send({ type: "send", sessionId, prompt: "hello from the web build", clientMsgId }), true);
        // Settled: reported, nothing queued or in flight, connected, the agent's reply
        // done; no later report can come.
        const end = await waitFor("the message to be reported and the connection to settle", async () => {
          const s = await page.state();
          const replied = s.events.some((e) => e.type === "message_done" && e.clientMsgId === clientMsgId);
          return s.reports.length > 0 && s.pending === 0 && s.inFlight === 0 && s.connected && replied ? s : false;
        });
        assert.deepEqual(
          end.reports,
          [{ clientMsgId, status: "delivered", reason: null, httpStatus: null, endpoint: "send" }],
          "reported delivered, exactly once",
        );
        assert.equal(
          end.events.filter((e) => e.type === "user_message" && e.clientMsgId === clientMsgId).length,
          1,
          "the server's echo reached onMessage once",
        );
        assert.deepEqual((await server.accepted(sessionId)).accepted, [clientMsgId], "accepted exactly once");
        const sends = (await server.log()).posts.filter((p) => p.endpoint === "send");
        assert.deepEqual(
          sends.map((p) => [p.status, p.connectionId]),
          [[404, connectionId], [200, end.connectionId]],
          "one POST met the stale connection (404), the retry on a fresh one was accepted",
        );
        assert.notEqual(end.connectionId, connectionId);
        assert.deepEqual(end.errors, []);

        // A server sending the wasm with another type: instantiateStreaming refuses
        // it and the glue's fallback (arrayBuffer + instantiate) must still work.
        const fallback = await page.open({ mime: "application/octet-stream" });
        assert.deepEqual(fallback.errors, []);
        assert.equal(fallback.streaming.length, 1);
        assert.equal(fallback.streaming[0].contentType, "application/octet-stream");
        assert.notEqual(fallback.streaming[0].outcome, "ok", "instantiateStreaming refused the wrong type");
        assert.ok(
          fallback.warnings.some((w) => w.includes("application/wasm") && w.includes("Falling back")),
          `the glue warned and fell back: ${JSON.stringify(fallback.warnings)}`,
        );
        assert.equal(fallback.version, staged.version);
        await page.waitConnected("the fallback-compiled build to connect");
      }),
    );

    test("server restart mid-conversation: no message lost, replayed events not shown twice", { timeout: SCENARIO_TIMEOUT_MS }, () =>
      scenario(session, "restart", async (page, server) => {
        await page.open();
        await page.waitConnected();
        // Every reconnect also replays 3 events the page already has: they must not
        // reach the screen twice.
        await server.control("replay-overlap", { count: 3 });
        const ids = [];
        for (const text of ["first", "second", "third"]) ids.push(await page.typeAndSend(text));
        await waitForAllEvents(page, server);

        // Mid-conversation: a send whose reply is streaming, the restart, and two
        // sends while the page recovers.
        ids.push(await page.send("fourth, then the server restarts"));
        await server.control("restart");
        ids.push(await page.send("fifth, during the restart"));
        ids.push(await page.typeAndSend("sixth, during the restart"));

        const s = await page.waitAllReported();
        await page.waitConnected("the page to reconnect after the restart");
        await waitForAllEvents(page, server);

        const accepted = (await server.accepted(page.sessionId)).accepted;
        assert.deepEqual([...accepted].sort(), [...ids].sort(), "every message accepted exactly once");
        const fates = await page.fates();
        assert.deepEqual(ids.map((id) => fates[id].status), ids.map(() => "delivered"));
        for (const id of ids) assert.equal((await page.bubbles(id)).length, 1, `${id} shown once`);
        const replies = await session.execute(
          `return Array.from(document.querySelectorAll("#chat li.agent[data-reply-to]")).map((li) => li.dataset.replyTo)`,
        );
        assert.equal(new Set(replies).size, replies.length, `no reply shown twice: ${replies}`);
        const end = await page.snapshot();
        assert.equal(end.duplicates, 0, "no replayed event dispatched twice");
        assert.equal(end.reportedTwice, 0, "one report per message");
        const log = await server.log();
        assert.ok(
          log.posts.some((p) => p.endpoint === "reconnect" && p.status === 200),
          "the page asked for a replay after the restart",
        );
        assert.ok(s.welcomes >= 2, `reconnected after the restart (${s.welcomes} welcomes)`);
      }),
    );

    const offlineHow = OFFLINE_HOW[browser];
    test(`offline then online (${offlineHow}): messages sent offline are delivered once online, exactly once`, { timeout: SCENARIO_TIMEOUT_MS }, () =>
      scenario(session, "offline", async (page, server) => {
        const network = await offlineSwitch(session, browser, server);
        try {
          // Server-side order is a guarantee only with orderedSends: by default the
          // flushed POSTs run concurrently and may be accepted in either order (seen once).
          await page.open({ ordered: 1 }, network.origin);
          await page.waitConnected();
          const ids = [];
          try {
            await network.set(false);
            // A real outage also ends the open stream; the page must notice and retry.
            await server.control("kill-streams");
            ids.push(await page.typeAndSend("written offline"));
            ids.push(await page.typeAndSend("also written offline"));
            // The page has met the outage: a POST failed or the stream dropped.
            await waitFor("the page to meet the outage", async () =>
              session.execute(
                `return window.__demo.timeline.some((e) => /network error|error \\(/.test(e.text))`,
              ),
            );
            assert.equal((await server.accepted(page.sessionId)).accepted.length, 0, "nothing reached the server offline");
            const s = await page.snapshot();
            assert.equal(s.reported, 0, "nothing reported while offline (retrying, not failed)");
          } finally {
            await network.set(true);
          }
          await page.waitAllReported(40000);
          await page.waitConnected("the page to reconnect once online");
          assert.deepEqual((await server.accepted(page.sessionId)).accepted, ids, "accepted exactly once, in order");
          const fates = await page.fates();
          assert.deepEqual(ids.map((id) => fates[id].status), ["delivered", "delivered"]);
        } finally {
          await network.close?.();
        }
      }),
    );

    test(`chaos: ${CHAOS_SENDS} sends while seeded random faults fire (seed ${CHAOS_SEED}): accepted == sent, in order, exactly once, all delivered`, { timeout: SCENARIO_TIMEOUT_MS * 2 }, () =>
      scenario(session, "chaos", (page, server) => chaos(session, page, server, browser, { strict: false })),
    );

    test(`chaos, strict (receipts, sends without the stream; broken receipts among the faults): ${CHAOS_SENDS} prompts (seed ${CHAOS_SEED}): accepted == sent, in order, exactly once, all delivered`, { timeout: SCENARIO_TIMEOUT_MS * 2 }, () =>
      // Against a server whose /send is not tied to a stream (`--untied-sends`, as the
      // existing client's current server): a strict prompt's 404 is final, and the
      // `forget` and `restart` faults would otherwise fail prompts by design.
      scenario(session, "chaos-strict", (page, server) => chaos(session, page, server, browser, { strict: true }), {
        serverFlags: ["--untied-sends"],
      }),
    );

    // The page lifecycle (bfcache, hidden and shown, pagehide): lifecycle.mjs.
    lifecycleTests(browser, () => session);

    // The foreground liveness probe (foregroundProbe, rule 23): probe.mjs.
    probeTests(browser, () => session);

    // The persisted outbox (reload, closed tab, two tabs, a failing store): persist.mjs.
    persistTests(browser, () => session);

    // One stream for all tabs (8 tabs, shared or not): tabs.mjs.
    tabsTests(browser, () => session);

    // The existing client's current contract (strict: receipts, sends without the
    // stream, notices): contract.mjs.
    contractTests(browser, () => session);

    // Acknowledged application (gaps, refusals): applied.mjs.
    appliedTests(browser, () => session);
    // The authentication latch (strict: auth_expired, the check's 401, restore): auth.mjs.
    authTests(browser, () => session);
  });
}

/**
 * The seeded chaos run: CHAOS_SENDS sends while random server faults fire, then every
 * message must be accepted once, in order, and reported delivered. With `strict`, the
 * page runs the existing client's current contract and broken receipts join the faults.
 */
async function chaos(session, page, server, browser, { strict }) {
  // Faults fire far more densely here than in life, so the limits that end a
  // message's retries (3 stale connections, 5 send retries) are raised: this
  // run checks delivery and order, the limits have their own tests.
  await page.open(
    strict
      ? { strict: 1, maxStaleRetries: 20, backoffMaxMs: 1000 }
      : { ordered: 1, maxStaleRetries: 20, maxSendRetries: 20, backoffMaxMs: 1000 },
  );
  await page.waitConnected();
  const rand = prng(CHAOS_SEED);
  // Server faults go through the page's own control() (same as its buttons), so
  // they appear in its timeline and in the screenshot.
  const control = async (path, body = {}) => {
    const answer = await session.execute(
      "return window.__demo.control(arguments[0], arguments[1])",
      path,
      body,
    );
    if (!answer?.ok && path !== "forget") throw new Error(`${path}: ${JSON.stringify(answer)}`);
    return answer;
  };
  const faults = {
    // Small delays: with orderedSends every POST waits for the one before it.
    ...serverFaults(page, control, rand, [0, 0, 20, 50, 100]),
    heartbeats: () => control("heartbeats", { enabled: rand.next() < 0.5 }),
    "replay-overlap": () => control("replay-overlap", { count: rand.int(0, 3) }),
    "checkAndReconnect(force)": () => session.click('button[data-fault="reconnect"]'),
    // With receipts: 2xx answers the prompt cannot count on, sent again until its own.
    ...(strict && {
      "break-receipts": () =>
        control("break-receipts", { count: rand.int(1, 3), kind: rand.pick(["html", "wrong_id", "missing_session"]) }),
    }),
  };
  // Faults are drawn from a shuffled bag of all kinds, refilled when empty, so
  // every kind fires a few times whatever the seed.
  let bag = [];
  const nextFault = () => {
    if (bag.length === 0) {
      bag = Object.keys(faults);
      for (let i = bag.length - 1; i > 0; i--) {
        const j = rand.int(0, i);
        [bag[i], bag[j]] = [bag[j], bag[i]];
      }
    }
    return bag.pop();
  };
  const fired = {};
  let n = 0;
  while (n < CHAOS_SENDS) {
    const s = await page.snapshot();
    if (s.pending + s.inFlight > 40) {
      // Stay under the queue bound (100): overflow would evict, by design.
      await waitFor("the queue to drain", async () => {
        const t = await page.snapshot();
        return t.pending + t.inFlight < 10;
      }, { timeoutMs: 30000 });
      continue;
    }
    if (rand.next() < 0.2) {
      const name = nextFault();
      fired[name] = (fired[name] ?? 0) + 1;
      await faults[name]();
    } else {
      const batch = Array.from({ length: Math.min(rand.int(1, 4), CHAOS_SENDS - n) }, () => `chaos ${++n}`);
      const results = await session.execute("return arguments[0].map((t) => window.__demo.send(t))", batch);
      assert.ok(results.every((r) => r.accepted), "send() accepted every message");
    }
    if (rand.next() < 0.15) await pause(rand.int(10, 150)); // the user types on
  }
  await server.control("fail-next", { count: 0 });
  await server.control("delay", { ms: 0 });
  await server.control("heartbeats", { enabled: true });
  await server.control("replay-overlap", { count: 0 });
  if (strict) await server.control("break-receipts", { count: 0, kind: "html" });

  const s = await page.waitAllReported(90000);
  await page.waitConnected();
  await waitForAllEvents(page, server);
  const sent = await page.sent();
  assert.equal(sent.length, CHAOS_SENDS);
  assert.deepEqual((await server.accepted(page.sessionId)).accepted, sent, "accepted == sent, in order, once each");
  const fates = Object.values(await page.fates());
  assert.equal(fates.length, CHAOS_SENDS);
  const notDelivered = fates.filter((f) => f.status !== "delivered");
  assert.deepEqual(notDelivered, [], "every message delivered");
  const end = await page.snapshot();
  assert.equal(end.duplicates, 0, "no event dispatched twice");
  assert.equal(end.reportedTwice, 0, "one report per message");
  const name = strict ? "chaos-strict" : "chaos";
  const shot = await page.screenshot(`e2e-${name}-${browser}`);
  console.log(`# ${browser} ${name}: faults fired ${JSON.stringify(fired)}; welcomes ${s.welcomes}; screenshot ${shot}`);
}

/** Waits until the page has every event the server stored for its session. */
async function waitForAllEvents(page, server) {
  return waitFor("the page to have every stored event of its session", async () => {
    const { lastSeq } = await server.accepted(page.sessionId);
    const seen = await page.session.execute("return window.__demo.conn.getLastSeq(arguments[0])", page.sessionId);
    return lastSeq > 0 && seen === lastSeq ? lastSeq : false;
  });
}
