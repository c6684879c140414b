// A made-up cluster for the scheduler benchmark: N uniform nodes labelled by rack and pool, and
// placement requests grouped into services the way the service controller would create them.
// Everything comes from one seeded PRNG, so a seed names a workload.
import type { PlacementRequest, Random } from '../../src/scheduler/index.js';
import type { BenchNode } from './bench-cluster.js';

const GI = 1024 ** 3;
const MI = 1024 ** 2;

export interface NodeShape {
  nodes: number;
  racks: number;
  /** Fraction of nodes in pool `web`; the rest are in pool `batch`. */
  webFraction: number;
}

/** 32 cores / 128Gi nodes with some reserved for the host and cpu overcommitted twice. */
export function syntheticNodes(shape: NodeShape, rng: Random): BenchNode[] {
  const width = String(shape.nodes).length;
  const out: BenchNode[] = [];
  for (let i = 0; i < shape.nodes; i++) {
    out.push({
      name: `node-${String(i).padStart(width, '0')}`,
      labels: { rack: `r${i % shape.racks}`, pool: rng.next() < shape.webFraction ? 'web' : 'batch' },
      ready: true,
      unschedulable: false,
      pressures: [],
      capacity: { cpu: 32_000, memory: 128 * GI },
      overcommit: { cpu: 2, memory: 1 },
      reserved: { cpu: 500, memory: 2 * GI },
      used: { cpu: 0, memory: 0 },
      hostPorts: new Set(),
      serviceCounts: new Map(),
    });
  }
  return out;
}

export interface WorkloadShape {
  instances: number;
  minReplicas: number;
  maxReplicas: number;
  spread: readonly string[];
  /** Fraction of services constrained to `pool=web`; 0 for none. */
  constrainedFraction: number;
  /** Fraction of services that ask for a fixed host port (one replica per node at most). */
  hostPortFraction: number;
}

export interface SyntheticService {
  key: string;
  requests: PlacementRequest[];
}

const MEMORY_CHOICES = [64 * MI, 128 * MI, 256 * MI, 512 * MI, GI, 2 * GI];

/**
 * Services of minReplicas..maxReplicas replicas (the last one takes what is left) until
 * `instances` requests exist. Replicas of a service ask for the same resources, as they would.
 */
export function syntheticServices(shape: WorkloadShape, rng: Random): SyntheticService[] {
  const out: SyntheticService[] = [];
  let left = shape.instances;
  for (let s = 0; left > 0; s++) {
    const replicas = Math.min(left, shape.minReplicas + rng.int(shape.maxReplicas - shape.minReplicas + 1));
    left -= replicas;
    const name = `svc-${String(s).padStart(5, '0')}`;
    const key = `bench/${name}`;
    // 0.1 to 2 cores in steps of 50m; 64Mi to 2Gi in powers of two.
    const resources = { cpu: 100 + 50 * rng.int(39), memory: MEMORY_CHOICES[rng.int(MEMORY_CHOICES.length)] ?? GI };
    const constraints = rng.next() < shape.constrainedFraction ? ['pool=web'] : [];
    // Ports are unique per service so only replicas of the same service compete for one.
    const hostPorts = rng.next() < shape.hostPortFraction ? [`${10_000 + s}/tcp`] : [];
    const requests: PlacementRequest[] = [];
    for (let r = 0; r < replicas; r++) {
      requests.push({
        id: `${key}-${String(r).padStart(3, '0')}`,
        serviceKey: key,
        resources,
        hostPorts,
        constraints,
        spread: shape.spread,
      });
    }
    out.push({ key, requests });
  }
  return out;
}
