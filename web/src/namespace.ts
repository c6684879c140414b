// The namespace the lists show ('*': every namespace the token may see). It is part of the URL
// (`?ns=prod`), so a view's link names its namespace and the back button restores it; the tab
// remembers the last choice (sessionStorage) for URLs that name none.
import { useSyncExternalStore } from 'react';
import { router } from './router.js';

const KEY = 'gantry.namespace';
const listeners = new Set<() => void>();

function fromUrl(): string | undefined {
  const ns = new URLSearchParams(window.location.search).get('ns');
  return ns && /^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.test(ns) ? ns : undefined;
}

export function currentNamespace(): string {
  return fromUrl() ?? sessionStorage.getItem(KEY) ?? 'default';
}

/** Shows `ns`: the URL's `?ns=` changes (a history entry) and the tab remembers it. */
export function setNamespace(ns: string): void {
  sessionStorage.setItem(KEY, ns);
  const url = new URL(window.location.href);
  url.searchParams.set('ns', ns);
  void router.navigate({ href: `${url.pathname}${url.search}` });
  for (const f of listeners) f();
}

export function useNamespace(): string {
  return useSyncExternalStore((f) => {
    listeners.add(f);
    // Back and forward move the URL without setNamespace.
    const unsubscribe = router.subscribe('onResolved', f);
    return () => {
      listeners.delete(f);
      unsubscribe();
    };
  }, currentNamespace);
}
