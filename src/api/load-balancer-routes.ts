// GET /api/v1/namespaces/{ns}/services/{name}/loadbalancer: what the HAProxy load balancer does
// for a Service's spec.expose (frontends, the servers in their slots with HAProxy's state, the
// last reload). A server without a load balancer still answers, with enabled: false.
import type { FastifyInstance } from 'fastify';
import { NotFoundError, DEFAULT_NAMESPACE, ROUTES, type LoadBalancerStatus, type Service } from '../core/index.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';

/** What the routes need of the load balancer. */
export interface LoadBalancerReader {
  status(svc: Service): Promise<LoadBalancerStatus>;
}

const NO_LB = 'this server runs no load balancer: start gantry up without --no-lb, or gantry server with --lb';

export function registerLoadBalancerRoutes(app: FastifyInstance, deps: RouteDeps, lb: LoadBalancerReader | undefined): void {
  serve(app, ROUTES.loadBalancer, async (req): Promise<LoadBalancerStatus> => {
    const namespace = req.params.namespace ?? DEFAULT_NAMESPACE;
    const name = req.params.name ?? '';
    const svc = await deps.store.get('Service', namespace, name);
    if (!svc) throw new NotFoundError('Service', namespace, name);
    if (lb) return lb.status(svc);
    const entries = (svc.spec.expose ?? []).map((e) => ({ port: e.port, mode: e.mode ?? 'http', servicePort: e.servicePort, hostname: e.hostname, frontends: [], state: 'Off' as const, servers: [] }));
    return { kind: 'LoadBalancerStatus', namespace, service: name, enabled: false, message: NO_LB, entries };
  });
}
