// The agents' batched events: `POST /api/v1/events`. Gantry writes events (agents and, in-process,
// the controllers), never users, so an admin token gets 403. Every item is checked before any is
// recorded; the batch is then one write through the shared EventRecorder, which aggregates repeats.
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { InvalidError, KINDS, schemaErrors, type FieldError } from '../core/index.js';
import type { EventInput } from '../runtime/event-recorder.js';
import type { RouteDeps } from './route-deps.js';

/** One request carries at most this many events; agents batch below it. */
export const MAX_EVENTS = 1000;

/** A batch of a thousand bad items answers with the first problems only. */
const MAX_DETAILS = 100;

export const EVENTS_FORBIDDEN = 'events are written by Gantry (agents and controllers); read them with GET or gantry get events';

const NAME = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';

const EventItemSchema = Type.Object(
  {
    involved: Type.Object(
      {
        kind: Type.Union(
          KINDS.map((k) => Type.Literal(k.kind)),
          { errorMessage: `must be one of ${KINDS.map((k) => k.kind).join(', ')}` },
        ),
        namespace: Type.Optional(Type.String({ pattern: NAME, maxLength: 63, errorMessage: 'must be a namespace name' })),
        name: Type.String({ pattern: NAME, maxLength: 253, errorMessage: 'must be an object name: lower-case letters, digits, "-" and "."' }),
      },
      { additionalProperties: false },
    ),
    type: Type.Union([Type.Literal('Normal'), Type.Literal('Warning')], { errorMessage: 'must be Normal or Warning' }),
    reason: Type.String({ pattern: '^[A-Z][A-Za-z0-9]{0,127}$', errorMessage: 'must be one CamelCase word like BackOff (at most 128 characters)' }),
    message: Type.String({ minLength: 1, maxLength: 4096, errorMessage: 'must be text of 1 to 4096 characters' }),
  },
  { additionalProperties: false },
);

const BatchSchema = Type.Object(
  {
    items: Type.Array(Type.Unknown(), { maxItems: MAX_EVENTS, errorMessage: `must be a list of at most ${MAX_EVENTS} events` }),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: '^\\S+$', errorMessage: 'must be one word, like agent/node-1' })),
  },
  { additionalProperties: false },
);

/** The batch shape, then each item on its own: the validator's error budget is per check. */
function batchErrors(body: unknown): FieldError[] {
  const errors = schemaErrors(BatchSchema, body, '');
  if (errors.length > 0) return errors;
  const { items } = body as { items: unknown[] };
  return items.flatMap((item, i) => schemaErrors(EventItemSchema, item, `items[${i}]`));
}

export function registerEventRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post<{ Body: unknown }>('/api/v1/events', { config: { roles: ['agent'], forbidden: EVENTS_FORBIDDEN } }, async (req) => {
    const errors = batchErrors(req.body);
    if (errors.length > 0) {
      throw new InvalidError(
        `the event batch is invalid: ${errors.length} problem${errors.length > 1 ? 's' : ''}; send { "items": [{ "involved": { "kind", "namespace"?, "name" }, "type", "reason", "message" }], "source"? }`,
        errors.slice(0, MAX_DETAILS),
      );
    }
    const { items, source } = req.body as { items: EventInput[]; source?: string };
    await deps.events.recordAll(items, source ?? 'agent');
    return { recorded: items.length };
  });
}
