// Compiled with `tsc --strict`: each entry's typings accept the opt-in options its
// build has and refuse the others, as its `new Connection()` does at run time (the
// refusals themselves are tested in options.test.ts, persist.test.ts, tabs.test.ts and
// full.test.ts). Each `@ts-expect-error` fails the compilation if the error it expects
// does not occur.
import { Connection } from "sse-courier";
import { Connection as WebConnection } from "sse-courier/web";
import * as webEntry from "sse-courier/web";
import { Connection as BundlerConnection } from "sse-courier/bundler";
import { Connection as PersistConnection, type PersistOptions } from "sse-courier/persist";
import { Connection as TabsConnection } from "sse-courier/tabs";
import { Connection as FullConnection, type ConnectionConfig as FullConfig } from "sse-courier/full";
import * as fullEntry from "sse-courier/full";
// The entries with their wasm embedded export `Connection` and `version` only: no init
// functions nor their types (the web build's), and the persist types only where
// `persist` is.
// @ts-expect-error the persist entry is initialised when imported
import { initSync } from "sse-courier/persist";
// @ts-expect-error the tabs entry too
import type { InitInput } from "sse-courier/tabs";
// @ts-expect-error the default entry has no persist option to type
import type { PersistOptions as NoPersistOptions } from "sse-courier";

const persist: PersistOptions = { store: "indexeddb", key: "chat", maxAgeMs: 60_000 };

// `persist`: the persist and full entries only.
// @ts-expect-error the default entry has no persisted outbox
new Connection({ baseUrl: "", persist });
// @ts-expect-error nor has the web build
new WebConnection({ baseUrl: "", persist });
// @ts-expect-error nor the bundler build
new BundlerConnection({ baseUrl: "", persist });
// @ts-expect-error nor the tabs entry
new TabsConnection({ baseUrl: "", persist });
new PersistConnection({ baseUrl: "", persist });
new FullConnection({ baseUrl: "", persist });

// `outboxStorage` (the existing client's `{ getItem, setItem }`): the persist and full
// entries only, alone or as `persist.store`.
const values = new Map<string, string>();
const outboxStorage = { getItem: (key: string) => values.get(key) ?? null, setItem: (key: string, value: string) => void values.set(key, value) };
// @ts-expect-error the default entry has no persisted outbox
new Connection({ baseUrl: "", outboxStorage });
// @ts-expect-error nor the tabs entry
new TabsConnection({ baseUrl: "", outboxStorage });
new PersistConnection({ baseUrl: "", outboxStorage });
new FullConnection({ baseUrl: "", outboxStorage });
new PersistConnection({ baseUrl: "", persist: { store: outboxStorage, key: "chat" } });
// @ts-expect-error getItem and setItem both
new PersistConnection({ baseUrl: "", outboxStorage: { getItem: outboxStorage.getItem } });

// `shareAcrossTabs`: the tabs and full entries only; `false` (off) in every entry.
// @ts-expect-error the default entry has no shared stream
new Connection({ baseUrl: "", shareAcrossTabs: true });
// @ts-expect-error nor a channel name
new Connection({ baseUrl: "", shareAcrossTabs: "chat" });
// @ts-expect-error nor has the persist entry
new PersistConnection({ baseUrl: "", shareAcrossTabs: true });
new TabsConnection({ baseUrl: "", shareAcrossTabs: true });
new TabsConnection({ baseUrl: "", shareAcrossTabs: "chat" });
new FullConnection({ baseUrl: "", shareAcrossTabs: true });
new Connection({ baseUrl: "", shareAcrossTabs: false });
new WebConnection({ baseUrl: "", shareAcrossTabs: false });
new PersistConnection({ baseUrl: "", shareAcrossTabs: false });

// Both together: the full entry's ConnectionConfig, which the default entry's refuses.
const full: FullConfig = { baseUrl: "", persist: { store: "local" }, shareAcrossTabs: "chat" };
new FullConnection(full);
// @ts-expect-error a full config does not fit the default entry
new Connection(full);

const versions: string[] = [fullEntry.version(), webEntry.version()];
// @ts-expect-error nor does the full entry have an init function
void fullEntry.default;
// @ts-expect-error nor initSync
void fullEntry.initSync;
// The web entry keeps its own.
void [webEntry.default, webEntry.initSync, initSync, versions];

// The authentication latch: every entry has its options and methods.
for (const latched of [
  new Connection({ baseUrl: "", authLatch: true, authCheckUrl: "https://auth.example/check" }),
  new PersistConnection({ baseUrl: "", authLatch: true }),
  new TabsConnection({ baseUrl: "", authLatch: true }),
  new FullConnection({ baseUrl: "", strict: true }),
]) {
  latched.blockAuthentication();
  latched.invalidateAuthentication();
  latched.restoreAuthentication();
}
// @ts-expect-error authLatch is a boolean
new Connection({ baseUrl: "", authLatch: "yes" });
