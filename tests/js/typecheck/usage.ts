// Compiled with `tsc --strict` and lib checking on: the package's typings must accept
// the existing client's way of using SseConnection, and reject what is wrong.
import { Connection, type ConnectionConfig, type DeliveryReport, type ServerMessage } from "sse-courier";

const apiFetch = (url: string, init?: RequestInit): Promise<Response> => fetch(url, init);

const config: ConnectionConfig = {
  baseUrl: "https://chat.example.com",
  fetch: apiFetch,
  reconnectDelayMs: 500,
  suspendUrl: "https://chat.example.com/api/chat/suspend-beacon",
  onDelivery: (report: DeliveryReport) => {
    // `uncertain` comes only with the opt-in `authLatch` (docs/api.md, "Delivery reports").
    const status: "delivered" | "dropped" | "failed" | "uncertain" = report.status;
    void status;
  },
};
const conn = new Connection(config);
conn.onMessage((msg: ServerMessage) => {
  if (msg.type === "_open") conn.trackSeq("s", 0);
});
conn.connect();
const sent: boolean = conn.send({ type: "send", sessionId: "s", prompt: "hi", clientMsgId: "m-1" });
const id: string | null = conn.getConnectionId();
const seq: number = conn.getLastSeq("s");
const sessions: string[] = conn.getTrackedSessions();
conn.checkAndReconnect();
conn.checkAndReconnect(true);
conn.sendSuspend();
conn.clearPendingSends();
conn.disconnect();
void [sent, id, seq, sessions];

// @ts-expect-error baseUrl is required
new Connection({});
// The existing client's signature is `send(msg: object)`: its callers pass values typed
// `object` or `Record<string, unknown>`, and the type is checked when sent (it throws).
const asObject: object = { type: "send", prompt: "hi" };
const asRecord: Record<string, unknown> = { type: "stop", sessionId: "s" };
const acceptedObject: boolean = conn.send(asObject);
const acceptedRecord: boolean = conn.send(asRecord);
void [acceptedObject, acceptedRecord];
// @ts-expect-error a message is an object
conn.send("send");
// @ts-expect-error onDelivery takes a report
new Connection({ baseUrl: "", onDelivery: (n: number) => n });

// createEventSource takes what the package uses of an EventSource (EventSourceLike):
// the DOM's, an app's function typed to return one, a class shaped like the existing
// client's test fakes (handlers typed with MessageEvent, onerror called with nothing),
// and a plain object.
new Connection({ baseUrl: "", createEventSource: (url) => new EventSource(url) });
function observedEventSource(url: string): EventSource {
  return new EventSource(url);
}
new Connection({ baseUrl: "", createEventSource: observedEventSource });
class FakeEventSource {
  readyState = 0;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {}
  addEventListener(type: string, handler: (e: MessageEvent) => void): void {
    void [type, handler];
  }
  removeEventListener(type: string, handler: (e: MessageEvent) => void): void {
    void [type, handler];
  }
  close(): void {
    this.readyState = 2;
  }
}
new Connection({ baseUrl: "", createEventSource: (url) => new FakeEventSource(url) });
new Connection({
  baseUrl: "",
  createEventSource: () => ({ readyState: 0, onmessage: null, onerror: null, addEventListener() {}, removeEventListener() {}, close() {} }),
});
// @ts-expect-error an EventSource needs close()
new Connection({ baseUrl: "", createEventSource: () => ({ readyState: 0, onmessage: null, onerror: null, addEventListener() {}, removeEventListener() {} }) });
