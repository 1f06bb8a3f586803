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
//   BENCH_INBOUND_EVENTS=50000 ...      events per inbound run (default 100,000)
//   BENCH_MEMORY_MESSAGES=20000 ...     more messages in the memory run
//   BENCH_ONLY=memory node ...          some benchmarks only (inbound, inboundDispatch,
//                                       outbound, recovery, deadStream, memory); writes nothing
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { join, relative } from "node:path";
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
  // count: events per timed run, emitted in back-to-back calls of `batch` (the server's
  // cap per call); each variant first runs once untimed with `warmup` events.
  inbound: { count: Number(process.env.BENCH_INBOUND_EVENTS ?? 100000), batch: 10000, ahead: Number(process.env.BENCH_INBOUND_AHEAD ?? 20000), bytes: 100, warmup: 10000 },
  // The listener alone: `count` prebuilt `message` events dispatched on the stream's
  // EventSource (no network), after one untimed run of `warmup` events per variant.
  inboundDispatch: { count: Number(process.env.BENCH_INBOUND_EVENTS ?? 100000), bytes: 100, warmup: 10000 },
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

/** The JS files wasm-bindgen copied from the crate (`snippets/.../*.js`) under `dir`. */
function snippetFiles(dir) {
  return existsSync(dir)
    ? readdirSync(dir, { recursive: true })
        .filter((f) => f.endsWith(".js"))
        .map((f) => join(dir, f))
        .sort()
    : [];
}

/**
 * Two figures, each one complete download, from the files `make pkg` built:
 *
 * - `bundled`: what an app built with a bundler ships, measured the way the anchors'
 *   min+gzip sizes are: `pkg/bundler/sse_courier_bg.wasm` gzip -9, plus the bundler
 *   build's JS (its entry, its glue and the helper module its wasm imports by path)
 *   bundled and minified by esbuild into one module. The bundle keeps the app's API
 *   (the entry's exports) and every function the wasm imports, read from the wasm's
 *   import section, so nothing the wasm needs is tree-shaken away. The headline figure.
 * - `web`: the `web` target loaded without a bundler: `pkg/web/sse_courier_bg.wasm`
 *   gzip -9 plus `pkg/web/sse_courier.js` minified (esbuild) and gzip -9, plus any
 *   helper module under `pkg/web/snippets/` (the web build would load it as a module
 *   of its own; none since the helper is bundled into the web glue).
 */
