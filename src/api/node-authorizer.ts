// The node authorizer (Kubernetes' Node authorizer and NodeRestriction, for Gantry): what a node's
// credential may touch. The route policies (core/api/routes.ts) let node principals into the routes
// agents use; this hook, after the body is parsed, narrows each call to the node's own objects:
//
//   reads   its own Node; Instances bound to it (spec.node); Configs/Secrets those reference;
//           the server's version. Lists and watches of Nodes and Instances are filtered to them
//           (nodeListScope); every other read is refused.
//   writes  its own Node (address and agentPort as fixed at join; unschedulable, draining,
//           overcommit, reserved as they are; labels only under AGENT_LABEL_PREFIX), its Node's
//           status (address and agentUrl within its own address and port) and heartbeat; status
//           of the instances bound to it (hostIP = its address); events about its Node, its
//           instances and the services they belong to; the config files of its instances.
//
// A route with no entry in CHECKS is refused to every bound node: a new route is closed to nodes
// until someone decides what a node may do with it. There is no shared agent token: every node
// principal is bound to its one node.
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ForbiddenError,
  isAppError,
  type AnyObject,
  type EventReport,
  type GantryNode,
  type Instance,
  type Kind,
  type Principal,
} from '../core/index.js';
import type { FieldSelector, Store } from '../store/store.js';
import type { OpenStreams } from './open-streams.js';
import type { ObjectPredicate } from './selectors.js';

/** Node labels a node's own credential may set and change; every other label is the administrator's. */
export const AGENT_LABEL_PREFIX = 'agent.gantry.io/';

export type NodePrincipal = Extract<Principal, { kind: 'node' }>;

/** The principal as a node; undefined for everyone else. */
export function boundNode(p: Principal | undefined): NodePrincipal | undefined {
  return p?.kind === 'node' ? p : undefined;
}

/** The id of the Token a principal authenticated with; undefined for the bootstrap admin token. */
export function tokenIdOf(p: Principal | undefined): string | undefined {
  return p && p.kind !== 'admin' ? p.tokenId : undefined;
}

const SCOPE = 'a node reads and writes only its own Node, the instances bound to it and the Configs/Secrets they use';

function refuse(p: NodePrincipal, what: string): ForbiddenError {
  return new ForbiddenError(`node ${p.name} may not ${what}: ${SCOPE}`);
}

type Params = Record<string, string | undefined>;
type Check = (p: NodePrincipal, req: FastifyRequest, store: Store) => Promise<void>;

async function instanceOf(store: Store, req: FastifyRequest): Promise<Instance | undefined> {
  const params = req.params as Params;
  return store.get('Instance', params.namespace ?? '', params.name ?? '');
}

/** Instances that do not exist pass: the handler answers 404 as it would to anyone. */
async function requireOwnInstance(p: NodePrincipal, store: Store, req: FastifyRequest, what: string): Promise<Instance | undefined> {
  const inst = await instanceOf(store, req);
  if (inst && inst.spec.node !== p.name) throw refuse(p, `${what} instance ${inst.metadata.namespace ?? ''}/${inst.metadata.name}, bound to ${inst.spec.node ? `node ${inst.spec.node}` : 'no node'}`);
  return inst;
}

function requireOwnNodeName(p: NodePrincipal, req: FastifyRequest, what: string): void {
  const name = (req.params as Params).name ?? '';
  if (name !== p.name) throw refuse(p, `${what} node ${name}`);
}

/** Whether `url` points at the node's own address and agent port (what status.agentUrl may say). */
function urlWithin(p: NodePrincipal, url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  return sameAddress(host, p.address) && port === p.agentPort;
}

/** IPv6 text has several spellings; compare what URL parsing makes of both. */
function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const norm = (s: string): string => {
    try {
      return new URL(`http://${s.includes(':') ? `[${s}]` : s}/`).hostname;
    } catch {
      return s;
    }
  };
  return norm(a) === norm(b);
}

