// The reference server (debug build) on a free port, serving the built demo (www/),
// and a client for its test control API.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { start, waitFor } from "./processes.mjs";

const ROOT = new URL("../../../", import.meta.url).pathname;
export const BINARY = join(ROOT, "target", "debug", "sse-courier-server");

/** Flags the demo is served with by scripts/demo, minus the slow agent. */
export const DEMO_FLAGS = ["--sse-retry-ms", "500", "--heartbeat-ms", "2000"];

export async function startServer(extraFlags = []) {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: cargo build -p sse-courier-server`);
  if (!existsSync(join(ROOT, "www", "dist", "main.js"))) throw new Error("www/dist is missing: npm run --prefix www build");
  return launchServer(BINARY, ["--static-dir", join(ROOT, "www"), ...DEMO_FLAGS, ...extraFlags]);
}

/** Starts `binary --port 0 ...flags`, waits for its `listening on` line, and returns a
 * `Server` for it; stops the process when it never gets there. */
export async function launchServer(binary, flags) {
  let url;
  const process = start(binary, ["--port", "0", ...flags], {
    onLine: (line) => {
      const match = /^listening on (http:\/\/[0-9.:]+)/.exec(line);
      if (match) url = match[1];
    },
  });
  let exited = false;
  process.exited.then(() => (exited = true));
  try {
    await waitFor("the reference server to listen", async () => {
      if (exited) throw new Error(`server exited: ${process.output()}`);
      return url;
    });
  } catch (error) {
    await process.stop();
    throw error;
  }
  return new Server(url, process);
}

export class Server {
  constructor(url, process) {
    this.url = url;
    this.process = process;
  }

  /** POST /api/test/{path} with a JSON body; returns the JSON answer. */
  async control(path, body = {}) {
    const response = await fetch(`${this.url}/api/test/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(`control ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  }

  async get(path) {
    const response = await fetch(`${this.url}/api/test/${path}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return response.json();
  }

  /** The clientMsgIds the server accepted for `sessionId`, in order, and its lastSeq. */
  accepted(sessionId) {
    return this.get(`accepted?sessionId=${encodeURIComponent(sessionId)}`);
  }

  log() {
    return this.get("log");
  }

  stop() {
    return this.process.stop();
  }
}
