// Tests of the wasm embedding (embed.mjs, cli.mjs): `node --test tools/embed-wasm/`.
// The minifier tests need the demo's pinned esbuild (`npm ci --prefix www`); the
// real-wasm tests need a built package (`make pkg`) or EMBED_WASM_TEST_WASM=<file>.
// Each is skipped, saying why, when its input is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { commonBytesBitmapOf, decodePayload, encodeModule, encodePayload } from "./embed.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(here, "..", "..");
const esbuild = join(repoRoot, "www", "node_modules", ".bin", "esbuild");
const noEsbuild = existsSync(esbuild) ? false : `no ${esbuild}: run npm ci --prefix www`;

/** The wasm the package ships, when one has been built. */
function findRealWasm() {
  if (process.env.EMBED_WASM_TEST_WASM) return process.env.EMBED_WASM_TEST_WASM;
  const preferred = join(repoRoot, "pkg", "web", "sse_courier_bg.wasm");
  if (existsSync(preferred)) return preferred;
  const pkg = join(repoRoot, "pkg");
  if (!existsSync(pkg)) return null;
  const found = readdirSync(pkg, { recursive: true }).filter((path) => path.endsWith(".wasm"));
  return found.length ? join(pkg, found.sort()[0]) : null;
}
const realWasmPath = findRealWasm();
const realWasm = realWasmPath ? new Uint8Array(readFileSync(realWasmPath)) : null;
const noRealWasm = realWasm ? false : "no built wasm under pkg/ (make pkg) nor EMBED_WASM_TEST_WASM";

/** The smallest valid wasm: magic and version, no sections. */
const EMPTY_WASM_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** Deterministic pseudo-random bytes (mulberry32), so a failure reproduces. */
function randomBytes(length, seed, distinctValues = 256) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  // Squaring skews the distribution, so some bytes are common and others rare.
  return Uint8Array.from({ length }, () => Math.floor(next() ** 2 * distinctValues));
}

/** Encodes and decodes with the functions embed.mjs exports; returns the payload. */
function assertRoundTrip(bytes) {
  const bitmap = commonBytesBitmapOf(bytes);
  const payload = encodePayload(bytes, bitmap);
  assert.deepEqual(decodePayload(payload, bitmap), bytes);
  return payload;
}

/** The payload and bitmap as the generated module spells them. */
function payloadOf(moduleSource) {
  const match = moduleSource.match(/return decodePayload\("([^"]*)", "([0-9a-f]{64})"\);/);
  assert.ok(match, "the generated module calls decodePayload with two string literals");
  return { payload: match[1], bitmap: match[2] };
}

const UNSAFE = new Set(["\"", "'", "`", "\\", "$", "<", "{"]);
function assertSafe(text) {
  for (const [i, char] of [...text].entries()) {
    const code = char.charCodeAt(0);
    assert.ok(code >= 0x20 && code <= 0x7e, `character ${i} (code ${code}) is not printable ASCII`);
    assert.ok(!UNSAFE.has(char), `character ${i} is ${JSON.stringify(char)}, which a minifier may escape`);
  }
}