function statusOfBody(req: FastifyRequest): Record<string, unknown> | undefined {
  const body = req.body as { status?: unknown } | undefined;
  return body && typeof body.status === 'object' && body.status !== null ? (body.status as Record<string, unknown>) : undefined;
}

/**
 * An address a node reports that is an IP literal other than its own. Text that is no IP at all
 * (`1.2.3.4;shutdown`) is left to validation, which refuses it with 422 and the field path.
 */
function otherAddress(p: NodePrincipal, value: unknown): value is string {
  return typeof value === 'string' && isIP(value) !== 0 && !sameAddress(value, p.address);
}

function checkHostIP(p: NodePrincipal, status: Record<string, unknown> | undefined, path: string): void {
  const hostIP = status?.hostIP;
  if (otherAddress(p, hostIP)) {
    throw refuse(p, `report ${path}.hostIP ${hostIP}: node ${p.name} joined with address ${p.address}`);
  }
  const node = status?.node;
  if (typeof node === 'string' && node !== p.name) throw refuse(p, `report ${path}.node ${node}`);
}

/** The agent's Node manifest against what it joined with and what the administrator set. */
async function checkNodeWrite(p: NodePrincipal, req: FastifyRequest, store: Store): Promise<void> {
  const params = req.params as Params;
  const body = (req.body ?? {}) as { metadata?: { name?: unknown; labels?: unknown }; spec?: Record<string, unknown> };
  const name = params.name ?? (typeof body.metadata?.name === 'string' ? body.metadata.name : '');
  if (name !== p.name) throw refuse(p, `write node ${name}`);
  const spec = body.spec ?? {};
  if (spec.address !== undefined && (typeof spec.address !== 'string' || !sameAddress(spec.address, p.address))) {
    throw refuse(p, `set spec.address ${JSON.stringify(spec.address)}: node ${p.name} joined with address ${p.address}`);
  }
  if (spec.agentPort !== undefined && spec.agentPort !== p.agentPort) {
    throw refuse(p, `set spec.agentPort ${JSON.stringify(spec.agentPort)}: node ${p.name} joined with agent port ${p.agentPort}`);
  }
  const existing = await store.get('Node', undefined, name);
  // Placement trusts these: only an administrator changes them (gantry node cordon, gantry apply).
  for (const field of ['unschedulable', 'draining', 'overcommit', 'reserved'] as const) {
    const was = existing?.spec[field];
    if (JSON.stringify(spec[field] ?? null) !== JSON.stringify(was ?? null)) throw refuse(p, `change spec.${field} (an administrator's setting)`);
  }
  const labels = (typeof body.metadata?.labels === 'object' && body.metadata.labels !== null ? body.metadata.labels : {}) as Record<string, unknown>;
  const had = existing?.metadata.labels ?? {};
  for (const key of new Set([...Object.keys(labels), ...Object.keys(had)])) {
    if (key.startsWith(AGENT_LABEL_PREFIX)) continue;
    if (labels[key] !== had[key]) throw refuse(p, `change label ${key} (a node sets only labels under ${AGENT_LABEL_PREFIX}; an administrator sets the others)`);
  }
}

async function checkNodeStatus(p: NodePrincipal, req: FastifyRequest): Promise<void> {
  requireOwnNodeName(p, req, 'write the status of');
  const status = statusOfBody(req);
  const address = status?.address;
  if (otherAddress(p, address)) throw refuse(p, `report status.address ${address}: node ${p.name} joined with address ${p.address}`);
  const agentUrl = status?.agentUrl;
  if (typeof agentUrl === 'string' && !urlWithin(p, agentUrl)) {
    throw refuse(p, `report status.agentUrl ${agentUrl}: node ${p.name} joined with address ${p.address} and agent port ${p.agentPort}`);
  }
}

