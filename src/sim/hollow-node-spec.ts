// Who hollow node i is: its name, labels and driver seed. Each is a pure function of (seed, i),
// so node 17 gets the same pool whether the simulation has 50 nodes or 10,000, and two runs
// with the same seed build the same cluster.
import { seededRandom, seedFrom } from '../core/index.js';

export const HOLLOW_LABEL = 'gantry.io/hollow';

export interface HollowLayout {
  namePrefix: string;
  /** Total nodes; sets the zero padding of names so they sort. */
  nodes: number;
  racks: number;
  /** Relative weights of the `pool` label values. */
  pools: Readonly<Record<string, number>>;
  seed: number;
}

export interface HollowNodeSpec {
  index: number;
  name: string;
  labels: Record<string, string>;
  /** Seed of the node's FakeDriver (which starts fail under --failure-rate). */
  driverSeed: number;
}

/** Picks a key with probability proportional to its weight, given u in [0, 1). */
export function pickWeighted(weights: Readonly<Record<string, number>>, u: number): string {
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let left = u * total;
  for (const [name, w] of entries) {
    if (left < w) return name;
    left -= w;
  }
  // u * total rounded up to total: the last pool.
  const last = entries[entries.length - 1];
  if (!last) throw new Error('pickWeighted needs at least one weight above 0');
  return last[0];
}

export function hollowNodeSpec(layout: HollowLayout, index: number): HollowNodeSpec {
  const width = String(Math.max(layout.nodes - 1, 0)).length;
  const name = `${layout.namePrefix}-${String(index).padStart(width, '0')}`;
  const poolDraw = seededRandom(seedFrom(`${layout.seed}/pool/${index}`))();
  return {
    index,
    name,
    labels: {
      rack: `r${index % layout.racks}`,
      pool: pickWeighted(layout.pools, poolDraw),
      [HOLLOW_LABEL]: 'true',
    },
    driverSeed: seedFrom(`${layout.seed}/driver/${index}`),
  };
}
