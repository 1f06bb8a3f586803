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
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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

const localPackage = {
  name: "local-sse-courier",
  setup(build) {
    build.onResolve({ filter: /^sse-courier$/ }, () => ({ path: join(pkg, "index.js") }));
    // The persisted outbox's entry: its own build, one module with its wasm embedded.
    build.onResolve({ filter: /^sse-courier\/persist$/ }, () => ({ path: join(root, "pkg", "persist", "index.js") }));
    // One stream for all tabs (issue 16): its own build too, its wasm embedded.
    build.onResolve({ filter: /^sse-courier\/tabs$/ }, () => ({ path: join(root, "pkg", "tabs", "index.js") }));
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
console.error(`bench: built ${outputs.join(", ")}`);
