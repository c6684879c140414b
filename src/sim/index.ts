// The simulator's entry point: what `gantry sim` (src/cli) may import of src/sim.
export { fdBudgetWarning, openFileLimit } from './fd-budget.js';
export { DEFAULT_POOLS, DEFAULT_RAMP, startHollowNodes, type HollowNodes, type HollowProgress } from './hollow-nodes.js';
export { formatMemoryReport, sampleMemory } from './memory-report.js';
export { DEFAULT_CAPACITY, parseCapacity, parsePoolWeights } from './sim-flags.js';
