// The JS half of one stream for all tabs (the `shareAcrossTabs` option, the
// `sse-courier/tabs` entry): the BroadcastChannel and the Web Lock. It holds no
// delivery or leadership policy: the core decides (src/core/tabs.rs), the Rust shell
// says what to post and when to request or release the lock (src/web/tabs.rs), and
// this module carries it out and reports back through the shell's inbox:
// `inbox.channel(message)` for a message from another tab, `inbox.lockGranted()`,
// `lockLost()` or `lockRefused()` for what became of the lock.
//
// A message is the object Rust made (`ChannelMessage` in src/web/tabs.rs: the wire
// message, tagged by its `kind`, every field by name, and an event's data beside it);
// this module neither reads nor builds one. What goes on the channel is a batch: the
// array of the messages one task posted, in order,
// posted when the task ends. A leader relays every event of its stream, and one
// `postMessage` per event cost it 10-20 µs each (BENCHMARKS.md, "One stream for all
// tabs"); the events of one network read now share one.
// Every function is non-throwing: a page may lack the APIs or a fake may be partial.

/** The wire format's version, in the channel's and the lock's name: tabs of builds
 * that would not understand each other never meet (each then leads its own stream).
 * 2: batches; 3: messages as named, tagged objects. */
const NAME_PREFIX = "sse-courier/tabs/3 ";

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
  const tabs = {
    channel_: channel,
    locks_: locks,
    name_: name,
    inbox_: inbox,
    lock_: undefined,
    // Messages posted in this task, and the port whose message ends it.
    batch_: [],
    flusher_: undefined,
  };
  try {
    channel.onmessage = (event) => receive(tabs, read(event, "data"));
  } catch (_) {}
  return tabs;
}

/** A batch from another tab: each message to the inbox, in order (the inbox is cut if
 * the connection is freed meanwhile; Rust ignores what is not one of its messages). */
function receive(tabs, batch) {
  if (!Array.isArray(batch)) return;
  for (const message of batch) if (tabs.inbox_) tabs.inbox_.channel(message);
}

/** Posts one message to the other tabs (never to this one), in this task's batch. */
export function postWire(tabs, message) {
  tabs.batch_.push(message);
  if (tabs.batch_.length === 1) flushWhenTaskEnds(tabs);
}

/** Posts the batch from a task of its own: a message to a port of a MessageChannel
 * (a microtask would run after every event's listener, and a hidden page's timers are
 * throttled to one a second; a posted message is neither). Without MessageChannel, at
 * once. */
function flushWhenTaskEnds(tabs) {
  try {
    if (!tabs.flusher_) {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => flush(tabs);
      // Node: the port must not keep the process alive.
      for (const port of [port1, port2]) if (typeof port.unref === "function") port.unref();
      tabs.flusher_ = port2;
    }
    tabs.flusher_.postMessage(0);
  } catch (_) {
    flush(tabs);
  }
}

function flush(tabs) {
  const batch = tabs.batch_;
  if (!batch.length) return;
  tabs.batch_ = [];
  try {
    tabs.channel_.postMessage(batch);
  } catch (_) {}
}

/** Tells the inbox what became of the lock: `event` names the inbox's method. */
const tellLock = (tabs, event) => {
  if (tabs.inbox_) tabs.inbox_[event]();
};

/** Queues for the lock (`steal`: takes it from whichever tab holds it). A request
 * still queued is abandoned first. Once granted, the lock is held until
 * `releaseLock` (the callback's promise resolves then); if the browser takes it away
 * (a steal), the inbox hears `lockLost`; if it refuses the request (a SecurityError
 * in an opaque origin, say), `lockRefused`. */
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
        tellLock(tabs, "lockGranted");
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
      tellLock(tabs, granted ? "lockLost" : "lockRefused");
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

/** The connection is gone: posts what it still had to say (a `Bye`), releases the
 * lock, closes the channel and the flusher's port, and cuts the inbox. */
export function closeTabs(tabs) {
  tabs.inbox_ = null;
  flush(tabs);
  releaseLock(tabs);
  try {
    tabs.channel_.close();
    if (tabs.flusher_) tabs.flusher_.close();
  } catch (_) {}
}
