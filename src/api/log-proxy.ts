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

/** localhost, 127.0.0.0/8 and ::1 (also IPv4-mapped), as a URL hostname or a bare address. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^::ffff:127\./.test(h);
}

/**
 * An agent on another host that advertises a loopback URL (its default listen address) would make
 * the server call itself, with the agent token. Refuse that before any request is sent.
 */
function checkAgentReachable(node: GantryNode, agentUrl: URL): void {
  if (!isLoopbackHost(agentUrl.hostname)) return;
  const address = node.status?.address ?? node.spec.address;
  if (address === undefined || address === '' || isLoopbackHost(address)) return;
  const name = node.metadata.name;
  throw new UnavailableError(`node ${name}'s agent listens on ${agentUrl.hostname} only; restart it with --agent-listen 0.0.0.0:7071 (and --address)`);
}

export async function proxyLog(deps: RouteDeps, reply: FastifyReply, r: LogRequest): Promise<FastifyReply> {
  const inst = await deps.store.get('Instance', r.namespace, r.name);
  if (!inst) throw new NotFoundError('Instance', r.namespace, r.name);
  const { container, containerId } = containerIdFor(inst, r.container);
  const nodeName = inst.spec.node ?? inst.status?.node;
  if (!nodeName) throw new NotFoundError('Node', undefined, undefined, `instance ${r.name} is not placed on a node yet; see gantry describe instance ${r.name}`);
  const node = await deps.store.get('Node', undefined, nodeName);
  const agentUrl = node?.status?.agentUrl;
  if (!agentUrl) {
    throw new UnavailableError(`node ${nodeName} publishes no agent URL: its agent runs without a log endpoint, or has not registered yet; see gantry describe node ${nodeName}`);
  }

  const url = new URL(`${agentUrl.replace(/\/+$/, '')}${fillPath(AGENT_ROUTES.containerLog, { id: containerId })}`);
  if (node) checkAgentReachable(node, url);
  if (r.follow) url.searchParams.set('follow', '1');
  if (r.tail !== undefined) url.searchParams.set('tail', String(r.tail));

  const ac = deps.streams.add();
  const onClose = (): void => ac.abort();
  reply.raw.on('close', onClose);
  const release = (): void => {
    reply.raw.off('close', onClose);
    ac.abort();
  };
  let upstream: StreamResponse;
  try {
    upstream = await streamGet(url, deps.agentToken ? { authorization: `Bearer ${deps.agentToken}` } : {}, ac.signal);
  } catch (e) {
    release();
    const cause = e instanceof Error ? ((e as NodeJS.ErrnoException).code ?? e.message) : String(e);
    throw new UnavailableError(`cannot reach the agent of node "${nodeName}" at ${agentUrl}: ${cause}; check that the agent runs (gantry get nodes)`);
  }
  if (upstream.status < 200 || upstream.status >= 300) {
    release();
    upstream.body.destroy();
    if (upstream.status === 404) throw new NotFoundError('container', undefined, container, `container ${container} of instance ${r.name} is gone from node "${nodeName}"; see gantry describe instance ${r.name}`);
    if (upstream.status === 401) {
      throw new UnavailableError(`the agent on node ${nodeName} rejected the server's agent token: it runs with a different agent.token`);
    }
    throw new UnavailableError(`the agent of node "${nodeName}" answered HTTP ${upstream.status} for the log of instance ${r.name}`);
  }
  deps.logger.debug({ namespace: r.namespace, name: r.name, container, node: nodeName, follow: r.follow }, 'log proxy opened');
  const body = upstream.body;
  body.once('close', release);
  return reply.code(200).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(body);
}
