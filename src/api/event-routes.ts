// The agents' batched events: `POST /api/v1/events`. Gantry writes events (agents and, in-process,
// the controllers), never users, so an admin token gets 403. Every item is checked before any is
// recorded; the batch then goes through the correlator (event-correlator.ts: similar events about
// one service's instances, from any number of nodes, fold into one) to the shared EventRecorder,
// which aggregates repeats.
// A node credential's events are counted in a token bucket of its own (limits.ts, nodeEvents).
import type { FastifyInstance } from 'fastify';
import { EventBatchSchema, EventReportSchema, InvalidError, MAX_EVENT_BATCH, RateLimitedError, ROUTES, schemaErrors, type FieldError, type Principal } from '../core/index.js';
import type { EventCorrelator } from '../runtime/event-correlator.js';
import type { EventInput } from '../runtime/event-recorder.js';
import { principalOf } from './auth.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';

/** One request carries at most this many events; agents batch below it. */
export const MAX_EVENTS = MAX_EVENT_BATCH;

/** A batch of a thousand bad items (events, or a status report's) answers with the first problems only. */
export const MAX_DETAILS = 100;

/** The batch shape, then each item on its own: the validator's error budget is per check. */
function batchErrors(body: unknown): FieldError[] {
  const errors = schemaErrors(EventBatchSchema, body, '');
  if (errors.length > 0) return errors;
  return eventItemErrors((body as { items: unknown[] }).items, 'items');
}

/** Each event of a batch checked on its own; `at`: the list's path in the body (`items`, or `events` of a status report). */
export function eventItemErrors(items: readonly unknown[], at: string): FieldError[] {
  return items.flatMap((item, i) => schemaErrors(EventReportSchema, item, `${at}[${i}]`));
}

/**
 * Whether events riding on a node's status report (instance-routes.ts) may be recorded: counted
 * against the node's event rate like a batch of their own. Called before the statuses are
 * written, so a batch over the burst is refused (422) with nothing written; a node over its rate
 * gets the seconds to wait (its statuses are written all the same, only the events turned away).
 */
export function admitReportedEvents(deps: RouteDeps, principal: Principal, count: number): { retryAfterSeconds: number } | undefined {
  try {
    deps.limiter?.takeEvents(principal, count);
    return undefined;
  } catch (e) {
    if (e instanceof RateLimitedError) return { retryAfterSeconds: e.retryAfterSeconds ?? 1 };
    throw e;
  }
}

export function registerEventRoutes(app: FastifyInstance, deps: RouteDeps, correlator: EventCorrelator): void {
  serve(app, ROUTES.events, async (req, reply) => {
    const errors = batchErrors(req.body);
    if (errors.length > 0) {
      throw new InvalidError(
        `the event batch is invalid: ${errors.length} problem${errors.length > 1 ? 's' : ''}; send { "items": [{ "involved": { "kind", "namespace"?, "name" }, "type", "reason", "message" }], "source"? }`,
        errors.slice(0, MAX_DETAILS),
      );
    }
    const { items, source } = req.body as { items: EventInput[]; source?: string };
    // A node's events are rate-limited per credential (issue 13): a flood is refused whole with
    // 429 and Retry-After, which the agents' client waits out.
    deps.limiter?.takeEvents(principalOf(req), items.length);
    await correlator.recordAll(items, source ?? 'agent');
    await deps.reportIsHeartbeat?.(req, reply);
    return { recorded: items.length };
  });
}
