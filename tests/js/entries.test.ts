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

describe("a freed Connection (issue 24)", () => {
  /** Every member of the class, methods and getters, up its prototype chain. */
  function membersOf(conn: object) {
    const members = new Map<string, PropertyDescriptor>();
    for (let proto = Object.getPrototypeOf(conn); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
        if (name !== "constructor" && !members.has(name)) members.set(name, descriptor);
      }
    }
    return members;
  }

  it("in every entry, each method and getter but free() throws 'this Connection was freed'; free() again does nothing", async () => {
    const web = (await import("sse-courier/web")) as Entry & {
      initSync: (input: { module: BufferSource }) => unknown;
    };
    web.initSync({ module: readFileSync(new URL("./node_modules/sse-courier/web/sse_courier_bg.wasm", import.meta.url)) });
    const entries: Record<string, Entry> = {
      "sse-courier (import)": esm,
      "sse-courier (require)": requireFromHere("sse-courier") as Entry,
      "sse-courier/web": web,
      "sse-courier/persist": (await import("sse-courier/persist")) as unknown as Entry,
      "sse-courier/tabs": (await import("sse-courier/tabs")) as unknown as Entry,
      "sse-courier/full": (await import("sse-courier/full")) as unknown as Entry,
    };
    for (const [entry, { Connection }] of Object.entries(entries)) {
      const conn = new Connection({
        baseUrl: BASE,
        fetch: okFetch(),
        createEventSource: (url: string) => new FakeEventSource(url) as unknown as EventSource,
      });
      conn.connect();
      conn.free();
      const members = membersOf(conn);
      // The listing is the class's own: make sure it is not empty or partial.
      expect([...members.keys()], entry).toEqual(
        expect.arrayContaining(["connect", "send", "onMessage", "stats", "pendingCount", "inFlightCount", "config"]),
      );
      for (const [name, descriptor] of members) {
        if (name === "free") continue;
        const use = descriptor.get
          ? () => (conn as unknown as Record<string, unknown>)[name]
          : () => (conn as unknown as Record<string, () => unknown>)[name]();
        expect(use, `${entry}: ${name}`).toThrow(/^this Connection was freed/);
      }
      expect(() => conn.free(), entry).not.toThrow();
      expect(() => conn[Symbol.dispose](), entry).not.toThrow();
    }
  });

  it("sse-courier/bundler (which Node cannot load: it imports its wasm as a module) has the same wrapper", () => {
    const bundler = readFileSync(new URL("./node_modules/sse-courier/bundler/index.js", import.meta.url));
    expect(new TextDecoder().decode(bundler)).toContain("this Connection was freed");
  });
});
