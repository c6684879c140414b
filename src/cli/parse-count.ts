// Whole-number option values (`--replicas 3`, `--tail 100`), rejected with the option's name.
import { UsageError } from '../core/index.js';

export function parseCount(value: string, what: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`${what} must be a whole number, not "${value}"`);
  return n;
}
