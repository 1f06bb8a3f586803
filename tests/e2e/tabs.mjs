// One stream for all tabs (issue 16, docs/shared-stream.md), end to end in each
// browser against the reference server over plain HTTP/1.1: eight real tabs of one
// browser session (WebDriver New Window, type tab), all on the server's origin, each
// loading tests/e2e/tabs/index.html with the package's `sse-courier/tabs` entry and
// read through window.__tabs. Without sharing, the browser's limit of 6 connections
// per origin leaves the 7th and 8th tab without a welcome; with `shareAcrossTabs`,
// the 8 tabs hold one stream between them, and each keeps its own sends, reports and
// events.
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { saveScreenshot, withServer } from "./lib/demo.mjs";
import { waitFor } from "./lib/processes.mjs";
import { BINARY, launchServer, startServer } from "./lib/server.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;
const TIMEOUT_MS = 120000;
const TABS = 8;
/** HTTP/1.1: the browsers' connections per origin (Chromium, Firefox, WebKit). */
const PER_ORIGIN = 6;
/** How long a tab beyond the limit is watched for a welcome that must not come: more
 * than two of the server's heartbeats (the held streams stay busy meanwhile). */
const NO_WELCOME_MS = 5000;
const PAGE_LOAD_MS = 15000;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stages the page and the package's tabs entry in target/e2e-tabs/<browser>/. */
function stageTabs(browser) {
  if (!existsSync(join(ROOT, "pkg", "tabs", "index.js"))) throw new Error("pkg/tabs/index.js is missing: make pkg");
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: cargo build -p sse-courier-server`);
  const dir = join(ROOT, "target", "e2e-tabs", browser);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, "tests", "e2e", "tabs", "index.html"), join(dir, "index.html"));
  cpSync(join(ROOT, "pkg", "tabs", "index.js"), join(dir, "sse-courier-tabs.js"));
  return dir;
}

/** The tabs a test opened in one browser session, each a window handle: every one a
 * New Window (type tab), the session's own window left aside (it must stay open: the
 * session ends with its last window). */
class Tabs {
  constructor(session, server) {
    this.session = session;
    this.server = server;
    this.handles = [];
    this.current = null;
    this.original = null;
  }

  async focus(i) {
    if (this.current !== this.handles[i]) {
      await this.session.cmd("POST", "/window", { handle: this.handles[i] });
      this.current = this.handles[i];
    }
  }

  /** Opens tab number `this.handles.length` on the page with `query`, waits for the
   * package to load, and (with `connect`) calls connect() in it. */
  async open(query, { connect }) {
    this.original ??= await this.session.cmd("GET", "/window");
    const { handle } = await this.session.cmd("POST", "/window/new", { type: "tab" });
    this.handles.push(handle);
    const i = this.handles.length - 1;
    await this.focus(i);
    await this.session.navigate(`${this.server.url}/?${new URLSearchParams(query)}`).catch((error) => {
      error.message = `tab ${i + 1} did not load: ${error.message}`;
      throw error;
    });
    const s = await waitFor(`tab ${i + 1} to load the package`, async () => {
      const s = await this.snapshot(i);
      return s && s.state !== "loading" ? s : false;
    });
    if (s.state !== "ready") throw new Error(`tab ${i + 1} failed: ${s.errors.join("\n")}`);
    if (connect) await this.connect(i);
    return i;
  }

  async connect(i) {
    await this.focus(i);
    await this.session.execute("window.__tabs.connect()");
  }

  async snapshot(i) {
    await this.focus(i);
    return this.session.execute("return window.__tabs && window.__tabs.snapshot ? window.__tabs.snapshot() : null");
  }

  async all() {
    const all = [];
    for (let i = 0; i < this.handles.length; i++) all.push(await this.snapshot(i));
    return all;
  }

  async send(i, clientMsgId) {
    await this.focus(i);
    return this.session.execute("return window.__tabs.send(arguments[0])", clientMsgId);
  }

  /** Waits until `check(snapshots)` holds for every tab's snapshot at once. */
  until(what, check, timeoutMs = 20000) {
    return waitFor(what, async () => {
      const all = await this.all();
      return check(all) ? all : false;
    }, { timeoutMs, intervalMs: 200 });
  }

  /** Closes tab `i` (its page and stream go with it). */
  async close(i) {
    await this.focus(i);
    await this.session.cmd("DELETE", "/window");
    this.current = null;
  }

  /** Closes every tab this test opened and still open, and focuses the session's own
   * window again. */
  async closeAll() {
    const open = await this.session.cmd("GET", "/window/handles").catch(() => []);
    for (const handle of open) {
      if (!this.handles.includes(handle)) continue;
      await this.session.cmd("POST", "/window", { handle }).catch(() => {});
      await this.session.cmd("DELETE", "/window").catch(() => {});
    }
    if (this.original) await this.session.cmd("POST", "/window", { handle: this.original }).catch(() => {});
    this.current = null;
  }
}

/** Runs `body(tabs, server)` against a fresh reference server (its own origin, so no
 * other test's locks, channels or connections) serving the staged page; whatever
 * happens, every tab it opened is closed. A failure leaves
 * test-results/e2e-<browser>-tabs-<name>-failure.png and every tab's records. */
async function tabsScenario(session, name, body) {
  const dir = stageTabs(session.browser);
  const server = await launchServer(BINARY, [
    "--static-dir", dir, "--heartbeat-ms", "2000", "--sse-retry-ms", "500",
  ]);
  const tabs = new Tabs(session, server);
  // A page that cannot load (no connection of the origin left) fails its navigation
  // within PAGE_LOAD_MS instead of the session's default (300 s).
  const timeouts = await session.cmd("GET", "/timeouts");
  await session.cmd("POST", "/timeouts", { pageLoad: PAGE_LOAD_MS });
  await withServer(
    session,
    server,
    async () => {
      try {
        await body(tabs, server);
      } catch (error) {
        error.message += `\ntabs' records: ${await tabs.all().then(brief, (e) => `(none: ${e.message})`)}`;
        throw error;
      } finally {
        await tabs.closeAll();
        await session.cmd("POST", "/timeouts", { pageLoad: timeouts.pageLoad }).catch(() => {});
      }
      rmSync(dir, { recursive: true, force: true });
    },
    async (notes) => {
      notes.push(`screenshot: ${await saveScreenshot(session, `e2e-${session.browser}-tabs-${name}-failure`)}`);
      notes.push(`server state: ${JSON.stringify(await server.get("state"))}`);
      notes.push(`server log: ${JSON.stringify((await server.log()).posts)}`);
    },
  );
}

