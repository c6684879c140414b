// Polling for the benches that wait on processes and the API: `fn` again and again until it has an
// answer, the time is up, or the run is interrupted.
import { sleep } from './sleep.js';

/** Calls `fn` every `everyMs` until it returns something other than undefined (a throw counts as undefined). */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, signal: AbortSignal, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs, signal);
  }
}
