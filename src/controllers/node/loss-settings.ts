// What the node controller needs to know of each service: how long its instances may sit on a
// silent node (`spec.lostAfter`) and what happens when that node returns (`spec.onNodeReturn`).
// Read from one list of the services every few seconds rather than per instance: at 10,000
// services that is one pass over the store's mirror every 5 s, and the node controller then
// answers per instance from a map. A service applied in between counts with the grace period
// until the next read.
import { parseDuration, type Instance } from '../../core/index.js';
import type { Store } from '../../store/store.js';

/** How often services' lostAfter and onNodeReturn are re-read. */
const SERVICE_SETTINGS_REFRESH_MS = 5_000;

type OnNodeReturn = 'KeepReplacement' | 'KeepOriginal';

export class LossSettings {
  private services = new Map<string, { lostAfterMs: number; onNodeReturn: OnNodeReturn }>();
  private readAt = Number.NaN;
  /** The shortest lostAfter of any service, at most the grace period: a node silent less is not looked at. */
  shortest: number;
  /** Whether any service has onNodeReturn KeepOriginal (else a node's return reads nothing). */
  anyKeepOriginal = false;

  constructor(private readonly store: Store, private readonly graceMs: number) {
    this.shortest = graceMs;
  }

  /** Re-reads the services when the last read is SERVICE_SETTINGS_REFRESH_MS old. */
  async refresh(nowMs: number): Promise<void> {
    if (nowMs - this.readAt < SERVICE_SETTINGS_REFRESH_MS) return;
    const services = new Map<string, { lostAfterMs: number; onNodeReturn: OnNodeReturn }>();
    let shortest = this.graceMs;
    for (const svc of (await this.store.list('Service')).items) {
      const lostAfterMs = parseDuration(svc.spec.lostAfter ?? '') ?? this.graceMs;
      shortest = Math.min(shortest, lostAfterMs);
      services.set(`${svc.metadata.namespace ?? ''}/${svc.metadata.name}`, { lostAfterMs, onNodeReturn: svc.spec.onNodeReturn ?? 'KeepReplacement' });
    }
    this.services = services;
    this.shortest = shortest;
    this.anyKeepOriginal = [...services.values()].some((v) => v.onNodeReturn === 'KeepOriginal');
    this.readAt = nowMs;
  }

  /** How long the instance's node may be silent before it is Lost; job runs (and unknown services) the grace period. */
  lostAfterOf(i: Instance): number {
    if (i.spec.ownerKind === 'Job') return this.graceMs;
    return this.services.get(`${i.metadata.namespace ?? ''}/${i.spec.service}`)?.lostAfterMs ?? this.graceMs;
  }

  onNodeReturnOf(i: Instance): OnNodeReturn | undefined {
    return this.services.get(`${i.metadata.namespace ?? ''}/${i.spec.service}`)?.onNodeReturn;
  }
}
