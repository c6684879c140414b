// Writes of what is true now: status subresources and the agents' batched instance reports (node
// heartbeats: heartbeats.ts). They replace status only, never spec, and never create objects.
import Type from 'typebox';
import {
  AppError,
  canonicalJson,
  ConflictError,
  ForbiddenError,
  formatBytes,
  InstanceStatusSchema,
  InvalidError,
  isAppError,
  isFinishedPhase,
  MAX_OBJECT_BYTES,
  NodeStatusSchema,
  NotFoundError,
  objectSizeErrors,
  schemaErrors,
  ServiceStatusSchema,
  StaleRevisionError,
  type AnyObject,
  type Instance,
  type InstanceStatus,
  type Kind,
} from '../core/index.js';
import type { TSchema } from 'typebox';
import type { Store, TxnOp } from '../store/store.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';

const STATUS_SCHEMAS: Partial<Record<Kind, TSchema>> = {
  Service: ServiceStatusSchema,
  Instance: InstanceStatusSchema,
  Node: NodeStatusSchema,
};

/** The status write body: `{ status, metadata?: { revision } }`. */
const StatusBodySchema = Type.Object(
  {
    status: Type.Unknown(),
    metadata: Type.Optional(Type.Object({ revision: Type.Optional(Type.Integer({ minimum: 0 })) })),
  },
  { additionalProperties: false },
);

export function parseStatusBody(kind: Kind, body: unknown): { status: unknown; revision: number | undefined } {
  const errors = schemaErrors(StatusBodySchema, body, '');
  if (errors.length > 0) throw new InvalidError('the status body is invalid; send { "status": {...}, "metadata": { "revision"? } }', errors);
  const b = body as { status: unknown; metadata?: { revision?: number } };
  const tooBig = objectSizeErrors(b.status).map((e) => ({ ...e, path: e.path === '(object)' ? 'status' : `status.${e.path}` }));
  if (tooBig.length > 0) throw new InvalidError(`the status is larger than one object may be (${formatBytes(MAX_OBJECT_BYTES)})`, tooBig);
  checkStatus(kind, b.status);
  return { status: b.status, revision: b.metadata?.revision };
}

function checkStatus(kind: Kind, status: unknown): void {
  const schema = STATUS_SCHEMAS[kind];
  if (!schema) throw new ForbiddenError(`${kind} objects have no status to write`);
  const errors = schemaErrors(schema, status, 'status');
  if (errors.length > 0) throw new InvalidError(`${kind.toLowerCase()} status is invalid: ${errors.length} problem${errors.length > 1 ? 's' : ''}`, errors);
}

/**
 * A finished instance (Lost, Failed, Succeeded) never runs again: the service controller replaces
 * it. An agent that comes back after its node was declared lost still reports the old containers
 * as running; accepting that would count the instance twice (old and replacement). Finished to
 * finished (Failed after Lost) stays allowed.
 */
function revivalConflict(current: AnyObject, status: unknown): AppError | undefined {
  if (current.kind !== 'Instance') return undefined;
  const was = current.status?.phase;
  const next = (status as Partial<InstanceStatus> | null)?.phase;
  if (was === undefined || !isFinishedPhase(was) || next === undefined || isFinishedPhase(next)) return undefined;
  const fate = was === 'Succeeded' ? 'it has completed and does not run again' : 'it will be replaced';
  return new ConflictError(`instance ${current.metadata.name} is ${was}; ${fate}`);
}

/** Replaces an object's status (CAS on `revision` when given, else retried on races). */
export async function writeStatus(store: Store, kind: Kind, namespace: string | undefined, name: string, status: unknown, revision?: number): Promise<AnyObject> {
  return retryOnConflict(
    async () => {
      const current = await store.get(kind, namespace, name);
      if (!current) throw new NotFoundError(kind, namespace, name);
      if (revision !== undefined && revision !== current.metadata.revision) {
        throw new StaleRevisionError(kind, namespace, name, current.metadata.revision, `${kind.toLowerCase()} "${name}" has changed (revision ${current.metadata.revision}, not ${revision}); read it again and retry`);
      }
      if (current.kind === 'Instance' ? !instanceStatusChanged(current.status, status) : canonicalJson(current.status ?? null) === canonicalJson(status)) return current;
      const revival = revivalConflict(current, status);
      if (revival) throw revival;
      return store.update({ ...current, status } as AnyObject);
    },
    // A pinned revision's 409 is the answer, and so is a finished instance's refusal to revive.
    { retryable: (e) => revision === undefined && e instanceof StaleRevisionError },
  );
}

