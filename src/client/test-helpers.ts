// Test helpers for streaming calls.

/** The key under which Node's built-in fetch (undici) keeps its global dispatcher. */
const DISPATCHER = Symbol.for('undici.globalDispatcher.1');

interface Dispatcher {
  close(): Promise<void>;
}

/**
 * Makes the global fetch cut response bodies that are quiet for `ms` (undici's bodyTimeout, 300 s
 * by default), so a test can show in milliseconds what a quiet stream meets after 5 minutes.
 * Node 20 has no importable undici Agent, so the Agent class is taken from fetch's own dispatcher.
 * undici checks such timers about once a second, so the quiet spell must be longer than that.
 * Returns a function that puts the old dispatcher back.
 */
export async function shortenFetchBodyTimeout(ms: number): Promise<() => Promise<void>> {
  const g = globalThis as unknown as Record<symbol, Dispatcher | undefined>;
  if (!g[DISPATCHER]) await fetch('http://127.0.0.1:9').catch(() => undefined); // fetch creates it lazily
  const previous = g[DISPATCHER];
  if (!previous) throw new Error("cannot find fetch's global dispatcher");
  const Agent = previous.constructor as new (opts: { bodyTimeout: number }) => Dispatcher;
  const short = new Agent({ bodyTimeout: ms });
  g[DISPATCHER] = short;
  return async () => {
    g[DISPATCHER] = previous;
    await short.close();
  };
}
