// How each browser's network is taken down and up in the tests (the offline scenario
// of scenarios.mjs, the persisted outbox's of persist.mjs).
import { freePort } from "./processes.mjs";
import { startRelay } from "./relay.mjs";

/** How `offlineSwitch` takes each browser offline, for the tests' names. */
export const OFFLINE_HOW = {
  chromium: "network emulated offline through CDP (Network.emulateNetworkConditions)",
  firefox: "Firefox's proxy set to a port where nothing listens (chrome context), its offline mode spares loopback",
  webkit: "WebKitWebDriver has no network switch: the page is loaded through a TCP relay in the test, which resets every connection while offline",
};

/** Takes the browser's network down and up; how depends on the browser. `origin`,
 * when set, is where the page must be loaded from for the switch to reach it. */
export async function offlineSwitch(session, browser, server) {
  if (browser === "webkit") {
    // WebKitWebDriver has no network emulation and MiniBrowser no offline mode: the page
    // is loaded through a relay, which, offline, ends every open connection (the stream
    // with it) and resets every new one, so each request fails with a network error.
    const relay = await startRelay(server.url);
    return { origin: relay.url, set: async (online) => relay.setOnline(online), close: () => relay.close() };
  }
  if (browser === "chromium") {
    return {
      async set(online) {
        await session.cdp("Network.enable");
        await session.cdp("Network.emulateNetworkConditions", {
          offline: !online,
          latency: 0,
          downloadThroughput: -1,
          uploadThroughput: -1,
        });
      },
    };
  }
  // Firefox: no CDP, and its offline mode (Services.io.offline) keeps loopback
  // reachable. Routing every request through a proxy port where nothing listens
  // (loopback included) makes each new request fail with a network error, as offline.
  return {
    async set(online) {
      const deadPort = online ? 0 : await freePort();
      await session.chromeScript(
        `const prefs = Services.prefs;
         if (arguments[0]) {
           prefs.setBoolPref("network.proxy.allow_hijacking_localhost", true);
           prefs.setStringPref("network.proxy.no_proxies_on", "");
           prefs.setStringPref("network.proxy.http", "127.0.0.1");
           prefs.setIntPref("network.proxy.http_port", arguments[0]);
           prefs.setIntPref("network.proxy.type", 1);
         } else {
           prefs.setIntPref("network.proxy.type", 0);
         }`,
        deadPort,
      );
    },
  };
}
