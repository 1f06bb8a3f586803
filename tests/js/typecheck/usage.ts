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
    const status: "delivered" | "dropped" | "failed" = report.status;
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
