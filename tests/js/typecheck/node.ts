// Compiled with `tsc --strict` under Node's typings alone (tsconfig.node.json: no DOM
// library, lib checking on): what a Node app passes as createEventSource and fetch must
// fit the package's types, and a fake missing a member must not.
import { Connection, type EventSourceLike } from "sse-courier";
// The current major of the `eventsource` package (its typings only: it needs Node
// 22.12; the app matrix runs version 4 on Node 20, in the npm README's example).
import { EventSource } from "eventsource";

new Connection({ baseUrl: "http://localhost:8080", createEventSource: (url) => new EventSource(url) });

// Node's own fetch, a wrapper adding a header, and plain fakes of the answer.
new Connection({ baseUrl: "", fetch });
new Connection({ baseUrl: "", fetch: (url, init) => fetch(url, { ...init, headers: new Headers(init?.headers) }) });
new Connection({ baseUrl: "", fetch: async () => ({ ok: true }) });
new Connection({ baseUrl: "", fetch: async () => ({ ok: false, status: 404 }) });

// A plain object with the six members the docs list.
const fake = {
  readyState: 0,
  onmessage: null,
  onerror: null,
  addEventListener() {},
  removeEventListener() {},
  close() {},
};
new Connection({ baseUrl: "", createEventSource: () => fake });

// A test drives the handlers the package assigned: an event with `data`, and an error
// with no event at all.
const source: EventSourceLike = { ...fake };
source.onmessage?.({ data: '{"type":"hello"}' });
source.onerror?.();

// @ts-expect-error a fake without addEventListener and removeEventListener
new Connection({ baseUrl: "", createEventSource: () => ({ readyState: 0, onmessage: null, onerror: null, close() {} }) });
// @ts-expect-error fetch must return a promise
new Connection({ baseUrl: "", fetch: () => ({ ok: true }) });
