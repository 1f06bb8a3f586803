// Child processes that are always stopped: each is started in its own process group
// (so a driver's browser goes with it) and registered until stopped; whatever is
// still registered when this process exits, by a failure or a signal, is killed.
import { spawn } from "node:child_process";
import { createServer } from "node:net";

const running = new Set();

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

process.on("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    for (const child of running) killGroup(child, "SIGKILL");
    process.exit(130);
  });
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it next). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `command` in a new process group. Output is kept (bounded) for error
 * messages; `onLine` sees each stdout line.
 */
export function start(command, args, { onLine, env } = {}) {
  const child = spawn(command, args, {
    detached: true, // own process group: stop() takes its children (browsers) along
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  running.add(child);
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-20000);
  };
  let pending = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    keep(chunk);
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      onLine?.(line);
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  exited.then(() => running.delete(child));
  child.on("error", (error) => keep(`\n${command}: ${error.message}\n`));

  return {
    pid: child.pid,
    exited,
    output: () => output,
    /** SIGTERM to the whole group, SIGKILL after `graceMs`. */
    async stop(graceMs = 3000) {
      if (!running.has(child)) return;
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      // Anything left in the group (a browser that ignored SIGTERM) goes now.
      killGroup(child, "SIGKILL");
    },
  };
}

/** Polls `check` until it returns a truthy value, which is returned. */
export async function waitFor(what, check, { timeoutMs = 15000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