async function checkStatusBatch(p: NodePrincipal, req: FastifyRequest, store: Store): Promise<void> {
  const body = req.body as { items?: unknown; events?: unknown } | undefined;
  // Events riding on the report are held to what a batch of their own may say.
  if (Array.isArray(body?.events)) await checkEventItems(p, body.events, store, 'events');
  const items = body?.items;
  if (!Array.isArray(items)) return; // the handler answers the malformed batch
  const gets = items.map(async (raw: unknown, i) => {
    const item = raw as { namespace?: unknown; name?: unknown; status?: unknown };
    if (typeof item.namespace !== 'string' || typeof item.name !== 'string') return;
    checkHostIP(p, typeof item.status === 'object' && item.status !== null ? (item.status as Record<string, unknown>) : undefined, `items[${i}].status`);
    const inst = await store.get('Instance', item.namespace, item.name);
    if (inst && inst.spec.node !== p.name) throw refuse(p, `write the status of instance ${item.namespace}/${item.name} (items[${i}]), bound to ${inst.spec.node ? `node ${inst.spec.node}` : 'no node'}`);
  });
  await Promise.all(gets);
}

/**
 * Events about its Node, and about instances bound to it or gone (an agent reports the teardown
 * of an instance whose object was deleted; a name nobody holds misleads no one).
 */
async function checkEvents(p: NodePrincipal, req: FastifyRequest, store: Store): Promise<void> {
  const items = (req.body as { items?: unknown } | undefined)?.items;
  if (Array.isArray(items)) await checkEventItems(p, items, store, 'items');
}

/** checkEvents' rule for each event of `items`, a list at `at` in the body. */
async function checkEventItems(p: NodePrincipal, items: readonly unknown[], store: Store, at: string): Promise<void> {
  await Promise.all(
    items.map(async (raw: unknown, i) => {
      const involved = (raw as Partial<EventReport> | null)?.involved;
      if (!involved || typeof involved.name !== 'string') return; // the handler answers with the field path
      const kind = involved.kind;
      if (kind === 'Node') {
        if (involved.name !== p.name) throw refuse(p, `record events about node ${involved.name} (${at}[${i}])`);
        return;
      }
      if (kind === 'Service') {
        // The agent's combined events ("Started: 20 instances ...", event-reporter.ts) are about
        // a service the node runs instances of, or one already gone.
        const ns = involved.namespace ?? '';
        if (await runsInstancesOf(p, store, ns, involved.name)) return;
        if (!(await store.get('Service', ns, involved.name))) return;
        throw refuse(p, `record events about service ${ns}/${involved.name} (${at}[${i}]), which has no instance on it`);
      }
      if (kind !== 'Instance') throw refuse(p, `record events about a ${String(kind)} (${at}[${i}])`);
      const inst = await store.get('Instance', involved.namespace ?? '', involved.name);
      if (inst && inst.spec.node !== p.name) throw refuse(p, `record events about instance ${involved.namespace ?? ''}/${involved.name} (${at}[${i}])`);
    }),
  );
}

/** The instances in `namespace` bound to the node (the store's spec.node index). */
async function instancesOnNode(p: NodePrincipal, store: Store, namespace: string): Promise<Instance[]> {
  return (await store.list('Instance', { namespace, field: { path: 'spec.node', value: p.name } })).items;
}

/** Whether one of the instances bound to the node belongs to service `namespace/name`. */
async function runsInstancesOf(p: NodePrincipal, store: Store, namespace: string, name: string): Promise<boolean> {
  return (await instancesOnNode(p, store, namespace)).some((i) => i.spec.service === name);
}

/** Whether one of the node's instances in `namespace` refers to the Config or Secret `name`. */
async function referencedOnNode(p: NodePrincipal, store: Store, kind: 'Config' | 'Secret', namespace: string, name: string): Promise<boolean> {
  const items = await instancesOnNode(p, store, namespace);
  return items.some((i) => (i.spec.configFiles ?? []).some((f) => (kind === 'Config' ? f.configRef : f.secretRef)?.name === name));
}

