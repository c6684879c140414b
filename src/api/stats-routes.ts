// Live stats through the server (docs/monitoring.md, "Live stats"): the samples live in each node
// agent's memory, never in the store; these routes ask the agent of the node concerned over its
// endpoint (TLS with the server's client certificate, at the address and port it joined with):
// GET .../instances/NAME/stats, GET /api/v1/nodes/NAME/stats, and GET /api/v1/nodes/NAME/metrics
// (the agent's cAdvisor-named metrics, for a Prometheus that cannot reach agents itself).
import type { FastifyReply } from 'fastify';
import { readText, streamGet } from '../client/stream-get.js';
import { AGENT_ROUTES, describeError, fillPath, MalformedError, NotFoundError, ROUTES, sleep, UnavailableError, type GantryNode, type StatsList } from '../core/index.js';
import { agentEndpointUrl } from './log-proxy.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';
import type { FastifyInstance } from 'fastify';

/** Answers of up to this size are read from an agent (metrics of a few hundred containers fit). */
const MAX_ANSWER = 16 * 1024 * 1024;

async function nodeNamed(deps: RouteDeps, name: string): Promise<GantryNode> {
  const node = await deps.store.get('Node', undefined, name);
  if (!node) throw new NotFoundError('Node', undefined, name);
  return node;
}

/** GETs a path on the node's agent and returns its body; errors say which node and what to check. */
async function askAgent(deps: RouteDeps, node: GantryNode, path: string, query: Record<string, string | undefined>, signal?: AbortSignal, timeoutMs = 10_000): Promise<string> {
  const name = node.metadata.name;
  const url = agentEndpointUrl(node, path);
  if (!url) throw new UnavailableError(`node ${name} has no agent endpoint (its agent runs without one, or is a hollow node of gantry sim); live stats come from there`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  const secret = deps.endpointToken?.(name);
  let res;
  try {
    const deadline = AbortSignal.timeout(timeoutMs);
    res = await streamGet(url, secret ? { authorization: `Bearer ${secret}` } : {}, signal ? AbortSignal.any([signal, deadline]) : deadline, deps.agentTls);
  } catch (e) {
    const cause = e instanceof Error ? ((e as NodeJS.ErrnoException).code ?? e.message) : String(e);
    throw new UnavailableError(`cannot reach the agent of node "${name}" at ${url.origin}: ${cause}; check that it runs (gantry get nodes)`);
  }
  const text = await readText(res.body, MAX_ANSWER);
  if (res.status === 404) throw new NotFoundError('route', undefined, path, `the agent of node ${name} does not serve ${path}: it runs an older Gantry`);
  if (res.status < 200 || res.status >= 300) throw new UnavailableError(`the agent of node "${name}" answered HTTP ${res.status} for ${path}`);
  return text;
}

function sinceOf(query: Record<string, unknown>): string | undefined {
  const since = query.since;
  if (since === undefined) return undefined;
  if (typeof since !== 'string' || Number.isNaN(Date.parse(since))) throw new MalformedError('since must be an ISO time like 2026-12-05T08:00:00Z');
  return since;
}

function json(reply: FastifyReply, text: string): FastifyReply {
  return reply.code(200).header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').send(text);
}

/** How long one long poll of the stream waits at the agent for the next sampling round. */
const STREAM_WAIT_MS = 20_000;
/** After a failed poll (agent unreachable), the stream tries again this much later. */
const STREAM_RETRY_MS = 5_000;

/** The time of the newest sample in `list`, if any. */
function newestSample(list: StatsList): number | undefined {
  let newest: number | undefined;
  for (const s of list.items) for (const x of s.samples) newest = Math.max(newest ?? 0, Date.parse(x.at));
  return newest;
}

/**
 * `?watch=1`: the samples so far, then one NDJSON line per sampling round with only the new
 * samples, as the agent takes them (a long poll of the agent that its next round answers), and a
 * line with no items when a poll waited in vain (a keepalive). A line `{error}` says why a poll
 * failed (the stream tries again); the stream ends with `{error}` when the instance is gone.
 */
async function streamStats(deps: RouteDeps, reply: FastifyReply, node: GantryNode, namespace: string, name: string, since: string | undefined): Promise<void> {
  const ac = deps.streams.add();
  const res = reply.raw;
  reply.hijack();
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const onClose = (): void => ac.abort();
  res.on('close', onClose);
  const path = fillPath(AGENT_ROUTES.nodeStats, { node: node.metadata.name });
  let last = since === undefined ? undefined : Date.parse(since) - 1;
  let first = true;
  try {
    while (!ac.signal.aborted) {
      let line: object;
      try {
        const query = { namespace, instance: name, since: last === undefined ? undefined : new Date(last + 1).toISOString(), wait: first ? undefined : String(STREAM_WAIT_MS) };
        const list = JSON.parse(await askAgent(deps, node, path, query, ac.signal, STREAM_WAIT_MS + 10_000)) as StatsList;
        last = newestSample(list) ?? last ?? Date.now() - 1;
        line = list;
        first = false;
      } catch (e) {
        if (ac.signal.aborted) break;
        line = { error: describeError(e) };
        await sleep(STREAM_RETRY_MS, ac.signal).catch(() => undefined);
      }
      if (ac.signal.aborted) break;
      res.write(`${JSON.stringify(line)}\n`);
      if (!(await deps.store.get('Instance', namespace, name))) {
        res.write(`${JSON.stringify({ error: `instance ${namespace}/${name} is gone` })}\n`);
        break;
      }
    }
  } finally {
    res.off('close', onClose);
    ac.abort();
    res.end();
  }
}

export function registerStatsRoutes(app: FastifyInstance, deps: RouteDeps): void {
  serve(app, ROUTES.instanceStats, async (req, reply) => {
    const namespace = req.params.namespace ?? '';
    const name = req.params.name ?? '';
    const since = sinceOf(req.query);
    const inst = await deps.store.get('Instance', namespace, name);
    if (!inst) throw new NotFoundError('Instance', namespace, name);
    const nodeName = inst.spec.node ?? inst.status?.node;
    if (!nodeName) throw new NotFoundError('Node', undefined, undefined, `instance ${name} is not placed on a node yet; it has no usage`);
    const node = await nodeNamed(deps, nodeName);
    if (req.query.watch === '1' || req.query.watch === 'true') return streamStats(deps, reply, node, namespace, name, since);
    return json(reply, await askAgent(deps, node, fillPath(AGENT_ROUTES.nodeStats, { node: nodeName }), { namespace, instance: name, since }));
  });
  serve(app, ROUTES.nodeStats, async (req, reply) => {
    const node = await nodeNamed(deps, req.params.name ?? '');
    return json(reply, await askAgent(deps, node, fillPath(AGENT_ROUTES.nodeStats, { node: node.metadata.name }), { since: sinceOf(req.query) }));
  });
  serve(app, ROUTES.nodeMetrics, async (req, reply) => {
    const node = await nodeNamed(deps, req.params.name ?? '');
    const text = await askAgent(deps, node, fillPath(AGENT_ROUTES.nodeMetrics, { node: node.metadata.name }), {});
    return reply.code(200).header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(text);
  });
}
