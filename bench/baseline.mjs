// The baseline build of the before/after figures (issue 21: the old and the new build
// side by side in the same run). Opt-in, from the environment:
//
//   BENCH_BASELINE=<git ref>      a commit, tag or branch of this repository: its source
//                                 (`git archive`, no worktree registered) goes to
//                                 target/bench-baseline/<commit>/ and its package is
//                                 built there with its own scripts/build-pkg, once: the
//                                 next run finds pkg/package.json there and reuses it.
//   BENCH_BASELINE_PKG=<dir>      an already built package directory (what `make pkg`
//                                 leaves in pkg/), used as it is.
//
// Neither set: no baseline, and the bench is exactly what it is without this file.
// bench/build.mjs bundles the baseline's `sse-courier/bundler` entry into the page as
// `sse-courier-baseline` (the same entry the page takes `Connection` from, for the same
// reason); bench/run.mjs measures its sizes beside this tree's and runs it as the
// "baseline" variant of the inbound and outbound groups.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";

/** The files of a package the bench reads: the page's entry, and what size.mjs measures. */
const NEEDED = ["bundler/index.js", "bundler/sse_courier_bg.wasm", "index.js", "web/sse_courier.js", "web/sse_courier_bg.wasm"];

const git = (root, ...args) => execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();

/** The wasm-bindgen version a tree's Cargo.toml pins (`wasm-bindgen = { version = "=x" }`). */
function pinnedWasmBindgen(dir) {
  const toml = readFileSync(join(dir, "Cargo.toml"), "utf8");
  return /^wasm-bindgen = \{ version = "=([0-9.]+)"/m.exec(toml)?.[1] ?? null;
}

/**
 * Builds the package of commit `commit` under target/bench-baseline/<commit>/ unless
 * it is already there; returns the package directory.
 */
function buildRef(root, commit, log) {
  const dir = join(root, "target", "bench-baseline", commit);
  const pkg = join(dir, "pkg");
  // build-pkg writes pkg/package.json near its end: its presence means a build that
  // ran to the end (an interrupted one starts again, build-pkg empties pkg/ first).
  if (existsSync(join(pkg, "package.json"))) {
    log(`baseline: ${commit.slice(0, 12)}: reusing ${pkg}`);
    return pkg;
  }
  if (!existsSync(join(dir, "Cargo.toml"))) {
    // Extracted beside it and renamed, so that a half-extracted tree is never taken for one.
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    execFileSync("sh", ["-c", 'git -C "$1" archive "$2" | tar -x -C "$3"', "sh", root, commit, partial]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
  }
  // Its own scripts/build-pkg, not `make pkg`: the Makefile's pkg target runs
  // scripts/setup first, which would reinstall the global wasm-bindgen CLI at the
  // baseline's version and so break this tree's builds. wasm-pack needs a CLI that
  // matches the baseline's pin; say so up front when it does not.
  const pinned = pinnedWasmBindgen(dir);
  const here = pinnedWasmBindgen(root);
  if (pinned && here && pinned !== here) {
    log(`baseline: warning: ${commit.slice(0, 12)} pins wasm-bindgen ${pinned}, this tree ${here}; wasm-pack needs a CLI of ${pinned} (or use BENCH_BASELINE_PKG)`);
  }
  log(`baseline: building the package of ${commit.slice(0, 12)} in ${dir} (its scripts/build-pkg; a few minutes the first time)`);
  // stdout to our stderr: bench/run.mjs's stdout is the JSON of a BENCH_ONLY run.
  execFileSync(join(dir, "scripts", "build-pkg"), [], { cwd: dir, stdio: ["ignore", 2, 2] });
  return pkg;
}

/**
 * The baseline the environment asks for, or null: `{ label, ref, commit, subject,
 * pkg }` (`ref`, `commit` and `subject` null for BENCH_BASELINE_PKG). With
 * `build: false` a ref's package must already be built (bench/build.mjs builds it; the
 * driver only reads it).
 */
export function baseline(root, { build = true, log = (...a) => console.error("bench:", ...a), env = process.env } = {}) {
  const ref = env.BENCH_BASELINE || null;
  const given = env.BENCH_BASELINE_PKG || null;
  if (!ref && !given) return null;
  if (ref && given) throw new Error("bench: set BENCH_BASELINE or BENCH_BASELINE_PKG, not both");
  let found;
  if (given) {
    const pkg = isAbsolute(given) ? given : resolve(given);
    const version = existsSync(join(pkg, "package.json")) ? JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).version : null;
    found = { label: `${given}${version ? ` (version ${version})` : ""}`, ref: null, commit: null, subject: null, pkg };
  } else {
    const commit = git(root, "rev-parse", "--verify", `${ref}^{commit}`);
    const pkg = build ? buildRef(root, commit, log) : join(root, "target", "bench-baseline", commit, "pkg");
    const [short, date, subject] = git(root, "log", "-1", "--format=%h%x00%cs%x00%s", commit).split("\0");
    found = { label: ref === short || commit.startsWith(ref) ? `${short} (${date})` : `${ref} = ${short} (${date})`, ref, commit, subject, pkg };
  }
  const missing = NEEDED.filter((file) => !existsSync(join(found.pkg, file)));
  if (missing.length) {
    throw new Error(`bench: the baseline package ${found.pkg} has no ${missing.join(", ")}${found.ref && !build ? " (node bench/build.mjs builds it)" : ""}`);
  }
  return found;
}

/** What results.json keeps of baseline `base` with its `size` (bench/size.mjs): the
 * package's path relative to the tree when it is inside it. */
export function baselineRecord(root, base, size) {
  const pkg = relative(root, base.pkg);
  return { ...base, pkg: pkg.startsWith("..") ? base.pkg : pkg, size };
}
