// The package's entries, as Node resolves them by the package's name: `import` gives
// the ESM default entry, `require` the CommonJS one, both with the wasm inside and
// ready at once (no init, no await); `sse-courier/web` needs its wasm handed to it.
import { describe, it, expect } from "vitest";
import * as esm from "sse-courier";
import { FakeEventSource, BASE, latest, okFetch } from "./fakes";

type Entry = typeof esm;

// Untyped imports of Node built-ins (the tests compile without Node's typings).
const { createRequire } = (await import("node:module" as string)) as {
  createRequire: (from: string) => (id: string) => unknown;
};
const { readFileSync } = (await import("node:fs" as string)) as {
  readFileSync: (path: URL) => Uint8Array<ArrayBuffer>;
};
const requireFromHere = createRequire(import.meta.url);

function sendsAtOnce(entry: Entry) {
  FakeEventSource.all = [];
  const fetch = okFetch();
  const conn = new entry.Connection({
    baseUrl: BASE,
    fetch,
    createEventSource: (url: string) => new FakeEventSource(url) as unknown as EventSource,
  });
  conn.connect();
  latest().welcome("c1");
  expect(conn.send({ type: "send", sessionId: "s", prompt: "hi" })).toBe(true);
  expect(fetch).toHaveBeenCalledTimes(1);
  expect(fetch.mock.calls[0][0]).toBe(`${BASE}/api/chat/send`);
  conn.disconnect();
}

describe("entries", () => {
  it("import: the default entry works with no init", () => {
    expect(typeof esm.version()).toBe("string");
    sendsAtOnce(esm);
  });

  it("require: the CommonJS entry works with no init", () => {
    const cjs = requireFromHere("sse-courier") as Entry;
    expect(cjs).not.toBe(esm);
    expect(cjs.version()).toBe(esm.version());
    sendsAtOnce(cjs);
  });

  it("sse-courier/web: Connection once initSync has the wasm", async () => {
    const web = (await import("sse-courier/web")) as Entry & {
      initSync: (input: { module: BufferSource }) => unknown;
    };
    const wasmUrl = new URL("./node_modules/sse-courier/web/sse_courier_bg.wasm", import.meta.url);
    web.initSync({ module: readFileSync(wasmUrl) });
    sendsAtOnce(web);
  });
});
