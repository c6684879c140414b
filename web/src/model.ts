// The object shapes the console reads, from the API contract in src/core (types only: nothing of
// core's code ships to the browser).
import type { Config, CronJob, GantryEvent, GantryNode, Instance, Job, Secret, Service, ServiceVersion } from '../../src/core/index.js';

export type { Config, CronJob, GantryEvent, GantryNode, Instance, Job, Secret, Service, ServiceVersion };

export function isCordoned(n: GantryNode): boolean {
  return n.spec?.unschedulable === true || n.spec?.draining === true;
}

/** Where a live instance takes resources: bound to a node and not finished. */
export function holdsResources(i: Instance): boolean {
  const phase = i.status?.phase;
  return i.spec.node !== undefined && phase !== 'Succeeded' && phase !== 'Failed';
}

export function serviceState(s: Service): { ready: number; desired: number; rollout: string; version: number | undefined } {
  return {
    ready: s.status?.readyReplicas ?? 0,
    desired: s.spec.replicas ?? 1,
    rollout: s.status?.rollout?.phase ?? (s.spec.paused ? 'Paused' : ''),
    version: s.status?.version,
  };
}

/** The load balancer's view of a service from its spec: `:8080`, `web.example.com`. */
export function exposedAt(s: Service): string {
  return (s.spec.expose ?? []).map((e) => e.hostname ?? (e.servicePort ? `:${e.servicePort}` : e.port)).join(', ');
}
