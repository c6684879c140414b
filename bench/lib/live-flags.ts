// Flags shared by the end-to-end scenarios (e2e, node-loss, churn), which all run a real server
// and hollow nodes and apply the same kind of workload.
import { InvalidError, parseDuration } from '../../src/core/index.js';
import type { FlagSpec } from '../scenario.js';
import type { FlagReader } from './flags.js';

const SPREAD_KEYS = ['rack', 'pool'] as const;

export const LIVE_FLAGS: Readonly<Record<string, FlagSpec>> = {
  nodes: { type: 'string', default: '50', value: '<n>', description: 'hollow nodes (gantry sim), 32 cores and 128Gi each' },
  instances: { type: 'string', default: '1000', value: '<n>', description: 'instances in total (replicas of 100m, 64Mi)' },
  services: { type: 'string', value: '<n>', description: 'services the instances are split over (default instances/100, at least 1)' },
  racks: { type: 'string', default: '10', value: '<n>', description: 'nodes get label rack=r<i % racks>' },
  spread: { type: 'string', value: '<keys>', description: 'every service spreads across these node label keys (rack, pool)' },
  constraints: { type: 'boolean', default: false, description: 'constrain 80% of services to pool=web (80% of nodes)' },
  'start-latency': { type: 'string', default: '50ms', value: '<duration>', description: 'how long each fake container start takes' },
  seed: { type: 'string', default: '1', value: '<n>', description: 'seeds the hollow nodes and the probe' },
  'probe-rate': { type: 'string', default: '20', value: '<n>', description: 'API probe requests per second while the cluster works' },
  'apply-concurrency': { type: 'string', default: '8', value: '<n>', description: 'services applied at once' },
  timeout: { type: 'string', default: '900', value: '<seconds>', description: 'give up waiting for a step after this long' },
  profile: { type: 'boolean', default: false, description: 'run the server under node --cpu-prof; the profile goes to bench/results/ and its hottest functions into the summary' },
  store: { type: 'string', default: 'sqlite', value: '<backend>', description: 'the server\'s store: sqlite, or etcd (a one-member etcd with TLS started for the run; docs/ha.md)' },
  keep: { type: 'boolean', default: false, description: 'keep the temp data dir (server and sim logs, state.db) and print its path' },
};

export interface LiveSettings {
  nodes: number;
  instances: number;
  services: number;
  racks: number;
  spread: string[];
  constraints: boolean;
  startLatency: string;
  seed: number;
  probeRate: number;
  applyConcurrency: number;
  timeoutMs: number;
  keep: boolean;
  profile: boolean;
  store: 'sqlite' | 'etcd';
}

export function readLiveSettings(flags: FlagReader): LiveSettings {
  const instances = flags.int('instances');
  const services = flags.string('services') === undefined ? Math.max(1, Math.floor(instances / 100)) : flags.int('services', 1, instances);
  return {
    nodes: flags.int('nodes'),
    instances,
    services,
    racks: flags.int('racks'),
    spread: flags.list('spread', SPREAD_KEYS),
    constraints: flags.boolean('constraints'),
    startLatency: duration(flags, 'start-latency'),
    seed: flags.int('seed', 0, 2 ** 31 - 1),
    probeRate: flags.int('probe-rate', 1, 1000),
    applyConcurrency: flags.int('apply-concurrency', 1, 256),
    timeoutMs: flags.int('timeout') * 1000,
    keep: flags.boolean('keep'),
    profile: flags.boolean('profile'),
    store: storeFlag(flags),
  };
}

export function storeFlag(flags: FlagReader): 'sqlite' | 'etcd' {
  const v = flags.string('store') ?? 'sqlite';
  if (v !== 'sqlite' && v !== 'etcd') {
    const message = `--store must be sqlite or etcd, got ${v}`;
    throw new InvalidError(message, [{ path: '--store', message }]);
  }
  return v;
}

/** A duration flag, checked here so a typo fails before any process starts. */
export function duration(flags: FlagReader, name: string): string {
  const text = flags.string(name) ?? '';
  if (parseDuration(text) === undefined) {
    const message = `--${name} must be a duration like 50ms, 5s or 1m, got ${text || 'nothing'}`;
    throw new InvalidError(message, [{ path: `--${name}`, message }]);
  }
  return text;
}

/** `e2e: 500 nodes, 10000 instances in 100 services, spread rack` */
export function describeWorkload(s: LiveSettings): string {
  return [
    `${s.nodes} nodes, ${s.instances} instances in ${s.services} services`,
    ...(s.spread.length > 0 ? [`spread ${s.spread.join(',')}`] : []),
    ...(s.constraints ? ['constraints'] : []),
    ...(s.store === 'etcd' ? ['store etcd'] : []),
  ].join(', ');
}
