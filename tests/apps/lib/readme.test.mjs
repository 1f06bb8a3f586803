// The README example extractor and the reader of the example's output (readme.mjs).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { extractExample, stateFromOutput } from "./readme.mjs";

const readme = (...lines) => lines.join("\n");

test("extracts the block right after the marker, fence excluded, and nothing else", () => {
  const md = readme(
    "# Title",
    "```ts",
    "not this one",
    "```",
    "<!-- example: node (checked by the matrix) -->",
    "```ts",
    'import { a } from "b";',
    "",
    "  indented();",
    "```",
    "```ts",
    "nor this",
    "```",
  );
  assert.equal(extractExample(md, "node"), 'import { a } from "b";\n\n  indented();\n');
});

test("tells examples apart by name, a longer name being another example", () => {
  const md = readme("<!-- example: node-cjs -->", "```js", "cjs();", "```", "<!-- example: node -->", "```ts", "esm();", "```");
  assert.equal(extractExample(md, "node"), "esm();\n");
  assert.equal(extractExample(md, "node-cjs"), "cjs();\n");
});

test("reads CRLF files", () => {
  assert.equal(extractExample("<!-- example: node -->\r\n```ts\r\nrun();\r\n```\r\n", "node"), "run();\n");
});

test("fails without the marker, with two, with no fence right after it, or an unclosed block", () => {
  assert.throws(() => extractExample(readme("```ts", "x", "```"), "node"), /no "<!-- example: node -->" marker/);
  assert.throws(
    () => extractExample(readme("<!-- example: node -->", "```ts", "a", "```", "<!-- example: node -->", "```ts", "b", "```"), "node"),
    /marks 2 blocks as example "node" \(lines 1, 5\)/,
  );
  assert.throws(() => extractExample(readme("<!-- example: node -->", "", "```ts", "a", "```"), "node"), /line 2\) is not an opening code fence/);
  assert.throws(() => extractExample(readme("<!-- example: node -->", "```ts", "a", "``"), "node"), /never closed/);
});

test("the npm README has its Node example, importing the package and eventsource", () => {
  const md = readFileSync(new URL("../../../pkg-template/README.md", import.meta.url), "utf8");
  const code = extractExample(md, "node");
  assert.match(code, /from "sse-courier"/);
  assert.match(code, /from "eventsource"/);
});

test("reads the example's output into the matrix's state", () => {
  const state = stateFromOutput(
    [
      'event {"type":"_open"}',
      "connected c-1",
      "send m-1 true",
      'event {"type":"message_done","clientMsgId":"m-1"}',
      "report m-1 delivered ",
      "report m-2 failed network",
      "",
    ],
    "node readme",
  );
  assert.deepEqual(state.errors, []);
  assert.deepEqual(state.events, [{ type: "_open" }, { type: "message_done", clientMsgId: "m-1" }]);
  assert.equal(state.connectionId, "c-1");
  assert.equal(state.sendReturned, true);
  assert.equal(state.clientMsgId, "m-1");
  assert.deepEqual(state.reports, [
    { clientMsgId: "m-1", status: "delivered" },
    { clientMsgId: "m-2", status: "failed", reason: "network" },
  ]);
});

test("an output line it does not know, or an event that is not JSON, is an error", () => {
  const state = stateFromOutput(["event {nope", "Error: boom", "send m-1 false", "connected null"], "x");
  assert.equal(state.errors.length, 2);
  assert.match(state.errors[0], /not JSON/);
  assert.match(state.errors[1], /unexpected line: Error: boom/);
  assert.equal(state.sendReturned, false);
  assert.equal(state.connectionId, null);
});
