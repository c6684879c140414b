// API latency while the cluster is busy: a fixed-rate, open-loop mix of what a user and a CI job
// do (GET a service, GET an instance, re-apply an unchanged service, scale a small service up and
// down). Open loop: a request is sent on schedule whether or not the earlier ones answered, so a
// slow server shows up as latency rather than as fewer, politely spaced requests (coordinated
// omission). Requests beyond MAX_IN_FLIGHT are counted as skipped, not queued.
import type { GantryClient } from '../../src/client/index.js';
import { isAppError } from '../../src/core/index.js';
import type { Manifest, ObjectOf } from '../../src/core/index.js';
import { SeededRandom } from '../../src/scheduler/index.js';
import { settledWithin } from './sleep.js';

export const PROBE_SERVICE = 'bench-probe';
/** Re-applied unchanged before any workload service exists; always 0 replicas. */
export const PROBE_STATIC_SERVICE = 'bench-probe-static';
const MAX_IN_FLIGHT = 64;

export type ProbeKind = 'getService' | 'getInstance' | 'applyUnchanged' | 'scale';
const KINDS: readonly ProbeKind[] = ['getService', 'getInstance', 'applyUnchanged', 'scale'];

export interface ProbeSample {
  /** Bench clock when the request was sent, ms. */
  atMs: number;
  kind: ProbeKind;
  ms: number;
  ok: boolean;
}

export interface ProbeTargets {
  /** A workload service to GET and re-apply unchanged, as applied. */
  service(u: number): Manifest<ObjectOf<'Service'>> | undefined;
  /** An instance name to GET. */
  instance(u: number): string | undefined;
}

/**
 * The probe's own services (apply both before starting the probe): PROBE_SERVICE is scaled between
 * 0 and 1 replicas, PROBE_STATIC_SERVICE stays at 0. Their instances are not counted.
 */
export function probeServiceManifest(name: string = PROBE_SERVICE): Manifest<ObjectOf<'Service'>> {
  return {
    apiVersion: 'gantry/v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', labels: { 'bench.gantry.io/role': 'probe' } },
    spec: { replicas: 0, containers: [{ name: 'main', image: 'bench/probe:1', resources: { cpu: '10m', memory: '16Mi' } }] },
  };
}

export class ApiProbe {
  readonly samples: ProbeSample[] = [];
  skipped = 0;
  private inFlight = new Set<Promise<void>>();
  /** Re-applies in flight, by service name: a service must not be deleted under one (it would come back). */
  private readonly applying = new Map<string, Set<Promise<unknown>>>();
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  private stopped = false;
  private scaleTo = 1;
  private readonly rng: SeededRandom;
  /** Last errors, for the summary. */
  readonly errors: string[] = [];

  constructor(
    private readonly client: GantryClient,
    private readonly targets: ProbeTargets,
    private readonly now: () => number,
    ratePerSecond: number,
    seed: number,
  ) {
    this.rng = new SeededRandom(seed);
    this.timer = setInterval(() => this.fire(), 1000 / ratePerSecond);
  }

  /**
   * Stops sending and waits up to `graceMs` for the requests in flight; later answers are not
   * recorded (an overloaded server would otherwise hold the bench for the client timeout).
   */
  async stop(graceMs = 2000): Promise<void> {
    clearInterval(this.timer);
    this.stopped = true;
    await settledWithin([...this.inFlight], graceMs);
  }

  /**
   * Resolves once no re-apply of `name` is in flight. Call it after removing the service from the
   * targets and before deleting it, so a late re-apply cannot create it again.
   */
  async quiesce(name: string): Promise<void> {
    const calls: Promise<unknown>[] = [...(this.applying.get(name) ?? [])];
    await Promise.allSettled(calls);
  }

  latencies(kinds: readonly ProbeKind[], fromMs = -Infinity, toMs = Infinity): number[] {
    return this.samples.filter((s) => s.ok && kinds.includes(s.kind) && s.atMs >= fromMs && s.atMs < toMs).map((s) => s.ms);
  }

  failures(fromMs = -Infinity, toMs = Infinity): number {
    return this.samples.filter((s) => !s.ok && s.atMs >= fromMs && s.atMs < toMs).length;
  }

  private fire(): void {
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      this.skipped++;
      return;
    }
    const kind = KINDS[this.seq++ % KINDS.length] ?? 'getService';
    const started = this.now();
    const p = this.call(kind).then(
      (ok) => {
        if (!this.stopped) this.samples.push({ atMs: started, kind, ms: this.now() - started, ok });
      },
      (e: unknown) => {
        if (this.stopped) return;
        this.samples.push({ atMs: started, kind, ms: this.now() - started, ok: false });
        if (this.errors.length < 5) this.errors.push(`${kind}: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** True when the server answered (a 404 for an instance deleted meanwhile is an answer). */
  private async call(kind: ProbeKind): Promise<boolean> {
    const u = this.rng.next();
    try {
      switch (kind) {
        case 'getService': {
          const svc = this.targets.service(u);
          await this.client.get('Service', 'default', svc?.metadata.name ?? PROBE_SERVICE);
          return true;
        }
        case 'getInstance': {
          const name = this.targets.instance(u);
          if (name === undefined) await this.client.get('Service', 'default', PROBE_SERVICE);
          else await this.client.get('Instance', 'default', name);
          return true;
        }
        case 'applyUnchanged': {
          const svc = this.targets.service(u) ?? probeServiceManifest(PROBE_STATIC_SERVICE);
          const name = svc.metadata.name;
          const call = this.client.apply(svc);
          const calls = this.applying.get(name) ?? new Set<Promise<unknown>>();
          this.applying.set(name, calls.add(call));
          try {
            await call;
          } finally {
            calls.delete(call);
            if (calls.size === 0) this.applying.delete(name);
          }
          return true;
        }
        case 'scale': {
          this.scaleTo = 1 - this.scaleTo;
          await this.client.scale('default', PROBE_SERVICE, this.scaleTo);
          return true;
        }
      }
    } catch (e) {
      if (isAppError(e, 'NOT_FOUND') || isAppError(e, 'CONFLICT')) return true;
      throw e;
    }
  }
}
