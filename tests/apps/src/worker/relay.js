// The page side of the worker apps: what the worker posts lands in window.__app, like
// the page apps' own records; a worker that fails to load or throws is recorded too.
import { apply } from "../app.js";

export function relay(worker) {
  const state = window.__app;
  state.worker = "started";
  // The driver ends each app with this before leaving the page (see ../main.js).
  window.__stop = () => worker.terminate();
  worker.addEventListener("message", (e) => {
    const [kind, value] = e.data;
    apply(state, kind, value);
  });
  worker.addEventListener("error", (e) => {
    e.preventDefault?.();
    apply(state, "error", `the worker failed: ${e.message ?? "(no message: the script did not load or evaluate)"} ${e.filename ?? ""}:${e.lineno ?? ""}`);
    state.state = "error";
  });
  worker.addEventListener("messageerror", () => apply(state, "error", "a worker message could not be deserialised"));
  // The worker's first message: the page's ?server=&sessionId=&clientMsgId=.
  worker.postMessage(location.search);
}
