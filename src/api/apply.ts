// Create and apply (PUT) semantics, independent of HTTP so they can be unit-tested and reused.
// Apply is declarative: the user's defaulted spec, labels and annotations replace the stored ones;
// identity (uid, createdAt) and status stay Gantry's. An apply that changes nothing writes nothing,
// so re-applying a directory of manifests is free and makes no watch events.
import {
  applyDefaults,
  canonicalJson,
  ConflictError,
  formatBytes,
  InvalidError,
  isAppError,
  kindInfo,
  MAX_OBJECT_BYTES,
  NotFoundError,
  objectSizeErrors,
  StaleRevisionError,
  validateManifest,
  type AnyObject,
  type Kind,
  type Manifest,
} from '../core/index.js';
import type { NewObject, Store } from '../store/store.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';
import { admitManifest, lostQuotaRace, writeAdmitted, type QuotaGuard } from './admission.js';

export type ApplyResult = 'created' | 'configured' | 'unchanged';

/** Where the URL says the object lives. */
export interface ObjectAddress {
  kind: Kind;
  namespace: string | undefined;
  name: string;
}

/** Validates the body against the URL and applies defaults (422 listing every problem). */
export function parseManifest(body: unknown, at: ObjectAddress): Manifest {
  const expect = { kind: at.kind, name: at.name, ...(at.namespace ? { namespace: at.namespace } : {}) };
  const manifest = validateManifest(body, expect);
  const tooBig = objectSizeErrors(manifest);
  if (tooBig.length > 0) throw new InvalidError(`the ${manifest.kind} is larger than one object may be (${formatBytes(MAX_OBJECT_BYTES)})`, tooBig);
  // The URL's namespace wins over an absent one in the body.
  const withNs = at.namespace ? { ...manifest, metadata: { ...manifest.metadata, namespace: at.namespace } } : manifest;
  return applyDefaults(withNs);
}

/** The object to store for a new manifest: server-set metadata stripped, generation 1, initial status. */
export function initialObject(m: Manifest): NewObject {
  const { name, namespace, labels, annotations } = m.metadata;
  const metadata = {
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(labels !== undefined ? { labels } : {}),
    ...(annotations !== undefined ? { annotations } : {}),
    generation: 1,
  };
  const status = m.kind === 'Service' ? { status: { replicas: 0, readyReplicas: 0, conditions: [] } } : {};
  return { apiVersion: m.apiVersion, kind: m.kind, metadata, spec: m.spec, ...status };
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a ?? null) === canonicalJson(b ?? null);
const sameMap = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean => same(a ?? {}, b ?? {});

/**
 * Merges a defaulted manifest into the stored object. Returns undefined when nothing the user owns
 * differs. The result carries the CAS revision: the user's if given, else the one just read.
 */
export function mergeApply(existing: AnyObject, desired: Manifest): AnyObject | undefined {
  const specChanged = !same(existing.spec, desired.spec);
  const labelsChanged = !sameMap(existing.metadata.labels, desired.metadata.labels);
  const annotationsChanged = !sameMap(existing.metadata.annotations, desired.metadata.annotations);
  if (!specChanged && !labelsChanged && !annotationsChanged) return undefined;
  const { labels, annotations, revision } = desired.metadata;
  const prev = existing.metadata;
  const metadata = {
    name: prev.name,
    ...(prev.namespace !== undefined ? { namespace: prev.namespace } : {}),
    ...(labels !== undefined ? { labels } : {}),
    ...(annotations !== undefined ? { annotations } : {}),
    uid: prev.uid,
    createdAt: prev.createdAt,
    revision: revision ?? prev.revision,
    generation: (prev.generation ?? 1) + (specChanged ? 1 : 0),
  };
  return { ...existing, metadata, spec: desired.spec } as AnyObject;
}

/** 404 naming the namespace and the fix when a namespaced object's Namespace does not exist. */
export async function requireNamespace(store: Store, kind: Kind, namespace: string | undefined): Promise<void> {
  if (!kindInfo(kind).namespaced || namespace === undefined) return;
  if (await store.get('Namespace', undefined, namespace)) return;
  throw new NotFoundError(
    'Namespace',
    undefined,
    namespace,
    `namespace "${namespace}" not found; create it first: gantry apply a Namespace named ${namespace} (kind: Namespace, metadata.name: ${namespace})`,
  );
}

/** POST: create only; 409 when the object exists. */
export async function createObject(store: Store, m: Manifest): Promise<AnyObject> {
  await requireNamespace(store, m.kind, m.metadata.namespace);
  const guard = await admitManifest(store, m, undefined);
  return writeAdmitted(store, guard, { op: 'create', object: initialObject(m) });
}

/**
 * The CAS update. A 409 on a revision the user pinned most often comes from a file that still
 * carries the metadata.revision of an earlier export: say how to apply it anyway.
 */
async function updatePinned(store: Store, next: AnyObject, userRevision: number | undefined, guard?: QuotaGuard): Promise<AnyObject> {
  try {
    return await writeAdmitted(store, guard, { op: 'update', object: next });
  } catch (e) {
    if (userRevision === undefined || !isAppError(e, 'CONFLICT') || lostQuotaRace(e)) throw e;
    const hint = 'or remove metadata.revision from the file';
    throw new ConflictError(e instanceof StaleRevisionError ? `${e.message}, ${hint}` : `${e.message}; read it again and retry, ${hint}`);
  }
}

/** PUT: create or replace; see the file comment. */
export async function applyObject(store: Store, m: Manifest): Promise<{ object: AnyObject; result: ApplyResult }> {
  const userRevision = m.metadata.revision;
  return retryOnConflict(
    async () => {
      const existing = await store.get(m.kind, m.metadata.namespace, m.metadata.name);
      if (!existing) {
        // A revision on a missing object is ignored: re-applying an export into a fresh cluster works.
        return { object: await createObject(store, m), result: 'created' as const };
      }
      const next = mergeApply(existing, m);
      if (!next) return { object: existing, result: 'unchanged' as const };
      const guard = await admitManifest(store, m, existing);
      return { object: await updatePinned(store, next, userRevision, guard), result: 'configured' as const };
    },
    {
      // Lost a race with another writer (or a concurrent create/delete): re-read and try again,
      // unless the user pinned a revision, in which case the 409 is the answer.
      // A lost quota race is retried either way: the pinned object itself did not move.
      retryable: (e) => lostQuotaRace(e) || (userRevision === undefined && (isAppError(e, 'CONFLICT') || (e instanceof NotFoundError && e.kind !== 'Namespace'))),
    },
  );
}
