// A Service's template covers the content of the Configs and Secrets its configFiles reference:
// changing `web-conf` rolls `web` like changing its image does. The digest is a hash of what each
// reference resolves to right now (a missing Config or key is part of it, so its arrival rolls too).
import { stableHash, type ConfigFileSpec, type ServiceSpec } from '../../core/index.js';

export interface ConfigRef {
  kind: 'Config' | 'Secret';
  name: string;
  key: string;
}

function configRefsOf(spec: Pick<ServiceSpec, 'configFiles'>): ConfigRef[] {
  const refs: ConfigRef[] = [];
  for (const f of spec.configFiles ?? []) {
    if (f.configRef) refs.push({ kind: 'Config', name: f.configRef.name, key: f.configRef.key });
    if (f.secretRef) refs.push({ kind: 'Secret', name: f.secretRef.name, key: f.secretRef.key });
  }
  return refs;
}

/** Whether a service's files reference this Config or Secret (to enqueue it when that changes). */
export function referencesConfig(files: readonly ConfigFileSpec[] | undefined, kind: 'Config' | 'Secret', name: string): boolean {
  return (files ?? []).some((f) => (kind === 'Config' ? f.configRef?.name : f.secretRef?.name) === name);
}

/**
 * The digest of the referenced contents, or undefined when nothing is referenced (so the template
 * hash of a service without references stays what it was before config files existed).
 * `lookup` returns the data of a Config/Secret, or undefined when it does not exist.
 */
export async function configDigest(
  spec: Pick<ServiceSpec, 'configFiles'>,
  lookup: (kind: 'Config' | 'Secret', name: string) => Promise<Readonly<Record<string, string>> | undefined>,
): Promise<string | undefined> {
  const refs = configRefsOf(spec);
  if (refs.length === 0) return undefined;
  const parts: [string, string, string, string | null][] = [];
  for (const r of refs) {
    const data = await lookup(r.kind, r.name);
    parts.push([r.kind, r.name, r.key, data?.[r.key] ?? null]);
  }
  return stableHash(parts);
}
