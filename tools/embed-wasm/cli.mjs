#!/usr/bin/env node
// Writes the JS module that embeds a wasm binary (see embed.mjs):
//   node tools/embed-wasm/cli.mjs <in.wasm> <out.js>
import { readFileSync, writeFileSync } from "node:fs";
import { encodeModule } from "./embed.mjs";

const [input, output] = process.argv.slice(2);
if (!input || !output || process.argv.length !== 4) {
  console.error("usage: node tools/embed-wasm/cli.mjs <in.wasm> <out.js>");
  process.exit(2);
}
const bytes = new Uint8Array(readFileSync(input));
// Catches a swapped argument order or a wrong path before a bad module ships.
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
if (!WASM_MAGIC.every((byte, i) => bytes[i] === byte)) {
  console.error(`${input}: not a wasm binary (no \\0asm header)`);
  process.exit(1);
}
const source = encodeModule(bytes);
writeFileSync(output, source);
console.error(`${output}: ${bytes.length} wasm bytes embedded in ${source.length} characters`);
