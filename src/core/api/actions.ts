// Wire shapes of the action routes: scale, stop an instance, rollouts, node maintenance and cron
// job actions. Their answers are objects (objects.ts) or `{ message, <object> }`.
import Type, { type Static } from 'typebox';
import type { ServiceStatus } from '../schema.js';
import { objectSchema } from './objects.js';

export const ScaleSchema = Type.Object(
  { replicas: Type.Integer({ minimum: 0, maximum: 100_000, errorMessage: 'must be a whole number from 0 to 100000' }) },
  { additionalProperties: false },
);

export const StopSchema = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200, errorMessage: 'must be a short text of 1 to 200 characters' })) },
  { additionalProperties: false },
);

export const ROLLOUT_ACTIONS = ['pause', 'resume', 'promote', 'undo'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

/** The body of rollout/undo (the other actions take `{}`). */
export const UndoSchema = Type.Object(
  { toVersion: Type.Optional(Type.Integer({ minimum: 1, errorMessage: 'must be a version number like 1 (see gantry rollout history)' })) },
  { additionalProperties: false },
);

/** `GET .../services/NAME/rollout`. */
export const RolloutViewSchema = Type.Object({
  service: Type.String(),
  namespace: Type.String(),
  replicas: Type.Integer(),
  /** The spec generation; status.observedGeneration catches up with it. */
  generation: Type.Integer(),
  // Checked as an object only: the controllers write it in-process, unvalidated (see objects.ts).
  status: Type.Optional(Type.Object({})),
  paused: Type.Boolean(),
  history: Type.Array(
    Type.Object({
      version: Type.Integer(),
      cause: Type.Optional(Type.String()),
      createdAt: Type.String(),
      images: Type.Array(Type.String()),
      current: Type.Boolean(),
    }),
  ),
});
export type RolloutView = Omit<Static<typeof RolloutViewSchema>, 'status'> & { status?: ServiceStatus | undefined };

export const RolloutActionResultSchema = Type.Object({ message: Type.String(), service: objectSchema('Service') });

/** Node maintenance actions (docs/nodes.md). */
export const NODE_ACTIONS = ['cordon', 'uncordon', 'drain'] as const;
export type NodeAction = (typeof NODE_ACTIONS)[number];

export const NodeActionResultSchema = Type.Object({ message: Type.String(), node: objectSchema('Node') });

export const CRON_JOB_ACTIONS = ['trigger', 'suspend', 'resume'] as const;
export type CronJobAction = (typeof CRON_JOB_ACTIONS)[number];

/** An action route's path parameter, `:action`, one of `actions`. */
export function actionParamSchema(actions: readonly string[]) {
  return Type.Union(actions.map((a) => Type.Literal(a)));
}
