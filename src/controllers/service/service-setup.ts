// The service controller's triggers: what enqueues a Service's key `ns/name`.
import type { Instance } from '../../core/index.js';
import { WorkQueue } from '../../runtime/work-queue.js';
import type { Manager } from '../manager.js';
import { nsKey } from '../shared/queue-keys.js';
import { referencesConfig } from './config-digest.js';
import { ServiceController } from './service-controller.js';

/** How long a service's reconcile waits for more changes of its instances. */
const INSTANCE_BURST_MS = 200;

type Named = { metadata: { namespace?: string | undefined; name: string } };

/**
 * - a Service added, changed or deleted: at once (a user's apply);
 * - an instance of it (not a Job's run) added, changed or deleted: after 200 ms, so a burst (a
 *   hundred replicas turning Running within a second, each a status report) is one reconcile and
 *   one status write;
 * - a Config or Secret its configFiles reference added, changed or deleted: at once (the template
 *   changes).
 * Node readiness comes from the Node informer's cache (a graceful stop on a node that is not
 * ready is not waited for).
 */
/**
 * Services reconciled at once. A reconcile is mostly waiting (a version, the instances' txn, its
 * events, its status: four or five writes in turn), so two workers made 1,000 new services
 * create about 300 instances a second on an idle CPU; Kubernetes runs five ReplicaSet syncs.
 */
const SERVICE_WORKERS = 8;

export function setupServiceController(mgr: Manager): void {
  const { services, instances, nodes, configs, secrets } = mgr.informers;
  const queue = new WorkQueue();
  const enqueueService = (o: Named) => queue.add(nsKey(o.metadata.namespace, o.metadata.name));
  services.addHandlers({ onAdd: enqueueService, onUpdate: (_o, n) => enqueueService(n), onDelete: enqueueService });

  const enqueueOwner = (i: Instance) => {
    // A Job's runs share the spec.service field; the job controller owns them.
    if (i.spec.ownerKind !== 'Job') queue.addAfter(nsKey(i.metadata.namespace, i.spec.service), INSTANCE_BURST_MS);
  };
  instances.addHandlers({ onAdd: enqueueOwner, onUpdate: (_o, i) => enqueueOwner(i), onDelete: enqueueOwner });

  const enqueueReferrers = (kind: 'Config' | 'Secret') => (o: Named) => {
    for (const svc of services.list()) {
      if (svc.metadata.namespace === o.metadata.namespace && referencesConfig(svc.spec.configFiles, kind, o.metadata.name)) enqueueService(svc);
    }
  };
  for (const [informer, kind] of [[configs, 'Config'], [secrets, 'Secret']] as const) {
    const enqueue = enqueueReferrers(kind);
    informer.addHandlers({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
  }

  const controller = new ServiceController({
    store: mgr.store,
    events: mgr.events,
    logger: mgr.logger.child({ controller: 'service' }),
    nodeReady: (node) => nodes.get(undefined, node)?.status?.ready,
  });
  mgr.runQueue('service', queue, (key) => controller.reconcile(key), SERVICE_WORKERS);
}
