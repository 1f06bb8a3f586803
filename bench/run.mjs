// `make bench`: sizes of the built package, then the bench page (bench/index.html,
// bench/src/page.js) in headless Chromium and Firefox, and in WebKit (WebKitGTK's
// MiniBrowser, which has no headless mode: on an Xvfb display, see
// tests/e2e/lib/webdriver.mjs), against the reference server on 127.0.0.1, driven over
// WebDriver with the end-to-end tests' client (tests/e2e/lib/). Writes
// bench/results.json and the tables of BENCHMARKS.md.
//
// Each timed figure is the median of REPS runs; each ratio is taken per run (the
// package and its plain-JS baseline run one after the other in the same page, their
// order alternating) and the median of those ratios is reported. Timings are
// reported, never asserted: this machine's cores are shared and the numbers are noisy.
//
//   node bench/run.mjs                  everything
//   BENCH_BROWSERS=firefox node ...     one browser
//   BENCH_REPS=3 node ...               fewer runs
//   BENCH_INBOUND_EVENTS=50000 ...      events per inbound run (default 100,000)
//   BENCH_DISPATCH_REPS=30 ...          runs of the listener-alone group (default 3 × REPS)
//   BENCH_MEMORY_MESSAGES=20000 ...     more messages in the memory run
//   BENCH_TABS_WINDOW=window node ...   the tabs group's pages in new windows, not tabs
//   BENCH_ONLY=memory node ...          some benchmarks only (inbound, inboundDispatch,
//                                       outbound, restore, recovery, deadStream, memory,
//                                       tabs); prints JSON, writes nothing (merge it into
//                                       results.json: node bench/report.mjs --merge FILE)
//   BENCH_BASELINE=<git ref> ...        before/after (bench/baseline.mjs): that ref's build
//                                       as one more variant, "baseline", of the inbound and
//                                       outbound groups, and its sizes beside this tree's;
//                                       bench/build.mjs (make bench) builds and bundles it
//   BENCH_BASELINE_PKG=<dir> ...        the same with an already built package directory
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { waitFor } from "../tests/e2e/lib/processes.mjs";
import { launchServer } from "../tests/e2e/lib/server.mjs";
import { openBrowser } from "../tests/e2e/lib/webdriver.mjs";
import { baseline, baselineRecord } from "./baseline.mjs";
import { writeReport } from "./report.mjs";
import { sizes } from "./size.mjs";

const ROOT = new URL("../", import.meta.url).pathname;
const BENCH = join(ROOT, "bench");
const SERVER = process.env.BENCH_SERVER ?? join(ROOT, "target", "bench-server", "sse-courier-server");
const BROWSERS = (process.env.BENCH_BROWSERS ?? "chromium,firefox,webkit").split(",").filter(Boolean);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const ONLY = process.env.BENCH_ONLY?.split(","); // e.g. "memory" (debugging; no report written)
const only = (name) => !ONLY || ONLY.includes(name);
// The baseline build, or null (bench/baseline.mjs; bench/build.mjs built and bundled it).
const BASELINE = baseline(ROOT, { build: false });


