// Small helpers for the controllers' tests, so each test reads like the behaviour it checks: a
// store with a clock and ways to move instances along. Services, nodes and instances come from
// core/test-builders.ts.
import pino from 'pino';
import type { Logger } from 'pino';
import { DEFAULT_NAMESPACE, type Instance, type InstanceStatus } from '../../core/index.js';
import { openSqliteStore, type SqliteStore } from '../../store/sqlite-store.js';
import type { Store } from '../../store/store.js';

export const GiB = 2 ** 30;

/** A clock tests move by hand; `now()` in ms, `date()` as a Date. */
export class TestClock {
  constructor(public ms = Date.parse('2025-01-01T00:00:00Z')) {}
  now = (): number => this.ms;
  date = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function aStore(clock = new TestClock()): SqliteStore {
  return openSqliteStore(':memory:', { now: clock.date });
}

export function quietLogger(): Logger {
  return pino({ level: 'silent' });
}

export async function instancesOf(store: Store, service = 'web', namespace = DEFAULT_NAMESPACE): Promise<Instance[]> {
  return (await store.list('Instance', { namespace })).items.filter((i) => i.spec.service === service);
}

/** Sets fields of an instance's status the way an agent report would. */
export async function setInstanceStatus(store: Store, inst: Instance, patch: Partial<InstanceStatus>): Promise<Instance> {
  const current = (await store.get('Instance', inst.metadata.namespace, inst.metadata.name)) ?? inst;
  const status: InstanceStatus = { ...(current.status ?? { phase: 'Pending', ready: false, containers: [] }), ...patch };
  return store.update<Instance>({ ...current, status });
}

/** A seeded [0, 1) generator, so instance names repeat run to run. */
export { seededRandom } from '../../core/index.js';
