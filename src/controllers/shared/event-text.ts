// Wording shared by the controllers' events, so every list reads the same way and a batch of
// thousands stays one readable line.

/** "a, b, c", or "a, b, c ... and 37 more" past `max` items. */
export function listSome(items: readonly string[], max = 10): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} ... and ${items.length - max} more`;
}

/** "1 instance", "2 instances". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
