// The whole control plane against 50 hollow nodes: a real server (store, API, controllers) and
// 50 real agents on fake drivers in this process, 1,000 instances from 10 services.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import type { GantryClient } from '../client/types.js';
import type { GantryNode, Instance, Service } from '../core/index.js';
import { startServer, type RunningServer } from '../server/index.js';
import { aService } from '../core/test-builders.js';
import { HOLLOW_LABEL } from './hollow-node-spec.js';
import { startHollowNodes, type HollowNodes } from './hollow-nodes.js';

const NODES = 50;
const SERVICES = 10;
const REPLICAS = 100;
const CAPACITY = { cpu: 4000, memory: 8 * 2 ** 30 };
const MI = 2 ** 20;
const SIM_APP = { replicas: REPLICAS, image: 'sim/app:1', cpu: '150m', memory: '256Mi' };
/**
 * Regression guards on the write path (issue 14): store writes (revisions: one per transaction,
 * so a batch of status reports or a chunk of bindings is one) and stored events per instance from
 * the applies until all run and every service says so. Measured on 2026-12-05: 4.1 writes and
 * 1.05 events per instance (one Started each); on 2026-12-06, 0.46 writes and 1.08 events, and
 * with the server folding similar events (event-correlator.ts) 0.38 writes and 0.18 events. A
 * change that writes per report, or records an event per instance again, goes over these.
 */
const MAX_WRITES_PER_INSTANCE = 6;
const MAX_EVENTS_PER_INSTANCE = 0.5;
/**
 * A generous bound on this process's event-loop delay (server and 50 agents share it): a quiet
 * machine shows ~0.4 s; 2 s was passed (2.3 s) on a machine at load 8 with the suite niced, where
 * the delay includes time the process was not scheduled. The write and event bounds are the hard
 * checks; this one catches stalls of many seconds.
 */
const MAX_LOOP_DELAY_MS = 5000;

