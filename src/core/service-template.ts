// The parts of a Service that its instances are made from: what a ServiceVersion keeps, what the
// template hash covers. Pure, so that the controllers (new instances) and the runtime kit
// (version history the API also writes) read it from one place.
import type { Service, ServiceTemplate } from './schema.js';

/** The parts of a Service that its instances are made from (what a ServiceVersion keeps). */
export function templateOf(service: Service): ServiceTemplate {
  const { containers, initContainers, configFiles } = service.spec;
  return { containers, restartPolicy: service.spec.restartPolicy ?? 'Always', ...(initContainers ? { initContainers } : {}), ...(configFiles ? { configFiles } : {}) };
}
