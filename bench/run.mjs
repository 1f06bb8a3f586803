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
//   BENCH_ONLY=memory node ...          some benchmarks only (inbound, inboundDispatch,
//                                       outbound, restore, recovery, deadStream, memory);
//                                       writes nothing
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { join, relative } from "node:path";
import { waitFor } from "../tests/e2e/lib/processes.mjs";
import { launchServer } from "../tests/e2e/lib/server.mjs";
import { openBrowser } from "../tests/e2e/lib/webdriver.mjs";
import { commonBytesBitmapOf, encodeModule, encodePayload } from "../tools/embed-wasm/embed.mjs";
import { writeReport } from "./report.mjs";

const ROOT = new URL("../", import.meta.url).pathname;
const BENCH = join(ROOT, "bench");
const SERVER = process.env.BENCH_SERVER ?? join(ROOT, "target", "bench-server", "sse-courier-server");
const BROWSERS = (process.env.BENCH_BROWSERS ?? "chromium,firefox,webkit").split(",").filter(Boolean);
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
};

/** The outbound variants (bench/src/page.js): the default build, bare fetch, and the
 * persist entry without and with persistence. */
const OUTBOUND_VARIANTS = ["courier", "bare", "off", ...PLAN.persistStores];

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
 * What an app ships for each of the package's entries (bench/README.md), gzip -9, from
 * the files `make pkg` built; every JS figure is what esbuild makes of it when it bundles
 * and minifies the app:
 *
 * - `default` (`sse-courier`, the headline): `pkg/index.js`, which already is one module
 *   with the wasm embedded as text (tools/embed-wasm), bundled and minified. Beside it,
 *   the embedded wasm alone: the module tools/embed-wasm makes of `pkg/web`'s wasm (the
 *   one the default entry embeds), minified, against that wasm as a file.
 * - `web` (`sse-courier/web`): `pkg/web/sse_courier.js` (glue and helpers in one module)
 *   minified, plus `pkg/web/sse_courier_bg.wasm`.
 * - `bundler` (`sse-courier/bundler`): `pkg/bundler/sse_courier_bg.wasm`, plus the
 *   entry, its glue and the helper modules bundled and minified into one module that
 *   keeps the entry's exports and every function the wasm imports (read from the wasm's
 *   import section: a bundler must keep them, so nothing the wasm needs is tree-shaken
 *   away).
 */
