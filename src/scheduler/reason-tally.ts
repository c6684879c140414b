// Why no node fit: counts of feasibility reasons over the nodes examined, as one line of text.

export class ReasonTally {
  private readonly counts = new Map<string, number>();

  add(reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  /** "0/12 nodes fit: 8 insufficient memory, 4 constraint rack=a" (most common first). */
  format(nodeCount: number): string {
    if (nodeCount === 0) return '0/0 nodes fit: the cluster has no nodes';
    const parts = [...this.counts]
      .sort(([ra, a], [rb, b]) => b - a || (ra < rb ? -1 : ra > rb ? 1 : 0))
      .map(([reason, n]) => `${n} ${reason}`);
    return `0/${nodeCount} nodes fit: ${parts.join(', ')}`;
  }
}