async function sizes() {
  const esbuild = createRequire(join(ROOT, "www", "package.json"))("esbuild");
  const PKG = join(ROOT, "pkg");
  const rel = (path) => relative(PKG, path);
  const minify = async (code) =>
    Buffer.from((await esbuild.transform(code, { minify: true, format: "esm", target: "es2022" })).code);

  // ---- bundled app (pkg/bundler)
  const bundlerDir = join(PKG, "bundler");
  const bundlerWasm = readFileSync(join(bundlerDir, "sse_courier_bg.wasm"));
  // What the wasm imports, per module specifier (relative to pkg/bundler/).
  const wasmImports = new Map();
  for (const { module, name } of WebAssembly.Module.imports(new WebAssembly.Module(bundlerWasm))) {
    if (!wasmImports.has(module)) wasmImports.set(module, []);
    wasmImports.get(module).push(name);
  }
  const used = new Set();
  const entry = ['export * from "./sse_courier.js";'];
  [...wasmImports].forEach(([module, names], m) => {
    const specs = names.map((name) => {
      const alias = used.has(name) ? `m${m}_${name}` : name;
      used.add(alias);
      return alias === name ? name : `${name} as ${alias}`;
    });
    entry.push(`export { ${specs.join(", ")} } from ${JSON.stringify(module)};`);
  });
  const bundled = await esbuild.build({
    stdin: { contents: entry.join("\n"), resolveDir: bundlerDir, sourcefile: "app-entry.js" },
    absWorkingDir: PKG, // metafile input paths relative to pkg/
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    write: false,
    external: ["*.wasm"],
    metafile: true,
    logLevel: "silent",
    logOverride: { "duplicate-object-key": "silent" },
  });
  const bundledJs = Buffer.from(bundled.outputFiles[0].contents);
  const bundledInputs = Object.keys(bundled.metafile.inputs)
    .filter((path) => !path.endsWith("app-entry.js"))
    .sort();
  const bundlerSnippets = snippetFiles(join(bundlerDir, "snippets")).map(rel);
  const missing = bundlerSnippets.filter((file) => !bundledInputs.includes(file));
  // Every helper module reaches the bundle through the glue or the wasm's imports; one
  // left out is not shipped (nothing imports it), but worth a look.
  if (missing.length) log(`size: warning: not in the bundled app (nothing imports them): ${missing.join(", ")}`);
  const bundledWasmGzip = gzip9(bundlerWasm);
  const bundledJsMinGzip = gzip9(bundledJs);

  // ---- web target, no bundler (pkg/web)
  const webWasm = readFileSync(join(PKG, "web", "sse_courier_bg.wasm"));
  const glue = readFileSync(join(PKG, "web", "sse_courier.js"));
  const glueMin = await minify(glue);
  const webSnippets = snippetFiles(join(PKG, "web", "snippets"));
  let snippetsRaw = 0;
  let snippetsGzip = 0;
  let snippetsMinGzip = 0;
  for (const file of webSnippets) {
    const code = readFileSync(file);
    snippetsRaw += code.length;
    snippetsGzip += gzip9(code);
    snippetsMinGzip += gzip9(await minify(code));
  }
  const webWasmGzip = gzip9(webWasm);
  const glueGzip = gzip9(glue);
  const glueMinGzip = gzip9(glueMin);

  const bundledTotal = bundledWasmGzip + bundledJsMinGzip;
  return {
    // The headline figure, compared with the 15,000-byte target and the anchors.
    totalMinGzip: bundledTotal,
    headline: "bundled",
    bundled: {
      wasm: rel(join(bundlerDir, "sse_courier_bg.wasm")),
      wasmRaw: bundlerWasm.length,
      wasmGzip: bundledWasmGzip,
      jsInputs: bundledInputs,
      jsMinRaw: bundledJs.length,
      jsMinGzip: bundledJsMinGzip,
      totalMinGzip: bundledTotal,
    },
    web: {
      wasm: "web/sse_courier_bg.wasm",
      wasmRaw: webWasm.length,
      wasmGzip: webWasmGzip,
      glue: "web/sse_courier.js",
      glueRaw: glue.length,
      glueGzip,
      glueMinRaw: glueMin.length,
      glueMinGzip,
      snippets: webSnippets.map(rel),
      snippetsRaw,
      snippetsGzip,
      snippetsMinGzip,
      totalGzip: webWasmGzip + glueGzip + snippetsGzip,
      totalMinGzip: webWasmGzip + glueMinGzip + snippetsMinGzip,
    },
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

    // The three inbound variants of one page case: an untimed run of each first (so no
    // timed run pays for the JIT's warm-up), then alternating timed runs.
    const inboundCase = async (name, { warmup, ...plan }) => {
      for (const variant of ["courier", "bare", "raw"]) {
        await page(name, { variant, ...plan, count: Math.min(warmup, plan.count) });
      }
      const runs = await alternate(page, [
        ["courier", name, { variant: "courier", ...plan }],
        ["bare", name, { variant: "bare", ...plan }],
        ["raw", name, { variant: "raw", ...plan }],
      ]);
      return {
        courier: summary(runs.courier, "perSecond"),
        bare: summary(runs.bare, "perSecond"),
        raw: summary(runs.raw, "perSecond"),
        ratio: ratios(runs.courier, runs.bare, "perSecond"),
        ratioToRaw: ratios(runs.courier, runs.raw, "perSecond"),
        runs,
      };
    };

    if (only("inbound")) {
      log(`${browser}: inbound`);
      await fresh();
      result.inbound = await inboundCase("inbound", PLAN.inbound);
    }
    if (only("inboundDispatch")) {
      log(`${browser}: inbound, listener only (dispatched events)`);
      await fresh();
      result.inboundDispatch = await inboundCase("inboundDispatch", PLAN.inboundDispatch);
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
log(
  `size: bundled app ${results.size.bundled.totalMinGzip} B (wasm gzip ${results.size.bundled.wasmGzip} + JS min+gzip ${results.size.bundled.jsMinGzip}), ` +
    `web target ${results.size.web.totalMinGzip} B (wasm gzip ${results.size.web.wasmGzip} + glue min+gzip ${results.size.web.glueMinGzip})`,
);
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
