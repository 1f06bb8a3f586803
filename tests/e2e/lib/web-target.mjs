// The package's `web` build loaded without a bundler: a copy of pkg/web beside a tiny
// page (tests/e2e/web-target/index.html), served by the reference server from a
// directory made for the run, and that page as the tests see it (`window.__web`).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, sep } from "node:path";
import { pageUrl, saveScreenshot, withServer } from "./demo.mjs";
import { waitFor } from "./processes.mjs";
import { BINARY, DEMO_FLAGS, launchServer } from "./server.mjs";

const ROOT = new URL("../../../", import.meta.url).pathname;
const PKG = join(ROOT, "pkg");
const PAGE = join(ROOT, "tests", "e2e", "web-target", "index.html");

/** target/e2e-web-target/<browser>/: index.html and pkg/ (a copy of pkg/web); returns
 * the directory, the package version and the staged .js/.wasm files (URL paths). */
export function stageWebTarget(browser) {
  if (!existsSync(join(PKG, "web", "sse_courier.js"))) throw new Error("pkg/web is missing: make pkg");
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: cargo build -p sse-courier-server`);
  const dir = join(ROOT, "target", "e2e-web-target", browser);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(PAGE, join(dir, "index.html"));
  // A copy, not a symlink: the scenario keeps the files it started with even if pkg/ is
  // rebuilt meanwhile.
  cpSync(join(PKG, "web"), join(dir, "pkg"), { recursive: true });
  const { version } = JSON.parse(readFileSync(join(PKG, "package.json"), "utf8"));
  const files = readdirSync(join(dir, "pkg"), { recursive: true })
    .filter((f) => /\.(js|wasm)$/.test(f))
    .map((f) => `pkg/${f.split(sep).join("/")}`)
    .sort();
  return { dir, version, files };
}

export class WebTargetPage {
  constructor(session, server) {
    this.session = session;
    this.server = server;
  }

  /** Opens the page and waits for init() and the Connection; throws the page's errors. */
  async open(query = {}) {
    await this.session.navigate(pageUrl(this.server, query));
    const state = await waitFor("the page to load the web build and init() it", async () => {
      const s = await this.state();
      return s && s.state !== "loading" ? s : false;
    });
    if (state.state !== "ready") throw new Error(`the page did not load the package: ${state.errors.join("\n")}`);
    return state;
  }

  /** window.__web without the Connection object. */
  state() {
    return this.session.execute(
      `const w = window.__web;
       if (!w) return null;
       const { conn, ...rest } = w;
       return { ...rest, connected: conn ? conn.isConnected() : null, connectionId: conn ? conn.getConnectionId() : null,
                pending: conn ? conn.pendingCount : null, inFlight: conn ? conn.inFlightCount : null };`,
    );
  }

  async waitConnected(what = "the connection's welcome (isConnected())", timeoutMs = 15000) {
    return waitFor(what, async () => {
      const s = await this.state();
      return s.connected && s.connectionId ? s : false;
    }, { timeoutMs });
  }

  /** conn.send(msg) in the page; returns its boolean. */
  send(msg) {
    return this.session.execute("return window.__web.conn.send(arguments[0])", msg);
  }
}

/**
 * Runs `body(page, server, staged)` against a fresh reference server serving a staged
 * copy of the web build; the server is stopped whatever happens. A failure leaves
 * test-results/e2e-<browser>-web-target-failure.png, the page's state in the error
 * and the staged directory; a pass removes it.
 */
export async function webTargetScenario(session, body) {
  const staged = stageWebTarget(session.browser);
  const server = await launchServer(BINARY, ["--static-dir", staged.dir, ...DEMO_FLAGS]);
  const page = new WebTargetPage(session, server);
  await withServer(
    session,
    server,
    async () => {
      await body(page, server, staged);
      rmSync(staged.dir, { recursive: true, force: true });
    },
    async (notes) => {
      notes.push(`staged page and package: ${staged.dir}`);
      notes.push(`screenshot: ${await saveScreenshot(session, `e2e-${session.browser}-web-target-failure`)}`);
      const s = await page.state();
      if (s) s.events = s.events?.slice(-20);
      notes.push(`page state (last 20 events): ${JSON.stringify(s)}`);
    },
  );
}
