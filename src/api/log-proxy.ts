// GET .../instances/{name}/log: find the instance's node and container, and stream the log from
// that node's agent back to the caller. The upstream request is owned by the response: when the
// caller leaves (or the app closes) it is aborted. It goes over node:http (streamGet), not fetch:
// fetch would cut a followed log that stays quiet for 5 minutes.
import type { FastifyReply } from 'fastify';
import { streamGet, type StreamResponse } from '../client/stream-get.js';
import { AGENT_ROUTES, fillPath, NotFoundError, UnavailableError, type GantryNode, type Instance } from '../core/index.js';
import type { RouteDeps } from './route-deps.js';

export interface LogRequest {
  namespace: string;
  name: string;
  container: string | undefined;
  follow: boolean;
  tail: number | undefined;
  timestamps?: boolean | undefined;
  /** The container's run before its last restart: the log up to when the current run started. */
  previous?: boolean | undefined;
  /** The credential (token id) of the caller: revoking it ends the stream. */
  owner?: string | undefined;
}

/**
 * Where the container's previous run's lines end. A restarted container is the same Docker
 * container started again, so its log holds every run. While it runs again, that is when the
 * previous run ended: the new run's first lines can be stamped a millisecond before the runtime
 * records its start. Otherwise (exited, or an agent that does not report it) the current run's start.
 */
function previousRunEnd(inst: Instance, container: string): string {
  const status = [...(inst.status?.containers ?? []), ...(inst.status?.initContainers ?? [])].find((c) => c.name === container);
  if (!status || status.restartCount === 0 || !status.startedAt) {
    throw new NotFoundError('container', undefined, container, `container ${container} of instance ${inst.metadata.name} has not restarted: it has no previous run (drop --previous)`);
  }
  return status.lastFinishedAt ?? status.startedAt;
}

/** The container id to ask the agent for; 404s that say what to do when there is none yet. */
export function containerIdFor(inst: Instance, container: string | undefined): { container: string; containerId: string } {
  const ref = `${inst.metadata.namespace ?? ''}/${inst.metadata.name}`;
  const names = inst.spec.containers.map((c) => c.name);
  const initNames = (inst.spec.initContainers ?? []).map((c) => c.name);
  const wanted = container ?? names[0] ?? '';
  if (!names.includes(wanted) && !initNames.includes(wanted)) {
    const init = initNames.length > 0 ? `; its init containers are ${initNames.join(', ')}` : '';
    throw new NotFoundError('container', undefined, wanted, `instance ${ref} has no container "${wanted}"; its containers are ${names.join(', ')}${init}`);
  }
  const statuses = [...(inst.status?.containers ?? []), ...(inst.status?.initContainers ?? [])];
  const id = statuses.find((c) => c.name === wanted)?.containerId;
  if (!id) throw new NotFoundError('container', undefined, wanted, `instance ${inst.metadata.name} has no container ${wanted} yet; see gantry describe instance ${inst.metadata.name}`);
  // A warm run shares its container with other runs: the agent keeps each run's output by its uid.
  if (inst.spec.runIn === 'warm' && names.includes(wanted)) return { container: wanted, containerId: `run.${inst.metadata.uid}` };
  return { container: wanted, containerId: id };
}

/**
 * The scheme of a node's agent endpoint: https when the agent says it serves TLS (its certificate
 * comes from the cluster CA and is checked against it; only the server's client certificate gets
 * in), else http with the node's endpoint secret. Only the scheme is read from what the agent reports, never
 * the host or port; an agent that claims https without a certificate from the CA just fails.
 */
function agentScheme(node: GantryNode): 'http' | 'https' {
  return node.status?.agentUrl?.startsWith('https://') ? 'https' : 'http';
}

/**
 * Where the server asks a node's agent for a container's log: the address and agent port the node
 * joined with (its Node spec, which its own credential cannot change), never a URL the agent
 * reports (`status.agentUrl` is for people to read). The path names the node, so an agent (or the
 * simulator's log server shared by many hollow nodes) serves only that node's containers.
 */
