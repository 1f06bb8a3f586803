// Embeds a wasm binary in a JS module, so that the package's default entry can
// compile it synchronously (`new WebAssembly.Module(wasmBytes())`) and no app
// bundler needs wasm support.
//
// This file owns the payload encoding: the encoder (`encodeModule`, run at build
// time; cli.mjs wraps it), the decoder (`decodePayload`, copied verbatim into
// every generated module, and exported here for the tests) and the code layout
// both of them read (`payloadAlphabet`, `bytesByCode`).
//
// The encoding, and why:
// - The payload is a string literal that every app's minifier (esbuild, terser,
//   Rollup, oxc, webpack) re-prints. It is therefore printable ASCII without any
//   character that needs an escape in some quote style or that matters in HTML:
//   no `"`, `'`, backtick, backslash, `$` (template `${`), `{`, nor `<` (so
//   `</script>` or `<!--` can never appear). 88 characters remain.
// - The app's server gzips the bundle, so what counts is the gzip size of the
//   whole module. Base64 and the like cut the bytes into bit groups that straddle
//   byte boundaries, which hides the wasm's repeated byte sequences from gzip
//   (base64: +30% after gzip). Here every byte becomes whole characters: the 86
//   bytes most frequent in this wasm get one character each, the other 170 an
//   escape character (one of 2) plus one character. Repeated byte sequences stay
//   repeated character sequences. On this project's 25 KB wasm the minified module,
//   decoder included, gzips to 12,452 B against 12,047 B for the `.wasm` file
//   (base64: 15,729; hex: 13,556; deflate + base64 + a JS inflate library: 14,227).
// - Which bytes get one character is chosen per wasm at build time and shipped as
//   a 256-bit bitmap (64 hex digits). Only the set matters, not the order: gzip's
//   cost does not change when one-character codes are permuted among themselves,
//   so codes follow byte order within each group.

// Characters a minifier might escape, or that matter in a template literal or an
// inline <script> (see above).
const UNSAFE_CHARS = "\"'`\\$<{";
// With 88 characters, 2 escapes are the fewest that give every byte a code:
// 86 one-character codes + 2 * 88 two-character codes >= 256.
const ESCAPE_CHARS = 2;

// The code layout below is shared by the encoder and the decoder: these functions
// and the constants above are copied into the generated module as source text
// (`Function.prototype.toString`), so they read nothing else.
//
// Code `n` is written as one character, `alphabet[ESCAPE_CHARS + n]`, when
// `n < alphabet.length - ESCAPE_CHARS`; otherwise as two, an escape `alphabet[e]`
// (`e < ESCAPE_CHARS`) then `alphabet[d]`, for
// `n = alphabet.length - ESCAPE_CHARS + e * alphabet.length + d`.

/** The char codes a payload is made of, in digit order. */
function payloadAlphabet() {
  const alphabet = [];
  for (let charCode = 32; charCode < 127; charCode++) {
    if (!UNSAFE_CHARS.includes(String.fromCharCode(charCode))) alphabet.push(charCode);
  }
  return alphabet;
}

/**
 * The byte each code stands for: the common bytes first (they get the
 * one-character codes), then the others, each group in byte order.
 * `commonBytesBitmap` is 64 hex digits, bit `b & 3` of digit `b >> 2` set when
 * byte `b` is common.
 */
function bytesByCode(commonBytesBitmap) {
  const common = [];
  const rare = [];
  for (let byte = 0; byte < 256; byte++) {
    const isCommon = (parseInt(commonBytesBitmap[byte >> 2], 16) >> (byte & 3)) & 1;
    (isCommon ? common : rare).push(byte);
  }
  return common.concat(rare);
}

/** Decodes a payload made by `encodePayload` with the same bitmap back to the bytes. */
export function decodePayload(payload, commonBytesBitmap) {
  const alphabet = payloadAlphabet();
  const byteOfCode = bytesByCode(commonBytesBitmap);
  const digitOfChar = new Uint8Array(128);
  alphabet.forEach((charCode, digit) => (digitOfChar[charCode] = digit));
  const oneCharCodes = alphabet.length - ESCAPE_CHARS;
  // Each byte takes at least one character: the payload's length bounds the output.
  const bytes = new Uint8Array(payload.length);
  let length = 0;
  for (let i = 0; i < payload.length; ) {
    let code = digitOfChar[payload.charCodeAt(i++)];
    if (code < ESCAPE_CHARS) {
      code = oneCharCodes + code * alphabet.length + digitOfChar[payload.charCodeAt(i++)];
    } else {
      code -= ESCAPE_CHARS;
    }
    bytes[length++] = byteOfCode[code];
  }
  // A copy of exactly the decoded length, so its `.buffer` holds nothing else.
  return bytes.slice(0, length);
}

/**
 * The common bytes of `bytes`: the most frequent ones (ties to the lower byte
 * value, so the choice is deterministic), as many as there are one-character
 * codes; returned as the bitmap `bytesByCode` reads.
 */
export function commonBytesBitmapOf(bytes) {
  const oneCharCodes = payloadAlphabet().length - ESCAPE_CHARS;
  const count = new Array(256).fill(0);
  for (const byte of bytes) count[byte]++;
  const byFrequency = [...count.keys()].sort((a, b) => count[b] - count[a] || a - b);
  const common = new Set(byFrequency.slice(0, oneCharCodes));
  let bitmap = "";
  for (let first = 0; first < 256; first += 4) {
    let digit = 0;
    for (let bit = 0; bit < 4; bit++) if (common.has(first + bit)) digit |= 1 << bit;
    bitmap += digit.toString(16);
  }
  return bitmap;
}

/** Encodes `bytes` as a payload string for `decodePayload` with the given bitmap. */
export function encodePayload(bytes, commonBytesBitmap) {
  const alphabet = payloadAlphabet();
  const radix = alphabet.length;
  const oneCharCodes = radix - ESCAPE_CHARS;
  const charsOfByte = new Array(256);
  bytesByCode(commonBytesBitmap).forEach((byte, code) => {
    if (code < oneCharCodes) {
      charsOfByte[byte] = String.fromCharCode(alphabet[ESCAPE_CHARS + code]);
      return;
    }
    const escape = Math.floor((code - oneCharCodes) / radix);
    // Only reachable if UNSAFE_CHARS grows without ESCAPE_CHARS growing too.
    if (escape >= ESCAPE_CHARS) throw new Error(`byte ${byte} has no code: too few escapes`);
    const digit = (code - oneCharCodes) % radix;
    charsOfByte[byte] = String.fromCharCode(alphabet[escape], alphabet[digit]);
  });
  const parts = new Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = charsOfByte[bytes[i]];
  return parts.join("");
}

/**
 * The source of an ES module with no imports that exports `wasmBytes()`, which
 * returns a fresh `Uint8Array` equal to `bytes` (decoded on each call: the caller
 * compiles once, and the string is all the module keeps).
 */
export function encodeModule(bytes) {
  const bitmap = commonBytesBitmapOf(bytes);
  const payload = encodePayload(bytes, bitmap);
  return `// Generated by tools/embed-wasm from a ${bytes.length}-byte binary: do not edit.
// The bytes are encoded as printable ASCII that no minifier re-escapes and that
// gzip compresses about as well as the binary (see tools/embed-wasm/embed.mjs).
const UNSAFE_CHARS = ${JSON.stringify(UNSAFE_CHARS)};
const ESCAPE_CHARS = ${ESCAPE_CHARS};
${payloadAlphabet}
${bytesByCode}
${decodePayload}
export function wasmBytes() {
  return decodePayload("${payload}", "${bitmap}");
}
`;
}
