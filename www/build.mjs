// Bundles the demo (src/main.ts) into dist/ with esbuild, importing the npm package
// `sse-courier` the way an app with a bundler does: `import { Connection } from
// "sse-courier"`, which resolves to the package's `bundler` build.
//
// That build imports its .wasm as an ES module (the WebAssembly ESM integration that
// webpack and vite-plugin-wasm implement). esbuild has no such loader, so the small
// plugin below provides it: the .wasm file is copied into dist/ (hashed name), and the
// module that stands for it instantiates it with its imports and re-exports its
// exports, exactly what the glue expects.
//
//   node build.mjs            build once
//   node build.mjs --watch    rebuild on change
import * as esbuild from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
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

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** `import * as wasm from "./x_bg.wasm"` as the ESM integration defines it. */
const wasmEsmIntegration = {
  name: "wasm-esm-integration",
  setup(build) {
    build.onResolve({ filter: /\.wasm$/ }, (args) => ({
      path: resolve(args.resolveDir, args.path),
      namespace: "wasm-module",
    }));
    // The URL of the copied file, for the module below.
    build.onResolve({ filter: /\.wasm\?url$/ }, (args) => ({
      path: resolve(args.resolveDir, args.path.slice(0, -"?url".length)),
    }));
    build.onLoad({ filter: /.*/, namespace: "wasm-module" }, (args) => {
      const module = new WebAssembly.Module(readFileSync(args.path));
      const sources = [...new Set(WebAssembly.Module.imports(module).map((i) => i.module))];
      const names = WebAssembly.Module.exports(module).map((e) => e.name);
      const bad = names.filter((n) => !IDENT.test(n));
      if (bad.length) throw new Error(`wasm export names that are not identifiers: ${bad}`);
      const file = args.path.split("/").pop();
      const lines = sources.map((s, i) => `import * as i${i} from ${JSON.stringify(s)};`);
      lines.push(
        `import url from ${JSON.stringify(`./${file}?url`)};`,
        `const imports = { ${sources.map((s, i) => `${JSON.stringify(s)}: i${i}`).join(", ")} };`,
        `const response = await fetch(new URL(url, import.meta.url));`,
        // instantiateStreaming needs application/wasm; fall back to the bytes otherwise.
        `const { instance } = await WebAssembly.instantiateStreaming(response.clone(), imports)`,
        `  .catch(async () => WebAssembly.instantiate(await response.arrayBuffer(), imports));`,
        ...names.map((n) => `export const ${n} = instance.exports.${n};`),
      );
      return { contents: lines.join("\n"), resolveDir: dirname(args.path), loader: "js" };
    });
  },
};

const options = {
  absWorkingDir: here,
  entryPoints: ["src/main.ts"],
  bundle: true,
  format: "esm", // top-level await (the wasm instantiation) needs ESM output
  platform: "browser",
  target: "es2022",
  outdir: "dist",
  sourcemap: true,
  loader: { ".wasm": "file" },
  assetNames: "[name]-[hash]",
  plugins: [wasmEsmIntegration],
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