const allow: Check = async () => undefined;

/** Lists and watches: Nodes and Instances only, filtered by nodeListScope in the handler. */
const listScoped: Check = async () => undefined;

function referencedRead(kind: 'Config' | 'Secret'): Check {
  return async (p, req, store) => {
    const params = req.params as Params;
    const ns = params.namespace ?? '';
    const name = params.name ?? '';
    if (!(await referencedOnNode(p, store, kind, ns, name))) throw refuse(p, `read ${kind.toLowerCase()} ${ns}/${name}, which no instance on node ${p.name} uses`);
  };
}

/** What a bound node may do on each route, by registry id; absent: refused. */
const CHECKS: Readonly<Record<string, Check>> = {
  version: allow,
  'auth.whoami': allow,
  'auth.canI': allow,
  'nodes.list': listScoped,
  'instances.list': listScoped,
  'instances.listAll': listScoped,
  'nodes.get': async (p, req) => requireOwnNodeName(p, req, 'read'),
  'instances.get': async (p, req, store) => {
    await requireOwnInstance(p, store, req, 'read');
  },
  'configs.get': referencedRead('Config'),
  'secrets.get': referencedRead('Secret'),
  'nodes.create': checkNodeWrite,
  'nodes.apply': checkNodeWrite,
  'nodes.status': checkNodeStatus,
  'nodes.heartbeat': async (p, req) => requireOwnNodeName(p, req, 'heartbeat for'),
  'instances.status': async (p, req, store) => {
    await requireOwnInstance(p, store, req, 'write the status of');
    checkHostIP(p, statusOfBody(req), 'status');
  },
  'instances.statusBatch': checkStatusBatch,
  'instances.files': async (p, req, store) => {
    const inst = await requireOwnInstance(p, store, req, 'read the config files of');
    if (inst && !inst.spec.node) throw refuse(p, `read the config files of instance ${inst.metadata.name}, bound to no node yet`);
  },
  'events.record': checkEvents,
};

/** The registry ids a bound node may call at all (for tests and docs). */
export const NODE_ROUTE_IDS: readonly string[] = Object.keys(CHECKS);

/**
 * How a bound node's list or watch of `kind` is narrowed: Instances to those bound to it (through
 * the store's spec.node index), Nodes to its own. Undefined for everyone else.
 */
export function nodeListScope(p: Principal | undefined, kind: Kind): { field?: FieldSelector; predicate: ObjectPredicate } | undefined {
  const node = boundNode(p);
  if (!node) return undefined;
  if (kind === 'Instance') return { field: { path: 'spec.node', value: node.name }, predicate: (o: AnyObject) => (o as Instance).spec.node === node.name };
  if (kind === 'Node') return { predicate: (o: AnyObject) => (o as GantryNode).metadata.name === node.name };
  return { predicate: () => false };
}

/** Installs the node authorizer: a preHandler (the body is parsed by then) on every route; it also notes each credential's connections. */
export function registerNodeAuthorizer(app: FastifyInstance, store: Store, streams: OpenStreams): void {
  app.addHook('preHandler', async (req) => {
    // Keep-alive connections by credential, so a revoke can end them (OpenStreams.closeOwner).
    const owner = tokenIdOf(req.principal);
    if (owner !== undefined) streams.noteSocket(owner, req.raw.socket);
    const p = boundNode(req.principal);
    if (!p) return;
    const id = req.routeOptions.config.routeId ?? '';
    const check = CHECKS[id];
    if (!check) throw refuse(p, `call ${req.method} ${req.url.split('?')[0] ?? ''}`);
    try {
      await check(p, req, store);
    } catch (e) {
      // A lookup that fails for a reason of its own (a malformed namespace) is the handler's to answer.
      if (isAppError(e, 'NOT_FOUND')) return;
      throw e;
    }
  });
}
