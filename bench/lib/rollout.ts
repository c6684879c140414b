// One timed rollout through the API: apply services (and delete others, for churn) concurrently,
// then wait until the instance watch has seen every new instance bound, then Running, then until
// the services' own status says so. Every instant is on the session's bench clock.
import { isAppError } from '../../src/core/index.js';
import type { LiveSession } from './live-session.js';
import { forEachConcurrently } from './live-workload.js';
import type { ServiceManifest } from './live-workload.js';

export interface RolloutRecord {
  startMs: number;
  /** The last apply (or delete) answered. */
  appliedMs: number;
  /** Every instance of the applied services seen bound (spec.node set) on the watch. */
  boundMs: number | undefined;
  /** Every instance of the applied services seen Running on the watch, and the deleted ones gone. */
  runningMs: number | undefined;
  /** Every workload service's status says readyReplicas == replicas, on a services list. */
  statusReadyMs: number | undefined;
  /** Instances the applied services ask for. */
  replicas: number;
  /** Applies sent again after a dropped connection. */
  applyRetries: number;
  /** How long each workload apply took to answer (retries included), ms. */
  applyMs: number[];
}

export interface RolloutOptions {
  apply: readonly ServiceManifest[];
  /** Workload services deleted concurrently with the applies. */
  remove?: readonly string[];
  concurrency: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export async function rollout(session: LiveSession, o: RolloutOptions): Promise<RolloutRecord> {
  const client = session.cluster.client;
  const names = new Set(o.apply.map((s) => s.metadata.name));
  const removed = new Set(o.remove ?? []);
  const replicas = o.apply.reduce((n, s) => n + (s.spec.replicas ?? 1), 0);
  const startMs = session.now();
  let retries = 0;
  const applyMs: number[] = [];
  // Interleaved, so deletes and creates overlap the way a redeploy's do.
  const work: (() => Promise<void>)[] = [];
  const removes = [...removed];
  for (let i = 0; i < Math.max(o.apply.length, removes.length); i++) {
    const del = removes[i];
    if (del !== undefined) {
      work.push(async () => {
        session.applied.delete(del);
        await session.probe?.quiesce(del);
        await client.delete('Service', 'default', del);
      });
    }
    const svc = o.apply[i];
    if (svc) {
      work.push(async () => {
        const t = session.now();
        await withRetry(() => client.apply(svc), () => retries++);
        applyMs.push(session.now() - t);
        session.applied.set(svc.metadata.name, svc);
      });
    }
  }
  session.progress(`applying ${o.apply.length} services (${replicas} instances)${removes.length ? `, deleting ${removes.length}` : ''}, ${o.concurrency} at a time`);
  await forEachConcurrently(work, o.concurrency, o.signal, (w) => w());
  const appliedMs = session.now();
  session.progress(`applies answered in ${((appliedMs - startMs) / 1000).toFixed(1)} s${retries ? ` (${retries} retried)` : ''}; waiting for every instance to run`);

  let boundMs: number | undefined;
  const runningMs = await session.waitFor(() => {
    const c = session.tracker.countsOf(names);
    if (boundMs === undefined && c.bound >= replicas) boundMs = session.now();
    return c.running >= replicas && (removed.size === 0 || session.tracker.countsOf(removed).present === 0);
  }, o.timeoutMs, 50, () => {
    const c = session.tracker.countsOf(names);
    return `${c.present} created, ${c.bound} bound, ${c.running} Running of ${replicas}` + (removed.size ? `; ${session.tracker.countsOf(removed).present} old left` : '');
  });
  session.progress(runningMs === undefined ? 'gave up waiting (--timeout)' : `all Running at ${((runningMs - startMs) / 1000).toFixed(1)} s; waiting for the services' status`);
  const statusReadyMs =
    runningMs === undefined ? undefined : await session.waitForAsync(async () => (await session.poller.pollNow()).allReady, o.timeoutMs);
  return { startMs, appliedMs, boundMs, runningMs, statusReadyMs, replicas, applyRetries: retries, applyMs };
}

const APPLY_ATTEMPTS = 3;

/**
 * An apply is idempotent, so a dropped connection is retried (as kubectl and CI systems do) a
 * couple of times; the count is reported. Answers from the server (4xx, 5xx) are not retried.
 */
async function withRetry<T>(call: () => Promise<T>, onRetry: () => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (attempt >= APPLY_ATTEMPTS || !isAppError(e, 'UNAVAILABLE')) throw e;
      onRetry();
    }
  }
}

/** Seconds from the rollout's start to `ms`, or null when it never happened. */
export function secondsSince(rec: RolloutRecord, ms: number | undefined): number | null {
  return ms === undefined ? null : round((ms - rec.startMs) / 1000, 3);
}

export function round(v: number, digits: number): number {
  if (!Number.isFinite(v)) return 0;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
