// The page lifecycle page (tests/e2e/lifecycle/index.html) as the tests see it:
// staged with the package's default entry (pkg/index.js, the wasm embedded) in
// target/e2e-lifecycle/<browser>/, served by its own reference server, read through
// window.__life; and the means each browser has to hide a page and show it again.
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pageUrl, saveScreenshot, withServer } from "./demo.mjs";
import { waitFor } from "./processes.mjs";
import { BINARY, launchServer } from "./server.mjs";

const ROOT = new URL("../../../", import.meta.url).pathname;
const PAGES = join(ROOT, "tests", "e2e", "lifecycle");

/** The browser's own retry of a dropped stream waits this long (the welcome's SSE
 * `retry:`), so a stream reopened within seconds was reopened by the package. */
export const NATIVE_RETRY_MS = 60000;

export function stageLifecycle(browser) {
  if (!existsSync(join(ROOT, "pkg", "index.js"))) throw new Error("pkg/index.js is missing: make pkg");
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: cargo build -p sse-courier-server`);
  const dir = join(ROOT, "target", "e2e-lifecycle", browser);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of ["index.html", "away.html"]) cpSync(join(PAGES, file), join(dir, file));
  cpSync(join(ROOT, "pkg", "index.js"), join(dir, "sse-courier.js"));
  return dir;
}

export class LifecyclePage {
  constructor(session, server) {
    this.session = session;
    this.server = server;
  }

  /** Loads the page in chat session `sessionId`, with the other `query` parameters. */
  async open(sessionId, query = {}) {
    this.sessionId = sessionId;
    await this.session.navigate(pageUrl(this.server, { session: sessionId, ...query }));
    return this.ready("the lifecycle page to load the package");
  }

  /** Waits for window.__life to be ready (after a load or a restore); its snapshot. */
  async ready(what) {
    const s = await waitFor(what, async () => {
      const s = await this.snapshot();
      return s && s.state !== "loading" ? s : false;
    });
    if (s.state !== "ready") throw new Error(`the lifecycle page failed: ${s.errors.join("\n")}`);
    return s;
  }

  snapshot() {
    return this.session.execute("return window.__life && window.__life.snapshot ? window.__life.snapshot() : null");
  }

  until(what, check, timeoutMs = 15000) {
    return waitFor(what, async () => {
      const s = await this.snapshot();
      return s && check(s) ? s : false;
    }, { timeoutMs });
  }

  waitConnected(what = "the page to be connected") {
    return this.until(what, (s) => s.connected && s.connectionId);
  }

  send(clientMsgId) {
    return this.session.execute("return window.__life.send(arguments[0])", clientMsgId);
  }

  /** Sends and waits for its delivered report. */
  /** Sends, then waits for the delivered report and for the page to track its session
   * (from the agent's reply events, which may come after the report): a suspend carries
   * only tracked sessions, and sends nothing when there are none. */
  async sendDelivered(clientMsgId) {
    if (!(await this.send(clientMsgId))) throw new Error(`send(${clientMsgId}) returned false`);
    return this.until(
      `${clientMsgId} to be reported and session ${this.sessionId} tracked`,
      (s) => s.reports.some((r) => r.clientMsgId === clientMsgId) && s.tracked.includes(this.sessionId),
    );
  }

  /** Leaves for away.html (same origin), so the page may go into the bfcache. */
  async leave() {
    await this.session.navigate(`${this.server.url}/away.html`);
    await waitFor("away.html", () => this.session.execute("return window.__away === true"));
  }

  /** History back to the page; its snapshot once it runs again (restored or reloaded). */
  async back() {
    await this.session.cmd("POST", "/back", {});
    return this.ready("the page after going back");
  }
}

/**
 * How each browser hides the page and shows it again, driven over WebDriver.
 * Chromium, Firefox: a new tab over it (New Window, type tab, switched to; closed and
 * the page's tab switched back to). WebKit: MiniBrowser keeps showing a page under a new
 * tab or window (probed: no visibilitychange), so the window is minimized (Minimize
 * Window, GTK iconify) and shown again by Set Window Rect.
 */
export function visibilitySwitch(session, browser) {
  if (browser === "webkit") {
    return {
      how: "Minimize Window, then Set Window Rect",
      hide: () => session.cmd("POST", "/window/minimize", {}),
      show: () => session.setWindowSize(1600, 1000),
    };
  }
  let page;
  return {
    how: "a new tab over it (New Window type tab), then closed",
    async hide() {
      page = await session.cmd("GET", "/window");
      const { handle } = await session.cmd("POST", "/window/new", { type: "tab" });
      await session.cmd("POST", "/window", { handle });
    },
    async show() {
      await session.cmd("DELETE", "/window");
      await session.cmd("POST", "/window", { handle: page });
    },
  };
}

/** Closes every window but the first and switches to it (a failed test may leave a tab). */
export async function closeOtherWindows(session) {
  const handles = await session.cmd("GET", "/window/handles").catch(() => []);
  for (const handle of handles.slice(1)) {
    await session.cmd("POST", "/window", { handle }).catch(() => {});
    await session.cmd("DELETE", "/window").catch(() => {});
  }
  if (handles.length) await session.cmd("POST", "/window", { handle: handles[0] }).catch(() => {});
}

/**
 * Runs `body(page, server)` against a fresh reference server serving the staged
 * lifecycle page, whose welcome sets the browser's own stream retry to `retryMs`
 * (default NATIVE_RETRY_MS). A failure leaves
 * test-results/e2e-<browser>-lifecycle-<name>-failure.png and the page's records.
 */
export async function lifecycleScenario(session, name, body, { retryMs = NATIVE_RETRY_MS } = {}) {
  const dir = stageLifecycle(session.browser);
  const server = await launchServer(BINARY, [
    "--static-dir", dir, "--heartbeat-ms", "2000", "--sse-retry-ms", String(retryMs),
  ]);
  const page = new LifecyclePage(session, server);
  await withServer(
    session,
    server,
    async () => {
      try {
        await body(page, server);
      } finally {
        // Whatever window the test left focused, end on the page's, and stop its
        // connection: a page kept in the bfcache keeps its stream open (Chromium).
        await closeOtherWindows(session);
        await session.execute("window.__stop?.()").catch(() => {});
      }
      rmSync(dir, { recursive: true, force: true });
    },
    async (notes) => {
      notes.push(`screenshot: ${await saveScreenshot(session, `e2e-${session.browser}-lifecycle-${name}-failure`)}`);
      notes.push(`page records: ${JSON.stringify(await page.snapshot())}`);
      notes.push(`server log: ${JSON.stringify((await server.log()).posts)}`);
    },
  );
}
