// The app matrix: how each app is built (into tests/apps/dist/) and where it is served
// (a Vite preview or dev server of its own, or the reference server's --static-dir,
// which serves tests/apps itself: dist/, src/ and node_modules/).
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, start, waitFor } from "../../e2e/lib/processes.mjs";
import { APPS, run } from "./package.mjs";
import { extractExample } from "./readme.mjs";

const SRC = join(APPS, "src");
const DIST = join(APPS, "dist");
const bin = (path) => join(APPS, "node_modules", path);
const VITE6 = bin("vite6/bin/vite.js");
const VITE8 = bin("vite/bin/vite.js");

/** The page's module script, pointed elsewhere, and an import map when given. */
function stagePage(from, dir, entry, importMap) {
  let html = readFileSync(from, "utf8");
  const script = /<script type="module" src="\.\/(main|page)\.js"/;
  if (!script.test(html)) throw new Error(`${from}: no module script to point at ${entry}`);
  html = html.replace(script, `<script type="module" src="${entry}"`);
  if (importMap) {
    html = html.replace(/(<script type="module")/, `<script type="importmap">${JSON.stringify(importMap)}</script>\n$1`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "index.html"), html);
}

const vite = (cli, root, outDir) => async () => {
  await run(process.execPath, [cli, "build", root, "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"]);
};

/** A bundler CLI writing dist/<name>/main.js from `entry` (src/main.js by default),
 * beside a copy of the page. */
const bundled = (name, argsFor, entry = join(SRC, "main.js")) => async () => {
  const dir = join(DIST, name);
  rmSync(dir, { recursive: true, force: true });
  const [command, ...args] = argsFor(entry, dir);
  await run(command, args);
  cpSync(join(SRC, "index.html"), join(dir, "index.html"));
};

/** Builds, keyed by name; each resolves when done and throws the tool's output. */
export const BUILDS = {
  vite6: vite(VITE6, SRC, join(DIST, "vite6")),
  vite8: vite(VITE8, SRC, join(DIST, "vite8")),
  "vite8-worker": vite(VITE8, join(SRC, "worker"), join(DIST, "vite8-worker")),
  // webpack 5, no config file: production mode, the page's module as the entry.
  webpack: bundled("webpack", (entry, dir) => [
    bin(".bin/webpack"), "build", "--mode", "production", "--entry", entry, "--output-path", dir, "--no-stats",
  ]),
  // esbuild, no plugin.
  esbuild: bundled("esbuild", (entry, dir) => [
    bin(".bin/esbuild"), entry, "--bundle", "--format=esm", `--outfile=${join(dir, "main.js")}`, "--log-level=warning",
  ]),
  // esbuild again, of the page entry of `sse-courier/persist`.
  "esbuild-persist": bundled(
    "esbuild-persist",
    (entry, dir) => [bin(".bin/esbuild"), entry, "--bundle", "--format=esm", `--outfile=${join(dir, "main.js")}`, "--log-level=warning"],
    join(SRC, "persist", "main.js"),
  ),
  // esbuild again, of the page entry of `sse-courier/tabs`.
  "esbuild-tabs": bundled(
    "esbuild-tabs",
    (entry, dir) => [bin(".bin/esbuild"), entry, "--bundle", "--format=esm", `--outfile=${join(dir, "main.js")}`, "--log-level=warning"],
    join(SRC, "tabs", "main.js"),
  ),
  // Rollup with @rollup/plugin-node-resolve only.
  rollup: bundled("rollup", (entry, dir) => [
    bin(".bin/rollup"), entry, "-p", "node-resolve", "-f", "es", "-o", join(dir, "main.js"), "--silent",
  ]),
  // No bundler: the source as it is, the package's default entry through an import map.
  nobundler: async () => {
    stagePage(join(SRC, "index.html"), join(DIST, "nobundler"), "/src/main.js", {
      imports: { "sse-courier": "/node_modules/sse-courier/index.js" },
    });
  },
  "nobundler-persist": async () => {
    stagePage(join(SRC, "index.html"), join(DIST, "nobundler-persist"), "/src/persist/main.js", {
      imports: { "sse-courier/persist": "/node_modules/sse-courier/persist/index.js" },
    });
  },
  "nobundler-tabs": async () => {
    stagePage(join(SRC, "index.html"), join(DIST, "nobundler-tabs"), "/src/tabs/main.js", {
      imports: { "sse-courier/tabs": "/node_modules/sse-courier/tabs/index.js" },
    });
  },
  "nobundler-full": async () => {
    stagePage(join(SRC, "index.html"), join(DIST, "nobundler-full"), "/src/full/main.js", {
      imports: { "sse-courier/full": "/node_modules/sse-courier/full/index.js" },
    });
  },
  "nobundler-worker": async () => {
    stagePage(join(SRC, "worker", "index.html"), join(DIST, "nobundler-worker"), "/src/worker/page-nobundler.js");
  },
  // The npm README's Node example, taken from the README of the installed package as
  // it stands (readme.mjs), type-checked and compiled by `tsc --strict` with
  // @types/node and no DOM library (src/node/tsconfig.readme.json).
  "readme-node": async () => {
    const dir = join(DIST, "readme-node");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const readme = readFileSync(join(APPS, "node_modules", "sse-courier", "README.md"), "utf8");
    writeFileSync(join(dir, "chat.ts"), extractExample(readme, "node"));
    await run(process.execPath, [bin("typescript/bin/tsc"), "-p", join(SRC, "node", "tsconfig.readme.json")]);
  },
};

