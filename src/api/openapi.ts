// The OpenAPI 3.1 document of the API, built from the route registry (core/api/routes.ts): every
// route with its parameters, bodies, NDJSON watch lines and who may call it (`x-gantry-access`).
// Objects appear once each under components.schemas, with their kind's full spec and status
// schemas; the contract's envelope is what the client checks (core/api/objects.ts).
import type { TSchema } from 'typebox';
import { ALL_ROUTES, API_VERSION, ErrorBodySchema, KIND_SCHEMAS, KINDS, objectSchema, type Access, type RouteSpec } from '../core/index.js';

type Json = Record<string, unknown>;

/** A schema as plain JSON, with each kind's object schema replaced by a reference to its component. */
function plain(schema: TSchema, refs: ReadonlyMap<unknown, string>): unknown {
  const walk = (v: unknown): unknown => {
    const ref = refs.get(v);
    if (ref) return { $ref: `#/components/schemas/${ref}` };
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    // Own enumerable keys only: TypeBox keeps its bookkeeping (~kind) non-enumerable.
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return walk(schema);
}

/** `/api/v1/nodes/:name` -> `/api/v1/nodes/{name}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

function parameters(route: RouteSpec, refs: ReadonlyMap<unknown, string>): Json[] {
  const out: Json[] = [];
  const props = (s: unknown): [string, TSchema][] => Object.entries((s as { properties?: Record<string, TSchema> } | undefined)?.properties ?? {});
  const required = (s: unknown): string[] => (s as { required?: string[] } | undefined)?.required ?? [];
  const pathNames = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] ?? '');
  const declared = new Map(props(route.params));
  for (const name of pathNames) out.push({ name, in: 'path', required: true, schema: plain(declared.get(name) ?? { type: 'string' }, refs) });
  for (const [name, schema] of props(route.query)) out.push({ name, in: 'query', required: required(route.query).includes(name), schema: plain(schema, refs) });
  return out;
}

function describeAccess(access: Access): string {
  if (access.public) return 'public: no token needed';
  if (access.allow.length === 0) return `nobody: ${access.forbidden ?? 'forbidden'}`;
  return `allowed: ${access.allow.map((c) => (typeof c === 'string' ? c : `role ${c.role}`)).join(', ')}`;
}

function operation(route: RouteSpec, refs: ReadonlyMap<unknown, string>): Json {
  const error = { description: 'an error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const status = String(route.status ?? 200);
  const success: Json = { description: route.summary };
  if (route.text) success.content = { 'text/plain': { schema: { type: 'string' } } };
  else if (route.response) {
    const content: Json = { 'application/json': { schema: plain(route.response, refs) } };
    if (route.watch) content['application/x-ndjson'] = { schema: plain(route.watch, refs), description: 'with ?watch=1: one line of this shape per change' };
    success.content = content;
  }
  const responses: Json = { [status]: success, default: error };
  if (!route.access.public) {
    responses['401'] = error;
    responses['403'] = error;
  }
  return {
    operationId: route.id,
    summary: route.summary,
    description: describeAccess(route.access),
    'x-gantry-access': route.access,
    ...(route.access.public ? { security: [] } : {}),
    parameters: parameters(route, refs),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: plain(route.body, refs) } } } } : {}),
    responses,
  };
}

export function openApiDocument(version: string): Json {
  const refs = new Map<unknown, string>(KINDS.map((k) => [objectSchema(k.kind), k.kind]));
  const components: Json = { Error: plain(ErrorBodySchema, new Map()) };
  for (const k of KINDS) {
    const envelope = plain(objectSchema(k.kind), new Map()) as { properties: Json };
    const { spec, status } = KIND_SCHEMAS[k.kind];
    components[k.kind] = { ...envelope, properties: { ...envelope.properties, spec: plain(spec, new Map()), ...(status ? { status: plain(status, new Map()) } : {}) } };
  }
  const paths: Record<string, Json> = {};
  for (const route of ALL_ROUTES) {
    const p = (paths[openApiPath(route.path)] ??= {});
    p[route.method.toLowerCase()] = operation(route, refs);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gantry API', version, description: `Objects are ${API_VERSION}. See docs/api.md for the semantics.` },
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
