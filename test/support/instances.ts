// Reading instances the way a user does (`gantry get instances -o json`), for assertions.
import type { Instance } from '../../src/core/index.js';
import type { GantryProcesses } from './gantry-process.js';

export async function instancesOf(g: GantryProcesses, service: string): Promise<Instance[]> {
  const list = await g.getJson<{ items: Instance[] }>(['get', 'instances']);
  return list.items.filter((i) => i.spec.service === service);
}

/** The runs of a Job (`gantry get instances --jobs -o json`: plain `get instances` lists services' instances). */
export async function jobRunsOf(g: GantryProcesses, job: string): Promise<Instance[]> {
  const list = await g.getJson<{ items: Instance[] }>(['get', 'instances', '--jobs']);
  return list.items.filter((i) => i.spec.service === job);
}

export function readyCount(items: readonly Instance[]): number {
  return items.filter((i) => i.status?.ready === true).length;
}

/** `http://127.0.0.1:<host port>` of the named port of a ready instance. */
export function endpointOf(i: Instance, port = 'http'): string {
  for (const c of i.status?.containers ?? []) {
    const p = c.hostPorts[port];
    if (p) return `http://${i.status?.hostIP ?? '127.0.0.1'}:${p}`;
  }
  throw new Error(`instance ${i.metadata.name} publishes no ${port} port yet`);
}

export async function httpGet(url: string): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!r.ok) throw new Error(`GET ${url} -> ${r.status}`);
  return r.text();
}

export function webService(name: string, replicas: number, image: string, extra = ''): string {
  return `apiVersion: gantry/v1
kind: Service
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  containers:
    - name: web
      image: ${image}
      command: ["/bin/sh", "-c"]
      args: ["mkdir -p /www && echo \\"$GANTRY_INSTANCE\\" > /www/index.html && exec httpd -f -p 8080 -h /www"]
      resources: { cpu: 0.05, memory: 16Mi }
      ports:
        - { name: http, containerPort: 8080 }
      healthCheck:
        http: { port: http, path: / }
        interval: 1s
${extra}`;
}
