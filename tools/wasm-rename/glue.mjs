// Renames wasm-bindgen's `web` glue to match a wasm renamed by `wasm-rename`, and
// bundles it with the JS helpers into one minified module.
//
// The renaming (the JSON `wasm-rename` writes) is applied on the JS side by esbuild
// itself, not by editing text:
// - the exports the glue reads as `wasm.<name>`, the keys of the imports object it
//   builds (one per wasm-bindgen import) and the module keys of that object are
//   property names: esbuild's `mangleProps`, seeded with the renaming as its mangle
//   cache, renames exactly those (and the helpers' private state fields, which end
//   in `_`, to names of its own);
// - the helper modules' functions are imported by the wasm from a namespace object:
//   each snippet is replaced by a module that re-exports its functions under their
//   short names (`export { openStream as $0 } from "./helper.impl.js"`).
// The typings that list the raw exports are renamed line by line.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The source of a module that re-exports `implementation`'s functions under the
 * short names `fields` maps them to. */
export function aliasModuleSource(fields, implementation) {
  const aliases = Object.entries(fields).map(([name, short]) => `${name} as ${short}`);
  return `export { ${aliases.join(", ")} } from ${JSON.stringify(implementation)};\n`;
}

/** wasm-bindgen's imports object lists a JS module once per function the wasm imports
 * from it (`"./snippets/…/helper.js": import1,` then `import2`, … each the same
 * module): `source` with only the first entry of each, so that no bundler warns of
 * duplicate keys. */
export function dropRepeatedModuleKeys(source) {
  const seen = new Set();
  return source.replace(/^(\s*)("[^"\n]+")\s*:\s*import\d+,?[ \t]*\n/gm, (entry, _indent, key) => {
    if (seen.has(key)) return "";
    seen.add(key);
    return entry;
  });
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** esbuild's options that rename the glue's property names as `renaming` says (and
 * mangle the helpers' private fields, `name_`). `modules` are the module names the
 * imports object uses as keys; `imports` every field of `./sse_courier_bg.js`, the
 * glue's own imports object (a snippet's fields are renamed by its alias module). */
export function mangleOptions(renaming, glueModule) {
  const cache = { ...renaming.exports, ...renaming.modules, ...(renaming.imports[glueModule] ?? {}) };
  const exact = Object.keys(cache).map(escapeRegExp).join("|");
  return {
    mangleProps: new RegExp(`^(?:${exact})$|_$`),
    mangleQuoted: true,
    mangleCache: cache,
  };
}

/** The names esbuild will rename (see `mangleOptions`) that one of the helper modules
 * (`files`) also uses as a property name, as esbuild itself finds them. esbuild renames
 * a property name everywhere in the bundle, so such a name would be renamed in the
 * helpers too, where it may have to keep its spelling (a field of a stored record, of
 * an object Rust reads by name). */
export async function mangleCollisions(esbuild, renaming, glueModule, files) {
  const { mangleCache } = mangleOptions(renaming, glueModule);
  const renamed = Object.keys(mangleCache).filter((name) => mangleCache[name] !== name);
  if (!renamed.length || !files.length) return [];
  const result = await esbuild.build({
    entryPoints: files,
    outdir: "unused",
    write: false,
    logLevel: "silent",
    mangleProps: new RegExp(`^(?:${renamed.map(escapeRegExp).join("|")})$`),
    mangleQuoted: true,
    // An input cache makes esbuild report the names it renamed.
    mangleCache: {},
  });
  return Object.keys(result.mangleCache).sort();
}

/** `text` (typings) with each `readonly <name>:` / `export const <name>:` line of a raw
 * export renamed, in the whole text or only in the part `within` matches; throws on a
 * listed name that is not an export. */
export function renameTypings(text, exports, within = /^[^]*$/) {
  const renameLines = (part) =>
    part.replace(/^(\s*(?:readonly|export const) )([\w$]+)(?=:)/gm, (line, lead, name) => {
      if (!(name in exports)) throw new Error(`typings list ${name}, which the wasm does not export`);
      return lead + exports[name];
    });
  if (!within.test(text)) throw new Error(`typings: no part matches ${within}`);
  return text.replace(within, renameLines);
}

/**
 * Renames and bundles the web glue in `dir` (wasm-bindgen's `--target web` output
 * whose wasm `wasm-rename --rename-modules` already renamed): writes the minified
 * module over `sse_courier.js`, renames the raw exports in the typings.
 */
export async function renameWebGlue({ dir, renaming, esbuild, glue = "sse_courier.js" }) {
  const glueModule = "./sse_courier_bg.js";
  const helpers = Object.keys(renaming.imports).filter((module) => module !== glueModule);
  const collisions = await mangleCollisions(
    esbuild,
    renaming,
    glueModule,
    helpers.map((module) => join(dir, module)),
  );
  if (collisions.length) {
    throw new Error(
      `the helpers use ${collisions.join(", ")} as a name, which renaming the wasm would rename there too: keep it (wasm-rename --keep-export)`,
    );
  }
  for (const module of helpers) {
    const fields = renaming.imports[module];
    const snippet = join(dir, module);
    const implementation = snippet.replace(/\.js$/, ".impl.js");
    renameSync(snippet, implementation);
    writeFileSync(snippet, aliasModuleSource(fields, "./" + implementation.split("/").pop()));
  }
  const glueFile = join(dir, glue);
  const source = dropRepeatedModuleKeys(readFileSync(glueFile, "utf8"));
  writeFileSync(glueFile, source);
  const pragma = source.split("\n")[0];
  const result = await esbuild.build({
    entryPoints: [glueFile],
    bundle: true,
    format: "esm",
    minify: true,
    write: false,
    logLevel: "warning",
    ...mangleOptions(renaming, glueModule),
  });
  const code = result.outputFiles[0].text;
  // Deno and TypeScript find the typings through wasm-bindgen's first-line pragma.
  writeFileSync(glueFile, (pragma.includes("@ts-self-types") ? pragma + "\n" : "") + code);
  const typings = [
    ["sse_courier_bg.wasm.d.ts", undefined],
    ["sse_courier.d.ts", /export interface InitOutput \{[^}]*\}/],
  ];
  for (const [name, within] of typings) {
    const file = join(dir, name);
    writeFileSync(file, renameTypings(readFileSync(file, "utf8"), renaming.exports, within));
  }
  return dirname(glueFile);
}