/** What each benchmark does; recorded in results.json. */
const PLAN = {
  reps: REPS,
  server: ["--no-agent", "--heartbeat-ms", "250", "--sse-retry-ms", "500"],
  // count: events per timed run, emitted in back-to-back calls of `batch` (the server's
  // cap per call); each variant first runs once untimed with `warmup` events.
  inbound: { count: Number(process.env.BENCH_INBOUND_EVENTS ?? 100000), batch: 10000, ahead: Number(process.env.BENCH_INBOUND_AHEAD ?? 20000), bytes: 100, warmup: 10000 },
  // The listener alone: `count` prebuilt `message` events dispatched on the stream's
  // EventSource (no network), after one untimed run of `warmup` events per variant.
  // `reps`: runs per variant, three times the others' by default: a run takes a
  // fraction of a second, and single runs scatter widely (0.5-1.4 per-run ratios
  // with 5 runs on the shared 2-core machine), so the median needs more of them.
  inboundDispatch: {
    count: Number(process.env.BENCH_INBOUND_EVENTS ?? 100000),
    bytes: 100,
    warmup: 10000,
    reps: Number(process.env.BENCH_DISPATCH_REPS ?? 3 * REPS),
  },
  outboundOrdered: { count: 200 },
  outboundConcurrent: { count: 500 },
  // The persisted outbox (issue 15): the `sse-courier/persist` entry with these
  // `persist.store`s, in the outbound groups beside it without persistence ("off"),
  // and restoring `count` stored messages at connect().
  persistStores: ["indexeddb", "local"],
  restore: { count: 100 },
  deadStream: { staleAfterMs: 1000 },
  memory: { messages: Number(process.env.BENCH_MEMORY_MESSAGES ?? 10000), cycles: 1000, batch: 500, warmup: { messages: 1000, cycles: 50 } },
  // One stream for all tabs (issue 16): pages of the `sse-courier/tabs` entry in
  // `tabs` tabs of one session (`windowType`: WebDriver's New Window type), sharing.
  // latency: `count` events emitted one by one by the driver, one every `intervalMs`
  //   (a modest rate: latency, not saturation), `reps` runs with each tab focused in
  //   turn (leader, follower). burst: `count` events emitted as in `inbound` by the
  //   leader's page, `reps` times each of: a lone tab (no sharing), the shared pair
  //   focused on the leader, on the follower. failover: `reps` closes of the leader.
  //   `more`: the same latency and burst runs with that many tabs (focus on the leader).
  tabs: {
    windowType: process.env.BENCH_TABS_WINDOW ?? "tab",
    tabs: 2,
    latency: { count: 1000, intervalMs: 5, reps: Math.max(1, Math.ceil(REPS / 2)) },
    burst: { count: 50000, batch: 10000, ahead: 20000, bytes: 100, reps: Math.max(1, Math.ceil(REPS / 2)) },
    failover: { reps: REPS },
    more: { tabs: 4, reps: 1 },
    // The burst in one tab: lone (no sharing) and a sharing leader with no follower,
    // which still relays every event: the cost of relaying without a second page.
    alone: { reps: Math.max(1, Math.ceil(REPS / 2)) },
    // BroadcastChannel.postMessage alone (bench/src/page.js, tabsPostCost).
    postCost: { count: 20000, batch: 100, bytes: 100, reps: 3 },
  },
};

/** The outbound variants (bench/src/page.js): the default build (and the baseline
 * build beside it, when there is one), the default build with `receipts` (issue 22),
 * bare fetch, and the persist entry without and with persistence. */
const OUTBOUND_VARIANTS = ["courier", ...(BASELINE ? ["baseline"] : []), "receipts", "bare", "off", ...PLAN.persistStores];

