// The JS half of one stream for all tabs (the `shareAcrossTabs` option, the
// `sse-courier/tabs` entry): the BroadcastChannel and the Web Lock. It holds no
// delivery or leadership policy: the core decides (src/core/tabs.rs), the Rust shell
// says what to post and when to request or release the lock (src/web/tabs.rs), and
// this module carries it out and reports back through the shell's inbox:
// `inbox.channel(kind, epoch, leader, n, text, number, sessions, data)` for a message
// from another tab, `inbox.lock(event)` when the lock is granted, lost or refused.
//
// A message on the channel is a plain array (structured clone, no field names for the
// build to rename): `[kind, epoch, leader, n, text, number, sessions, data]`, each
// field's meaning per kind written where Rust encodes it (`post` in src/web/tabs.rs).
// Every function is non-throwing: a page may lack the APIs or a fake may be partial.

/** What `inbox.lock` hears. Rust reads the same codes (src/web/tabs.rs). */
const LOCK_GRANTED = 0;
const LOCK_LOST = 1;
const LOCK_REFUSED = 2;

/** The wire format's version, in the channel's and the lock's name: tabs of builds
 * that would not understand each other never meet (each then leads its own stream). */
const NAME_PREFIX = "sse-courier/tabs/1 ";

const read = (object, key) => {
  try {
    if (object === Object(object)) return object[key];
  } catch (_) {}
};

/** The channel and the lock named after `share` (a string) or else `baseUrl`, for the
 * shell's `inbox`; undefined when this page has no Web Locks or no BroadcastChannel. */
export function openTabs(share, baseUrl, inbox) {
  const locks = read(read(globalThis, "navigator"), "locks");
  if (typeof read(locks, "request") !== "function") return;
  const name = NAME_PREFIX + (typeof share === "string" ? share : baseUrl);
  let channel;
  try {
    channel = new BroadcastChannel(name);
  } catch (_) {
    return;
  }
  const tabs = { channel_: channel, locks_: locks, name_: name, inbox_: inbox, lock_: undefined };
  try {
    channel.onmessage = (event) => receive(tabs, read(event, "data"));
  } catch (_) {}
  return tabs;
}

/** A message from another tab, when it is one of ours, to the inbox. */
function receive(tabs, message) {
  if (!tabs.inbox_ || !Array.isArray(message) || message.length !== 8) return;
  const [kind, epoch, leader, n, text, number, sessions, data] = message;
  if (typeof kind !== "number" || typeof epoch !== "number" || typeof leader !== "number") return;
  tabs.inbox_.channel(
    kind,
    epoch,
    leader,
    typeof n === "number" ? n : NaN,
    typeof text === "string" ? text : undefined,
    typeof number === "number" ? number : NaN,
    Array.isArray(sessions) ? sessions : [],
    data,
  );
}

/** Posts one message to the other tabs (never to this one). */
export function postWire(tabs, kind, epoch, leader, n, text, number, sessions, data) {
  try {
    tabs.channel_.postMessage([kind, epoch, leader, n, text, number, sessions, data]);
  } catch (_) {}
}

const tellLock = (tabs, event) => {
  if (tabs.inbox_) tabs.inbox_.lock(event);
};

/** Queues for the lock (`steal`: takes it from whichever tab holds it). A request
 * still queued is abandoned first. Once granted, the lock is held until
 * `releaseLock` (the callback's promise resolves then); if the browser takes it away
 * (a steal), the inbox hears `LOCK_LOST`; if it refuses the request (a SecurityError
 * in an opaque origin, say), `LOCK_REFUSED`. */
export function requestLock(tabs, steal) {
  releaseLock(tabs);
  const request = { controller_: undefined, release_: undefined };
  // `steal` may not be combined with a signal; a steal is never queued anyway.
  const options = {};
  if (steal) options.steal = true;
  else {
    try {
      request.controller_ = new AbortController();
      options.signal = request.controller_.signal;
    } catch (_) {}
  }
  tabs.lock_ = request;
  let granted = false;
  let answer;
  try {
    answer = tabs.locks_.request(tabs.name_, options, () => {
      // Abandoned meanwhile (a fake without signals): give it back at once.
      if (tabs.lock_ !== request) return;
      granted = true;
      return new Promise((resolve) => {
        request.release_ = resolve;
        tellLock(tabs, LOCK_GRANTED);
      });
    });
  } catch (error) {
    // Refused at once: reported like a rejection, in a later microtask.
    answer = Promise.reject(error);
  }
  Promise.resolve(answer).then(undefined, () => {
    // Rejected while held: stolen. Rejected while queued: refused, unless abandoned by
    // us (`releaseLock` forgot the request first).
    if (tabs.lock_ === request) {
      tabs.lock_ = undefined;
      tellLock(tabs, granted ? LOCK_LOST : LOCK_REFUSED);
    }
  });
}

/** Releases the lock, or abandons the queued request. */
export function releaseLock(tabs) {
  const request = tabs.lock_;
  tabs.lock_ = undefined;
  if (!request) return;
  if (request.release_) request.release_();
  else if (request.controller_) request.controller_.abort();
}

/** The connection is gone: releases the lock, closes the channel, and cuts the inbox. */
export function closeTabs(tabs) {
  tabs.inbox_ = null;
  releaseLock(tabs);
  try {
    tabs.channel_.close();
  } catch (_) {}
}