async function waitFor(what: string, timeoutMs: number, check: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined = 'not checked yet';
  while (Date.now() < deadline) {
    last = await check();
    if (last === undefined) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${last}`);
}

describe('hollow nodes against a real server', () => {
  let dataDir: string;
  let server: RunningServer;
  let hollow: HollowNodes;
  let admin: GantryClient;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gantry-sim-'));
    const logger = pino({ level: 'silent' });
    server = await startServer({ dataDir, listen: '127.0.0.1:0', logger });
    admin = createHttpClient({ server: server.url, token: server.adminToken, ca: server.tls?.ca.certPem });
    // Hollow nodes join like any node: one join token with a use per node.
    const { token: joinToken } = await admin.createJoinToken({ uses: NODES });
    const t0 = Date.now();
    hollow = startHollowNodes(
      { server: server.url, joinToken, nodes: NODES, ramp: 25, capacity: CAPACITY, seed: 7, logger },
      new AbortController().signal,
    );
    await hollow.ready;
    timings.registerMs = Date.now() - t0;
  }, 60_000);

  afterAll(async () => {
    await hollow?.stop();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
    console.info(`sim test timings (ms): ${JSON.stringify(timings)}`);
  });

  it('registers every hollow node with its labels and capacity', async () => {
    const nodes = (await admin.list('Node')).items;
    expect(nodes).toHaveLength(NODES);
    expect(hollow.registeredCount()).toBe(NODES);
    for (const n of nodes) {
      expect(n.metadata.labels).toMatchObject({ [HOLLOW_LABEL]: 'true', rack: expect.stringMatching(/^r\d$/), pool: expect.stringMatching(/^(web|batch)$/) });
      expect(n.status).toMatchObject({ ready: true, driver: 'fake', capacity: CAPACITY });
    }
    const webNodes = nodes.filter((n) => n.metadata.labels?.pool === 'web').length;
    // 80/20 weights over 50 nodes: far from all and far from none.
    expect(webNodes).toBeGreaterThan(25);
    expect(webNodes).toBeLessThan(NODES);
  });

  it('runs 1,000 instances of 10 services to Running and ready, within capacity and constraints', async () => {
    const t0 = Date.now();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const revisionBefore = (await admin.list('Service', { namespace: 'default' })).revision;
    const eventsBefore = (await admin.list('Event')).items.length;
    await Promise.all(
      Array.from({ length: SERVICES }, (_, i) =>
        admin.apply(i === 0 ? aService('svc-0', { ...SIM_APP, spec: { placement: { constraints: ['pool=web'], spread: ['rack'] } } }) : aService(`svc-${i}`, SIM_APP)),
      ),
    );
    await waitFor('1,000 running and ready instances', 120_000, async () => {
      const items = (await admin.list('Instance', { namespace: 'default' })).items;
      const ok = items.filter((i) => i.status?.phase === 'Running' && i.status.ready).length;
      return ok === SERVICES * REPLICAS && items.length === SERVICES * REPLICAS ? undefined : `${ok} of ${items.length} running and ready`;
    });
    timings.allRunningMs = Date.now() - t0;
    await waitFor('services to report every replica ready', 30_000, async () => {
      const services = (await admin.list('Service', { namespace: 'default' })).items;
      const behind = services.filter((s) => s.status?.readyReplicas !== REPLICAS);
      return behind.length === 0 ? undefined : behind.map((s) => `${s.metadata.name} ${s.status?.readyReplicas}/${REPLICAS}`).join(', ');
    });
    timings.servicesReadyMs = Date.now() - t0;
    loop.disable();
    const writes = (await admin.list('Service', { namespace: 'default' })).revision - revisionBefore;
    const events = (await admin.list('Event')).items.length - eventsBefore;
    timings.storeWrites = writes;
    timings.eventsStored = events;
    timings.maxLoopDelayMs = Math.round(loop.max / 1e6);
    expect(writes / (SERVICES * REPLICAS), `${writes} store writes for ${SERVICES * REPLICAS} instances`).toBeLessThanOrEqual(MAX_WRITES_PER_INSTANCE);
    expect(events / (SERVICES * REPLICAS), `${events} events for ${SERVICES * REPLICAS} instances`).toBeLessThanOrEqual(MAX_EVENTS_PER_INSTANCE);
    expect(loop.max / 1e6, 'max event-loop delay (ms)').toBeLessThan(MAX_LOOP_DELAY_MS);

    const nodes = new Map((await admin.list('Node')).items.map((n): [string, GantryNode] => [n.metadata.name, n]));
    const instances: Instance[] = (await admin.list('Instance', { namespace: 'default' })).items;
    expect(instances).toHaveLength(SERVICES * REPLICAS);
    const used = new Map<string, { cpu: number; memory: number }>();
    for (const inst of instances) {
      const node = nodes.get(inst.spec.node ?? '');
      expect(node?.metadata.labels?.[HOLLOW_LABEL], `${inst.metadata.name} on ${inst.spec.node}`).toBe('true');
      const u = used.get(inst.spec.node ?? '') ?? { cpu: 0, memory: 0 };
      used.set(inst.spec.node ?? '', { cpu: u.cpu + inst.spec.resources.cpu, memory: u.memory + inst.spec.resources.memory });
      expect(inst.spec.resources).toEqual({ cpu: 150, memory: 256 * MI });
    }
    for (const [name, u] of used) {
      expect(u.cpu, `cpu on ${name}`).toBeLessThanOrEqual(CAPACITY.cpu);
      expect(u.memory, `memory on ${name}`).toBeLessThanOrEqual(CAPACITY.memory);
    }

    const constrained = instances.filter((i) => i.spec.service === 'svc-0');
    expect(constrained).toHaveLength(REPLICAS);
    expect(constrained.every((i) => nodes.get(i.spec.node ?? '')?.metadata.labels?.pool === 'web')).toBe(true);
    const perRack = new Map<string, number>();
    for (const i of constrained) {
      const rack = nodes.get(i.spec.node ?? '')?.metadata.labels?.rack ?? '?';
      perRack.set(rack, (perRack.get(rack) ?? 0) + 1);
    }
    const webRacks = new Set([...nodes.values()].filter((n) => n.metadata.labels?.pool === 'web').map((n) => n.metadata.labels?.rack));
    expect(perRack.size).toBe(webRacks.size);
    // Spread is best effort, but with room everywhere it should come out even.
    expect(Math.max(...perRack.values()) - Math.min(...perRack.values())).toBeLessThanOrEqual(2);

    const services: Service[] = (await admin.list('Service', { namespace: 'default' })).items;
    expect(services.map((s) => [s.metadata.name, s.status?.readyReplicas])).toEqual(
      Array.from({ length: SERVICES }, (_, i) => [`svc-${i}`, REPLICAS]).sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
  }, 150_000);

  it('serves the logs of hollow instances through the server, from the one log endpoint all nodes share', async () => {
    const inst = (await admin.list('Instance', { namespace: 'default' })).items.find((i) => i.status?.phase === 'Running');
    expect(inst, 'a running instance (the test above starts them)').toBeDefined();
    const node = await admin.get('Node', undefined, inst?.spec.node ?? '');
    expect(node.status?.agentUrl).toBe(`${hollow.logUrl() ?? '?'}/nodes/${node.metadata.name}`);
    let text = '';
    for await (const chunk of admin.logs('default', inst?.metadata.name ?? '', { tail: 1 })) text += chunk;
    expect(text).toBe('fake: running\n');
  });
});
