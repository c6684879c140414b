// What goes into the audit log, and the route that reads it back. One onResponse hook judges every
// request once its status is known: writes (every method but GET), log reads, Secret reads (the
// generic Secret routes and the agents' files route, which carries Secret contents) and every
// refusal (401, 403) are recorded; other reads and node heartbeats (lease renewals, thousands a
// second at scale) are not, unless refused.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { kindFromPlural, MalformedError, ROUTES, UnavailableError, type AuditEntry, type Principal } from '../core/index.js';
import type { AuditLog } from './audit-log.js';
import { serve } from './serve-route.js';

const READS_AUDITED = new Set(['instances.log', 'instances.files']);
const VERBS: Readonly<Record<string, string>> = { statusBatch: 'status', log: 'logs', files: 'read-files', issue: 'create', listAll: 'list', record: 'record' };

function shouldAudit(method: string, routeId: string | undefined, status: number): boolean {
  if (status === 401 || status === 403) return true;
  if (routeId === 'nodes.heartbeat') return false;
  if (method !== 'GET') return true;
  return routeId !== undefined && (READS_AUDITED.has(routeId) || routeId.startsWith('secrets.'));
}

export function who(p: Principal | undefined): Pick<AuditEntry, 'user' | 'principal' | 'tokenId' | 'role'> {
  if (!p) return { user: '-', principal: 'none' };
  if (p.kind === 'admin') return { user: 'admin', principal: 'admin' };
  if (p.kind === 'node') return { user: `node/${p.name}`, principal: 'node', tokenId: p.tokenId };
  return { user: p.name, principal: 'user', tokenId: p.tokenId, role: p.role };
}

function verbOf(routeId: string | undefined, method: string, params: Record<string, unknown>, query: Record<string, unknown>): string {
  if (!routeId) return method.toLowerCase();
  const action = routeId.slice(routeId.indexOf('.') + 1);
  if (action === 'rolloutAction' || routeId === 'nodes.action') return typeof params.action === 'string' ? params.action : action;
  if ((action === 'list' || action === 'listAll') && (query.watch === '1' || query.watch === 'true')) return 'watch';
  return VERBS[action] ?? action;
}

/**
 * The audit entry of a request as answered with `status`; `over` for what the route knows better
 * (the operate issue's exec records `{ verb: 'exec', name, ... }` through this and AuditLog.record).
 */
export function auditEntryOf(req: FastifyRequest, status: number, over: Partial<AuditEntry> = {}, at: Date = new Date()): AuditEntry {
  const routeId = req.routeOptions.config.routeId;
  const params = (req.params ?? {}) as Record<string, unknown>;
  const query = (req.query ?? {}) as Record<string, unknown>;
  const kind = routeId ? kindFromPlural(routeId.slice(0, routeId.indexOf('.')))?.kind : undefined;
  const bodyName = (req.body as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
  const name = typeof params.name === 'string' ? params.name : typeof params.service === 'string' ? params.service : typeof bodyName === 'string' ? bodyName : undefined;
  return {
    time: at.toISOString(),
    ...who(req.principal),
    verb: verbOf(routeId, req.method, params, query),
    ...(kind ? { kind } : {}),
    ...(typeof params.namespace === 'string' ? { namespace: params.namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(routeId ? { route: routeId } : {}),
    method: req.method,
    path: req.url.split('?')[0] ?? req.url,
    remote: req.ip,
    status,
    ...over,
  };
}

/** Records every audited request in `audit` (when the server keeps one) and serves GET /api/v1/audit. */
export function registerAudit(app: FastifyInstance, audit: AuditLog | undefined): void {
  if (audit) {
    app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
      if (!shouldAudit(req.method, req.routeOptions.config.routeId, reply.statusCode)) return;
      audit.record(auditEntryOf(req, reply.statusCode, {}, new Date(Date.now() - reply.elapsedTime)));
    });
    // Lines of the last requests are still buffered when the server stops.
    app.addHook('onClose', async () => audit.flush());
  }
  serve(app, ROUTES.audit, async (req) => {
    if (!audit) throw new UnavailableError('this server keeps no audit log (gantry server and gantry up keep one in <data dir>/audit)');
    const q = req.query as { user?: unknown; since?: unknown; limit?: unknown };
    const since = typeof q.since === 'string' && q.since !== '' ? Date.parse(q.since) : undefined;
    if (since !== undefined && Number.isNaN(since)) throw new MalformedError(`since "${String(q.since)}" is not an ISO time`);
    const limit = typeof q.limit === 'string' && /^[0-9]+$/.test(q.limit) ? Number(q.limit) : 1000;
    const user = typeof q.user === 'string' && q.user !== '' ? q.user : undefined;
    const items = audit.read((e) => (user === undefined || e.user === user) && (since === undefined || Date.parse(e.time) >= since));
    return { items: limit === 0 ? [] : items.slice(-limit) };
  });
}
