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
// @ts-expect-error a message needs a type
conn.send({ prompt: "no type" });
// @ts-expect-error onDelivery takes a report
new Connection({ baseUrl: "", onDelivery: (n: number) => n });
