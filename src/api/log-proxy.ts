// GET .../instances/{name}/log: find the instance's node and container, and stream the log from
// that node's agent back to the caller. The upstream request is owned by the response: when the
// caller leaves (or the app closes) it is aborted.
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { FastifyReply } from 'fastify';
import { AppError, NotFoundError, type Instance } from '../core/index.js';
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
  const wanted = container ?? names[0] ?? '';
  if (!names.includes(wanted)) {
    throw new AppError('NOT_FOUND', `instance ${ref} has no container "${wanted}"; its containers are ${names.join(', ')}`);
  }
  const id = inst.status?.containers.find((c) => c.name === wanted)?.containerId;
  if (!id) throw new AppError('NOT_FOUND', `instance ${inst.metadata.name} has no container ${wanted} yet; see gantry describe instance ${inst.metadata.name}`);
  return { container: wanted, containerId: id };
}

export async function proxyLog(deps: RouteDeps, reply: FastifyReply, r: LogRequest): Promise<FastifyReply> {
  const inst = await deps.store.get('Instance', r.namespace, r.name);
  if (!inst) throw new NotFoundError('Instance', r.namespace, r.name);
  const { container, containerId } = containerIdFor(inst, r.container);
  const nodeName = inst.spec.node ?? inst.status?.node;
  if (!nodeName) throw new AppError('NOT_FOUND', `instance ${r.name} is not placed on a node yet; see gantry describe instance ${r.name}`);
  const node = await deps.store.get('Node', undefined, nodeName);
  const agentUrl = node?.status?.agentUrl;
  if (!agentUrl) throw new AppError('UNAVAILABLE', `node "${nodeName}" has not published its agent URL; is its agent running? (gantry get nodes)`);

  const url = new URL(`${agentUrl.replace(/\/+$/, '')}/v1/containers/${encodeURIComponent(containerId)}/log`);
  if (r.follow) url.searchParams.set('follow', '1');
  if (r.tail !== undefined) url.searchParams.set('tail', String(r.tail));

  const ac = deps.streams.add();
  const onClose = (): void => ac.abort();
  reply.raw.on('close', onClose);
  const release = (): void => {
    reply.raw.off('close', onClose);
    ac.abort();
  };
  let upstream: Response;
  try {
    upstream = await fetch(url, { headers: deps.agentToken ? { authorization: `Bearer ${deps.agentToken}` } : {}, signal: ac.signal });
  } catch (e) {
    release();
    const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
    throw new AppError('UNAVAILABLE', `cannot reach the agent of node "${nodeName}" at ${agentUrl}: ${cause}; check that the agent runs (gantry get nodes)`);
  }
  if (!upstream.ok || !upstream.body) {
    release();
    await upstream.body?.cancel().catch(() => undefined);
    if (upstream.status === 404) throw new AppError('NOT_FOUND', `container ${container} of instance ${r.name} is gone from node "${nodeName}"; see gantry describe instance ${r.name}`);
    throw new AppError('UNAVAILABLE', `the agent of node "${nodeName}" answered HTTP ${upstream.status} for the log of instance ${r.name}`);
  }
  deps.logger.debug({ namespace: r.namespace, name: r.name, container, node: nodeName, follow: r.follow }, 'log proxy opened');
  const body = Readable.fromWeb(upstream.body as NodeReadableStream<Uint8Array>);
  body.once('close', release);
  return reply.code(200).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(body);
}
