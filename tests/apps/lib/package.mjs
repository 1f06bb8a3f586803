// The package as users get it: `npm pack ./pkg` (or the tarball in
// $SSE_COURIER_TARBALL), installed with `npm install --no-save` into tests/apps'
// node_modules beside the pinned tools, leaving package.json and package-lock.json as
// they are (checked).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { start } from "../../e2e/lib/processes.mjs";

export const APPS = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const ROOT = join(APPS, "..", "..");

/** Runs `command args` in its own process group; resolves with its output, or throws
 * naming the command, its exit and the end of its output. */
export async function run(command, args, { env, timeoutMs = 120000 } = {}) {
  const child = start(command, args, { env });
  const timer = setTimeout(() => child.stop(), timeoutMs);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(`${[command, ...args].join(" ")} exited ${code ?? signal}:\n${child.output().slice(-4000)}`);
  }
  return child.output();
}

/** The tarball to test: $SSE_COURIER_TARBALL, else `npm pack ./pkg` into a temporary
 * directory (removed by `cleanup`). */
export async function packTarball() {
  if (process.env.SSE_COURIER_TARBALL) return { tarball: process.env.SSE_COURIER_TARBALL, cleanup() {} };
  const pkg = join(ROOT, "pkg");
  if (!existsSync(join(pkg, "package.json"))) throw new Error(`${pkg}/package.json is missing: make pkg`);
  const dir = mkdtempSync(join(tmpdir(), "sse-courier-apps-"));
  const out = await run("npm", ["pack", pkg, "--pack-destination", dir, "--json", "--silent"]);
  const [{ filename, files }] = JSON.parse(out.slice(out.indexOf("[")));
  return {
    tarball: join(dir, filename),
    files: files.map((f) => f.path),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `npm install --no-save <tarball>` in tests/apps; fails when the pinned tools are not
 * installed (`npm ci` first) or when the install touched package.json or the lock. */
export async function installTarball(tarball) {
  if (!existsSync(join(APPS, "node_modules", "vite6", "package.json"))) {
    throw new Error(`${APPS}/node_modules is missing or stale: npm ci --prefix tests/apps`);
  }
  const manifest = readFileSync(join(APPS, "package.json"));
  const lock = readFileSync(join(APPS, "package-lock.json"));
  await run("npm", ["install", "--prefix", APPS, "--no-save", "--no-audit", "--no-fund", "--prefer-offline", tarball]);
  if (!manifest.equals(readFileSync(join(APPS, "package.json"))) || !lock.equals(readFileSync(join(APPS, "package-lock.json")))) {
    throw new Error("npm install --no-save changed tests/apps/package.json or package-lock.json");
  }
  for (const tool of ["vite", "vite6", "webpack", "webpack-cli", "esbuild", "rollup", "@rollup/plugin-node-resolve", "eventsource"]) {
    if (!existsSync(join(APPS, "node_modules", tool, "package.json"))) {
      throw new Error(`installing the tarball removed ${tool} from tests/apps/node_modules`);
    }
  }
  return JSON.parse(readFileSync(join(APPS, "node_modules", "sse-courier", "package.json"), "utf8")).version;
}
