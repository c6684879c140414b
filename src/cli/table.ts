// kubectl-style tables: upper-case headers, columns padded to their widest cell and separated by
// three spaces, no padding after the last column.

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    headers
      .map((_, i) => {
        const cell = cells[i] ?? '';
        return i === headers.length - 1 ? cell : cell.padEnd(widths[i] ?? 0);
      })
      .join('   ')
      .replace(/\s+$/, '');
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
