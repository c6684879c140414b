// What a user sees: the workload services' status (readyReplicas), from one list of services every
// interval. It lags the instance watch by the service controller's reconcile, and that lag is one
// of the things the end-to-end scenarios report.
import type { GantryClient } from '../../src/client/index.js';
import type { ObjectOf } from '../../src/core/index.js';
import { settledWithin, sleep } from './sleep.js';

export const WORKLOAD_SELECTOR = 'bench.gantry.io/role=workload';

export interface StatusReading {
  atMs: number;
  services: number;
  /** Sum over services of min(readyReplicas, spec.replicas). */
  ready: number;
  /** Every service has readyReplicas == replicas == spec.replicas, for its current generation. */
  allReady: boolean;
  /** How long the list took, ms. */
  listMs: number;
}

export function readStatus(items: readonly ObjectOf<'Service'>[], atMs: number, listMs: number): StatusReading {
  let ready = 0;
  let allReady = true;
  for (const svc of items) {
    const want = svc.spec.replicas ?? 1;
    const st = svc.status;
    ready += Math.min(st?.readyReplicas ?? 0, want);
    const current = st?.observedGeneration === undefined || st.observedGeneration === svc.metadata.generation;
    if (!st || st.readyReplicas !== want || st.replicas !== want || !current) allReady = false;
  }
  return { atMs, services: items.length, ready, allReady, listMs };
}

export class ServiceStatusPoller {
  readonly readings: StatusReading[] = [];
  private readonly stopper = new AbortController();
  private readonly done: Promise<void>;

  constructor(
    private readonly client: GantryClient,
    private readonly now: () => number,
    signal: AbortSignal,
    private readonly intervalMs = 1000,
  ) {
    this.done = this.loop(AbortSignal.any([signal, this.stopper.signal]));
  }

  get latest(): StatusReading | undefined {
    return this.readings[this.readings.length - 1];
  }

  /** Polls at once (outside the interval) and returns the reading. */
  async pollNow(): Promise<StatusReading> {
    const started = this.now();
    const { items } = await this.client.list('Service', { namespace: 'default', labelSelector: WORKLOAD_SELECTOR });
    const end = this.now();
    const r = readStatus(items, end, end - started);
    this.readings.push(r);
    return r;
  }

  /** Stops polling; a list in flight is given `graceMs` to answer, then left behind. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopper.abort();
    await settledWithin([this.done], graceMs);
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pollNow();
      } catch {
        // A failed poll (server busy, interrupted) only leaves a gap in the timeline.
      }
      try {
        await sleep(this.intervalMs, signal);
      } catch {
        return;
      }
    }
  }
}