const welcomed = (s) => s.streams.some((st) => st.welcome);
const opened = (s) => s.notices.filter((n) => n.type === "_open").length;
const brief = (all) =>
  JSON.stringify(all.map((s, i) => !s ? { tab: i + 1, loaded: false } : ({
    tab: i + 1, connected: s.connected, connectionId: s.connectionId, streams: s.streams,
    notices: s.notices.map((n) => n.type), reports: s.reports, events: s.events.length, warnings: s.warnings, errors: s.errors,
  })));

export function tabsTests(browser, getSession) {
  test(`tabs, without sharing: of ${TABS} tabs of one origin over HTTP/1.1 the first ${PER_ORIGIN} get their welcome and the 7th and 8th none (the browser's limit of ${PER_ORIGIN} connections per origin is real here); closing one of the first ${PER_ORIGIN} lets a waiting one through`, { timeout: TIMEOUT_MS }, () =>
    tabsScenario(getSession(), "unshared", async (tabs, server) => {
      const session = `unshared-${browser}`;
      // Every page is loaded first (loading takes connections of the origin too), then
      // the tabs connect one by one, each once the one before it is welcomed.
      for (let i = 0; i < TABS; i++) await tabs.open({ session, share: "0" }, { connect: false });
      for (let i = 0; i < PER_ORIGIN; i++) {
        await tabs.connect(i);
        await waitFor(`tab ${i + 1} to be welcomed`, async () => {
          const s = await tabs.snapshot(i);
          return s.connected && welcomed(s) && opened(s) === 1;
        });
      }
      await tabs.connect(PER_ORIGIN);
      await tabs.connect(PER_ORIGIN + 1);
      await pause(NO_WELCOME_MS);
      let all = await tabs.all();
      const first = all.slice(0, PER_ORIGIN);
      const beyond = all.slice(PER_ORIGIN);
      for (const [i, s] of first.entries()) {
        assert.ok(s.connected && s.connectionId, `tab ${i + 1} connected: ${brief(all)}`);
        assert.equal(s.streams.length, 1, `tab ${i + 1}: one stream of its own`);
        assert.deepEqual(s.warnings, [], "no fallback warning: sharing is off");
      }
      assert.equal(new Set(first.map((s) => s.connectionId)).size, PER_ORIGIN, "a connection per tab");
      for (const [j, s] of beyond.entries()) {
        const n = PER_ORIGIN + j + 1;
        // The package may give a stream that never answers up and open another: still
        // none welcomed.
        assert.ok(s.streams.length >= 1, `tab ${n} asked for its stream: ${brief(all)}`);
        assert.equal(welcomed(s), false, `tab ${n} got no welcome: ${brief(all)}`);
        assert.equal(opened(s), 0, `tab ${n}: no _open`);
        assert.equal(s.connected, false, `tab ${n} not connected`);
      }
      const state = await server.get("state");
      assert.equal(state.openStreams, PER_ORIGIN, `the server holds ${PER_ORIGIN} streams: ${JSON.stringify(state)}`);

      // The 7th and 8th were waiting, not broken: one slot freed, one of them gets in.
      await tabs.close(0);
      all = await waitFor("a waiting tab to be welcomed once tab 1 closed", async () => {
        const rest = [await tabs.snapshot(PER_ORIGIN), await tabs.snapshot(PER_ORIGIN + 1)];
        return rest.some((s) => s.connected && welcomed(s)) ? rest : false;
      }, { timeoutMs: 20000, intervalMs: 200 });
      console.log(`# ${browser} tabs unshared: after tab 1 closed, tabs 7, 8 connected: ${all.map((s) => s.connected)}`);
    }),
  );

  test(`tabs, shared (shareAcrossTabs): ${TABS} tabs all get _open on one connection and the server holds one stream; each tab's send is accepted once and reported delivered in that tab; every event of the watched session reaches every tab once`, { timeout: TIMEOUT_MS }, () =>
    tabsScenario(getSession(), "shared", async (tabs, server) => {
      const session = `shared-${browser}`;
      for (let i = 0; i < TABS; i++) await tabs.open({ session, share: "1" }, { connect: true });
      let all = await tabs.until(`all ${TABS} tabs to be connected`, (all) =>
        all.every((s) => s.connected && s.connectionId && opened(s) >= 1),
      ).catch(async (error) => {
        error.message += `\ntabs: ${brief(await tabs.all())}`;
        throw error;
      });
      const connectionId = all[0].connectionId;
      for (const [i, s] of all.entries()) {
        assert.equal(s.connectionId, connectionId, `tab ${i + 1} on the shared connection: ${brief(all)}`);
        assert.equal(opened(s), 1, `tab ${i + 1}: _open once: ${brief(all)}`);
        assert.deepEqual(s.warnings, [], `tab ${i + 1}: no fallback warning`);
      }
      assert.equal(all.reduce((n, s) => n + s.streams.length, 0), 1, `one tab opened a stream: ${brief(all)}`);
      const state = await server.get("state");
      assert.equal(state.openStreams, 1, `the server holds one stream: ${JSON.stringify(state)}`);
      assert.equal(state.connections, 1, "and knows one connection");

      // Each tab sends one message.
      const ids = all.map((_, i) => `tab${i + 1}`);
      for (const [i, id] of ids.entries()) assert.equal(await tabs.send(i, id), true, `send() in tab ${i + 1}`);
      all = await tabs.until("every tab's send to be reported and every agent reply done in every tab", (all) =>
        all.every((s, i) =>
          s.reports.some((r) => r.clientMsgId === ids[i]) &&
          ids.every((id) => s.events.some((e) => e.type === "message_done" && e.clientMsgId === id)),
        ),
      ).catch(async (error) => {
        error.message += `\ntabs: ${brief(await tabs.all())}`;
        throw error;
      });
      assert.deepEqual([...(await server.accepted(session)).accepted].sort(), [...ids].sort(), "each send accepted once");
      for (const [i, s] of all.entries()) {
        assert.deepEqual(s.reports, [{ clientMsgId: ids[i], status: "delivered", reason: null }], `tab ${i + 1}: its own send reported delivered, once, and nothing else`);
      }
      const sends = (await server.log()).posts.filter((p) => p.endpoint === "send");
      assert.deepEqual(sends.map((p) => [p.status, p.connectionId]), ids.map(() => [200, connectionId]), "every send POSTed once, with the shared connection id");

      // More events of the watched session, from the server's side.
      const { lastSeq } = await server.control("emit", { sessionId: session, count: 3 });
      all = await tabs.until(`every tab to have seq ${lastSeq} of ${session}`, (all) =>
        all.every((s) => s.events.some((e) => e.sessionId === session && e.seq === lastSeq)),
      );
      // Quiet: nothing more comes; then every tab has each event of the session once.
      await pause(500);
      all = await tabs.all();
      const every = Array.from({ length: lastSeq }, (_, k) => k + 1);
      for (const [i, s] of all.entries()) {
        const seqs = s.events.filter((e) => e.sessionId === session).map((e) => e.seq);
        assert.deepEqual(seqs, every, `tab ${i + 1} saw every event of ${session} once, in order`);
      }
      const end = await server.get("state");
      assert.equal(end.openStreams, 1, "still one stream");
      console.log(`# ${browser} tabs shared: ${TABS} tabs on ${connectionId}, ${lastSeq} events each; server streams opened ${end.streamsOpened}`);
    }),
  );

  test("tabs, the demo's share switch: two tabs of one chat show one leader and one follower over one stream; when the leader closes, the follower leads", { timeout: TIMEOUT_MS }, async () => {
    const session = getSession();
    const server = await startServer();
    const original = await session.cmd("GET", "/window");
    const handles = [];
    const role = async (handle) => {
      await session.cmd("POST", "/window", { handle });
      return session.execute("return window.__demo ? window.__demo.snapshot().role : null");
    };
    const roles = async () => {
      const all = [];
      for (const handle of handles) all.push(await role(handle));
      return all;
    };
    try {
      for (let i = 0; i < 2; i++) {
        const { handle } = await session.cmd("POST", "/window/new", { type: "tab" });
        handles.push(handle);
        await session.cmd("POST", "/window", { handle });
        await session.navigate(`${server.url}/?share=1&session=demo-tabs-${browser}`);
      }
      const both = await waitFor("one leader and one follower", async () => {
        const all = await roles();
        return [...all].sort().join() === "follower,leader" ? all : false;
      });
      const state = await server.get("state");
      assert.equal(state.openStreams, 1, `one stream for both tabs: ${JSON.stringify(state)}`);
      const leader = handles[both.indexOf("leader")];
      const follower = handles[both.indexOf("follower")];
      await session.cmd("POST", "/window", { handle: leader });
      await session.cmd("DELETE", "/window");
      handles.splice(handles.indexOf(leader), 1);
      await waitFor("the follower to lead once the leader closed", async () => (await role(follower)) === "leader");
    } finally {
      for (const handle of handles) {
        await session.cmd("POST", "/window", { handle }).catch(() => {});
        await session.cmd("DELETE", "/window").catch(() => {});
      }
      await session.cmd("POST", "/window", { handle: original }).catch(() => {});
      await server.stop();
    }
  });
}
