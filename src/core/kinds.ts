// Facts about each kind that the store, the API and the CLI share: URL plural, scope, aliases.
import type { Kind } from './schema.js';

export interface KindInfo {
  kind: Kind;
  /** URL segment and CLI name: `services`. */
  plural: string;
  /** Names the CLI accepts for this kind. */
  aliases: readonly string[];
  namespaced: boolean;
  /** Users may create and change it through the API (others are written by Gantry only). */
  userWritable: boolean;
  /** Readable by cluster administrators only (Tokens). */
  adminOnly?: boolean;
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'Service', plural: 'services', aliases: ['service', 'svc', 'services'], namespaced: true, userWritable: true },
  { kind: 'Instance', plural: 'instances', aliases: ['instance', 'inst', 'instances'], namespaced: true, userWritable: false },
  { kind: 'Node', plural: 'nodes', aliases: ['node', 'no', 'nodes'], namespaced: false, userWritable: true },
  { kind: 'Namespace', plural: 'namespaces', aliases: ['namespace', 'ns', 'namespaces'], namespaced: false, userWritable: true },
  { kind: 'Event', plural: 'events', aliases: ['event', 'ev', 'events'], namespaced: true, userWritable: false },
  { kind: 'ServiceVersion', plural: 'serviceversions', aliases: ['serviceversion', 'serviceversions', 'version', 'versions'], namespaced: true, userWritable: false },
  { kind: 'Job', plural: 'jobs', aliases: ['job', 'jobs'], namespaced: true, userWritable: true },
  { kind: 'CronJob', plural: 'cronjobs', aliases: ['cronjob', 'cronjobs', 'cj'], namespaced: true, userWritable: true },
  { kind: 'Config', plural: 'configs', aliases: ['config', 'configs', 'cfg'], namespaced: true, userWritable: true },
  { kind: 'Secret', plural: 'secrets', aliases: ['secret', 'secrets'], namespaced: true, userWritable: true },
  // Credentials: made and revoked through the token routes (gantry token), read by admins only.
  { kind: 'Token', plural: 'tokens', aliases: ['token', 'tokens'], namespaced: false, userWritable: false, adminOnly: true },
];

export const DEFAULT_NAMESPACE = 'default';

/** The namespace an object lives in; objects stored without one are in the default namespace. */
export function namespaceOf(o: { metadata: { namespace?: string | undefined } }): string {
  return o.metadata.namespace ?? DEFAULT_NAMESPACE;
}

export function kindInfo(kind: Kind): KindInfo {
  const k = KINDS.find((i) => i.kind === kind);
  if (!k) throw new Error(`unknown kind ${kind}`);
  return k;
}

/** Resolves what a user typed (`svc`, `Service`, `instances`) to a kind, or undefined. */
export function resolveKind(word: string): KindInfo | undefined {
  const w = word.toLowerCase();
  return KINDS.find((i) => i.kind.toLowerCase() === w || i.aliases.includes(w));
}

export function kindFromPlural(plural: string): KindInfo | undefined {
  return KINDS.find((i) => i.plural === plural);
}

/** The key that identifies one object: `Service/default/web`, `Node//n1`. */
export function objectKey(kind: Kind, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}
