// Instance routes beyond the generic ones: the agents' batched status report and the log proxy.
import type { FastifyInstance } from 'fastify';
import { InvalidError, MAX_STATUS_BATCH, ROUTES, schemaErrors, STATUS_EVENTS_HEADER, StatusBatchSchema } from '../core/index.js';
import type { EventCorrelator } from '../runtime/event-correlator.js';
import type { EventInput } from '../runtime/event-recorder.js';
import { principalOf } from './auth.js';
import { admitReportedEvents, eventItemErrors, MAX_DETAILS } from './event-routes.js';
import { tokenIdOf } from './node-authorizer.js';
import { proxyLog } from './log-proxy.js';
import { queryFlag, queryInt, type RouteDeps } from './route-deps.js';
import { reportInstanceStatuses, type InstanceReport } from './status-writes.js';
import { serve } from './serve-route.js';

/** One request carries at most this many reports; agents batch below it. */
export const MAX_BATCH = MAX_STATUS_BATCH;

export function registerInstanceRoutes(app: FastifyInstance, deps: RouteDeps, correlator: EventCorrelator): void {
  serve(app, ROUTES.statusBatch, async (req, reply) => {
    const shape = schemaErrors(StatusBatchSchema, req.body, '');
    const body = req.body as { items: InstanceReport[]; events?: unknown[]; source?: string };
    const errors = shape.length > 0 || !body.events ? shape : eventItemErrors(body.events, 'events');
    if (errors.length > 0) {
      throw new InvalidError('the status report is invalid; send { "items": [{ "namespace", "name", "status" }], "events"?: [{ "involved", "type", "reason", "message" }], "source"? }', errors.slice(0, MAX_DETAILS));
    }
    // The agent's events, when it sent them along (it does once this header told it it may).
    const events = body.events && body.events.length > 0 ? (body.events as EventInput[]) : undefined;
    const throttled = events && admitReportedEvents(deps, principalOf(req), events.length);
    const results = await reportInstanceStatuses(deps.store, body.items);
    if (events && !throttled) await correlator.recordAll(events, body.source ?? 'agent');
    void reply.header(STATUS_EVENTS_HEADER, '1');
    await deps.reportIsHeartbeat?.(req, reply);
    return { results, ...(events && { events: throttled ? { recorded: 0, retryAfterSeconds: throttled.retryAfterSeconds } : { recorded: events.length } }) };
  });

  serve(app, ROUTES.log, async (req, reply) => {
    const container = req.query.container;
    return proxyLog(deps, reply, {
      namespace: req.params.namespace ?? '',
      name: req.params.name ?? '',
      container: typeof container === 'string' && container !== '' ? container : undefined,
      follow: queryFlag(req.query, 'follow'),
      tail: queryInt(req.query, 'tail'),
      timestamps: queryFlag(req.query, 'timestamps'),
      previous: queryFlag(req.query, 'previous'),
      owner: tokenIdOf(req.principal),
    });
  });
}
