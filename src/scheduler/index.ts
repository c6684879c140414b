// The scheduler's public surface: a pure library, snapshot in, plan out (README.md).
export type * from './types.js';
export { schedule } from './plan.js';
export { fits, feasibilityCheck, resourceLimit, type FeasibilityCheck } from './feasible.js';
export { scoreNode, fillAfter, spreadValue, SPREAD_PENALTY, ANTI_AFFINITY_PENALTY, AVOID_PENALTY, MISSING_LABEL } from './rank.js';
export { candidateLimit, CandidateWalk, type WalkResult } from './limit.js';
export { SeededRandom, type Random } from './random.js';
export { buildNodeSnapshot, buildNodeSnapshots, nodeSnapshotOf, holdsResources, placementRequestFor, serviceKeyOf, hostPortsOf } from './snapshot.js';
export type { NodeUsage } from './snapshot.js';
