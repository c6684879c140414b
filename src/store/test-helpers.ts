// Builders and helpers for the store's tests (excluded from the build by tsconfig.build.json).
import { API_VERSION } from '../core/index.js';
import type { Instance, InstanceStatus, Namespace, Service } from '../core/index.js';
import type { NewObject, WatchEvent } from './store.js';

export function aNamespace(name: string): NewObject<Namespace> {
  return { apiVersion: API_VERSION, kind: 'Namespace', metadata: { name }, spec: {} };
}

/** The stored instance bound to `node` (undefined: unbound), as the scheduler writes it. */
export function boundTo(inst: Instance, node: string | undefined): Instance {
  const { node: _old, ...spec } = inst.spec;
  return { ...inst, spec: node === undefined ? spec : { ...spec, node } };
}

/** The stored instance with a new phase, as an agent's status write changes it. */
export function inPhase(inst: Instance, phase: InstanceStatus['phase']): Instance {
  const status: InstanceStatus = inst.status ?? { phase: 'Pending', ready: false, containers: [] };
  return { ...inst, status: { ...status, phase } };
}

/** The service with a new replica count, as a caller would change a stored (frozen) object. */
export function withReplicas(svc: Service, replicas: number): Service {
  return { ...svc, spec: { ...svc.spec, replicas } };
}

/**
 * Reads events until one at `revision` or later arrives (or the watch ends), then the rest of that
 * revision already delivered: a transaction's changes share one revision and arrive together.
 */
export async function readUntil(watch: AsyncIterable<WatchEvent>, revision: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  if (revision <= 0) return events;
  const it = watch[Symbol.asyncIterator]();
  let reached: number | undefined;
  for (;;) {
    const next = reached === undefined ? await it.next() : await Promise.race([it.next(), new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
    if (next === undefined || next.done) break;
    if (reached !== undefined && next.value.revision !== reached) break;
    events.push(next.value);
    if (next.value.revision >= revision) reached = next.value.revision;
  }
  await it.return?.();
  return events;
}

/** Reads exactly `n` events (or fewer if the watch ends first). */
export async function take(watch: AsyncIterable<WatchEvent>, n: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  if (n <= 0) return events;
  for await (const e of watch) {
    events.push(e);
    if (events.length >= n) break;
  }
  return events;
}

export function revisionsOf(events: readonly WatchEvent[]): number[] {
  return events.map((e) => e.revision);
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let r = from; r <= to; r++) out.push(r);
  return out;
}