async function sizes() {
  const esbuild = createRequire(join(ROOT, "www", "package.json"))("esbuild");
  const PKG = join(ROOT, "pkg");
  const rel = (path) => relative(PKG, path);
  const read = (path) => readFileSync(join(PKG, path));
  const minify = async (code) =>
    Buffer.from((await esbuild.transform(code, { minify: true, format: "esm", target: "es2022" })).code);
  /** `entry` (module source, resolved in `dir`) bundled and minified, as an app's bundler would. */
  const bundle = async (entry, dir) => {
    const out = await esbuild.build({
      stdin: { contents: entry, resolveDir: dir, sourcefile: "app-entry.js" },
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
    const inputs = Object.keys(out.metafile.inputs).filter((path) => !path.endsWith("app-entry.js"));
    return { js: Buffer.from(out.outputFiles[0].contents), inputs: inputs.sort() };
  };

  // ---- default entry: one module, the wasm embedded
  const defaultFile = read("index.js");
  const defaultApp = await bundle('export * from "./index.js";', PKG);
  const webWasm = read("web/sse_courier_bg.wasm");
  const wasmBytes = new Uint8Array(webWasm);
  if (!defaultFile.includes(encodePayload(wasmBytes, commonBytesBitmapOf(wasmBytes)))) {
    throw new Error("size: pkg/index.js does not embed pkg/web/sse_courier_bg.wasm (make pkg)");
  }
  const embeddingModule = await minify(encodeModule(wasmBytes));
  const defaultMinGzip = gzip9(defaultApp.js);

  // ---- sse-courier/web: its one JS module and its wasm
  const webJs = read("web/sse_courier.js");
  const webJsMin = await minify(webJs);
  const webWasmGzip = gzip9(webWasm);
  const webJsMinGzip = gzip9(webJsMin);

  // ---- sse-courier/bundler: its JS bundled, and its wasm
  const bundlerDir = join(PKG, "bundler");
  const bundlerWasm = read("bundler/sse_courier_bg.wasm");
  // What the wasm imports, per module specifier (relative to pkg/bundler/).
  const wasmImports = new Map();
  for (const { module, name } of WebAssembly.Module.imports(new WebAssembly.Module(bundlerWasm))) {
    if (!wasmImports.has(module)) wasmImports.set(module, []);
    wasmImports.get(module).push(name);
  }
  const used = new Set();
  const entry = ['export * from "./index.js";'];
  [...wasmImports].forEach(([module, names], m) => {
    const specs = names.map((name) => {
      const alias = used.has(name) ? `m${m}_${name}` : name;
      used.add(alias);
      return alias === name ? name : `${name} as ${alias}`;
    });
    entry.push(`export { ${specs.join(", ")} } from ${JSON.stringify(module)};`);
  });
  const bundlerApp = await bundle(entry.join("\n"), bundlerDir);
  // Every helper module reaches the bundle through the glue or the wasm's imports; one
  // left out is not shipped (nothing imports it), but worth a look.
  const missing = snippetFiles(join(bundlerDir, "snippets"))
    .map(rel)
    .filter((file) => !bundlerApp.inputs.includes(file));
  if (missing.length) log(`size: warning: not in the bundled app (nothing imports them): ${missing.join(", ")}`);
  const bundlerWasmGzip = gzip9(bundlerWasm);
  const bundlerJsMinGzip = gzip9(bundlerApp.js);

  return {
    // The headline figure, compared with the 15,000-byte target and the anchors.
    headline: "default",
    totalMinGzip: defaultMinGzip,
    default: {
      file: "index.js",
      raw: defaultFile.length,
      gzip: gzip9(defaultFile),
      jsInputs: defaultApp.inputs,
      minRaw: defaultApp.js.length,
      totalMinGzip: defaultMinGzip,
      // The wasm as the default entry embeds it, alone.
      embeddedWasm: {
        wasm: "web/sse_courier_bg.wasm",
        wasmRaw: webWasm.length,
        wasmGzip: webWasmGzip,
        moduleMinRaw: embeddingModule.length,
        moduleMinGzip: gzip9(embeddingModule),
      },
    },
    web: {
      wasm: "web/sse_courier_bg.wasm",
      wasmRaw: webWasm.length,
      wasmGzip: webWasmGzip,
      js: "web/sse_courier.js",
      jsRaw: webJs.length,
      jsGzip: gzip9(webJs),
      jsMinRaw: webJsMin.length,
      jsMinGzip: webJsMinGzip,
      totalMinGzip: webWasmGzip + webJsMinGzip,
    },
    bundler: {
      wasm: "bundler/sse_courier_bg.wasm",
      wasmRaw: bundlerWasm.length,
      wasmGzip: bundlerWasmGzip,
      jsInputs: bundlerApp.inputs,
      jsMinRaw: bundlerApp.js.length,
      jsMinGzip: bundlerJsMinGzip,
      totalMinGzip: bundlerWasmGzip + bundlerJsMinGzip,
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
    const t0 = Date.now();

    // The three inbound variants of one page case: an untimed run of each first (so no
    // timed run pays for the JIT's warm-up), then alternating timed runs.
    const inboundCase = async (name, { warmup, reps = REPS, ...plan }) => {
      for (const variant of ["courier", "bare", "raw"]) {
        await page(name, { variant, ...plan, count: Math.min(warmup, plan.count) });
      }
      const runs = await alternate(
        page,
        [
          ["courier", name, { variant: "courier", ...plan }],
          ["bare", name, { variant: "bare", ...plan }],
          ["raw", name, { variant: "raw", ...plan }],
        ],
        reps,
      );
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
      };
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
  size: await sizes(),
  browsers: {},
};
const { default: defaultEntry, web, bundler } = results.size;
log(
  `size (gzip -9): default entry ${defaultEntry.totalMinGzip} B (one module, the wasm embedded); ` +
    `web ${web.totalMinGzip} B (wasm ${web.wasmGzip} + JS ${web.jsMinGzip}); ` +
    `bundler ${bundler.totalMinGzip} B (wasm ${bundler.wasmGzip} + JS ${bundler.jsMinGzip})`,
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
