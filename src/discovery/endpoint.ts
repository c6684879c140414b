// What the catalog serves: one endpoint per ready instance and named port. Plain data, shared by
// the endpoints API, the DNS server and the HAProxy manager.
import { namespaceOf, type Endpoint, type EndpointSet, type GantryNode, type Instance } from '../core/index.js';

// The wire shapes live in the API contract (core/api/discovery.ts).
export type { Endpoint, EndpointSet };

/**
 * Why an instance is an endpoint: it runs, reports ready, is not being stopped, belongs to a
 * Service, and its node is not known to be down. An instance being stopped (spec.stop) leaves at
 * once, before its agent even sees the request: that is what lets load balancers drain it.
 */
function isServing(i: Instance, node: GantryNode | undefined): boolean {
  if ((i.spec.ownerKind ?? 'Service') !== 'Service') return false;
  if (i.spec.stop) return false;
  if (i.status?.phase !== 'Running' || i.status.ready !== true) return false;
  if (node?.status && node.status.ready === false) return false;
  return i.spec.node !== undefined;
}

/** The endpoints of one instance, in port-declaration order; [] when it is not serving. */
export function endpointsOf(i: Instance, node: GantryNode | undefined): Endpoint[] {
  if (!isServing(i, node)) return [];
  const hostPorts = i.status?.containers[0]?.hostPorts ?? {};
  const address = i.status?.hostIP ?? node?.spec.address ?? node?.status?.address;
  if (!address) return [];
  const out: Endpoint[] = [];
  for (const c of i.spec.containers) {
    for (const p of c.ports ?? []) {
      const hostPort = hostPorts[p.name] ?? p.hostPort;
      if (hostPort === undefined) continue;
      out.push({
        namespace: namespaceOf(i),
        service: i.spec.service,
        instance: i.metadata.name,
        node: i.spec.node ?? '',
        address,
        port: p.name,
        hostPort,
        containerPort: p.containerPort,
        protocol: p.protocol ?? 'tcp',
        health: 'passing',
      });
    }
  }
  return out;
}

export function sameEndpoints(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    const x = a[k];
    const y = b[k];
    if (!x || !y) return false;
    if (x.address !== y.address || x.hostPort !== y.hostPort || x.port !== y.port || x.node !== y.node || x.containerPort !== y.containerPort) return false;
  }
  return true;
}
