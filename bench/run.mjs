// `make bench`: sizes of the built package, then the bench page (bench/index.html,
// bench/src/page.js) in headless Chromium and Firefox against the reference server
// on 127.0.0.1, driven over WebDriver with the end-to-end tests' client
// (tests/e2e/lib/). Writes bench/results.json and the tables of BENCHMARKS.md.
//
// Each timed figure is the median of REPS runs; each ratio is taken per run (the
// package and its plain-JS baseline run one after the other in the same page, their
// order alternating) and the median of those ratios is reported. Timings are
// reported, never asserted: this machine's cores are shared and the numbers are noisy.
//
//   node bench/run.mjs                  everything
//   BENCH_BROWSERS=firefox node ...     one browser
//   BENCH_REPS=3 node ...               fewer runs
//   BENCH_MEMORY_MESSAGES=20000 ...     more messages in the memory run
//   BENCH_ONLY=memory node ...          some benchmarks only (inbound, outbound,
//                                       recovery, deadStream, memory); writes nothing
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { waitFor } from "../tests/e2e/lib/processes.mjs";
import { launchServer } from "../tests/e2e/lib/server.mjs";
import { openBrowser } from "../tests/e2e/lib/webdriver.mjs";
import { writeReport } from "./report.mjs";

const ROOT = new URL("../", import.meta.url).pathname;
const BENCH = join(ROOT, "bench");
const SERVER = process.env.BENCH_SERVER ?? join(ROOT, "target", "bench-server", "sse-courier-server");
const BROWSERS = (process.env.BENCH_BROWSERS ?? "chromium,firefox").split(",").filter(Boolean);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const ONLY = process.env.BENCH_ONLY?.split(","); // e.g. "memory" (debugging; no report written)
const only = (name) => !ONLY || ONLY.includes(name);

/** What each benchmark does; recorded in results.json. */
const PLAN = {
  reps: REPS,
  server: ["--no-agent", "--heartbeat-ms", "250", "--sse-retry-ms", "500"],
  inbound: { count: 10000, bytes: 100 },
  outboundOrdered: { count: 200 },
  outboundConcurrent: { count: 500 },
  deadStream: { staleAfterMs: 1000 },
  memory: { messages: Number(process.env.BENCH_MEMORY_MESSAGES ?? 10000), cycles: 1000, batch: 500, warmup: { messages: 1000, cycles: 50 } },
};

const median = (values) => {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const log = (...args) => console.error("bench:", ...args);

// ---- 1. size ---------------------------------------------------------------------

function gzip9(bytes) {
  const out = spawnSync("gzip", ["-9c"], { input: bytes, maxBuffer: 1 << 26 });
  if (out.status !== 0) throw new Error(`gzip: ${out.stderr}`);
  return out.stdout.length;
}

async function sizes() {
  const esbuild = createRequire(join(ROOT, "www", "package.json"))("esbuild");
  const read = (path) => readFileSync(join(ROOT, "pkg", path));
  const wasm = read("web/sse_courier_bg.wasm");
  const bundlerWasm = read("bundler/sse_courier_bg.wasm");
  const glue = read("web/sse_courier.js");
  const minify = async (code) =>
    Buffer.from((await esbuild.transform(code, { minify: true, format: "esm", target: "es2022" })).code);
  const glueMin = await minify(glue);
  // The JS helper modules wasm-bindgen copies from `inline_js` (pkg/web/snippets/...):
  // the web build loads them as modules of their own, so they count in its size.
  const snippetDir = join(ROOT, "pkg", "web", "snippets");
  const snippetFiles = existsSync(snippetDir)
    ? readdirSync(snippetDir, { recursive: true }).filter((f) => f.endsWith(".js"))
    : [];
  let snippetsRaw = 0;
  let snippetsGzip = 0;
  let snippetsMinGzip = 0;
  for (const file of snippetFiles) {
    const code = readFileSync(join(snippetDir, file));
    snippetsRaw += code.length;
    snippetsGzip += gzip9(code);
    snippetsMinGzip += gzip9(await minify(code));
  }
  // What an app with a bundler ships: the bundler build's glue, minified as one module
  // (every export of sse_courier_bg.js kept: the .wasm imports them).
  const bundled = await esbuild.build({
    stdin: {
      contents: 'export * from "./bundler/sse_courier_bg.js"; import "./bundler/sse_courier.js";',
      resolveDir: join(ROOT, "pkg"),
    },
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    write: false,
    external: ["*.wasm"],
    logLevel: "silent",
  });
  const bundlerGlueMin = Buffer.from(bundled.outputFiles[0].contents);
  const wasmGzip = gzip9(wasm);
  const glueMinGzip = gzip9(glueMin);
  return {
    wasmRaw: wasm.length,
    wasmGzip,
    bundlerWasmSame: wasm.equals(bundlerWasm),
    glueRaw: glue.length,
    glueGzip: gzip9(glue),
    glueMinRaw: glueMin.length,
    glueMinGzip,
    bundlerGlueMinGzip: gzip9(bundlerGlueMin),
    snippetsRaw,
    snippetsGzip,
    snippetsMinGzip,
    totalGzip: wasmGzip + gzip9(glue) + snippetsGzip,
    totalMinGzip: wasmGzip + glueMinGzip + snippetsMinGzip,
  };
}

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
};

