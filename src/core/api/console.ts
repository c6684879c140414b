// Wire shapes and routes the web console needs beyond the generic ones:
//
//   GET /*                              (public) the console's static files (web/dist), with the
//                                       SPA fallback to index.html; /api/..., /metrics and
//                                       /healthz keep their own routes (or answer the API's 404)
//   PUT {base}/{name}?dryRun=true       the apply route itself: validation (422 with field paths),
//                                       the diff against what is stored and, for a Service, where
//                                       its replicas would land (the pure scheduler over the
//                                       server's current nodes and instances); writes nothing
import Type, { type Static } from 'typebox';
import type { RouteSpec } from './routes.js';

export const DiffLineSchema = Type.Object({
  /** '+' only in the new spec, '-' only in the stored one, ' ' in both. */
  op: Type.Union([Type.Literal('+'), Type.Literal('-'), Type.Literal(' ')]),
  line: Type.String(),
});
export type DiffLine = Static<typeof DiffLineSchema>;

export const PlacementPreviewSchema = Type.Object({
  /** Replicas the preview places (spec.replicas of the new spec). */
  replicas: Type.Integer(),
  /** How many land on each node, most first. */
  nodes: Type.Array(Type.Object({ node: Type.String(), count: Type.Integer() })),
  /** Replicas that cannot be placed, grouped by the scheduler's reason. */
  failures: Type.Array(Type.Object({ count: Type.Integer(), reason: Type.String() })),
  /** One line: "3 to place: 2 on node-a, 1 on node-b" / "1 cannot be placed: 0/2 nodes fit: 2 insufficient cpu". */
  summary: Type.String(),
});
export type PlacementPreview = Static<typeof PlacementPreviewSchema>;

export const DryRunResultSchema = Type.Object({
  dryRun: Type.Literal(true),
  /** What a real apply would answer. */
  result: Type.Union([Type.Literal('created'), Type.Literal('configured'), Type.Literal('unchanged')]),
  /** The revision of the stored object the plan was made against (0: none stored). Send it back as metadata.revision to apply exactly this plan. */
  revision: Type.Integer(),
  /** Line diff of the stored object's spec, labels and annotations (YAML) against the new ones. */
  diff: Type.Array(DiffLineSchema),
  /** For a Service: where its replicas would land. */
  placement: Type.Optional(PlacementPreviewSchema),
});
export type DryRunResult = Static<typeof DryRunResultSchema>;

export const ApplyQuerySchema = Type.Object({
  dryRun: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('1'), Type.Literal('false'), Type.Literal('0')], { description: 'true: validate, diff and preview placement; store nothing' })),
});

/** Whether an apply's query asks for a dry run. */
export function isDryRun(query: unknown): boolean {
  const v = (query as { dryRun?: unknown } | undefined)?.dryRun;
  return v === 'true' || v === '1' || v === true;
}

export const CONSOLE_ROUTES = {
  console: {
    id: 'console',
    method: 'GET',
    path: '/*',
    summary: "the web console's files (index.html for any page path); no token needed: the console signs in with a token kept in the browser's session storage",
    access: { public: true },
    text: true,
  },
} as const satisfies Record<string, RouteSpec>;