const median = (values) => {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const log = (...args) => console.error("bench:", ...args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mean = (values) => {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : null;
};
/** The `q`-quantile (0-1) of `values`, nearest rank. */
const quantile = (values, q) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : null;
};

// ---- machine ---------------------------------------------------------------------

function firstLine(command, args) {
  try {
    return execFileSync(command, args, { encoding: "utf8", timeout: 20000, stdio: ["ignore", "pipe", "ignore"] })
      .split("\n")[0]
      .trim();
  } catch {
    return null;
  }
}

function machine() {
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
  return {
    nproc: Number(firstLine("nproc", [])) || cpus().length,
    cpu: cpus()[0]?.model ?? null,
    memoryBytes: memKb ? memKb * 1024 : totalmem(),
    os: firstLine("uname", ["-srm"]),
    node: process.version,
    server: `sse-courier-server (${SERVER.includes("bench-server") ? "optimised bench-server profile" : SERVER}) ${PLAN.server.join(" ")}`,
  };
}

const BROWSER_BINARIES = {
  chromium: () => firstLine(process.env.CHROMIUM ?? "/usr/bin/chromium", ["--version"]),
  firefox: () => firstLine(process.env.FIREFOX ?? "/usr/bin/firefox-esr", ["--version"]),
  // MiniBrowser prints no version (it needs a display even for --version): the
  // library's Debian package version.
  webkit: () => {
    const version = firstLine("dpkg-query", ["-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"]);
    return version ? `WebKitGTK ${version.replace(/-.*$/, "")} MiniBrowser` : "WebKitGTK MiniBrowser";
  },
};

// ---- the server ------------------------------------------------------------------

async function startBenchServer() {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing (make bench builds it)`);
  if (!existsSync(join(BENCH, "out", "page.js"))) throw new Error("bench/out is missing: node bench/build.mjs");
  return launchServer(SERVER, ["--static-dir", BENCH, ...PLAN.server]);
}

// ---- one browser -----------------------------------------------------------------

/** Runs `variants` `reps` times, alternating their order; returns runs per variant. */
async function alternate(page, variants, reps = REPS) {
  const runs = Object.fromEntries(variants.map(([name]) => [name, []]));
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 ? [...variants].reverse() : variants;
    for (const [name, script, arg] of order) runs[name].push(await page(script, arg));
  }
  return runs;
}

/** Per-run differences `a - b` of `field`, with their median. */
function diffs(as, bs, field) {
  const each = as.map((a, i) => a[field] - bs[i][field]);
  return { each, median: median(each) };
}

/** Per-run ratios `a/b` of `field`, with their median. */
function ratios(as, bs, field) {
  const each = as.map((a, i) => a[field] / bs[i][field]);
  return { each, median: median(each) };
}

/** The baseline build's figures of a group whose runs are `runs` (rates in `field`):
 * its own, against bare (as the package's `ratio`), and the package against it. */
function baselineFigures(runs, field) {
  return {
    baseline: summary(runs.baseline, field),
    baselineRatio: ratios(runs.baseline, runs.bare, field),
    ratioToBaseline: ratios(runs.courier, runs.baseline, field),
  };
}

/** The before/after ratios of a group, for the log. */
const beforeAfter = (f) =>
  `Connection / bare ${f.ratio.median.toFixed(2)}, baseline / bare ${f.baselineRatio.median.toFixed(2)}, ` +
  `Connection / baseline ${f.ratioToBaseline.median.toFixed(2)}`;

function summary(runs, field) {
  return { median: median(runs.map((r) => r[field])), each: runs.map((r) => r[field]) };
}

// ---- one stream for all tabs (issue 16) -------------------------------------------

/**
 * The tabs group: bench pages of the `sse-courier/tabs` entry in several tabs of the
 * session (bench/src/page.js, section 6), one sharing channel per set of tabs, against
 * the browser's bench server. The session's own window is left aside and focused again
 * at the end. The driver arms a run in every tab, then focuses one tab and gathers
 * every tab's figures there: which tab is focused (visible) during a run is chosen,
 * and every tab reports its visibility.
 */
async function benchTabs(session, server, browser) {
  const plan = PLAN.tabs;
  const original = await session.cmd("GET", "/window");
  let current = original;
  const focus = async (handle) => {
    if (current !== handle) {
      await session.cmd("POST", "/window", { handle });
      current = handle;
    }
  };
  const call = async (handle, name, arg) => {
    await focus(handle);
    return session.execute(`return window.__bench.${name}(arguments[0])`, arg);
  };
  const open = new Set();
  let sets = 0;
  /** Opens `n` tabs sharing one fresh channel; the first leads, the others follow. */
  const openTabs = async (n, { lone = false } = {}) => {
    const share = `bench-${browser}-${Date.now().toString(36)}-${++sets}`;
    const handles = [];
    for (let i = 0; i < n; i++) {
      if (current === null) await focus(original); // a new window is opened from a live one
      const { handle } = await session.cmd("POST", "/window/new", { type: plan.windowType });
      open.add(handle);
      handles.push(handle);
      await focus(handle);
      await session.navigate(`${server.url}/index.html`);
      await waitFor("the bench page to load the package", () =>
        session.execute("return window.__bench ? window.__bench.ready === true : false"),
      );
      const state = await call(handle, "tabsConnect", { share, lone: lone && i === 0 });
      if (state.leader !== (i === 0)) throw new Error(`tab ${i + 1} of ${n}: leader ${state.leader}`);
    }
    return handles;
  };
  const closeTab = async (handle) => {
    await focus(handle);
    await session.cmd("DELETE", "/window");
    open.delete(handle);
    current = null;
  };
  let runs = 0;
  const runId = (kind) => `${kind}-${++runs}`;
  /** Arms `run` in each of `arms` ([handle, arg]), focuses `focused`, and gathers the
   * figures of every armed tab there; `during` runs meanwhile (the driver's emits). */
  const gather = async (run, arms, focused, during = async () => {}) => {
    for (const [handle, arg] of arms) await call(handle, "tabsArm", { run, ...arg });
    await focus(focused);
    const figures = session.execute("return window.__bench.tabsGather(arguments[0])", { run, expected: arms.length });
    await Promise.all([figures, during()]);
    return figures;
  };
  /** Every tab's visibility as it reported it, e.g. "leader visible, follower hidden". */
  const seen = (figures) =>
    figures.map((f) => `${f.role} ${f.armedAt.visibility}${f.doneAt.visibility !== f.armedAt.visibility ? `→${f.doneAt.visibility}` : ""}`).join(", ");

  const loadBefore = loadavg();
  const t0 = Date.now();
  try {
    // ---- latency and burst on one set of tabs, then on `more.tabs` tabs
    const latencyRuns = async (handles, focusOn, reps) => {
      const { count, intervalMs } = plan.latency;
      const out = [];
      for (let rep = 0; rep < reps; rep++) {
        for (const which of rep % 2 ? [...focusOn].reverse() : focusOn) {
          const sessionId = `lat-${browser}-${Date.now().toString(36)}-${rep}`;
          const arms = handles.map((h) => [h, { kind: "latency", sessionId, count }]);
          // The driver emits one event at a time, paced by wall-clock time; each
          // carries `sentAt`, the driver's clock just before its emit call.
          const emit = async () => {
            const start = performance.now();
            for (let i = 0; i < count; i++) {
              const wait = start + i * intervalMs - performance.now();
              if (wait > 0) await sleep(wait);
              await server.control("emit", { sessionId, fields: { sentAt: performance.timeOrigin + performance.now() } });
            }
          };
          const figures = await gather(runId("latency"), arms, handles[which === "leader" ? 0 : 1], emit);
          const leader = figures.find((f) => f.role === "leader");
          const followers = figures.filter((f) => f.role === "follower");
          // Follower minus leader per event. Each page's epochNow() (timeOrigin +
          // performance.now()) has its own origin, taken from the wall clock at load:
          // two pages' may disagree by a little (by whole ms in Firefox), so each
          // difference is corrected by the disagreement measured at arm and at the end
          // (each page's epochNow() - Date.now(), bench/src/page.js clockOffset).
          // Date.now() is one clock for every tab but moves in whole ms: the mean of
          // its differences (`wallMean`, unbiased however coarse) is the cross-check.
          const offset = (f) => (f.armedAt.clockOffsetMs + f.clockOffsetMs) / 2;
          const clockSkewMs = followers.map((f) => offset(f) - offset(leader));
          const added = followers.flatMap((f, k) => f.at.map((t, i) => t - leader.at[i] - clockSkewMs[k]));
          const wall = followers.flatMap((f) => f.wall.map((t, i) => t - leader.wall[i]));
          out.push({
            focus: which,
            tabs: handles.length,
            visibility: seen(figures),
            added,
            wall,
            addedMedian: median(added),
            addedP99: quantile(added, 0.99),
            addedMean: mean(added),
            wallMean: mean(wall),
            leaderFromEmit: leader.at.map((t, i) => t - leader.sentAt[i]),
            clockSkewMs,
          });
          log(`${browser}: tabs latency (${handles.length} tabs, ${which} focused; ${seen(figures)}): follower − leader median ${out.at(-1).addedMedian?.toFixed(2)} ms, p99 ${out.at(-1).addedP99?.toFixed(2)} ms, mean ${out.at(-1).addedMean?.toFixed(2)} ms (Date.now() mean ${out.at(-1).wallMean?.toFixed(2)} ms); clocks ${out.at(-1).clockSkewMs.map((x) => x.toFixed(2)).join("/")} ms apart`);
        }
      }
      return out;
    };
    const latencySummary = (runs) => {
      const byFocus = {};
      for (const r of runs) (byFocus[r.focus] ??= []).push(r);
      return Object.fromEntries(
        Object.entries(byFocus).map(([which, rs]) => {
          const added = rs.flatMap((r) => r.added);
          const wall = rs.flatMap((r) => r.wall);
          const fromEmit = rs.flatMap((r) => r.leaderFromEmit);
          return [
            which,
            {
              events: added.length,
              addedMedian: median(added),
              addedP99: quantile(added, 0.99),
              addedMax: Math.max(...added),
              addedMean: mean(added),
              wallMean: mean(wall),
              wallMedian: median(wall),
              runMedians: rs.map((r) => r.addedMedian),
              runP99s: rs.map((r) => r.addedP99),
              leaderFromEmitMedian: median(fromEmit),
              leaderFromEmitP99: quantile(fromEmit, 0.99),
              clockSkewMs: rs.flatMap((r) => r.clockSkewMs),
              visibility: [...new Set(rs.map((r) => r.visibility))],
            },
          ];
        }),
      );
    };
    const burstRuns = async (handles, variants, reps) => {
      const { count, batch, ahead, bytes } = plan.burst;
      const out = Object.fromEntries(variants.map((v) => [v, []]));
      for (let rep = 0; rep < reps; rep++) {
        for (const variant of rep % 2 ? [...variants].reverse() : variants) {
          const sessionId = `burst-${browser}-${Date.now().toString(36)}-${rep}`;
          const arg = { kind: "burst", sessionId, count, batch, ahead, bytes };
          // The leader's page emits (its stream is the one the server fills); armed
          // last, once every follower listens.
          const arms =
            variant === "lone"
              ? [[handles[0], { ...arg, lone: true, emitter: true }]]
              : [...handles.slice(1).map((h) => [h, arg]), [handles[0], { ...arg, emitter: true }]];
          const focused = variant === "followerFocused" ? handles[1] : handles[0];
          const figures = await gather(runId("burst"), arms, focused);
          const leader = figures.find((f) => f.role !== "follower");
          const followers = figures.filter((f) => f.role === "follower");
          out[variant].push({
            visibility: seen(figures),
            leader: leader.perSecond,
            leaderMs: leader.ms,
            followers: followers.map((f) => f.perSecond),
            // The slowest follower against the leader, and how long after the leader
            // its last event came (wall clock, the two pages' clocks).
            ratio: followers.length ? Math.min(...followers.map((f) => f.perSecond)) / leader.perSecond : null,
            endLagMs: followers.length ? Math.max(...followers.map((f) => f.lastAt - leader.lastAt)) : null,
            // Where the time went (bench/src/page.js, tabsCost): the leader's (or lone
            // tab's) stream handler and its relaying, a follower's channel handler.
            leaderCost: leader.cost,
            followerCost: followers[0]?.cost ?? null,
          });
          const r = out[variant].at(-1);
          log(`${browser}: tabs burst ${variant} (${seen(figures)}): ${Math.round(r.leader)} ev/s${r.ratio ? `, follower/leader ${r.ratio.toFixed(2)}, end lag ${r.endLagMs.toFixed(1)} ms` : ""}`);
        }
      }
      return out;
    };
    const burstSummary = (runs) => {
      const out = {};
      for (const [variant, rs] of Object.entries(runs)) {
        out[variant] = {
          leader: summary(rs, "leader"),
          ...(variant === "lone" ? {} : { follower: { median: median(rs.map((r) => Math.min(...r.followers))), each: rs.map((r) => r.followers) } }),
          ...(variant === "lone" ? {} : { ratio: summary(rs, "ratio"), endLagMs: summary(rs, "endLagMs") }),
          visibility: [...new Set(rs.map((r) => r.visibility))],
          runs: rs,
        };
      }
      // The leader (with its followers) against a lone tab, per rep.
      if (runs.lone && runs.leaderFocused) out.leaderToLone = ratios(runs.leaderFocused, runs.lone, "leader");
      return out;
    };

    log(`${browser}: tabs: ${plan.tabs} ${plan.windowType}s`);
    let handles = await openTabs(plan.tabs, { lone: true });
    const latency = await latencyRuns(handles, ["leader", "follower"], plan.latency.reps);
    const burst = await burstRuns(handles, ["lone", "leaderFocused", "followerFocused"], plan.burst.reps);
    // The relaying's unit cost: postMessage alone, in the leader's page, the follower
    // receiving (median of a few runs per shape).
    const postRuns = [];
    for (let rep = 0; rep < plan.postCost.reps; rep++) {
      postRuns.push(await call(handles[0], "tabsPostCost", { ...plan.postCost, reverse: rep % 2 === 1 }));
    }
    const postCost = Object.fromEntries(Object.keys(postRuns[0]).map((shape) => [shape, summary(postRuns, shape)]));
    log(`${browser}: tabs postMessage µs per event: ${Object.entries(postCost).map(([k, v]) => `${k} ${v.median.toFixed(1)}`).join(", ")}`);
    for (const h of handles) await closeTab(h);

    let alone = null;
    if (plan.alone?.reps) {
      log(`${browser}: tabs: 1 ${plan.windowType}, sharing with no follower`);
      handles = await openTabs(1, { lone: true });
      alone = burstSummary(await burstRuns(handles, ["lone", "leaderFocused"], plan.alone.reps));
      for (const h of handles) await closeTab(h);
    }

    const more = {};
    if (plan.more?.tabs) {
      log(`${browser}: tabs: ${plan.more.tabs} ${plan.windowType}s`);
      handles = await openTabs(plan.more.tabs);
      more.tabs = plan.more.tabs;
      more.latency = latencySummary(await latencyRuns(handles, ["leader"], plan.more.reps));
      more.burst = burstSummary(await burstRuns(handles, ["leaderFocused"], plan.more.reps));
      for (const h of handles) await closeTab(h);
    }

    // ---- failover: a fresh pair each time; the leader's tab is closed
    const failover = [];
    for (let rep = 0; rep < plan.failover.reps; rep++) {
      const [leader, follower] = await openTabs(2);
      const run = runId("failover");
      await call(follower, "tabsArm", { run, kind: "failover" });
      await focus(leader);
      const closeAt = performance.timeOrigin + performance.now();
      await closeTab(leader);
      const [f] = await call(follower, "tabsGather", { run, expected: 1, timeoutMs: 30000 });
      if (!f.leader) throw new Error("failover: the follower did not take the lead");
      const since = (at) => (at === null ? null : at - closeAt);
      failover.push({
        // From the driver's close command (the same machine's clock).
        leaderLeftMs: since(f.leaderLeftAt),
        streamOpenedMs: since(f.streamOpenedAt),
        welcomeMs: since(f.welcomeAt),
        openMs: since(f.openAt),
        // Page-side: from the leader's pagehide to the follower's _open.
        openAfterLeaderLeftMs: f.leaderLeftAt === null ? null : f.openAt - f.leaderLeftAt,
        visibility: `${f.armedAt.visibility}, ${f.visibilityAtOpen.visibility} at _open`,
      });
      log(`${browser}: tabs failover: _open ${failover.at(-1).openMs.toFixed(1)} ms after the close (stream opened ${failover.at(-1).streamOpenedMs?.toFixed(1)}, welcome ${failover.at(-1).welcomeMs?.toFixed(1)}; follower ${failover.at(-1).visibility})`);
      await closeTab(follower);
    }
    const range = (runs, field) => {
      const values = runs.map((r) => r[field]).filter((v) => Number.isFinite(v));
      return { median: median(values), min: Math.min(...values), max: Math.max(...values), each: runs.map((r) => r[field]) };
    };
    return {
      plan,
      windowType: plan.windowType,
      tabs: plan.tabs,
      date: new Date().toISOString(),
      loadavg: { before: loadBefore, after: loadavg() },
      latency: { ...latencySummary(latency), runs: latency.map(({ added, wall, leaderFromEmit, ...r }) => r) },
      burst: burstSummary(burst),
      postCost,
      alone,
      more,
      failover: {
        leaderLeft: range(failover, "leaderLeftMs"),
        streamOpened: range(failover, "streamOpenedMs"),
        welcome: range(failover, "welcomeMs"),
        open: range(failover, "openMs"),
        openAfterLeaderLeft: range(failover, "openAfterLeaderLeftMs"),
        visibility: [...new Set(failover.map((r) => r.visibility))],
        runs: failover,
      },
      seconds: Math.round((Date.now() - t0) / 1000),
    };
  } finally {
    for (const handle of open) {
      await session.cmd("POST", "/window", { handle }).catch(() => {});
      await session.cmd("DELETE", "/window").catch(() => {});
    }
    await session.cmd("POST", "/window", { handle: original }).catch(() => {});
  }
}

async function benchBrowser(browser) {
  const server = await startBenchServer();
  let session;
  try {
    session = await openBrowser(browser);
    await session.cmd("POST", "/timeouts", { script: 300000 });
    // Each benchmark group starts on a freshly loaded page: nothing one leaves behind
    // (unread POST responses, garbage) weighs on the next.
    const fresh = async () => {
      await session.navigate(`${server.url}/index.html`);
      await waitFor("the bench page to load the package", () =>
        session.execute("return window.__bench ? window.__bench.ready === true : false"),
      );
    };
    await fresh();
    const page = (name, arg) => session.execute(`return window.__bench.${name}(arguments[0])`, arg);
    const result = {
      version: BROWSER_BINARIES[browser](),
      userAgent: await session.execute("return navigator.userAgent"),
      // The smallest step of performance.now() seen in 50 ms: what every timed figure
      // is rounded to (about 1 ms in WebKit, whose runs are timed as in the others).
      timerResolutionMs: await session.execute(`
        const t0 = performance.now();
        let last = t0, step = Infinity;
        while (last - t0 < 50) {
          const t = performance.now();
          if (t > last) { step = Math.min(step, t - last); last = t; }
        }
        return step;`),
    };
    // The page must hold the baseline asked for (bench/out is built by bench/build.mjs,
    // which may have run with another one, or none).
    const held = await session.execute("return window.__bench.baseline ?? null");
    if (BASELINE && (held?.label !== BASELINE.label || held?.commit !== BASELINE.commit)) {
      throw new Error(`the bench page holds baseline ${held?.label ?? "none"}, not ${BASELINE.label}: node bench/build.mjs`);
    }
    if (BASELINE) result.baseline = { label: BASELINE.label, ref: BASELINE.ref, commit: BASELINE.commit };
    const t0 = Date.now();

    // The inbound variants of one page case (the baseline build's beside the package's
    // when there is one): an untimed run of each first (so no timed run pays for the
    // JIT's warm-up), then alternating timed runs.
    // The sustained case also runs "applied" (acknowledgeEvents, issue 23).
    const inboundVariants = ["courier", ...(BASELINE ? ["baseline"] : []), "bare", "raw"];
    const inboundCase = async (name, { warmup, reps = REPS, ...plan }, extra = []) => {
      const variants = [...inboundVariants, ...extra];
      for (const variant of variants) {
        await page(name, { variant, ...plan, count: Math.min(warmup, plan.count) });
      }
      const runs = await alternate(
        page,
        variants.map((variant) => [variant, name, { variant, ...plan }]),
        reps,
      );
      const figures = {
        courier: summary(runs.courier, "perSecond"),
        bare: summary(runs.bare, "perSecond"),
        raw: summary(runs.raw, "perSecond"),
        ratio: ratios(runs.courier, runs.bare, "perSecond"),
        ratioToRaw: ratios(runs.courier, runs.raw, "perSecond"),
        ...(runs.applied
          ? { applied: { ...summary(runs.applied, "perSecond"), ratioToCourier: ratios(runs.applied, runs.courier, "perSecond") } }
          : {}),
        ...(BASELINE ? baselineFigures(runs, "perSecond") : {}),
        runs,
      };
      if (BASELINE) log(`${browser}: ${name}: ${beforeAfter(figures)}`);
      return figures;
    };

    if (only("inbound")) {
      log(`${browser}: inbound`);
      await fresh();
      result.inbound = await inboundCase("inbound", PLAN.inbound, ["applied"]);
    }
    if (only("inboundDispatch")) {
      log(`${browser}: inbound, listener only (dispatched events)`);
      await fresh();
      result.inboundDispatch = await inboundCase("inboundDispatch", PLAN.inboundDispatch);
    }
    if (only("outbound")) {
    log(`${browser}: outbound`);
    await fresh();
    // The package (default build) and bare fetch, and the `sse-courier/persist` entry
    // without persistence ("off") and with it (one variant per store): all
    // alternating in one page, so every ratio compares runs a moment apart.
    const outboundMode = async (ordered, plan) => {
      const runs = await alternate(
        page,
        OUTBOUND_VARIANTS.map((variant) => [variant, "outbound", { variant, ordered, ...plan }]),
      );
      const figures = {
        courier: summary(runs.courier, "perSecond"),
        bare: summary(runs.bare, "perSecond"),
        ratio: ratios(runs.courier, runs.bare, "perSecond"),
        // Receipts (issue 22): each answer's body read and judged, against the same
        // build without.
        receipts: { ...summary(runs.receipts, "perSecond"), ratioToCourier: ratios(runs.receipts, runs.courier, "perSecond") },
        ...(BASELINE ? baselineFigures(runs, "perSecond") : {}),
      };
      if (BASELINE) log(`${browser}: outbound ${ordered ? "ordered" : "concurrent"}: ${beforeAfter(figures)}`);
      // Persisted outbox (issue 15): each store against the same entry without it,
      // and against bare fetch; "off" against bare fetch.
      figures.persist = {
        off: summary(runs.off, "perSecond"),
        offRatio: ratios(runs.off, runs.bare, "perSecond"),
        ...Object.fromEntries(
          PLAN.persistStores.map((store) => [
            store,
            {
              ...summary(runs[store], "perSecond"),
              ratioToOff: ratios(runs[store], runs.off, "perSecond"),
              ratioToBare: ratios(runs[store], runs.bare, "perSecond"),
            },
          ]),
        ),
      };
      return { figures, runs };
    };
    const ordered = await outboundMode(true, PLAN.outboundOrdered);
    const concurrent = await outboundMode(false, PLAN.outboundConcurrent);
    result.outbound = {
      ordered: { ...ordered.figures, runs: ordered.runs },
      concurrent: {
        ...concurrent.figures,
        // Whether the server happened to accept the concurrent sends in send order.
        courierInOrder: concurrent.runs.courier.filter((r) => r.inOrder).length,
        runs: concurrent.runs,
      },
    };

    }
    if (only("restore")) {
      log(`${browser}: restore`);
      await fresh();
      const variants = [...PLAN.persistStores, "fresh"];
      const runs = await alternate(
        page,
        variants.map((variant) => [variant, "restore", { variant, ...PLAN.restore }]),
      );
      result.restore = Object.fromEntries(
        variants.map((variant) => [
          variant,
          {
            open: summary(runs[variant], "openMs"),
            firstSent: summary(runs[variant], "firstSentMs"),
            resent: summary(runs[variant], "resentMs"),
            delivered: summary(runs[variant], "deliveredMs"),
            // Per run: the restore's extra time over the fresh sends.
            ...(variant === "fresh" ? {} : { resentOverFresh: diffs(runs[variant], runs.fresh, "resentMs") }),
            listedAtOpen: runs[variant].map((r) => r.listedAtOpen),
            runs: runs[variant],
          },
        ]),
      );
    }
    if (only("recovery")) {
    log(`${browser}: recovery`);
    await fresh();
    const recovery = [];
    for (let rep = 0; rep < REPS; rep++) recovery.push(await page("recovery"));
    const step = (name) => median(recovery.map((r) => r.steps[name]));
    const gap = (name) => median(recovery.map((r) => r.gapsMs[name]));
    result.recovery = {
      healthy: summary(recovery, "healthyMs"),
      stale: summary(recovery, "staleMs"),
      ratio: ratios(
        recovery.map((r) => ({ v: r.staleMs })),
        recovery.map((r) => ({ v: r.healthyMs })),
        "v",
      ),
      steps: Object.fromEntries(Object.keys(recovery[0].steps).map((k) => [k, step(k)])),
      gapsMs: Object.fromEntries(Object.keys(recovery[0].gapsMs).map((k) => [k, gap(k)])),
      streamsOpened: recovery.map((r) => r.streamsOpened),
      posts: recovery[0].posts,
      runs: recovery,
    };

    }
    if (only("deadStream")) {
    log(`${browser}: dead stream`);
    await fresh();
    const dead = [];
    for (let rep = 0; rep < REPS; rep++) dead.push(await page("deadStream", PLAN.deadStream));
    result.deadStream = {
      staleAfterMs: PLAN.deadStream.staleAfterMs,
      silence: summary(dead, "silenceMs"),
      afterForget: summary(dead, "detectAfterForgetMs"),
      reconnected: summary(dead, "reconnectedMs"),
      runs: dead,
    };

    }
    if (only("memory")) {
      log(`${browser}: memory`);
    await fresh();
      result.memory = await page("memory", PLAN.memory);
    }
    if (only("tabs")) {
      await fresh();
      await session.execute("return fetch('/api/test/reset', { method: 'POST' }).then(() => true)");
      result.tabs = await benchTabs(session, server, browser);
    }
    result.seconds = Math.round((Date.now() - t0) / 1000);
    return result;
  } catch (error) {
    // A new error: the one caught may have a read-only `message` (a DOMException).
    throw new Error(`${browser}: ${error?.message ?? error}\n--- server output (tail) ---\n${server.process.output().slice(-3000)}`, {
      cause: error,
    });
  } finally {
    await session?.navigate("about:blank").catch(() => {});
    await session?.close();
    await server.stop();
  }
}

// ---- main ------------------------------------------------------------------------

const started = Date.now();
const results = {
  date: new Date().toISOString(),
  machine: machine(),
  plan: PLAN,
  size: await sizes(ROOT, log),
  browsers: {},
};
const logSizes = (what, { default: defaultEntry, web, bundler }) =>
  log(
    `${what} (gzip -9): default entry ${defaultEntry.totalMinGzip} B (one module, the wasm embedded); ` +
      `web ${web.totalMinGzip} B (wasm ${web.wasmGzip} + JS ${web.jsMinGzip}); ` +
      `bundler ${bundler.totalMinGzip} B (wasm ${bundler.wasmGzip} + JS ${bundler.jsMinGzip})`,
  );
logSizes("size", results.size);
if (BASELINE) {
  // Measured as this tree's (the same esbuild and gzip), from the baseline's files.
  results.baseline = baselineRecord(ROOT, BASELINE, await sizes(ROOT, log, { pkg: BASELINE.pkg }));
  logSizes(`baseline ${BASELINE.label} size`, results.baseline.size);
}
for (const browser of BROWSERS) {
  results.browsers[browser] = await benchBrowser(browser);
  log(`${browser}: done in ${results.browsers[browser].seconds}s`);
}
results.seconds = Math.round((Date.now() - started) / 1000);
if (ONLY) {
  console.log(JSON.stringify(results.browsers, null, 1));
  process.exit(0);
}
writeFileSync(join(BENCH, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
writeReport(results, join(ROOT, "BENCHMARKS.md"));
log(`wrote bench/results.json and BENCHMARKS.md in ${results.seconds}s`);
