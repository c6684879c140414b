// The size cap of one stored object (docs/security.md, "Limits"): about 1 MiB of JSON, Config and
// Secret data included, so no single object can blow up the store, its history or a watch line.
// Over the cap, the answer names the field that holds most of it.
import type { FieldError } from './errors.js';

/** The most JSON one object may take (UTF-8 bytes). */
export const MAX_OBJECT_BYTES = 1_048_576;

const encoder = new TextEncoder();
const sizeOf = (v: unknown): number => encoder.encode(JSON.stringify(v) ?? '').length;

/** `1048576` -> `1 MiB`, `1100000` -> `1.05 MiB`, `2048` -> `2 KiB`. */
export function formatBytes(n: number): string {
  if (n >= 2 ** 20) return `${Math.round((n / 2 ** 20) * 100) / 100} MiB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KiB`;
  return `${n} bytes`;
}

function childPath(parent: string, key: string | number): string {
  return typeof key === 'number' ? `${parent}[${key}]` : parent ? `${parent}.${key}` : key;
}

/** The path of the field holding most of `value`: down into the largest child while it is at least half. */
function heaviest(value: unknown, path: string, size: number): { path: string; size: number } {
  if (value === null || typeof value !== 'object') return { path, size };
  let best: { key: string | number; value: unknown; size: number } | undefined;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [key, v] of entries) {
    const s = sizeOf(v);
    if (!best || s > best.size) best = { key, value: v, size: s };
  }
  if (!best || best.size * 2 < size) return { path, size };
  return heaviest(best.value, childPath(path, best.key), best.size);
}

/** One error naming the heaviest field when `object` is over `limit` bytes of JSON; none otherwise. */
export function objectSizeErrors(object: unknown, limit = MAX_OBJECT_BYTES): FieldError[] {
  const size = sizeOf(object);
  if (size <= limit) return [];
  const h = heaviest(object, '', size);
  return [{ path: h.path || '(object)', message: `holds ${formatBytes(h.size)}; an object may take at most ${formatBytes(limit)} in all (this one takes ${formatBytes(size)})` }];
}
