// Bundles the demo (src/main.ts) into dist/ with esbuild, importing the npm package
// `sse-courier` the way an app with a bundler does: `import { Connection } from
// "sse-courier"`, the package's default entry, which carries its wasm inside and needs
// no plugin (and `sse-courier/persist`, `sse-courier/tabs` and `sse-courier/full`, the
// same with the persisted outbox, one stream for all tabs, or both, for the demo's
// switches).
//
//   node build.mjs            build once
//   node build.mjs --watch    rebuild on change
import * as esbuild from "esbuild";
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

// `sse-courier` is `file:../pkg`, a link npm creates even before pkg/ is built.
if (!existsSync(join(here, "node_modules", "sse-courier", "package.json"))) {
  console.error(
    "www: node_modules/sse-courier does not resolve: build the package first (`make pkg`),\n" +
      "and install the demo's dependencies (`npm ci --prefix www`).",
  );
  process.exit(1);
}

// Start from an empty dist/ so that nothing of an older build is served.
rmSync(join(here, "dist"), { recursive: true, force: true });

const options = {
  absWorkingDir: here,
  entryPoints: ["src/main.ts"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  outdir: "dist",
  sourcemap: true,
  logLevel: "warning",
};

if (process.argv.includes("--watch")) {
  const context = await esbuild.context(options);
  await context.watch();
  console.error("www: watching src/ (Ctrl-C stops)");
} else {
  const result = await esbuild.build({ ...options, metafile: true });
  const outputs = Object.entries(result.metafile.outputs)
    .filter(([name]) => !name.endsWith(".map"))
    .map(([name, out]) => `${name} ${out.bytes} bytes`);
  console.error(`www: built ${outputs.join(", ")}`);
}
