// Wire shapes of what agents send and fetch: batched instance status, batched events and an
// instance's resolved config files. Heartbeats carry no body (POST .../heartbeat, 204).
import Type, { type Static } from 'typebox';
import { KINDS } from '../kinds.js';
import type { InstanceStatus, Kind } from '../schema.js';

/** One request carries at most this many status reports; agents batch below it. */
export const MAX_STATUS_BATCH = 10_000;

/** One request carries at most this many events; agents batch below it. */
export const MAX_EVENT_BATCH = 1000;

/** Who saw a batch of events (`agent/node-1`): shown as FROM in `gantry describe`. */
const EventSourceSchema = Type.String({ minLength: 1, maxLength: 253, pattern: '^\\S+$', errorMessage: 'must be one word, like agent/node-1' });
const EventItemsSchema = Type.Array(Type.Unknown(), { maxItems: MAX_EVENT_BATCH, errorMessage: `must be a list of at most ${MAX_EVENT_BATCH} events` });

/** `POST /api/v1/status/instances`; each status is checked against the Instance status schema on its own. */
export const StatusBatchSchema = Type.Object(
  {
    items: Type.Array(
      Type.Object({ namespace: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1 }), status: Type.Unknown() }, { additionalProperties: false }),
      { maxItems: MAX_STATUS_BATCH, errorMessage: `must be a list of at most ${MAX_STATUS_BATCH} { namespace, name, status }` },
    ),
    /**
     * The agent's events riding on its report, as `POST /api/v1/events` takes them: sent only to a
     * server that says it takes them (STATUS_EVENTS_HEADER), so an older one never sees the field.
     */
    events: Type.Optional(EventItemsSchema),
    source: Type.Optional(EventSourceSchema),
  },
  { additionalProperties: false },
);

export interface InstanceStatusReport {
  namespace: string;
  name: string;
  status: InstanceStatus;
}

export const InstanceStatusResultSchema = Type.Object({
  namespace: Type.String(),
  name: Type.String(),
  ok: Type.Boolean(),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});
export type InstanceStatusResult = Static<typeof InstanceStatusResultSchema>;

export const StatusBatchResultSchema = Type.Object({
  results: Type.Array(InstanceStatusResultSchema),
  /** With `events` sent: how many were recorded; `retryAfterSeconds` when the node was over its event rate (none recorded: send them again later). */
  events: Type.Optional(Type.Object({ recorded: Type.Integer({ minimum: 0 }), retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0 })) })),
});
export type StatusBatchResult = Static<typeof StatusBatchResultSchema>;

/**
 * The answer header of every status report by which a server says it takes events in the report's
 * body (`events`, `source`): an agent sends them there, not in a request of their own, only then.
 */
export const STATUS_EVENTS_HEADER = 'gantry-status-events';

/**
 * The answer header by which a server says it took an agent's report (status, events) as that
 * node's heartbeat too: it renewed the node's lease. Lower case, as node:http hands headers over.
 */
export const LEASE_HEADER = 'gantry-lease';
export const LEASE_RENEWED = 'renewed';
/**
 * The answer header (heartbeats, and reports taken as one) by which the server asks agents to
 * heartbeat this often (ms) at the least: it grows with the cluster (runtime/heartbeat-pace.ts).
 */
export const HEARTBEAT_INTERVAL_HEADER = 'gantry-heartbeat-interval';
/** The longest interval a server asks of agents, and the longest an agent takes (a bad header cannot silence it). */
export const MAX_HEARTBEAT_INTERVAL_MS = 60_000;


const NAME = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';

/** One event an agent reports; the server aggregates repeats. */
export const EventReportSchema = Type.Object(
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

export interface EventReport {
  involved: { kind: Kind; namespace?: string | undefined; name: string };
  type: 'Normal' | 'Warning';
  /** One CamelCase word: BackOff, Started. */
  reason: string;
  message: string;
}

/**
 * `POST /api/v1/events`: the batch shape; the server checks each item against EventReportSchema
 * on its own, so one bad item gets paths like `items[3].reason`.
 */
export const EventBatchSchema = Type.Object(
  {
    items: EventItemsSchema,
    source: Type.Optional(EventSourceSchema),
  },
  { additionalProperties: false },
);

export const EventBatchResultSchema = Type.Object({ recorded: Type.Integer({ minimum: 0 }) });

/** One config file of an instance with its content resolved. */
export const ConfigFileContentSchema = Type.Object({
  path: Type.String(),
  /** Octal text like "0644". */
  mode: Type.String(),
  content: Type.String(),
});
export type ConfigFileContent = Static<typeof ConfigFileContentSchema>;

/** `GET .../instances/NAME/files?node=NODE`. */
export const ConfigFilesSchema = Type.Object({ files: Type.Array(ConfigFileContentSchema) });
export const ConfigFilesQuerySchema = Type.Object({ node: Type.Optional(Type.String({ description: 'the asking agent\'s node' })) });

/** Instance names a combined event lists before "and N more". */
const COMBINED_NAMES_LISTED = 5;

/**
 * The message of one event that stands for several similar events about instances of one service
 * (the agent's batch fold and the server's correlator write it):
 * `20 instances (web-a, web-b, ... and 15 more); web-a: started container web`. `names` in order,
 * repeats allowed (an instance that started twice counts once, the events twice).
 */
export function combinedEventMessage(names: readonly string[], first: { name: string; message: string }): string {
  const distinct = [...new Set(names)];
  const listed = distinct.length > COMBINED_NAMES_LISTED ? `${distinct.slice(0, COMBINED_NAMES_LISTED).join(', ')} and ${distinct.length - COMBINED_NAMES_LISTED} more` : distinct.join(', ');
  const what = distinct.length === names.length ? `${names.length} instances` : `${names.length} events about ${distinct.length} instances`;
  return `${what} (${listed}); ${first.name}: ${first.message}`;
}
