// The scheduler's data: a snapshot in, a plan out. No I/O (docs/architecture.md, "Scheduler").

export interface NodeSnapshot {
  name: string;
  labels: Readonly<Record<string, string>>;
  ready: boolean;
  unschedulable: boolean;
  /** Pressure conditions that hold (MemoryPressure, DiskPressure, PIDPressure): no new work. */
  pressures: readonly string[];
  /** Millicores and bytes the node has. */
  capacity: { cpu: number; memory: number };
  /** Multipliers on capacity (1 = no overcommit). */
  overcommit: { cpu: number; memory: number };
  /** Held back for the host: millicores and bytes. */
  reserved: { cpu: number; memory: number };
  /** Whole cores that cpuMode cpuset may pin here (Node status.cpuset.allocatable); 0 or absent: none. */
  cores?: number | undefined;
  /** Sum of requests already placed here: millicores and bytes, and whole cores pinned. */
  used: { cpu: number; memory: number; cores?: number | undefined };
  /** Host ports taken (`8080/tcp`). */
  hostPorts: ReadonlySet<string>;
  /** Count of instances per service key (`namespace/service`) already on this node. */
  serviceCounts: ReadonlyMap<string, number>;
}

export interface PlacementRequest {
  /** `namespace/name` of the instance. */
  id: string;
  /** `namespace/service`: replicas of one service are spread across hosts. */
  serviceKey: string;
  /** `cores`: whole cores its cpuset containers pin (they count in `cpu` too). */
  resources: { cpu: number; memory: number; cores?: number | undefined };
  /** Fixed host ports asked for (`8080/tcp`); dynamic ports need none. */
  hostPorts: readonly string[];
  constraints: readonly string[];
  /** Node label keys to spread across (`rack`). */
  spread: readonly string[];
  /** Nodes to place on only when no other feasible node is in the sample (where predecessors kept failing). */
  avoidNodes?: readonly string[] | undefined;
}

export interface Placement {
  id: string;
  node: string;
  score: number;
}

export interface PlacementFailure {
  id: string;
  /** Human text: why no node fits, with counts by reason, e.g. "0/12 nodes fit: 12 insufficient memory". */
  reason: string;
}

export interface Plan {
  /** The snapshot revision the plan was computed against. */
  revision: number;
  placements: Placement[];
  failures: PlacementFailure[];
}

export interface ScheduleOptions {
  /** bin-pack (default) fills nodes; spread prefers the emptiest. */
  strategy?: 'binpack' | 'spread';
  /** Seed for the candidate sample: same inputs and seed, same plan. */
  seed: number;
  /** Candidate sample size; default max(log2(N) * 2, 8), more when spread is asked. */
  sampleSize?: number;
}
