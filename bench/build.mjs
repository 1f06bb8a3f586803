// Bundles the bench page (bench/src/page.js) into bench/out/ with esbuild, the way the
// demo does (www/build.mjs): `import { Connection } from "sse-courier"` resolves to the
// local package's `bundler` build in pkg/, whose .wasm is imported as an ES module.
// esbuild comes from the demo's dependencies (www/node_modules).
//
// The .wasm plugin is the demo's (www/build.mjs), restated here because that file
// builds when imported. One addition: the page may import the package's .wasm module
// itself (to read `memory` and the externref table); it resolves to the same module
// the glue imports, so it is the same instance.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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
if (!existsSync(join(pkg, "sse_courier.js"))) {
  console.error("bench: pkg/bundler is missing: make pkg");
  process.exit(1);
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

const localPackage = {
  name: "local-sse-courier",
  setup(build) {
    build.onResolve({ filter: /^sse-courier$/ }, () => ({ path: join(pkg, "sse_courier.js") }));
    build.onResolve({ filter: /^sse-courier\/wasm$/ }, () => ({
      path: join(pkg, "sse_courier_bg.wasm"),
      namespace: "wasm-module",
    }));
  },
};

/** `import * as wasm from "./x_bg.wasm"` as the ESM integration defines it. */
const wasmEsmIntegration = {
  name: "wasm-esm-integration",
  setup(build) {
    build.onResolve({ filter: /\.wasm$/ }, (args) => ({
      path: resolve(args.resolveDir, args.path),
      namespace: "wasm-module",
    }));
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
        `const { instance } = await WebAssembly.instantiateStreaming(response.clone(), imports)`,
        `  .catch(async () => WebAssembly.instantiate(await response.arrayBuffer(), imports));`,
        ...names.map((n) => `export const ${n} = instance.exports.${n};`),
      );
      return { contents: lines.join("\n"), resolveDir: dirname(args.path), loader: "js" };
    });
  },
};

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
