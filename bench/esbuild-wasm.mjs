// The WebAssembly ESM integration for esbuild: `import * as wasm from "./x_bg.wasm"`
// as webpack and vite-plugin-wasm implement it. The .wasm file is copied next to the
// bundle (hashed name), and the module that stands for it instantiates it with its
// imports and re-exports its exports, exactly what wasm-pack's bundler glue expects.
// Used by the bench page (bench/build.mjs), which builds on the package's `sse-courier/bundler`
// entry to read the wasm's memory; the demo needs no plugin.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** `import * as wasm from "./x_bg.wasm"` as the ESM integration defines it. */
export const wasmEsmIntegration = {
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
