// The demo page as the tests see it: what `window.__demo` and the data attributes
// expose, read through WebDriver; and `scenario()`, which gives each test its own
// reference server and leaves a screenshot and the page's timeline when it fails.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./processes.mjs";
import { startServer } from "./server.mjs";

const ROOT = new URL("../../../", import.meta.url).pathname;
export const RESULTS = join(ROOT, "test-results");

export class DemoPage {
  constructor(session, server) {
    this.session = session;
    this.server = server;
  }

  /** Loads the demo from the server, or from `origin` (a relay in front of it). */
  async open(query = {}, origin = this.server.url) {
    await this.session.navigate(pageUrl({ url: origin }, query));
    await waitFor("the demo page to load the package", () =>
      this.session.execute("return window.__demo ? window.__demo.ready === true : false"),
    );
    this.sessionId = await this.session.execute("return window.__demo.sessionId");
    return this;
  }

  snapshot() {
    return this.session.execute("return window.__demo.snapshot()");
  }

  async waitConnected(what = "the page to be connected", timeoutMs = 15000) {
    return waitFor(
      what,
      async () => {
        const s = await this.snapshot();
        return s.state === "connected" && s.connectionId ? s : false;
      },
      { timeoutMs },
    );
  }

  /** Sends through the page's API; returns the clientMsgId (throws when refused). */
  async send(text) {
    const { clientMsgId, accepted } = await this.session.execute("return window.__demo.send(arguments[0])", text);
    if (!accepted) throw new Error(`send refused: ${text}`);
    return clientMsgId;
  }

  /** Sends as a user does: types into the composer and presses Send. */
  async typeAndSend(text) {
    const before = await this.session.execute("return window.__demo.sent.length");
    await this.session.type("#text", text);
    await this.session.click("#composer button[type=submit]");
    const sent = await this.session.execute("return window.__demo.sent");
    if (sent.length !== before + 1) throw new Error(`the composer did not send "${text}"`);
    return sent[sent.length - 1];
  }

  sent() {
    return this.session.execute("return window.__demo.sent.slice()");
  }

  fates() {
    return this.session.execute("return window.__demo.fates");
  }

  /** The user bubbles on screen for `clientMsgId`, as their data attributes
   * (`restored`: read back from the persisted outbox, not sent by this page). */
  bubbles(clientMsgId) {
    return this.session.execute(
      `return Array.from(document.querySelectorAll("#chat li.user"))
         .filter((li) => li.dataset.clientMsgId === arguments[0])
         .map((li) => ({ fate: li.dataset.fate, echoed: li.dataset.echoed === "true", restored: li.dataset.restored === "true" }))`,
      clientMsgId,
    );
  }

  /** With persist on: the keys (clientMsgIds) the outbox's store holds now, sorted. */
  async stored() {
    return (await this.session.execute("return window.__demo.stored()")).sort();
  }

  /** The package's warnings (`console.warn("[sse-courier] ...")`) the page saw. */
  warnings() {
    return this.session.execute("return window.__demo.warnings.slice()");
  }

  /** Every message sent or restored has a report and nothing is pending or in flight. */
  async waitAllReported(timeoutMs = 30000) {
    return waitFor(
      "every message's fate to be reported",
      async () => {
        const s = await this.snapshot();
        return s.reported === s.sent + s.restored && s.pending === 0 && s.inFlight === 0 ? s : false;
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  timelineTail(n = 40) {
    return this.session.execute(
      "return window.__demo ? window.__demo.timeline.slice(-arguments[0]).map((e) => `${e.t} ${e.kind} ${e.text}`) : []",
      n,
    );
  }

  screenshot(name) {
    return saveScreenshot(this.session, name);
  }
}

/** The server's page URL with `query` as its search string. */
export function pageUrl(server, query = {}) {
  const search = new URLSearchParams(query).toString();
  return `${server.url}/${search ? `?${search}` : ""}`;
}

/** Saves the session's screenshot as test-results/<name>.png; returns its path. */
export async function saveScreenshot(session, name) {
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, `${name}.png`);
  writeFileSync(path, await session.screenshot());
  return path;
}

/**
 * Runs `body()`; when it throws, appends to its error the notes `describe(notes)`
 * pushes (and why it stopped, if it throws too). Whatever happens, the page is left
 * before the server is stopped, so its stream does not spin on errors.
 */
export async function withServer(session, server, body, describe) {
  try {
    return await body();
  } catch (error) {
    const notes = [];
    try {
      await describe(notes);
    } catch (noteError) {
      notes.push(`(no page state: ${noteError.message})`);
    }
    error.message += `\n${notes.join("\n")}`;
    throw error;
  } finally {
    await session.navigate("about:blank").catch(() => {});
    await server.stop();
  }
}

/**
 * Runs `body(page, server)` against a fresh reference server serving the demo, in
 * the browser `session`; the server is stopped whatever happens. A failure leaves
 * test-results/e2e-<browser>-<name>-failure.png and the page's recent timeline.
 */
export async function scenario(session, name, body, { serverFlags = [] } = {}) {
  const server = await startServer(serverFlags);
  const page = new DemoPage(session, server);
  await withServer(session, server, () => body(page, server), async (notes) => {
    notes.push(`screenshot: ${await page.screenshot(`e2e-${session.browser}-${name}-failure`)}`);
    notes.push("page timeline (ms kind text):", ...(await page.timelineTail()));
    notes.push(`snapshot: ${JSON.stringify(await page.snapshot())}`);
  });
}

/** The server faults the seeded runs fire, through the demo page's `control(path,
 * body)`, each drawing its parameters from `rand` (so a run is reproducible from its
 * seed): forget the page's connection, kill the streams, restart the server, fail the
 * next POSTs, delay answers by one of `delays` ms. A caller adds its own kinds after
 * these (key order is the draw order). */
export function serverFaults(page, control, rand, delays) {
  return {
    forget: async () => {
      const { connectionId } = await page.snapshot();
      if (connectionId) await control("forget", { connectionId }); // may be gone already: 404
    },
    "kill-streams": () => control("kill-streams"),
    restart: () => control("restart"),
    "fail-next": () =>
      control("fail-next", {
        count: rand.int(1, 3),
        status: rand.pick([500, 503, 429]),
        ...(rand.next() < 0.5 ? {} : { endpoint: rand.pick(["send", "reconnect"]) }),
      }),
    delay: () => control("delay", { ms: rand.pick(delays) }),
  };
}

/** A small seeded PRNG (mulberry32): the chaos run is reproducible from its seed. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
  };
}