/** Runs `body(dir)` in a fresh temporary directory, removed afterwards. */
async function inTempDir(body) {
  const dir = mkdtempSync(join(tmpdir(), "embed-wasm-test-"));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Imports the generated module as an app would without a bundler. */
async function importGenerated(bytes) {
  return inTempDir(async (dir) => {
    const file = join(dir, "wasm.mjs");
    writeFileSync(file, encodeModule(bytes));
    return import(pathToFileURL(file).href);
  });
}

/**
 * Bundles and minifies an app that imports the generated module, as an app's
 * build would; returns the bundle's text and the bytes it decodes.
 */
async function bundleAndRun(bytes) {
  return inTempDir(async (dir) => {
    writeFileSync(join(dir, "wasm.mjs"), encodeModule(bytes));
    writeFileSync(
      join(dir, "app.mjs"),
      'import { wasmBytes } from "./wasm.mjs";\nexport const decoded = wasmBytes();\n',
    );
    const bundle = join(dir, "bundle.mjs");
    execFileSync(esbuild, [join(dir, "app.mjs"), "--bundle", "--minify", "--format=esm", `--outfile=${bundle}`, "--log-level=warning"]);
    const { decoded } = await import(pathToFileURL(bundle).href);
    return { text: readFileSync(bundle, "utf8"), decoded };
  });
}

test("round trip: empty input", () => {
  assert.equal(assertRoundTrip(new Uint8Array(0)), "");
});

test("round trip: every byte value, ascending and descending", () => {
  const ascending = Uint8Array.from({ length: 256 }, (_, i) => i);
  assertRoundTrip(ascending);
  assertRoundTrip(ascending.slice().reverse());
});

test("round trip: long runs of one byte, with a one-character and a two-character code", () => {
  const run = (byte) => new Uint8Array(100_000).fill(byte);
  assert.equal(assertRoundTrip(run(0x00)).length, 100_000);
  assert.equal(assertRoundTrip(run(0xff)).length, 100_000);
  // A bitmap where 0xff is not common: each 0xff takes an escape and a character.
  const bitmap = commonBytesBitmapOf(Uint8Array.from({ length: 256 }, (_, i) => i));
  const payload = encodePayload(run(0xff), bitmap);
  assert.equal(payload.length, 200_000);
  assert.deepEqual(decodePayload(payload, bitmap), run(0xff));
});

test("round trip: pseudo-random bytes of several lengths and distributions", () => {
  for (const [length, seed, distinctValues] of [
    [1, 1, 256],
    [2, 2, 256],
    [1000, 3, 256],
    [100_000, 4, 256],
    [50_000, 5, 40],
  ]) {
    assertRoundTrip(randomBytes(length, seed, distinctValues));
  }
});

test("the bitmap marks as many common bytes as there are one-character codes", () => {
  const bitmap = commonBytesBitmapOf(randomBytes(10_000, 6));
  assert.match(bitmap, /^[0-9a-f]{64}$/);
  const setBits = [...bitmap].reduce((sum, digit) => sum + parseInt(digit, 16).toString(2).replace(/0/g, "").length, 0);
  assert.equal(setBits, 86);
});

test("the most frequent bytes take one character, the others two", () => {
  const bytes = randomBytes(20_000, 7);
  const bitmap = commonBytesBitmapOf(bytes);
  const isCommon = (byte) => (parseInt(bitmap[byte >> 2], 16) >> (byte & 3)) & 1;
  const expectedLength = bytes.reduce((sum, byte) => sum + (isCommon(byte) ? 1 : 2), 0);
  assert.equal(encodePayload(bytes, bitmap).length, expectedLength);
});

test("the payload is printable ASCII that needs no escape in any quote style", () => {
  const allValues = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (const bytes of [allValues, randomBytes(50_000, 8), realWasm].filter(Boolean)) {
    const { payload, bitmap } = payloadOf(encodeModule(bytes));
    assertSafe(payload);
    assertSafe(bitmap);
    // Read back verbatim as each kind of literal, so a minifier has nothing to re-escape.
    for (const quote of ['"', "'", "`"]) {
      assert.equal(new Function(`return ${quote}${payload}${quote}`)(), payload, `as a ${quote} literal`);
    }
    assert.equal(JSON.stringify(payload), `"${payload}"`);
    assert.ok(!payload.includes("</script"));
  }
});

test("the generated module has no imports and exports only wasmBytes, fresh on each call", async () => {
  const bytes = randomBytes(5000, 9);
  const source = encodeModule(bytes);
  assert.doesNotMatch(source, /^\s*import\b/m);
  const generated = await importGenerated(bytes);
  assert.deepEqual(Object.keys(generated), ["wasmBytes"]);
  const first = generated.wasmBytes();
  assert.deepEqual(first, bytes);
  assert.equal(first.buffer.byteLength, bytes.length);
  assert.notEqual(generated.wasmBytes(), first);
});

test("the generated module compiles a minimal wasm synchronously", async () => {
  const generated = await importGenerated(EMPTY_WASM_MODULE);
  assert.ok(new WebAssembly.Module(generated.wasmBytes()) instanceof WebAssembly.Module);
});

test("the generated module decodes the same bytes after esbuild --bundle --minify", { skip: noEsbuild }, async () => {
  const bytes = new Uint8Array([...Uint8Array.from({ length: 256 }, (_, i) => i), ...randomBytes(30_000, 10)]);
  const { text, decoded } = await bundleAndRun(bytes);
  assert.deepEqual(decoded, bytes);
  // The minifier printed the payload byte for byte.
  assert.ok(text.includes(`"${payloadOf(encodeModule(bytes)).payload}"`));
});

test("the real wasm: round trip, and the generated module's bytes compile", { skip: noRealWasm }, async () => {
  assertRoundTrip(realWasm);
  const generated = await importGenerated(realWasm);
  assert.deepEqual(generated.wasmBytes(), realWasm);
  assert.ok(new WebAssembly.Module(generated.wasmBytes()) instanceof WebAssembly.Module);
});

test("the real wasm: survives esbuild --bundle --minify, and gzips near the binary", { skip: noRealWasm || noEsbuild }, async () => {
  const { text, decoded } = await bundleAndRun(realWasm);
  assert.deepEqual(decoded, realWasm);
  assert.ok(new WebAssembly.Module(decoded) instanceof WebAssembly.Module);
  // The point of the encoding: the minified module, decoder included, costs
  // little more after gzip than the binary (base64 costs about 30% more).
  const moduleGzip = gzipSync(text, { level: 9 }).length;
  const wasmGzip = gzipSync(realWasm, { level: 9 }).length;
  assert.ok(moduleGzip < wasmGzip * 1.06, `minified module ${moduleGzip} B gzipped, wasm ${wasmGzip} B`);
});

test("cli.mjs writes the module, and refuses a file that is not wasm", () =>
  inTempDir(async (dir) => {
    const cli = join(here, "cli.mjs");
    const input = join(dir, "in.wasm");
    const output = join(dir, "out.js");
    writeFileSync(input, EMPTY_WASM_MODULE);
    execFileSync(process.execPath, [cli, input, output], { stdio: "pipe" });
    assert.equal(readFileSync(output, "utf8"), encodeModule(EMPTY_WASM_MODULE));

    writeFileSync(input, "not wasm");
    const refused = spawnSync(process.execPath, [cli, input, output], { encoding: "utf8" });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /not a wasm binary/);
    const usage = spawnSync(process.execPath, [cli, input], { encoding: "utf8" });
    assert.equal(usage.status, 2);
  }));
