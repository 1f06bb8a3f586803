// A small W3C WebDriver client over HTTP (node's fetch), enough for the demo tests:
// start a driver (chromedriver, geckodriver or WebKitWebDriver) on a free port, open a
// headless session with the capabilities of /webdriver.json, navigate, run scripts,
// type, click, screenshot, windows and history, and Chromium's CDP passthrough.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { freePort, start, waitFor } from "./processes.mjs";

const ROOT = new URL("../../../", import.meta.url).pathname;
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

function which(...candidates) {
  return candidates.find((path) => path && existsSync(path));
}

export const BROWSERS = {
  chromium: {
    driver: () => which(process.env.CHROMEDRIVER, "/usr/bin/chromedriver"),
    driverArgs: (port) => [`--port=${port}`],
    capabilities(headless) {
      return {
        browserName: "chrome",
        "goog:chromeOptions": {
          ...headless["goog:chromeOptions"],
          binary: which(process.env.CHROMIUM, "/usr/bin/chromium"),
        },
      };
    },
  },
  firefox: {
    driver: () =>
      which(process.env.GECKODRIVER, join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "bin", "geckodriver")),
    // System access lets the offline test reach Firefox's network settings.
    driverArgs: (port) => ["--port", String(port), "--allow-system-access"],
    capabilities(headless) {
      return {
        browserName: "firefox",
        "moz:firefoxOptions": {
          ...headless["moz:firefoxOptions"],
          binary: which(process.env.FIREFOX, "/usr/bin/firefox-esr", "/usr/bin/firefox"),
        },
      };
    },
  },
  // WebKitGTK: WebKitWebDriver starts MiniBrowser --automation. MiniBrowser has no
  // headless mode, so unless DISPLAY is set the driver (and so the browser) runs on an
  // Xvfb display of its own: `xvfb-run -a`, in the driver's process group.
  webkit: {
    driver: () => which(process.env.WEBKITDRIVER, "/usr/bin/WebKitWebDriver"),
    driverArgs: (port) => [`--port=${port}`],
    command: (driver, args) => (process.env.DISPLAY ? [driver, args] : ["xvfb-run", ["-a", driver, ...args]]),
    capabilities(headless) {
      const options = headless["webkitgtk:browserOptions"] ?? {};
      return {
        browserName: "MiniBrowser",
        "webkitgtk:browserOptions": {
          ...options,
          binary: which(process.env.MINIBROWSER, "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser", "/usr/libexec/webkit2gtk-4.1/MiniBrowser"),
        },
      };
    },
  },
};

/** Starts the driver for `browser` and opens one session; `close()` ends both. */
export async function openBrowser(browser) {
  const kind = BROWSERS[browser];
  const driverPath = kind.driver();
  if (!driverPath) throw new Error(`no WebDriver server found for ${browser}`);
  const port = await freePort();
  const [command, args] = (kind.command ?? ((path, a) => [path, a]))(driverPath, kind.driverArgs(port));
  const driver = start(command, args);
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `${browser} driver on port ${port}`,
      async () => {
        if (driver.output().includes("Address already in use")) throw new Error(driver.output());
        const status = await fetch(`${base}/status`).then((r) => r.json());
        return status.value?.ready;
      },
      { timeoutMs: 15000 },
    );
    const headless = JSON.parse(readFileSync(join(ROOT, "webdriver.json"), "utf8"));
    const created = await call(base, "POST", "/session", {
      capabilities: { alwaysMatch: { ...kind.capabilities(headless), pageLoadStrategy: "normal" } },
    });
    return new Session(browser, base, created.sessionId, driver);
  } catch (error) {
    await driver.stop();
    error.message += `\n--- ${browser} driver output ---\n${driver.output().slice(-3000)}`;
    throw error;
  }
}

async function call(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60000),
  });
  const text = await response.text();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new Error(`WebDriver ${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
  }
  // W3C errors come with a 4xx/5xx status; a script's result may well hold `error`.
  if (!response.ok) {
    const { error, message } = answer.value ?? {};
    throw new Error(`WebDriver ${method} ${path}: ${error ?? response.status}: ${message ?? text.slice(0, 500)}`);
  }
  return answer.value;
}

export class Session {
  constructor(browser, base, id, driver) {
    this.browser = browser;
    this.base = base;
    this.id = id;
    this.driver = driver;
  }

  cmd(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }

  navigate(url) {
    return this.cmd("POST", "/url", { url });
  }

  /** Runs `script` (a function body; `arguments` holds `args`) in the page. */
  execute(script, ...args) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  setWindowSize(width, height) {
    return this.cmd("POST", "/window/rect", { width, height });
  }

  async find(css) {
    const found = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return found[ELEMENT];
  }

  async type(css, text) {
    const element = await this.find(css);
    await this.cmd("POST", `/element/${element}/value`, { text });
  }

  async click(css) {
    const element = await this.find(css);
    await this.cmd("POST", `/element/${element}/click`, {});
  }

  /** PNG bytes of the viewport. */
  async screenshot() {
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }

  /** Chromium only: a Chrome DevTools Protocol command through chromedriver. */
  cdp(cmd, params = {}) {
    return this.cmd("POST", "/goog/cdp/execute", { cmd, params });
  }

  /** Firefox only: runs `script` in the browser's chrome (privileged) context. */
  async chromeScript(script, ...args) {
    await this.cmd("POST", "/moz/context", { context: "chrome" });
    try {
      return await this.execute(script, ...args);
    } finally {
      await this.cmd("POST", "/moz/context", { context: "content" });
    }
  }

  /** Ends the session (the browser quits) and the driver, whatever happens. */
  async close() {
    try {
      await call(this.base, "DELETE", `/session/${this.id}`);
    } catch {
      // the driver stop below takes the browser along anyway
    } finally {
      await this.driver.stop();
    }
  }
}
