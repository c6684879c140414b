// One notation for resources wherever `gantry describe` shows them: cpu as whole cores or
// millicores (`2`, `250m`) and memory in binary units (`128Mi`), as `get nodes` prints them. The
// API keeps what each field holds: a container's resources as the user wrote them (`0.1`,
// `128Mi`), an instance's total and a node's capacity as millicores and bytes (`100`,
// `134217728`). Overcommit ratios are no quantities and are left alone.
import { formatCpu, formatMemory, parseCpu, parseMemory } from '../core/index.js';

type Quantities = { cpu?: unknown; memory?: unknown };

/** Keys whose cpu/memory are millicores and bytes (the server's own figures), not a user's quantities. */
const STORED_FORM = new Set(['capacity', 'usage']);
/** Keys whose cpu/memory are quantities as a user writes them. */
const USER_FORM = new Set(['resources', 'reserved']);

function readable(q: Quantities, stored: boolean): Quantities {
  const cpu = typeof q.cpu === 'number' || typeof q.cpu === 'string' ? (stored ? Number(q.cpu) : parseCpu(q.cpu)) : undefined;
  const memory = typeof q.memory === 'number' || typeof q.memory === 'string' ? (stored ? Number(q.memory) : parseMemory(q.memory)) : undefined;
  return {
    ...q,
    // Whole cores as a number, so YAML prints `cpu: 2` rather than `cpu: "2"`.
    ...(cpu !== undefined && Number.isFinite(cpu) ? { cpu: cpu % 1000 === 0 ? cpu / 1000 : formatCpu(cpu) } : {}),
    ...(memory !== undefined && Number.isFinite(memory) ? { memory: formatMemory(memory) } : {}),
  };
}

/**
 * A copy of an object's spec or status with every resources/reserved/capacity block in one
 * notation. `storedResources`: the block's own `resources` holds millicores and bytes (an
 * Instance's spec: the sum the scheduler places).
 */
export function readableQuantities(value: unknown, storedResources = false): unknown {
  if (Array.isArray(value)) return value.map((v) => readableQuantities(v));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const isBlock = typeof v === 'object' && v !== null && !Array.isArray(v);
    if (isBlock && STORED_FORM.has(key)) out[key] = readable(v as Quantities, true);
    else if (isBlock && USER_FORM.has(key)) out[key] = readable(v as Quantities, key === 'resources' && storedResources);
    else out[key] = readableQuantities(v);
  }
  return out;
}
