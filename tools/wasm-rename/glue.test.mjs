// Tests of glue.mjs: the renaming of wasm-bindgen's web glue on the JS side.
// Run: node --test tools/wasm-rename/
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { aliasModuleSource, dropRepeatedModuleKeys, mangleCollisions, mangleOptions, renameTypings } from "./glue.mjs";

const esbuildDir = fileURLToPath(new URL("../../www/node_modules/esbuild", import.meta.url));
const esbuild = existsSync(esbuildDir) ? createRequire(import.meta.url)(esbuildDir) : null;
const skipWithoutEsbuild = esbuild ? false : "esbuild missing: npm ci --prefix www";

const renaming = {
  exports: { connection_send: "a", memory: "b" },
  imports: {
    "./sse_courier_bg.js": { __wbg_now_0123456789abcdef: "a", __wbindgen_string_new: "b" },
    "./snippets/x/src/web/helper.js": { openStream: "a", armTimer: "b" },
  },
  modules: { "./sse_courier_bg.js": "a", "./snippets/x/src/web/helper.js": "b" },
};

test("the alias module re-exports each function under its short name", () => {
  assert.equal(
    aliasModuleSource({ openStream: "a", armTimer: "b" }, "./helper.impl.js"),
    'export { openStream as a, armTimer as b } from "./helper.impl.js";\n',
  );
});

test("repeated module keys of the imports object are dropped, the first kept", () => {
  const glue = [
    "    return {",
    '        "./sse_courier_bg.js": import0,',
    '        "./snippets/x/helper.js": import1,',
    '        "./snippets/x/helper.js": import2,',
    '        "./snippets/x/options.js": import3,',
    '        "./snippets/x/helper.js": import4',
    "    };",
    "",
  ].join("\n");
  assert.equal(
    dropRepeatedModuleKeys(glue),
    [
      "    return {",
      '        "./sse_courier_bg.js": import0,',
      '        "./snippets/x/helper.js": import1,',
      '        "./snippets/x/options.js": import3,',
      "    };",
      "",
    ].join("\n"),
  );
});

test("the mangle options match exactly the renamed names and the private fields", () => {
  const { mangleProps, mangleCache, mangleQuoted } = mangleOptions(renaming, "./sse_courier_bg.js");
  assert.equal(mangleQuoted, true);
  for (const name of ["connection_send", "memory", "__wbg_now_0123456789abcdef", "./sse_courier_bg.js", "config_"]) {
    assert.ok(mangleProps.test(name), name);
  }
  // A snippet's functions are renamed by its alias module, not as properties.
  for (const name of ["openStream", "connection_send2", "xconnection_send", "__wbg_ptr", "free"]) {
    assert.ok(!mangleProps.test(name), name);
  }
  assert.equal(mangleCache.__wbg_now_0123456789abcdef, "a");
  assert.equal(mangleCache["./snippets/x/src/web/helper.js"], "b");
  assert.equal(mangleCache.connection_send, "a");
});

test("a renamed name that a helper uses as a property is a collision; a kept one, a string or a comment is not", { skip: skipWithoutEsbuild }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "glue-"));
  const helper = join(dir, "helper.js");
  writeFileSync(
    helper,
    `// the memory we keep
    export const record = (version, key) => ({ version, key, note: "kept in memory", kept: 1, memoryUse: 2 });`,
  );
  const withVersion = { ...renaming, exports: { ...renaming.exports, version: "c", kept: "kept" } };
  assert.deepEqual(await mangleCollisions(esbuild, withVersion, "./sse_courier_bg.js", [helper]), ["version"]);
  assert.deepEqual(await mangleCollisions(esbuild, renaming, "./sse_courier_bg.js", [helper]), []);
});

test("esbuild renames the glue's exports, imports object and private fields as planned", { skip: skipWithoutEsbuild }, async () => {
  const glue = `
    let wasm;
    const state = { streams_: new Map() };
    export function send(ptr) { return wasm.connection_send(ptr) + state.streams_.size; }
    export function imports(snippet) {
      return {
        "./sse_courier_bg.js": { __wbg_now_0123456789abcdef: () => Date.now(), other: 1 },
        "./snippets/x/src/web/helper.js": snippet,
      };
    }
    export function init(instance) { wasm = instance.exports; return wasm.memory; }
  `;
  const options = { minify: true, format: "iife", globalName: "glue", ...mangleOptions(renaming, "./sse_courier_bg.js") };
  const { code } = await esbuild.transform(glue, options);
  assert.match(code, /\.a\(/); // wasm.connection_send
  assert.match(code, /\.b\}/); // wasm.memory
  assert.doesNotMatch(code, /connection_send|__wbg_now|streams_|snippets|sse_courier_bg/);
  assert.match(code, /other:1/);
  const imports = new Function(`${code}; return glue;`)().imports("S");
  assert.deepEqual(Object.keys(imports), ["a", "b"]);
  assert.deepEqual(Object.keys(imports.a), ["a", "other"]);
});

test("typings: raw exports renamed, only where asked, and an unknown name refused", () => {
  const typings = [
    "export class Connection {",
    "  readonly config: ConnectionConfig;",
    "}",
    "export interface InitOutput {",
    "  readonly connection_send: (a: number) => void;",
    "  readonly memory: WebAssembly.Memory;",
    "}",
  ].join("\n");
  const renamed = renameTypings(typings, renaming.exports, /export interface InitOutput \{[^}]*\}/);
  assert.match(renamed, /readonly config: ConnectionConfig/);
  assert.match(renamed, /readonly a: \(a: number\) => void/);
  assert.match(renamed, /readonly b: WebAssembly.Memory/);
  assert.throws(() => renameTypings(typings, renaming.exports), /config/);
  assert.equal(
    renameTypings("export const connection_send: (a: number) => void;\n", renaming.exports),
    "export const a: (a: number) => void;\n",
  );
});