// ---- the server ------------------------------------------------------------------

async function startBenchServer() {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing (make bench builds it)`);
  if (!existsSync(join(BENCH, "out", "page.js"))) throw new Error("bench/out is missing: node bench/build.mjs");
  return launchServer(SERVER, ["--static-dir", BENCH, ...PLAN.server]);
}

// ---- one browser -----------------------------------------------------------------

/** Runs `variants` REPS times, alternating their order; returns runs per variant. */
async function alternate(page, variants) {
  const runs = Object.fromEntries(variants.map(([name]) => [name, []]));
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 ? [...variants].reverse() : variants;
    for (const [name, script, arg] of order) runs[name].push(await page(script, arg));
  }
  return runs;
}

/** Per-run ratios `a/b` of `field`, with their median. */
function ratios(as, bs, field) {
  const each = as.map((a, i) => a[field] / bs[i][field]);
  return { each, median: median(each) };
}

function summary(runs, field) {
  return { median: median(runs.map((r) => r[field])), each: runs.map((r) => r[field]) };
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
    };
    const t0 = Date.now();

    if (only("inbound")) {
    log(`${browser}: inbound`);
    await fresh();
    const inbound = await alternate(page, [
      ["courier", "inbound", { variant: "courier", ...PLAN.inbound }],
      ["bare", "inbound", { variant: "bare", ...PLAN.inbound }],
      ["raw", "inbound", { variant: "raw", ...PLAN.inbound }],
    ]);
    result.inbound = {
      courier: summary(inbound.courier, "perSecond"),
      bare: summary(inbound.bare, "perSecond"),
      raw: summary(inbound.raw, "perSecond"),
      ratio: ratios(inbound.courier, inbound.bare, "perSecond"),
      ratioToRaw: ratios(inbound.courier, inbound.raw, "perSecond"),
      runs: inbound,
    };

    }
    if (only("outbound")) {
    log(`${browser}: outbound`);
    await fresh();
    const ordered = await alternate(page, [
      ["courier", "outbound", { variant: "courier", ordered: true, ...PLAN.outboundOrdered }],
      ["bare", "outbound", { variant: "bare", ordered: true, ...PLAN.outboundOrdered }],
    ]);
    const concurrent = await alternate(page, [
      ["courier", "outbound", { variant: "courier", ordered: false, ...PLAN.outboundConcurrent }],
      ["bare", "outbound", { variant: "bare", ordered: false, ...PLAN.outboundConcurrent }],
    ]);
    result.outbound = {
      ordered: {
        courier: summary(ordered.courier, "perSecond"),
        bare: summary(ordered.bare, "perSecond"),
        ratio: ratios(ordered.courier, ordered.bare, "perSecond"),
        runs: ordered,
      },
      concurrent: {
        courier: summary(concurrent.courier, "perSecond"),
        bare: summary(concurrent.bare, "perSecond"),
        ratio: ratios(concurrent.courier, concurrent.bare, "perSecond"),
        // Whether the server happened to accept the concurrent sends in send order.
        courierInOrder: concurrent.courier.filter((r) => r.inOrder).length,
        runs: concurrent,
      },
    };

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
    result.seconds = Math.round((Date.now() - t0) / 1000);
    return result;
  } catch (error) {
    error.message += `\n--- server output (tail) ---\n${server.process.output().slice(-3000)}`;
    throw error;
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
  size: await sizes(),
  browsers: {},
};
log(`size: wasm ${results.size.wasmGzip} B gzip -9, glue ${results.size.glueMinGzip} B min+gzip`);
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
