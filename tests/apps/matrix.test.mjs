// The app matrix (README.md): the packed package installed like a user's dependency,
// built by each bundler and loaded in headless Chromium and Firefox and in WebKit
// (MiniBrowser on Xvfb) (and run by Node),
// each app connecting to one reference server, sending one message and reporting what it
// saw. Run: node --test --test-concurrency=1 tests/apps/
// Env: SSE_COURIER_TARBALL (test that tarball instead of packing pkg/), APPS_ONLY (a
// regex on app names), APPS_BROWSERS (default "chromium,firefox,webkit"), APPS_BUILD_JOBS
// (parallel builds, default 2).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { start } from "../e2e/lib/processes.mjs";
import { BINARY, launchServer } from "../e2e/lib/server.mjs";
import { BROWSERS, openBrowser } from "../e2e/lib/webdriver.mjs";
import { BROWSER_APPS, HOSTS, NODE_APPS, buildAll, slug } from "./lib/apps.mjs";
import { APPS, installTarball, packTarball } from "./lib/package.mjs";
import { stateFromOutput } from "./lib/readme.mjs";

const only = process.env.APPS_ONLY ? new RegExp(process.env.APPS_ONLY, "i") : null;
const browserNames = (process.env.APPS_BROWSERS ?? "chromium,firefox,webkit").split(",").filter(Boolean);
const browserApps = BROWSER_APPS.filter((app) => !only || only.test(app.name));
const nodeApps = NODE_APPS.filter((app) => !only || only.test(app.name));
const runLifetime = !only || only.test("lifetime");
const runId = Date.now().toString(36);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let server;
let packed;
let builds = {};
const sessions = {};
const timings = {};
const timed = async (what, body) => {
  const started = Date.now();
  try {
    return await body();
  } finally {
    timings[what] = Date.now() - started;
  }
};

before(async () => {
  server = await launchServer(BINARY, ["--static-dir", APPS, "--heartbeat-ms", "2000"]);
  packed = await timed("pack", packTarball);
  const version = await timed("install", () => installTarball(packed.tarball));
  console.log(`# testing sse-courier ${version} from ${packed.tarball}`);
  const needed = [...new Set([...browserApps, ...nodeApps].map((app) => app.build).filter(Boolean))];
  const jobs = Number(process.env.APPS_BUILD_JOBS ?? 2);
  await Promise.all([
    timed(`builds (${needed.length}, ${jobs} at a time)`, async () => (builds = await buildAll(needed, jobs))),
    ...(browserApps.length ? browserNames : []).map((browser) =>
      timed(`open ${browser}`, async () => (sessions[browser] = await openBrowser(browser))),
    ),
  ]);
  for (const [name, { ms, error }] of Object.entries(builds)) timings[`  build ${name}${error ? " (FAILED)" : ""}`] = ms;
}, { timeout: 300000 });

after(async () => {
  await Promise.all(Object.values(sessions).map((session) => session.close()));
  await server?.stop();
  packed?.cleanup();
  console.log(`# app matrix timings (ms): ${JSON.stringify(timings)}`);
});

/** One lazily started host per describe block, stopped after it. */
function hostFor(name) {
  if (name === "static") return { get: async () => ({ url: server.url, output: () => "" }), stop: async () => {} };
  let started;
  return {
    get: () => (started ??= timed(`start ${name}`, HOSTS[name])),
    stop: async () => (await started?.catch(() => null))?.stop(),
  };
}

/** window.__app as plain JSON (null before the page's first script). */
const readApp = (session) => session.execute("return window.__app ? JSON.parse(JSON.stringify(window.__app)) : null");

const finished = (state, clientMsgId) =>
  state.reports.some((r) => r?.clientMsgId === clientMsgId) &&
  state.events.some((e) => e?.type === "message_done" && e.clientMsgId === clientMsgId);

/** Opens the page and waits until the send's report and its reply are in, an error is
 * recorded, or 15 s; then a moment more, so a second report would be seen too. */
async function runPage(session, url, clientMsgId) {
  await session.navigate(url);
  const deadline = Date.now() + 15000;
  for (;;) {
    const state = await readApp(session);
    if (state?.errors.length || state?.state === "error") return state;
    if (state && finished(state, clientMsgId)) {
      await sleep(300);
      return readApp(session);
    }
    if (Date.now() > deadline) return state && { ...state, timedOut: "15 s" };
    await sleep(100);
  }
}

/** The fields of a DeliveryReport (src/web/types.rs, docs/api.md). The apps record the
 * report as JSON (`message` included); the README's Node example prints `clientMsgId`,
 * `status` and `reason` alone. */
const REPORT_FIELDS = new Set(["status", "reason", "httpStatus", "endpoint", "clientMsgId", "message"]);

