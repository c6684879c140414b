// Wire shapes of the generic object routes: one object, a list, a watch line, a status write and
// the version answer. The client checks what it receives against these. An object answer is
// checked by its envelope (apiVersion, kind, stored metadata, a spec object), not field by field:
// the server validated the spec when it was written, and a client must keep working when a newer
// server adds a field. The full spec and status schemas of each kind are in KIND_SCHEMAS, for the
// OpenAPI document and typed consoles.
import Type, { type Static, type TSchema } from 'typebox';
import { KINDS } from '../kinds.js';
import {
  API_VERSION,
  ConfigSpecSchema,
  CronJobSpecSchema,
  CronJobStatusSchema,
  EventSpecSchema,
  InstanceSpecSchema,
  InstanceStatusSchema,
  JobSpecSchema,
  JobStatusSchema,
  NamespaceSpecSchema,
  NodeSpecSchema,
  NodeStatusSchema,
  ServiceSpecSchema,
  ServiceStatusSchema,
  ServiceVersionSpecSchema,
  TokenSpecSchema,
  TokenStatusSchema,
  type Kind,
} from '../schema.js';

export const KindNameSchema = Type.Union(KINDS.map((k) => Type.Literal(k.kind)));

/**
 * Metadata as the server answers it. The server always sets uid, revision and createdAt (core's
 * StoredMeta type says so); the check requires only the name, and the types of the others when
 * present, so a store stand-in in a test need not invent them.
 */
export const StoredMetaSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  revision: Type.Optional(Type.Integer({ minimum: 0 })),
  createdAt: Type.Optional(Type.String()),
  generation: Type.Optional(Type.Integer({ minimum: 0 })),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
});

/** Each kind's spec and status schema (status absent: the kind has none). */
export const KIND_SCHEMAS: Readonly<Record<Kind, { spec: TSchema; status?: TSchema }>> = {
  Service: { spec: ServiceSpecSchema, status: ServiceStatusSchema },
  Instance: { spec: InstanceSpecSchema, status: InstanceStatusSchema },
  Node: { spec: NodeSpecSchema, status: NodeStatusSchema },
  Namespace: { spec: NamespaceSpecSchema },
  Event: { spec: EventSpecSchema },
  ServiceVersion: { spec: ServiceVersionSpecSchema },
  Job: { spec: JobSpecSchema, status: JobStatusSchema },
  CronJob: { spec: CronJobSpecSchema, status: CronJobStatusSchema },
  Config: { spec: ConfigSpecSchema },
  Secret: { spec: ConfigSpecSchema },
  Token: { spec: TokenSpecSchema, status: TokenStatusSchema },
};

function envelope(kind: TSchema): TSchema {
  return Type.Object({
    apiVersion: Type.Literal(API_VERSION),
    kind,
    metadata: StoredMetaSchema,
    spec: Type.Object({}),
    status: Type.Optional(Type.Object({})),
  });
}

const OBJECT_SCHEMAS = new Map<Kind, TSchema>(KINDS.map((k) => [k.kind, envelope(Type.Literal(k.kind))]));

/** A stored object of any kind. */
export const AnyObjectSchema = envelope(KindNameSchema);

/** A stored object of `kind` (its envelope; see the file comment). One schema object per kind. */
export function objectSchema(kind: Kind): TSchema {
  const s = OBJECT_SCHEMAS.get(kind);
  if (!s) throw new Error(`unknown kind ${kind}`);
  return s;
}

const LISTS = new Map<Kind, TSchema>(
  KINDS.map((k) => [
    k.kind,
    Type.Object({
      apiVersion: Type.Literal(API_VERSION),
      kind: Type.Literal('List'),
      metadata: Type.Object({
        revision: Type.Integer({ minimum: 0 }),
        /** With ?limit: the token of the next page; absent on the last one. */
        continue: Type.Optional(Type.String()),
        /** With ?limit: items left after this page. */
        remainingItemCount: Type.Optional(Type.Integer({ minimum: 0 })),
      }),
      items: Type.Array(objectSchema(k.kind)),
    }),
  ]),
);

/** `GET {base}`: `{ apiVersion, kind: List, metadata: { revision }, items }`. */
export function listSchema(kind: Kind): TSchema {
  const s = LISTS.get(kind);
  if (!s) throw new Error(`unknown kind ${kind}`);
  return s;
}

const WATCH_LINES = new Map<Kind, TSchema>(
  KINDS.map((k) => [
    k.kind,
    Type.Object({
      type: Type.Union([Type.Literal('ADDED'), Type.Literal('MODIFIED'), Type.Literal('DELETED'), Type.Literal('BOOKMARK')]),
      revision: Type.Integer({ minimum: 0 }),
      object: Type.Optional(objectSchema(k.kind)),
    }),
  ]),
);

/** One NDJSON line of `GET {base}?watch=1`; BOOKMARK lines carry no object. */
export function watchLineSchema(kind: Kind): TSchema {
  const s = WATCH_LINES.get(kind);
  if (!s) throw new Error(`unknown kind ${kind}`);
  return s;
}

/** The list and watch query; `watch` and `revision` only make sense together. */
export const ListQuerySchema = Type.Object({
  fieldSelector: Type.Optional(Type.String({ description: 'spec.node=NAME, spec.service=NAME, status.phase=PHASE; comma-separated terms all match' })),
  labelSelector: Type.Optional(Type.String({ description: 'k=v,k2!=v2' })),
  watch: Type.Optional(Type.String({ description: '1: an NDJSON watch stream instead of a list' })),
  revision: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'watch: resume after this revision' })),
  omitStatusChanges: Type.Optional(Type.String({ description: "watch: 1 leaves out MODIFIED events that changed only the object's status (an agent's own reports); bookmarks move past them" })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', description: 'a page of at most this many items (at most 5000), in namespace/name order; metadata.continue names the next page' })),
  continue: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,200}$', description: "the previous page's metadata.continue; 410 when that list is no longer kept" })),
});

export interface WatchLine<O = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  revision: number;
  object?: O;
}

/** The status write body: `{ status, metadata?: { revision } }`. */
export const StatusWriteSchema = Type.Object(
  {
    status: Type.Unknown(),
    metadata: Type.Optional(Type.Object({ revision: Type.Optional(Type.Integer({ minimum: 0 })) })),
  },
  { additionalProperties: false },
);

/** The `x-gantry-result` header of apply, scale and the actions. */
export type ApplyResult = 'created' | 'configured' | 'unchanged';

export const VersionSchema = Type.Object({
  version: Type.String(),
  apiVersion: Type.String(),
  revision: Type.Integer({ minimum: 0 }),
  clusterId: Type.String(),
});
export type VersionInfo = Static<typeof VersionSchema>;

export const HealthzSchema = Type.Object({ ok: Type.Boolean() });

/** Every error answer: `{ error: { code, message, details? } }`. */
export const ErrorBodySchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  }),
});
