// Resource quantities as users write them: cpu in cores ("0.25", 0.5, "250m"), memory as
// "128Mi", "1Gi", "500M" or plain bytes. Inside Gantry cpu is millicores and memory is bytes.

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
};

export const MEMORY_PATTERN = '^[0-9]+(\\.[0-9]+)?(k|K|M|G|T|Ki|Mi|Gi|Ti)?$';
export const CPU_PATTERN = '^[0-9]+(\\.[0-9]+)?m?$';

/** Returns bytes, or undefined when `q` is not a memory quantity. */
export function parseMemory(q: string | number): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? Math.floor(q) : undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(k|K|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * (MEMORY_UNITS[m[2] ?? ''] ?? 1));
}

/** Returns millicores, or undefined when `q` is not a cpu quantity. */
export function parseCpu(q: string | number): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? Math.round(q * 1000) : undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(q.trim());
  if (!m) return undefined;
  return m[2] === 'm' ? Math.round(Number(m[1])) : Math.round(Number(m[1]) * 1000);
}

/** Exact in the largest binary unit giving a short whole number (`128Mi`), else one decimal (`23.5Gi`). */
export function formatMemory(bytes: number): string {
  const units = [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const;
  for (const [unit, size] of units) {
    if (bytes >= size && bytes % size === 0 && bytes / size < 10_000) return `${bytes / size}${unit}`;
  }
  for (const [unit, size] of units) {
    if (bytes >= size) return `${(bytes / size).toFixed(1)}${unit}`;
  }
  return String(bytes);
}

export function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

/** Durations as users write them: "10s", "500ms", "1m", "1h30m"; returns milliseconds. */
export function parseDuration(d: string | number): number | undefined {
  if (typeof d === 'number') return Number.isFinite(d) && d >= 0 ? d * 1000 : undefined;
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  const s = d.trim();
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    matched = re.lastIndex;
  }
  return matched === s.length && s.length > 0 ? total : undefined;
}

export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