/** The per-app assertion: every problem found, then what the app saw. */
async function check(label, { state, clientMsgId, sessionId, worker, context = [], nothing = "the app recorded nothing (no window.__app: the page did not load)" }) {
  const { accepted } = await server.accepted(sessionId);
  const problems = [];
  if (!state) problems.push(nothing);
  else {
    if (state.errors.length) problems.push(`errors:\n    ${state.errors.join("\n    ")}`);
    if (state.state === "loading") {
      problems.push(worker ? "the worker never reported back (its module did not load or evaluate)" : "the app never ran (its module did not load or evaluate)");
    }
    if (state.timedOut) problems.push(`timed out after ${state.timedOut} waiting for the delivered report and the reply`);
    if (worker && state.inWorker !== true) problems.push(`not run inside a worker (inWorker: ${state.inWorker})`);
    if (!state.events.some((e) => e?.type === "_open")) problems.push("no _open (welcome) event");
    if (typeof state.connectionId !== "string" || !state.connectionId) problems.push(`no connection id (${state.connectionId})`);
    if (state.connectionId && state.sendReturned !== true) problems.push(`send() returned ${state.sendReturned}`);
    const mine = state.reports.filter((r) => r?.clientMsgId === clientMsgId);
    // Only the documented shape (DeliveryReport): the fate is `status`, and a delivered
    // report has no `reason`.
    for (const report of mine) {
      const unknown = Object.keys(report).filter((key) => !REPORT_FIELDS.has(key));
      if (unknown.length) problems.push(`a report with fields DeliveryReport does not have (${unknown.join(", ")}): ${JSON.stringify(report)}`);
    }
    const delivered = mine.filter((r) => r.status === "delivered" && !("reason" in r));
    if (delivered.length !== 1 || mine.length !== 1) {
      problems.push(`expected exactly one onDelivery report, delivered, for ${clientMsgId}; got ${JSON.stringify(mine)}`);
    }
  }
  if (accepted.length !== 1 || accepted[0] !== clientMsgId) {
    problems.push(`the server accepted ${JSON.stringify(accepted)} in ${sessionId}, expected [${JSON.stringify(clientMsgId)}] once`);
  }
  if (problems.length) {
    const seen = state
      ? [
          `  state: ${state.state}, connectionId: ${state.connectionId}, sendReturned: ${state.sendReturned}${worker ? `, worker: ${state.worker}, inWorker: ${state.inWorker}` : ""}`,
          `  events (${state.events.length}, last 12): ${JSON.stringify(state.events.slice(-12))}`,
          `  reports: ${JSON.stringify(state.reports)}`,
        ]
      : [];
    assert.fail([`${label}:`, ...problems.map((p) => `  - ${p}`), ...seen, ...context].join("\n"));
  }
}

const behaviour = "welcome, one send accepted once, delivered";

const hostGroups = [...new Set(browserApps.map((app) => app.host))];
for (const hostName of hostGroups) {
  describe(hostName === "static" ? "served by the reference server" : `served by ${hostName}`, () => {
    const host = hostFor(hostName);
    after(() => host.stop());
    for (const app of browserApps.filter((a) => a.host === hostName)) {
      for (const browser of browserNames) {
        test(`${app.name}: ${behaviour}${app.worker ? " (in a worker)" : ""} (${browser})`, async () => {
          const label = `${app.name} in ${browser}`;
          const build = app.build && builds[app.build];
          if (build?.error) assert.fail(`${label}: the build failed:\n${build.error}`);
          let served;
          try {
            served = await host.get();
          } catch (error) {
            assert.fail(`${label}: ${hostName} did not start: ${error.message}`);
          }
          const session = sessions[browser];
          const sessionId = `apps-${slug(app.name)}-${browser}`;
          const clientMsgId = `${slug(app.name)}-${browser}-${runId}`;
          const query = new URLSearchParams({ server: server.url, sessionId, clientMsgId });
          const url = `${served.url}${app.path}?${query}`;
          let state;
          try {
            state = await runPage(session, url, clientMsgId);
          } finally {
            await session.execute("window.__stop?.()").catch(() => {});
            await session.navigate("about:blank").catch(() => {});
          }
          const out = served.output().trim();
          await check(label, {
            state,
            clientMsgId,
            sessionId,
            worker: app.worker,
            context: [`  page: ${url}`, ...(out ? [`  ${hostName} output (end):\n${out.slice(-2000)}`] : [])],
          });
        });
      }
    }
  });
}

