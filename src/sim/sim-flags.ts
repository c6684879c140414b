// The value syntax of `gantry sim` flags that are not plain numbers: pool weights and node
// capacity. Parsed before anything starts, with errors that show a valid example.
import { parseCpu, parseMemory, UsageError } from '../core/index.js';

export interface Capacity {
  /** Millicores. */
  cpu: number;
  /** Bytes. */
  memory: number;
}

export const DEFAULT_CAPACITY: Capacity = { cpu: 32_000, memory: 128 * 2 ** 30 };

function pairs(text: string, what: string, example: string): [string, string][] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new UsageError(`${what} is empty: give it like ${example}`);
  return parts.map((part) => {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what}: "${part}" must be name=value, e.g. ${example}`);
    return [part.slice(0, eq), part.slice(eq + 1)];
  });
}

/** `web=0.8,batch=0.2` -> weights (relative; they need not sum to 1). */
export function parsePoolWeights(text: string): Record<string, number> {
  const example = 'web=0.8,batch=0.2';
  const out: Record<string, number> = {};
  for (const [name, value] of pairs(text, '--pools', example)) {
    const weight = Number(value);
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`--pools: "${name}" is not a label value (letters, digits, ".", "_", "-"), e.g. ${example}`);
    if (value.trim() === '' || !Number.isFinite(weight) || weight < 0) {
      throw new UsageError(`--pools: the weight of "${name}" must be a number >= 0, not "${value}" (e.g. ${example})`);
    }
    out[name] = weight;
  }
  if (Object.values(out).every((w) => w === 0)) throw new UsageError(`--pools: at least one pool needs a weight above 0, e.g. ${example}`);
  return out;
}

/** `cpu=32,memory=128Gi` (either may be left out) -> millicores and bytes. */
export function parseCapacity(text: string): Capacity {
  const example = 'cpu=32,memory=128Gi';
  const out = { ...DEFAULT_CAPACITY };
  for (const [key, value] of pairs(text, '--capacity', example)) {
    if (key === 'cpu') {
      const cpu = parseCpu(value);
      if (cpu === undefined || cpu === 0) throw new UsageError(`--capacity: cpu must be cores like 32 or 500m, not "${value}"`);
      out.cpu = cpu;
    } else if (key === 'memory') {
      const memory = parseMemory(value);
      if (memory === undefined || memory === 0) throw new UsageError(`--capacity: memory must be a quantity like 128Gi, not "${value}"`);
      out.memory = memory;
    } else {
      throw new UsageError(`--capacity: unknown resource "${key}"; use cpu and memory, e.g. ${example}`);
    }
  }
  return out;
}
