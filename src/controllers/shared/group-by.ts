// Grouping a long list by key in one pass. Appending with push keeps it linear; rebuilding the
// group's array per item (`[...old, item]`) made one 100k-instance service quadratic.

/** Items by `keyOf(item)`, each group in input order; groups in order of first appearance. */
export function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