export function agentLogUrl(node: GantryNode, containerId: string): URL | undefined {
  return agentEndpointUrl(node, fillPath(AGENT_ROUTES.nodeContainerLog, { node: node.metadata.name, id: containerId }));
}

/** A path on the node's agent endpoint, at the address and port it joined with (see agentLogUrl). */
export function agentEndpointUrl(node: GantryNode, path: string): URL | undefined {
  const { address, agentPort } = node.spec;
  if (!address || agentPort === undefined) return undefined;
  const host = address.includes(':') ? `[${address}]` : address;
  return new URL(`${agentScheme(node)}://${host}:${agentPort}${path}`);
}

export async function proxyLog(deps: RouteDeps, reply: FastifyReply, r: LogRequest): Promise<FastifyReply> {
  const inst = await deps.store.get('Instance', r.namespace, r.name);
  if (!inst) throw new NotFoundError('Instance', r.namespace, r.name);
  const { container, containerId } = containerIdFor(inst, r.container);
  const nodeName = inst.spec.node ?? inst.status?.node;
  if (!nodeName) throw new NotFoundError('Node', undefined, undefined, `instance ${r.name} is not placed on a node yet; see gantry describe instance ${r.name}`);
  const node = await deps.store.get('Node', undefined, nodeName);
  if (!node) throw new NotFoundError('Node', undefined, nodeName, `instance ${r.name} is on node ${nodeName}, which is gone; see gantry describe instance ${r.name}`);
  const url = agentLogUrl(node, containerId);
  if (!url) {
    throw new UnavailableError(`node ${nodeName} has no agent address and port: its agent runs without a log endpoint, or has not registered yet; see gantry describe node ${nodeName}`);
  }
  const agentUrl = url.origin;
  if (r.follow) url.searchParams.set('follow', '1');
  if (r.tail !== undefined) url.searchParams.set('tail', String(r.tail));
  if (r.timestamps) url.searchParams.set('timestamps', '1');
  if (r.previous) url.searchParams.set('until', previousRunEnd(inst, container));

  const ac = deps.streams.add(r.owner);
  const onClose = (): void => ac.abort();
  reply.raw.on('close', onClose);
  const release = (): void => {
    reply.raw.off('close', onClose);
    ac.abort();
  };
  let upstream: StreamResponse;
  try {
    // An https:// agent also wants the server's client certificate (checked against the cluster CA);
    // the bearer secret is the node's own endpoint secret (from its join).
    const secret = deps.endpointToken?.(nodeName);
    upstream = await streamGet(url, secret ? { authorization: `Bearer ${secret}` } : {}, ac.signal, deps.agentTls);
  } catch (e) {
    release();
    const cause = e instanceof Error ? ((e as NodeJS.ErrnoException).code ?? e.message) : String(e);
    throw new UnavailableError(
      `cannot reach the agent of node "${nodeName}" at ${agentUrl}: ${cause}; check that the agent runs (gantry get nodes) and listens there (gantry agent --agent-listen 0.0.0.0:PORT on another host)`,
    );
  }
  if (upstream.status < 200 || upstream.status >= 300) {
    release();
    upstream.body.destroy();
    if (upstream.status === 404) throw new NotFoundError('container', undefined, container, `container ${container} of instance ${r.name} is gone from node "${nodeName}"; see gantry describe instance ${r.name}`);
    if (upstream.status === 401) {
      const what = url.protocol === 'https:' ? "the server's client certificate" : "the server's endpoint secret: it joined another cluster, or this server's endpoint.key changed";
      throw new UnavailableError(`the agent on node ${nodeName} rejected ${what}`);
    }
    throw new UnavailableError(`the agent of node "${nodeName}" answered HTTP ${upstream.status} for the log of instance ${r.name}`);
  }
  deps.logger.debug({ namespace: r.namespace, name: r.name, container, node: nodeName, follow: r.follow }, 'log proxy opened');
  const body = upstream.body;
  body.once('close', release);
  return reply.code(200).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(body);
}