/**
 * Whether a reported instance status says anything new. `updatedAt` is when the agent sent it:
 * a report that differs only there (an agent that re-sends after a reconnect or a relist) is not
 * written: no transaction, no history entry, no watch event to the instance's watchers.
 */
function instanceStatusChanged(current: InstanceStatus | undefined, reported: unknown): boolean {
  const withoutStamp = (s: unknown): unknown => (s !== null && typeof s === 'object' ? { ...(s as InstanceStatus), updatedAt: undefined } : (s ?? null));
  return canonicalJson(withoutStamp(current)) !== canonicalJson(withoutStamp(reported));
}

export interface InstanceReport {
  namespace: string;
  name: string;
  status: unknown;
}

export interface InstanceReportResult {
  namespace: string;
  name: string;
  ok: boolean;
  error?: { code: string; message: string };
}

/** A batch result carries no details list: an invalid status names its fields in the message. */
const fail = (r: InstanceReport, e: AppError): InstanceReportResult => {
  const fields = (e.details ?? []).map((d) => `${d.path} ${d.message}`).join('; ');
  return { namespace: r.namespace, name: r.name, ok: false, error: { code: e.code, message: fields ? `${e.message}: ${fields}` : e.message } };
};

/**
 * Applies a batch of instance statuses in one store transaction: reads each instance, skips the
 * gone and the unchanged (no write, no watch event), then commits the rest together. A lost race
 * re-reads the batch; if it keeps losing, items are written one by one so one hot instance cannot
 * fail the others.
 */
export async function reportInstanceStatuses(store: Store, reports: readonly InstanceReport[]): Promise<InstanceReportResult[]> {
  const results = new Map<number, InstanceReportResult>();
  const valid: number[] = [];
  reports.forEach((r, i) => {
    try {
      checkStatus('Instance', r.status);
      valid.push(i);
    } catch (e) {
      results.set(i, fail(r, e as AppError));
    }
  });
  for (let attempt = 1; attempt <= 3 && valid.length > 0; attempt++) {
    const current = await Promise.all(valid.map((i) => store.get('Instance', reports[i]!.namespace, reports[i]!.name)));
    const ops: TxnOp[] = [];
    const pending = new Map<number, InstanceReportResult>();
    valid.forEach((i, k) => {
      const r = reports[i]!;
      const inst = current[k];
      const revival = inst ? revivalConflict(inst, r.status) : undefined;
      if (!inst) pending.set(i, fail(r, new NotFoundError('Instance', r.namespace, r.name)));
      else if (revival) pending.set(i, fail(r, revival));
      else {
        pending.set(i, { namespace: r.namespace, name: r.name, ok: true });
        if (instanceStatusChanged(inst.status, r.status)) ops.push({ op: 'update', object: { ...inst, status: r.status as InstanceStatus } as Instance });
      }
    });
    try {
      if (ops.length > 0) await store.txn(ops);
      for (const [i, res] of pending) results.set(i, res);
      return reports.map((_, i) => results.get(i)!);
    } catch (e) {
      if (!isAppError(e, 'CONFLICT') && !isAppError(e, 'NOT_FOUND')) throw e;
    }
  }
  for (const i of valid) {
    const r = reports[i]!;
    try {
      await writeStatus(store, 'Instance', r.namespace, r.name, r.status);
      results.set(i, { namespace: r.namespace, name: r.name, ok: true });
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      results.set(i, fail(r, e));
    }
  }
  return reports.map((_, i) => results.get(i)!);
}
