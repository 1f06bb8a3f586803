// A TCP relay in the test process, for a browser whose WebDriver has no way to take
// the network down (WebKit): the page is loaded through it, so every request the page
// makes goes through it too. Offline, it ends every relayed connection and resets each
// new one as soon as it is accepted, so the page's requests fail with a network error.
import { connect, createServer } from "node:net";

/** Relays 127.0.0.1:<free port> to `target` (http://host:port); returns
 * `{ url, setOnline(online), close() }`. */
export async function startRelay(target) {
  const { hostname, port } = new URL(target);
  const open = new Set();
  let online = true;
  const server = createServer((client) => {
    if (!online) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(port), hostname);
    const pair = [client, upstream];
    open.add(pair);
    const end = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    setOnline(value) {
      online = value;
      if (!online) {
        for (const [client, upstream] of open) {
          client.resetAndDestroy();
          upstream.destroy();
        }
        open.clear();
      }
    },
    close() {
      this.setOnline(false);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
