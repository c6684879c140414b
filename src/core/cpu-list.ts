// Linux cpu lists (`0-3,6`), as cpuset.cpus, Docker's CpusetCpus and --reserved-cores take them.

/** `0-3,6` -> [0, 1, 2, 3, 6]; throws on anything else (the text comes from cgroup files and flags). */
export function parseCpuList(text: string): number[] {
  const t = text.trim();
  if (t === '') return [];
  if (!/^[0-9]{1,4}(-[0-9]{1,4})?(,[0-9]{1,4}(-[0-9]{1,4})?)*$/.test(t)) throw new Error(`not a cpu list: "${text}" (expected something like 0-3,6)`);
  const out: number[] = [];
  for (const part of t.split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    const end = b ?? a;
    if (end < a) throw new Error(`not a cpu list: "${text}" (range ${part} runs backwards)`);
    for (let c = a; c <= end; c++) out.push(c);
  }
  return [...new Set(out)].sort((x, y) => x - y);
}

/** [0, 1, 2, 3, 6] -> `0-3,6`. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
