// Size: what an app ships for each of the package's entries (bench/README.md), gzip
// -9, measured from the files `make pkg` built. `bench/run.mjs` measures it first;
// `node bench/report.mjs --sizes` measures it again alone and re-renders.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { commonBytesBitmapOf, encodeModule, encodePayload } from "../tools/embed-wasm/embed.mjs";

/** The opt-in entries: each as the default entry (one module, its wasm embedded) of
 * a build of its own (`pkg/<name>/index.js`). */
export const OPT_IN_ENTRIES = ["persist", "tabs", "full"];


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
 * - `optIn` (`sse-courier/persist`, `sse-courier/tabs`, `sse-courier/full`): each
 *   `pkg/<name>/index.js`, one module with its build's wasm embedded, bundled and
 *   minified as the default entry is.
 * - `bundler` (`sse-courier/bundler`): `pkg/bundler/sse_courier_bg.wasm`, plus the
 *   entry, its glue and the helper modules bundled and minified into one module that
 *   keeps the entry's exports and every function the wasm imports (read from the wasm's
 *   import section: a bundler must keep them, so nothing the wasm needs is tree-shaken
 *   away).
 *
 * `pkg`: another built package to measure the same way (the bench's baseline build,
 * bench/baseline.mjs), with this tree's esbuild. Such a package may be older than the
 * measuring code: an opt-in entry it does not have is left out, and its default entry
 * is not required to embed its wasm as this tree's tools/embed-wasm encodes it (the
 * embedded wasm alone, `default.embeddedWasm`, is then null).
 */
export async function sizes(ROOT, log = console.log, { pkg } = {}) {
  const esbuild = createRequire(join(ROOT, "www", "package.json"))("esbuild");
  const PKG = pkg ?? join(ROOT, "pkg");
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
  const embedsAsThisTree = defaultFile.includes(encodePayload(wasmBytes, commonBytesBitmapOf(wasmBytes)));
  if (!embedsAsThisTree && !pkg) {
    throw new Error("size: pkg/index.js does not embed pkg/web/sse_courier_bg.wasm (make pkg)");
  }
  const embeddingModule = embedsAsThisTree ? await minify(encodeModule(wasmBytes)) : null;
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

  // ---- the opt-in entries: each one module, its own build's wasm embedded
  const optIn = {};
  for (const name of OPT_IN_ENTRIES) {
    if (pkg && !existsSync(join(PKG, name, "index.js"))) continue;
    const app = await bundle(`export * from "./${name}/index.js";`, PKG);
    optIn[name] = { file: `${name}/index.js`, minRaw: app.js.length, totalMinGzip: gzip9(app.js) };
  }

  return {
    // When: `report.mjs --sizes` measures them again apart from the timed groups.
    measuredAt: new Date().toISOString(),
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
      embeddedWasm: embeddingModule && {
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
    optIn,
  };
}

