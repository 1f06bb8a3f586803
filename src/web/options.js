// The options `new Connection(config)` accepts, and their one validator. Each option's
// name, what it must be, and the error naming it live in OPTIONS below; the defaults
// of absent options are delivery policy and live in the core (`Config::default` in
// src/core/config.rs, and `maxEventBytes` in src/web/config.rs), so nothing is stated
// twice. An option OPTIONS does not list is not refused but warned of, once. Rust
// reads the options this module hands back by the same names (src/web/config.rs), and
// turns endpoint names into endpoints itself.

const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once past a signed 32-bit delay
const MAX_COUNT = 2 ** 32 - 1;

const isNumber = (value) => typeof value === "number" && !Number.isNaN(value);

/** What an option's value must be: a test, the error's wording, and what Rust gets.
 * A bounded kind's wording says its bound, so that a value past it is not taken for
 * one of the wrong sign or type. Private fields end in `_`, so that the build shortens
 * them (esbuild's mangle-props). */
const FUNCTION = { must_: "a function", accepts_: (value) => typeof value === "function" };
const STRING = { must_: "a string", accepts_: (value) => typeof value === "string" };
// Rust reads every option it needs as a number: a flag as 0 or 1.
const BOOLEAN = { must_: "a boolean", accepts_: (value) => typeof value === "boolean", normalise_: Number };
const OBJECT = { must_: "an object", accepts_: (value) => typeof value === "object" };
const MILLISECONDS = {
  must_: `a non-negative number of at most ${MAX_TIMER_MS} (ms)`,
  accepts_: (value) => isNumber(value) && value >= 0 && value <= MAX_TIMER_MS,
  // Rust counts whole milliseconds; a fraction rounds up, never to an earlier time.
  normalise_: Math.ceil,
};
const POSITIVE_MILLISECONDS = {
  must_: `a positive number of at most ${MAX_TIMER_MS} (ms)`,
  accepts_: (value) => isNumber(value) && value > 0 && value <= MAX_TIMER_MS,
  normalise_: Math.ceil,
};
const COUNT = {
  must_: `a non-negative integer of at most ${MAX_COUNT}`,
  accepts_: (value) => Number.isInteger(value) && value >= 0 && value <= MAX_COUNT,
};
const POSITIVE_COUNT = {
  must_: `a positive integer of at most ${MAX_COUNT}`,
  accepts_: (value) => Number.isInteger(value) && value > 0 && value <= MAX_COUNT,
};
const NAME = { must_: "a non-empty string", accepts_: (value) => typeof value === "string" && value !== "" };
const AGE_MILLISECONDS = {
  must_: `a positive number of at most ${Number.MAX_SAFE_INTEGER} (ms)`,
  accepts_: (value) => isNumber(value) && value > 0 && value <= Number.MAX_SAFE_INTEGER,
  normalise_: Math.ceil,
};
const STORE_NAMES = ["indexeddb", "local", "session"];
const STORE = {
  must_: `one of ${STORE_NAMES.map((name) => `"${name}"`).join(", ")} or an object with load, put and remove functions`,
  accepts_: (value) =>
    STORE_NAMES.includes(value) ||
    (typeof value === "object" && ["load", "put", "remove"].every((name) => typeof read(value, name) === "function")),
};
const SHARING = {
  must_: "a boolean or a non-empty string",
  accepts_: (value) => typeof value === "boolean" || NAME.accepts_(value),
  // false is off, as if absent.
  normalise_: (value) => value || undefined,
};
const ENDPOINT_NAMES = {
  must_: "an array of endpoint names",
  accepts_: (value) => Array.isArray(value) && value.every((name) => typeof name === "string"),
  // A copy, so the app changing its array later changes nothing.
  normalise_: (names) => [...names],
};

/** Every option but `baseUrl`, in the order they are checked. `backoff` and `persist`
 * hold `nested_` options; a `required_` one must be there when its parent is. An
 * option with an `entry_` is built into that entry of the package (`persist`, `tabs`)
 * and into `full`, which has both: the others refuse it, naming the entry. */
const OPTIONS = [
  { name_: "fetch", kind_: FUNCTION },
  { name_: "createEventSource", kind_: FUNCTION },
  { name_: "onDelivery", kind_: FUNCTION },
  { name_: "suspendUrl", kind_: STRING },
  { name_: "reconnectDelayMs", kind_: MILLISECONDS },
  { name_: "retryableEndpoints", kind_: ENDPOINT_NAMES },
  { name_: "maxPendingSends", kind_: POSITIVE_COUNT },
  { name_: "maxStaleRetries", kind_: POSITIVE_COUNT },
  { name_: "maxSendRetries", kind_: COUNT },
  { name_: "staleAfterMs", kind_: POSITIVE_MILLISECONDS },
  { name_: "postTimeoutMs", kind_: POSITIVE_MILLISECONDS },
  {
    name_: "backoff",
    kind_: OBJECT,
    nested_: [
      { name_: "initialMs", kind_: POSITIVE_MILLISECONDS },
      { name_: "maxMs", kind_: POSITIVE_MILLISECONDS },
    ],
  },
  { name_: "orderedSends", kind_: BOOLEAN },
  { name_: "maxEventBytes", kind_: POSITIVE_COUNT },
  {
    name_: "persist",
    kind_: OBJECT,
    entry_: "persist",
    nested_: [
      { name_: "store", kind_: STORE, required_: true },
      { name_: "key", kind_: NAME },
      { name_: "maxAgeMs", kind_: AGE_MILLISECONDS },
    ],
  },
  { name_: "shareAcrossTabs", kind_: SHARING, entry_: "tabs" },
];

