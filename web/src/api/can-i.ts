// Whether the signed-in token may do something, answered by the server's own policies
// (GET /api/v1/auth/can-i): the console disables what the role may not do and says why.
import { useQuery } from '@tanstack/react-query';
import { getJson } from './http.js';

export interface CanI {
  allowed: boolean;
  reason: string;
}

export function useCanI(verb: string, kind: string, namespace?: string): CanI {
  const q = new URLSearchParams({ verb, kind, ...(namespace !== undefined ? { namespace } : {}) });
  const { data } = useQuery({ queryKey: ['can-i', verb, kind, namespace], queryFn: () => getJson<CanI>(`/api/v1/auth/can-i?${q.toString()}`), staleTime: 60_000 });
  // Until the answer comes: allowed, so nothing flickers for an admin; the server decides anyway.
  return data ?? { allowed: true, reason: '' };
}

export interface WhoAmI {
  principal: { kind: string; name: string; role?: string; namespaces?: '*' | string[] };
  description: string;
}

export function useWhoAmI(): WhoAmI | undefined {
  return useQuery({ queryKey: ['whoami'], queryFn: () => getJson<WhoAmI>('/api/v1/auth/whoami'), staleTime: 300_000 }).data;
}
