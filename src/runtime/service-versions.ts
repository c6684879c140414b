// A Service's history: one ServiceVersion `<service>-v<N>` per template the service has run, the
// newest historyLimit kept (never the current one, nor the one a rollback would return to). A new
// version is made when the template hash (template + referenced config content) differs from the
// current version's; its cause says why: "created", "apply", "config changed", or what the writer
// put in the `gantry.io/change-cause` annotation ("rollout undo to v2", "rolled back to v1: ...").
import { API_VERSION, isAppError, namespaceOf, templateOf, type NewObject, type Service, type ServiceVersion, type Store } from '../core/index.js';

/** `<generation>:<cause>`, written with a spec change that is not a plain apply. */
export const CHANGE_CAUSE_ANNOTATION = 'gantry.io/change-cause';
/** On a ServiceVersion: the Service generation it was made at. */
const GENERATION_ANNOTATION = 'gantry.io/generation';

export function changeCause(generation: number | undefined, cause: string): string {
  return `${generation ?? 1}:${cause}`;
}

function versionName(service: string, version: number): string {
  const suffix = `-v${version}`;
  return `${service.slice(0, 63 - suffix.length)}${suffix}`;
}

export interface CurrentVersion {
  version: ServiceVersion;
  /** Made by this call. */
  created: boolean;
}

export class ServiceVersions {
  constructor(private readonly store: Store) {}

  /** Every stored version of a service, oldest first (the store's spec.service index). */
  async list(namespace: string, service: string): Promise<ServiceVersion[]> {
    const { items } = await this.store.list('ServiceVersion', { namespace, field: { path: 'spec.service', value: service } });
    return items.sort((a, b) => a.spec.version - b.spec.version);
  }

  async get(namespace: string, service: string, version: number): Promise<ServiceVersion | undefined> {
    const v = await this.store.get('ServiceVersion', namespace, versionName(service, version));
    return v?.spec.service === service ? v : undefined;
  }

  /**
   * The version that `hash` names: the service's current one when it matches (one get: the usual
   * case), else a new one (or the newest stored one if it has this hash: a pass that died between
   * creating it and writing the status).
   */
  async ensure(service: Service, hash: string): Promise<CurrentVersion> {
    const namespace = namespaceOf(service);
    const name = service.metadata.name;
    const known = service.status?.version;
    if (known !== undefined) {
      const v = await this.get(namespace, name, known);
      if (v && v.spec.templateHash === hash) return { version: v, created: false };
    }
    const all = await this.list(namespace, name);
    const newest = all.at(-1);
    if (newest && newest.spec.templateHash === hash && newest.spec.version >= (known ?? 0)) return { version: newest, created: false };
    const number = Math.max(newest?.spec.version ?? 0, known ?? 0) + 1;
    const generation = service.metadata.generation ?? 1;
    const object: NewObject<ServiceVersion> = {
      apiVersion: API_VERSION,
      kind: 'ServiceVersion',
      metadata: { name: versionName(name, number), namespace, annotations: { [GENERATION_ANNOTATION]: String(generation) } },
      spec: { service: name, version: number, templateHash: hash, template: templateOf(service), cause: causeOf(service, newest) },
    };
    try {
      return { version: await this.store.create<ServiceVersion>(object), created: true };
    } catch (err) {
      // A leftover of a deleted service with the same name: replace it.
      if (!isAppError(err, 'CONFLICT')) throw err;
      await this.store.delete('ServiceVersion', namespace, object.metadata.name);
      return { version: await this.store.create<ServiceVersion>(object), created: true };
    }
  }

  /** Deletes the oldest versions beyond `limit`, never one in `keep`; returns how many. */
  async prune(namespace: string, service: string, limit: number, keep: ReadonlySet<number>): Promise<number> {
    const all = await this.list(namespace, service);
    const excess = all.length - limit;
    if (excess <= 0) return 0;
    const victims = all.filter((v) => !keep.has(v.spec.version)).slice(0, excess);
    if (victims.length === 0) return 0;
    await this.store.txn(victims.map((v) => ({ op: 'delete' as const, kind: 'ServiceVersion' as const, namespace, name: v.metadata.name })));
    return victims.length;
  }

  /** The history of a deleted service goes with it. */
  async deleteAll(namespace: string, service: string): Promise<number> {
    const all = await this.list(namespace, service);
    if (all.length === 0) return 0;
    await this.store.txn(all.map((v) => ({ op: 'delete' as const, kind: 'ServiceVersion' as const, namespace, name: v.metadata.name })));
    return all.length;
  }
}

function causeOf(service: Service, previous: ServiceVersion | undefined): string {
  if (!previous) return 'created';
  const generation = service.metadata.generation ?? 1;
  const annotated = service.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
  const colon = annotated?.indexOf(':') ?? -1;
  if (annotated && colon > 0 && Number(annotated.slice(0, colon)) === generation) return annotated.slice(colon + 1);
  // Same spec generation as the previous version: only referenced config content changed.
  if (previous.metadata.annotations?.[GENERATION_ANNOTATION] === String(generation)) return 'config changed';
  return 'apply';
}