/** Runs the builds `jobs` at a time; returns { name: { ms, error? } }. */
export async function buildAll(names, jobs) {
  const results = {};
  // webpack (terser) takes longest: first, so the others fill the other slot meanwhile.
  const queue = [...names].sort((a, b) => (b === "webpack") - (a === "webpack"));
  const worker = async () => {
    for (let name; (name = queue.shift()); ) {
      const started = Date.now();
      try {
        await BUILDS[name]();
        results[name] = { ms: Date.now() - started };
      } catch (error) {
        results[name] = { ms: Date.now() - started, error: error.message };
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return results;
}

/** A Vite server (`vite preview` of a build, or the dev server) on a free port; resolves
 * once it answers, with { url, output(), stop() }. */
async function viteServer(cli, args) {
  const port = await freePort();
  const child = start(process.execPath, [cli, ...args, "--port", String(port), "--strictPort", "--host", "127.0.0.1"], {
    env: { NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  let exited = false;
  child.exited.then(() => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${[cli, ...args].join(" ")} on port ${port}`, async () => {
      if (exited) throw new Error(`exited: ${child.output().slice(-3000)}`);
      return (await fetch(`${url}/`)).ok;
    }, { timeoutMs: 30000 });
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { url, output: () => child.output(), stop: () => child.stop() };
}

// Hosts: where apps are served. `static` is the reference server itself.
export const HOSTS = {
  "vite6 preview": () => viteServer(VITE6, ["preview", SRC, "--outDir", join(DIST, "vite6")]),
  // --force: the dependency cache (node_modules/.vite) is shared by both Vite versions
  // and must not keep a previous tarball's pre-bundle.
  "vite6 dev": () => viteServer(VITE6, [SRC, "--force"]),
  "vite8 preview": () => viteServer(VITE8, ["preview", SRC, "--outDir", join(DIST, "vite8")]),
  "vite8 worker preview": () => viteServer(VITE8, ["preview", join(SRC, "worker"), "--outDir", join(DIST, "vite8-worker")]),
  "vite8 dev": () => viteServer(VITE8, [SRC, "--force"]),
};

/**
 * The browser apps: name (used in test names and session ids), the build it needs, the
 * host serving it (`static`: the reference server) and the page's path there.
 */
export const BROWSER_APPS = [
  { name: "vite6 build", build: "vite6", host: "vite6 preview", path: "/" },
  { name: "vite6 dev", host: "vite6 dev", path: "/" },
  { name: "vite8 build", build: "vite8", host: "vite8 preview", path: "/" },
  { name: "vite8 dev", host: "vite8 dev", path: "/" },
  { name: "vite8 worker build", build: "vite8-worker", host: "vite8 worker preview", path: "/", worker: true },
  { name: "vite8 worker dev", host: "vite8 dev", path: "/worker/", worker: true },
  { name: "webpack", build: "webpack", host: "static", path: "/dist/webpack/" },
  { name: "esbuild", build: "esbuild", host: "static", path: "/dist/esbuild/" },
  { name: "rollup", build: "rollup", host: "static", path: "/dist/rollup/" },
  { name: "no bundler", build: "nobundler", host: "static", path: "/dist/nobundler/" },
  { name: "no-bundler worker", build: "nobundler-worker", host: "static", path: "/dist/nobundler-worker/", worker: true },
  // The `sse-courier/persist` entry, with `persist: { store: "indexeddb" }`.
  { name: "esbuild persist", build: "esbuild-persist", host: "static", path: "/dist/esbuild-persist/" },
  { name: "no bundler persist", build: "nobundler-persist", host: "static", path: "/dist/nobundler-persist/" },
  // The `sse-courier/tabs` entry, with `shareAcrossTabs`: one tab, which leads.
  { name: "esbuild tabs", build: "esbuild-tabs", host: "static", path: "/dist/esbuild-tabs/" },
  { name: "no bundler tabs", build: "nobundler-tabs", host: "static", path: "/dist/nobundler-tabs/" },
  // The `sse-courier/full` entry, with both: one tab, which leads and stores its send.
  { name: "no bundler full", build: "nobundler-full", host: "static", path: "/dist/nobundler-full/" },
];

export const NODE_APPS = [
  { name: "node esm", script: join(SRC, "node", "app.mjs") },
  { name: "node cjs", script: join(SRC, "node", "app.cjs") },
  { name: "node persist", script: join(SRC, "node", "app-persist.mjs") },
  // The npm README's example, compiled from TypeScript: it reads the server from
  // CHAT_URL, prints what it sees (readme.mjs, stateFromOutput) and sends in the
  // session "s1", its own.
  { name: "node readme example (TypeScript)", build: "readme-node", script: join(DIST, "readme-node", "chat.js"), readme: { sessionId: "s1" } },
];

export const slug = (name) => name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
