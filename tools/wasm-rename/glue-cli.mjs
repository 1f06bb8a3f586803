#!/usr/bin/env node
// node tools/wasm-rename/glue-cli.mjs <web-build-dir> <renaming.json> <esbuild-package-dir>
// Renames and bundles the web glue in <web-build-dir> (see glue.mjs); esbuild is
// loaded from <esbuild-package-dir> (a node_modules/esbuild).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { renameWebGlue } from "./glue.mjs";

const [dir, renamingFile, esbuildDir] = process.argv.slice(2);
if (!dir || !renamingFile || !esbuildDir) {
  console.error("usage: glue-cli.mjs <web-build-dir> <renaming.json> <esbuild-package-dir>");
  process.exit(2);
}
const esbuild = createRequire(import.meta.url)(resolve(esbuildDir));
const renaming = JSON.parse(readFileSync(renamingFile, "utf8"));
await renameWebGlue({ dir, renaming, esbuild });
