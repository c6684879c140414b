// Services with spec.expose for the load balancer's tests.
import { API_VERSION, DEFAULT_NAMESPACE, type ExposeSpec, type HealthCheck, type Service } from '../../core/index.js';

export function anExposedService(o: { name?: string; namespace?: string; createdAt?: string; expose: ExposeSpec[]; healthCheck?: HealthCheck }): Service {
  return {
    apiVersion: API_VERSION,
    kind: 'Service',
    metadata: { name: o.name ?? 'web', namespace: o.namespace ?? DEFAULT_NAMESPACE, uid: 'u', revision: 1, createdAt: o.createdAt ?? '2026-01-01T00:00:00Z' },
    spec: {
      replicas: 3,
      containers: [
        {
          name: 'main',
          image: 'app:1',
          ports: [
            { name: 'http', containerPort: 8080 },
            { name: 'admin', containerPort: 9090 },
          ],
          ...(o.healthCheck ? { healthCheck: o.healthCheck } : {}),
        },
      ],
      expose: o.expose,
    },
  };
}