const read = (object, key) => {
  try {
    return object[key];
  } catch (_) {}
};

const refuse = (path, must) => {
  throw Error(`config.${path} must ${must}`);
};

/** The paths of the unknown options already warned of on this page. */
const warnedUnknownOptions = new Set();

/** Warns of each option in `from` that `table` does not list (nor `baseUrl` at the top),
 * once per option path per page. A warning, never an error: an app moving over from
 * the existing client may pass that client's later options. Once per path, so that an
 * app making many connections is not flooded. As with known options, one that is
 * undefined or null counts as absent. */
function warnOfUnknownOptions(from, table, prefix) {
  let names;
  try {
    names = Object.keys(from);
  } catch (_) {
    return; // a Proxy refusing to list its keys: nothing to warn of
  }
  for (const name of names) {
    if ((!prefix && name === "baseUrl") || table.some((option) => option.name_ === name)) continue;
    const path = prefix ? `config.${prefix}.${name}` : `config.${name}`;
    if (read(from, name) == null || warnedUnknownOptions.has(path)) continue;
    warnedUnknownOptions.add(path);
    console.warn(`[sse-courier] ${path} is not an option of sse-courier; it is ignored`);
  }
}

/** Across options: `backoff.maxMs` must not be below `backoff.initialMs`, each as the
 * app gave it or else its default (the core's, which Rust hands in). The error says
 * which value is a default, since an app that set only one of them never wrote the
 * other. */
function checkBackoff(options, defaultInitialMs, defaultMaxMs) {
  const { backoffInitialMs: initialMs = defaultInitialMs, backoffMaxMs: maxMs = defaultMaxMs } = options;
  if (maxMs >= initialMs) return;
  const shown = (given, value) => (given === undefined ? `default ${value}` : `${value}`);
  throw Error(
    `config.backoff.maxMs (${shown(options.backoffMaxMs, maxMs)}) must not be below backoff.initialMs (${shown(options.backoffInitialMs, initialMs)})`,
  );
}

/** The options present in `from` that `table` lists, checked and normalised, into
 * `into` under their full names (`backoff.initialMs` as `backoffInitialMs`,
 * `persist.store` as `persistStore`); `entry` is the package entry checking them. */
function checkOptions(from, table, into, prefix, entry) {
  for (const { name_: name, kind_: kind, nested_: nested, required_: required, entry_: needs } of table) {
    const value = read(from, name);
    const path = prefix ? `${prefix}.${name}` : name;
    if (value == null && required) refuse(path, `be ${kind.must_}`);
    if (value == null) continue;
    if (!kind.accepts_(value)) refuse(path, `be ${kind.must_}`);
    // `false` (shareAcrossTabs) is off in every entry; the full entry has them all.
    if (value && needs && needs !== entry && entry !== "full") {
      throw Error(
        `config.${path} needs the "sse-courier/${needs}" entry: import { Connection } from "sse-courier/${needs}" (or "sse-courier/full", which has every opt-in)`,
      );
    }
    if (nested) checkOptions(value, nested, into, name);
    else into[prefix ? prefix + name[0].toUpperCase() + name.slice(1) : name] = kind.normalise_ ? kind.normalise_(value) : value;
  }
  warnOfUnknownOptions(from, table, prefix);
}

/** The app's config checked option by option: an object of the options present,
 * normalised (see `Kinds`), or an Error naming the first option at fault. `entry` is
 * the entry's name for the options only it has (`entry_`), undefined for the default
 * entry; `defaultInitialMs` and `defaultMaxMs` are the core's `backoff` defaults. */
export function checkConfig(config, entry, defaultInitialMs, defaultMaxMs) {
  try {
    if (config === null || typeof config !== "object") throw Error("config must be an object with a baseUrl");
    const baseUrl = read(config, "baseUrl");
    if (typeof baseUrl !== "string") refuse("baseUrl", 'be a string ("" for same-origin)');
    if (/[?#]|\/$/.test(baseUrl)) refuse("baseUrl", "not end with '/' nor contain '?' or '#'");
    const options = {};
    checkOptions(config, OPTIONS, options, "", entry);
    checkBackoff(options, defaultInitialMs, defaultMaxMs);
    return options;
  } catch (error) {
    return error;
  }
}