if (nodeApps.length) {
  describe("node (eventsource package as createEventSource)", () => {
    for (const app of nodeApps) {
      test(`${app.name}: ${behaviour}`, async () => {
        const build = app.build && builds[app.build];
        if (build?.error) assert.fail(`${app.name}: the build failed:\n${build.error}`);
        // The shared app takes its session and message id as argv and prints its state
        // as JSON; the README's example takes the server from CHAT_URL, picks its own
        // ids and prints what it sees, line by line.
        let sessionId = `apps-${slug(app.name)}`;
        let clientMsgId = `${slug(app.name)}-${runId}`;
        const args = app.readme ? [app.script] : [app.script, server.url, sessionId, clientMsgId];
        const env = app.readme ? { CHAT_URL: server.url } : {};
        const lines = [];
        const child = start(process.execPath, args, { env, onLine: (l) => lines.push(l) });
        const timer = setTimeout(() => child.stop(), 20000);
        const { code, signal } = await child.exited;
        clearTimeout(timer);
        let state = null;
        if (app.readme) {
          state = stateFromOutput(lines, app.name);
          ({ sessionId } = app.readme);
          clientMsgId = state.clientMsgId;
        } else {
          try {
            state = JSON.parse(lines.findLast((l) => l.startsWith("{")) ?? "null");
          } catch {
            // reported below with the output
          }
        }
        if (state && code !== 0) state = { ...state, errors: [...state.errors, `the script exited ${code ?? signal}`] };
        await check(`${app.name}`, {
          state,
          nothing: `the script printed no state (exit ${code ?? signal})`,
          clientMsgId,
          sessionId,
          context: [
            `  command: ${Object.entries(env).map(([k, v]) => `${k}=${v} `).join("")}node ${args.join(" ")}`,
            `  output (end):\n${child.output().slice(-2000)}`,
          ],
        });
      });
    }
  });
}

if (runLifetime) {
  describe("Connection lifetime (chromium --js-flags=--expose-gc, no bundler)", () => {
    let session;
    let life;
    let url;
    const sessionId = "apps-lifetime-chromium";
    const clientMsgId = `lifetime-${runId}`;

    /** Reads window.__life until `done(life)` or 20 s. */
    async function lifeUntil(done) {
      const deadline = Date.now() + 20000;
      for (;;) {
        life = await session.execute("return window.__life ? JSON.parse(JSON.stringify(window.__life)) : null");
        if (life && (done(life) || life.phase === "error")) return life;
        if (Date.now() > deadline) return life && { ...life, timedOut: true };
        await sleep(100);
      }
    }
    const seen = (life) => `window.__life: ${JSON.stringify(life)}\n  page: ${url}`;

    before(async () => {
      // webdriver.json's headless Chromium plus --expose-gc, for this session only.
      const capabilities = BROWSERS.chromium.capabilities;
      BROWSERS.chromium.capabilities = (headless) => {
        const caps = capabilities(headless);
        const options = caps["goog:chromeOptions"];
        return { ...caps, "goog:chromeOptions": { ...options, args: [...(options.args ?? []), "--js-flags=--expose-gc"] } };
      };
      try {
        session = await timed("open chromium --expose-gc", () => openBrowser("chromium"));
      } finally {
        BROWSERS.chromium.capabilities = capabilities;
      }
      url = `${server.url}/src/lifetime/?${new URLSearchParams({ server: server.url, sessionId, clientMsgId })}`;
      await session.navigate(url);
    }, { timeout: 60000 });

    after(() => session?.close());

    test("a connected Connection the app dropped survives gc(): a raw POST send on its id is echoed to its listener (chromium)", async () => {
      await lifeUntil((l) => l.phase === "dropped" || l.phase === "done");
      assert.ok(life, `the lifetime page recorded nothing\n  page: ${url}`);
      assert.deepEqual(life.errors, [], `the lifetime page failed: ${life.errors.join("\n")}\n${seen(life)}`);
      const k = life.kept;
      assert.equal(k.postStatus, 200, `POST /api/chat/send with X-Connection-ID ${k.connectionId} after gc() answered ${k.postStatus} ${k.postAnswer}: the server no longer knows the connection (its stream was closed: the dropped Connection was collected and freed). finalized after gc: ${k.finalizedAfterGc}\n${seen(life)}`);
      const echoed = k.events.filter((e) => e.type === "user_message" && e.clientMsgId === clientMsgId);
      assert.equal(echoed.length, 1, `the dropped Connection's listener got ${echoed.length} user_message echoes for ${clientMsgId} (expected 1): its stream did not stay open. finalized after gc: ${k.finalizedAfterGc}; ${k.timeout ?? ""}\n${seen(life)}`);
      assert.ok(k.events.some((e) => e.type === "message_done" && e.clientMsgId === clientMsgId), `no message_done for ${clientMsgId}\n${seen(life)}`);
      assert.equal((await server.accepted(sessionId)).accepted.length, 1);
    });

    test("a disconnect()ed Connection the app dropped is collected by gc() (chromium)", async () => {
      await lifeUntil((l) => l.phase === "done");
      assert.deepEqual(life.errors, [], `the lifetime page failed: ${life.errors.join("\n")}\n${seen(life)}`);
      assert.equal(life.phase, "done", `the lifetime page did not finish\n${seen(life)}`);
      const d = life.dropped;
      assert.ok(d.collected && d.finalized, `after disconnect() and ${d.rounds} x 5 gc() rounds the Connection was ${d.collected ? "" : "not "}collected (WeakRef.deref()) and its FinalizationRegistry callback ${d.finalized ? "ran" : "did not run"}: something still references a disconnected Connection\n${seen(life)}`);
    });
  });
}
