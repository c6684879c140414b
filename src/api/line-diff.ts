// A line diff (longest common subsequence) for dry-run plans: specs are tens of lines, so the
// quadratic table is small. Bounded anyway: past MAX_CELLS the old lines all go out and the new
// ones all come in, which is still a true (if long) diff.
import type { DiffLine } from '../core/index.js';

const MAX_CELLS = 4_000_000;

export function lineDiff(before: readonly string[], after: readonly string[]): DiffLine[] {
  const n = before.length;
  const m = after.length;
  if (n * m > MAX_CELLS) return [...before.map((line) => ({ op: '-' as const, line })), ...after.map((line) => ({ op: '+' as const, line }))];
  // lcs[i][j]: length of the LCS of before[i..] and after[j..], in one flat array.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = before[i] === after[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      out.push({ op: ' ', line: before[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) {
      out.push({ op: '-', line: before[i++]! });
    } else {
      out.push({ op: '+', line: after[j++]! });
    }
  }
  while (i < n) out.push({ op: '-', line: before[i++]! });
  while (j < m) out.push({ op: '+', line: after[j++]! });
  return out;
}
