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

/** Reads events until one at `revision` or later arrives, or the watch ends. */
export async function readUntil(watch: AsyncIterable<WatchEvent>, revision: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  if (revision <= 0) return events;
  for await (const e of watch) {
    events.push(e);
    if (e.revision >= revision) break;
  }
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
