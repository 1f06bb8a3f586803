// The npm README's Node example, as the app matrix compiles and runs it: its code is
// taken from the README itself, so what users read is what is tested.
//
// In the README an example is a fenced code block right after a marker line
//   <!-- example: NAME (anything else, e.g. why it is marked) -->
// that markdown renderers hide. The block ends at the first line that is only ```.

/** The code of the example `name` in `markdown`. Throws, saying what is wrong, when
 * there is no such marker or more than one, when the marker is not followed at once
 * by an opening fence, or when the block is not closed. */
export function extractExample(markdown, name) {
  const lines = markdown.split(/\r?\n/);
  const marker = new RegExp(`^<!-- example: ${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\s.*)? -->$`);
  const at = lines.flatMap((line, i) => (marker.test(line.trim()) ? [i] : []));
  if (at.length === 0) throw new Error(`no "<!-- example: ${name} -->" marker in the README`);
  if (at.length > 1) throw new Error(`the README marks ${at.length} blocks as example "${name}" (lines ${at.map((i) => i + 1).join(", ")})`);
  const open = at[0] + 1;
  if (!/^```[\w-]*$/.test(lines[open] ?? "")) {
    throw new Error(`the line after the "${name}" marker (line ${open + 1}) is not an opening code fence: ${JSON.stringify(lines[open] ?? "")}`);
  }
  const close = lines.findIndex((line, i) => i > open && line === "```");
  if (close < 0) throw new Error(`the "${name}" example's code block (from line ${open + 1}) is never closed`);
  return `${lines.slice(open + 1, close).join("\n")}\n`;
}

/**
 * What the README's Node example printed, as the state the matrix checks (the same
 * shape as the other apps', `app.js`). It prints one line each:
 *   event {json}                          every message its listener gets
 *   connected <connectionId>              at its first _open
 *   send <clientMsgId> <true|false>       its one send() and what it returned
 *   report <clientMsgId> <status> [reason] every onDelivery report
 * Any other line is an error: the example printed something this reader does not know.
 */
export function stateFromOutput(lines, app) {
  const state = { app, state: "running", errors: [], events: [], reports: [], connectionId: null, sendReturned: null, clientMsgId: null };
  for (const line of lines) {
    const [word, ...rest] = line.split(" ");
    if (word === "event") {
      try {
        state.events.push(JSON.parse(rest.join(" ")));
      } catch {
        state.errors.push(`an event line that is not JSON: ${line}`);
      }
    } else if (word === "connected" && rest.length === 1) {
      state.connectionId = rest[0] === "null" ? null : rest[0];
    } else if (word === "send" && rest.length === 2) {
      state.clientMsgId = rest[0];
      state.sendReturned = rest[1] === "true" ? true : rest[1] === "false" ? false : rest[1];
    } else if (word === "report" && rest.length >= 2) {
      const [clientMsgId, status, reason] = rest;
      state.reports.push({ clientMsgId, status, ...(reason ? { reason } : {}) });
    } else if (line.trim()) {
      state.errors.push(`an unexpected line: ${line}`);
    }
  }
  return state;
}
