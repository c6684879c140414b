// Which endpoint sits in which server slot of each backend. An endpoint keeps its slot for as long
// as it is in the catalog (HAProxy keeps per-server state and counters by slot); a new one takes
// the lowest free slot. Changes come out as runtime API commands, so endpoint churn never reloads.
import { requireSafe } from '../../core/index.js';
import type { SlotServer } from './lb-render.js';

export interface SlotChange {
  backend: string;
  /** 1-based, as in `slotK`. */
  slot: number;
  /** What the slot serves now; undefined: nothing (maintenance). */
  server: SlotServer | undefined;
}

export class SlotTable {
  private readonly backends = new Map<string, (SlotServer | undefined)[]>();

  /** The slots of a backend (index 0 is slot1). */
  get(backend: string): readonly (SlotServer | undefined)[] {
    return this.backends.get(backend) ?? [];
  }

  size(backend: string): number | undefined {
    return this.backends.get(backend)?.length;
  }

  /**
   * Fits `endpoints` into `size` slots: those already placed stay, the others take free slots;
   * endpoints beyond `size` are left out (the caller grows the backend first). Returns the changes.
   */
  update(backend: string, size: number, endpoints: readonly SlotServer[]): SlotChange[] {
    const old = this.backends.get(backend) ?? [];
    const next: (SlotServer | undefined)[] = Array.from({ length: size }, () => undefined);
    const wanted = new Map(endpoints.map((e) => [e.instance, e]));
    old.forEach((s, k) => {
      const e = s && k < size ? wanted.get(s.instance) : undefined;
      if (e) {
        next[k] = e;
        wanted.delete(e.instance);
      }
    });
    for (const e of [...wanted.values()].sort((a, b) => a.instance.localeCompare(b.instance))) {
      const free = next.indexOf(undefined);
      if (free < 0) break;
      next[free] = e;
    }
    this.backends.set(backend, next);
    const changes: SlotChange[] = [];
    for (let k = 0; k < size; k++) {
      const a = old[k];
      const b = next[k];
      if (a?.instance === b?.instance && a?.address === b?.address && a?.port === b?.port) continue;
      changes.push({ backend, slot: k + 1, server: b });
    }
    return changes;
  }

  /** Forgets backends that are no longer in the model. */
  retain(backends: ReadonlySet<string>): void {
    for (const name of [...this.backends.keys()]) if (!backends.has(name)) this.backends.delete(name);
  }
}

/**
 * The runtime API commands for one change. A new server is forced healthy: Gantry's own health
 * check has just passed (that is what put it in the catalog), and HAProxy's checks go on from
 * there. A slot that empties goes to maintenance: new connections stop, open ones finish.
 */
export function runtimeCommands(c: SlotChange): string[] {
  const srv = `${c.backend}/slot${c.slot}`;
  if (!c.server) return [`set server ${srv} state maint`];
  const address = requireSafe('address', c.server.address, `the address of ${c.server.instance}`);
  return [`set server ${srv} addr ${address} port ${c.server.port}`, `set server ${srv} health up`, `set server ${srv} state ready`];
}
