// Stage 3, limit: look at a bounded random sample of nodes instead of all of them, so one
// decision costs about the same at 100 or 10,000 nodes (Nomad's limit iterator, Sparrow's
// power of choices). The permutation is drawn once per plan; each decision walks it from where
// the previous one stopped, so no decision allocates or shuffles anything of size N.
import { InvalidError } from '../core/index.js';
import type { Random } from './random.js';

/** How many feasible candidates one decision ranks. */
export function candidateLimit(nodeCount: number, sampleSize: number | undefined, spreadAsked: boolean): number {
  if (sampleSize !== undefined && (!Number.isInteger(sampleSize) || sampleSize < 1)) {
    throw new InvalidError(`scheduler sampleSize ${sampleSize} is invalid: use a whole number of at least 1, or leave it out`, [
      { path: 'sampleSize', message: 'must be a whole number >= 1' },
    ]);
  }
  const base = sampleSize ?? Math.max(8, 2 * Math.ceil(Math.log2(Math.max(nodeCount, 1))));
  // Spread scores depend on which racks the sample happens to hold: a wider sample sees more.
  return spreadAsked ? base * 2 : base;
}

export interface WalkResult {
  examined: number;
  accepted: number;
}

/**
 * A per-plan random order over the candidate nodes, walked from a rotating offset. Nodes that can
 * take nothing more in this plan are removed (swap with the last live entry, O(1)), so a decision
 * never walks over full nodes: its cost does not grow as the cluster fills.
 */
export class CandidateWalk {
  private readonly order: Uint32Array;
  /** node index -> its position in `order`, or -1 once removed (or never a candidate). */
  private readonly position: Int32Array;
  private live: number;
  private offset = 0;

  /** `candidates`: node indices to walk (default: all of 0..nodeCount-1). */
  constructor(nodeCount: number, random: Random, candidates?: readonly number[]) {
    const n = candidates?.length ?? nodeCount;
    this.order = new Uint32Array(n);
    this.position = new Int32Array(nodeCount).fill(-1);
    for (let i = 0; i < n; i++) this.order[i] = candidates ? (candidates[i] ?? 0) : i;
    for (let i = n - 1; i > 0; i--) {
      const j = random.int(i + 1);
      const t = this.order[i] ?? 0;
      this.order[i] = this.order[j] ?? 0;
      this.order[j] = t;
    }
    for (let i = 0; i < n; i++) this.position[this.order[i] ?? 0] = i;
    this.live = n;
  }

  /** Nodes still walked. */
  get size(): number {
    return this.live;
  }

  /** Takes a node out of every later walk of this plan (it can take no more). */
  remove(index: number): void {
    const pos = this.position[index] ?? -1;
    if (pos < 0) return;
    const last = this.live - 1;
    const moved = this.order[last] ?? 0;
    this.order[pos] = moved;
    this.position[moved] = pos;
    this.order[last] = index;
    this.position[index] = -1;
    this.live = last;
    if (this.offset >= this.live) this.offset = 0;
  }

  /**
   * Offers node indices to `visit` in the plan's random order until `want` of them were accepted
   * (visit returned true) or every live node was offered once. The next walk starts after the last
   * node this one offered, so consecutive decisions look at different nodes first.
   */
  walk(want: number, visit: (index: number) => boolean): WalkResult {
    const n = this.live;
    let examined = 0;
    let accepted = 0;
    let pos = this.offset;
    while (examined < n && accepted < want) {
      const index = this.order[pos] ?? 0;
      examined++;
      pos = pos + 1 === n ? 0 : pos + 1;
      if (visit(index)) accepted++;
    }
    if (n > 0) this.offset = pos;
    return { examined, accepted };
  }
}
