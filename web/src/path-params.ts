// The current route's path parameters by name (pages are code-split, so they read them loosely).
import { useParams } from '@tanstack/react-router';

export function usePathParams<T extends string>(...names: T[]): Record<T, string> {
  const params: Record<string, unknown> = useParams({ strict: false });
  const out = {} as Record<T, string>;
  for (const n of names) out[n] = typeof params[n] === 'string' ? params[n] : '';
  return out;
}
