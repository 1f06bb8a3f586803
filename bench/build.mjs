// Bundles the bench page (bench/src/page.js) into bench/out/ with esbuild:
// `import { Connection } from "sse-courier"` resolves to the local package's
// `sse-courier/bundler` entry in pkg/, whose .wasm is imported as an ES module
// (esbuild-wasm.mjs beside this file), because the page also imports that wasm module
// itself (to read `memory` and the externref table): it resolves to the same module
// the glue imports, so it is the same instance. `sse-courier/persist` resolves to
// pkg/persist/index.js (the persisted outbox's entry, its wasm embedded, a second
// instance the memory figures do not read), and `sse-courier/tabs` to
// pkg/tabs/index.js (one stream for all tabs, likewise; the tabs runs of issue 16).
// esbuild comes from the demo's dependencies (www/node_modules).
//
// `sse-courier-baseline` (issue 21's before/after figures): with BENCH_BASELINE=<git ref>
// or BENCH_BASELINE_PKG=<dir> (bench/baseline.mjs, which builds a ref's package once),
// a module exporting that package's `sse-courier/bundler` entry's `Connection` (the
// same entry as above: same kind of build, its own wasm instance) and `info`, which
// baseline it is (bench/run.mjs checks that the page it drives has the one it was
// asked for). Without one, `Connection` and `info` are null and the page runs as before.
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { baseline } from "./baseline.mjs";
import { wasmEsmIntegration } from "./esbuild-wasm.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const pkg = join(root, "pkg", "bundler");

const requireFromWww = createRequire(join(root, "www", "package.json"));
let esbuild;
try {
  esbuild = requireFromWww("esbuild");
} catch {
  console.error("bench: esbuild is missing: npm ci --prefix www");
  process.exit(1);
}
const entries = ["bundler", "persist", "tabs"];
if (entries.some((entry) => !existsSync(join(root, "pkg", entry, "index.js")))) {
  console.error(`bench: pkg/{${entries.join(",")}}/index.js: one is missing: make pkg`);
  process.exit(1);
}

const base = baseline(root);
// What the page imports as `sse-courier-baseline`: module source, resolved in the
// baseline package's bundler entry when there is one.
const baselineModule = base
  ? {
      contents: [
        'export { Connection } from "./index.js";',
        `export const info = ${JSON.stringify({ label: base.label, ref: base.ref, commit: base.commit })};`,
      ].join("\n"),
      resolveDir: join(base.pkg, "bundler"),
    }
  : { contents: "export const Connection = null;\nexport const info = null;", resolveDir: here };

const localPackage = {
  name: "local-sse-courier",
  setup(build) {
    build.onResolve({ filter: /^sse-courier$/ }, () => ({ path: join(pkg, "index.js") }));
    // The persisted outbox's entry: its own build, one module with its wasm embedded.
    build.onResolve({ filter: /^sse-courier\/persist$/ }, () => ({ path: join(root, "pkg", "persist", "index.js") }));
    // One stream for all tabs (issue 16): its own build too, its wasm embedded.
    build.onResolve({ filter: /^sse-courier\/tabs$/ }, () => ({ path: join(root, "pkg", "tabs", "index.js") }));
    build.onResolve({ filter: /^sse-courier-baseline$/ }, () => ({ path: "sse-courier-baseline", namespace: "bench-baseline" }));
    build.onLoad({ filter: /.*/, namespace: "bench-baseline" }, () => ({ ...baselineModule, loader: "js" }));
    build.onResolve({ filter: /^sse-courier\/wasm$/ }, () => ({
      path: join(pkg, "sse_courier_bg.wasm"),
      namespace: "wasm-module",
    }));
  },
};

// Each build names the wasm by its hash: start from an empty out/ so old ones go.
rmSync(join(here, "out"), { recursive: true, force: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/page.js"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  outdir: "out",
  loader: { ".wasm": "file" },
  assetNames: "[name]-[hash]",
  plugins: [localPackage, wasmEsmIntegration],
  logLevel: "warning",
  metafile: true,
});
const outputs = Object.entries(result.metafile.outputs).map(([name, out]) => `${name} ${out.bytes} bytes`);
console.error(`bench: built ${outputs.join(", ")}${base ? `; baseline ${base.label} from ${base.pkg}` : ""}`);
