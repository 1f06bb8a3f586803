// The lifetime promise of `Connection`, seen from a page with `gc()`:
//  1. "kept": connected, the app drops its only reference (a WeakRef and a
//     FinalizationRegistry stay), gc() a few times; a raw POST send on its connection id
//     must still be answered on its stream, to the listener it had.
//  2. "dropped": connected, then disconnect()ed and dropped; gc() must collect it.
// window.__life: phase (loading, kept, dropped, done, error), errors, and what was seen.
import { Connection } from "sse-courier";

const life = window.__life;
const params = new URLSearchParams(location.search);
const server = params.get("server");
const sessionId = params.get("sessionId");
const clientMsgId = params.get("clientMsgId");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const finalized = [];
const registry = new FinalizationRegistry((tag) => finalized.push(tag));

/** gc() `rounds` times with a task between (finalizers run as tasks). */
async function collect(rounds = 5) {
  for (let i = 0; i < rounds; i++) {
    await sleep(50);
    globalThis.gc();
  }
  await sleep(50);
}

async function until(what, check, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A connected Connection registered under `tag`; only the WeakRef is returned, so no
 * strong reference outlives this call. The listener records into `events`. */
async function connected(tag, events) {
  const conn = new Connection({ baseUrl: server });
  conn.onMessage((msg) => events.push(JSON.parse(JSON.stringify(msg))));
  conn.connect();
  await until(`${tag}: _open`, () => events.some((e) => e.type === "_open"));
  registry.register(conn, tag);
  return { ref: new WeakRef(conn), connectionId: conn.getConnectionId() };
}

async function kept() {
  life.phase = "kept";
  const events = [];
  const k = (life.kept = { events, connectionId: null, postStatus: null, postAnswer: null });
  const { ref, connectionId } = await connected("kept", events);
  k.connectionId = connectionId;
  await collect();
  k.finalizedAfterGc = finalized.includes("kept");
  k.aliveAfterGc = ref.deref() !== undefined;
  const response = await fetch(`${server}/api/chat/send`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Connection-ID": connectionId },
    body: JSON.stringify({ type: "send", sessionId, clientMsgId, prompt: "hi" }),
  });
  k.postStatus = response.status;
  k.postAnswer = await response.text();
  try {
    await until("the echoed user_message and the reply's message_done on the dropped connection's listener", () =>
      events.some((e) => e.type === "message_done" && e.clientMsgId === clientMsgId),
    );
  } catch (error) {
    k.timeout = error.message;
  }
  k.finalizedAtEnd = finalized.includes("kept");
  // Stop it now (the page goes on to the second part).
  ref.deref()?.disconnect();
}

async function dropped() {
  life.phase = "dropped";
  const events = [];
  const d = (life.dropped = { events });
  const { ref, connectionId } = await connected("dropped", events);
  d.connectionId = connectionId;
  ref.deref().disconnect();
  // A few more rounds than part 1: collection after disconnect() is what is asked.
  for (let round = 1; round <= 4; round++) {
    await collect();
    d.rounds = round;
    if (ref.deref() === undefined && finalized.includes("dropped")) break;
  }
  d.collected = ref.deref() === undefined;
  d.finalized = finalized.includes("dropped");
}

async function main() {
  if (typeof globalThis.gc !== "function") {
    throw new Error("gc() is not exposed: start Chromium with --js-flags=--expose-gc");
  }
  if (!server || !sessionId || !clientMsgId) throw new Error("?server=&sessionId=&clientMsgId= are required");
  await kept();
  await dropped();
  life.finalized = finalized;
  life.phase = "done";
}

main().catch((error) => {
  life.errors.push(error?.stack ?? String(error));
  life.phase = "error";
});
