// Health checks drive readiness and restarts; containers of one instance share localhost.
import { describe, expect, it } from 'vitest';
import { docker } from '../support/docker-cli.js';
import { useGantryUp } from '../support/gantry-process.js';
import { instancesOf } from '../support/instances.js';
import { waitFor } from '../support/wait.js';

describe('health checks and multi-container instances', () => {
  const t = useGantryUp();

  it('an exec health check that starts failing makes the instance not ready, then restarts it', async () => {
    const r = await t.g.apply(`apiVersion: gantry/v1
kind: Service
metadata: { name: probed }
spec:
  replicas: 1
  containers:
    - name: app
      image: ${t.image}
      command: ["/bin/sh", "-c", "touch /tmp/healthy && exec sleep 100000"]
      resources: { memory: 16Mi }
      healthCheck:
        exec: { command: ["test", "-f", "/tmp/healthy"] }
        interval: 1s
        timeout: 1s
        retries: 2
`);
    expect(r.code).toBe(0);
    const [first] = await waitFor('the probed instance to be ready', async () => {
      const l = await instancesOf(t.g, 'probed');
      return l[0]?.status?.ready ? l : undefined;
    });
    const id = first!.status!.containers[0]!.containerId!;
    await docker('exec', id, 'rm', '/tmp/healthy');

    await waitFor('the instance to become not ready', async () => (await instancesOf(t.g, 'probed'))[0]?.status?.ready === false, 30_000, 100);
    const healed = await waitFor('the container to be restarted and ready again', async () => {
      const i = (await instancesOf(t.g, 'probed'))[0];
      return i?.status?.ready && (i.status.containers[0]?.restartCount ?? 0) >= 1 ? i : undefined;
    });
    expect(healed.metadata.name).toBe(first!.metadata.name);
  });

  it('the second container of an instance reaches the first on localhost', async () => {
    const r = await t.g.apply(`apiVersion: gantry/v1
kind: Service
metadata: { name: pod }
spec:
  replicas: 1
  containers:
    - name: server
      image: ${t.image}
      command: ["/bin/sh", "-c", "mkdir -p /www && echo from-the-server > /www/index.html && exec httpd -f -p 8080 -h /www"]
      resources: { memory: 16Mi }
      ports: [{ name: http, containerPort: 8080 }]
    - name: sidecar
      image: ${t.image}
      command: ["/bin/sh", "-c", "while true; do wget -qO- http://127.0.0.1:8080/ || echo not-yet; sleep 1; done"]
      resources: { memory: 16Mi }
`);
    expect(r.code).toBe(0);
    const inst = await waitFor('the pod instance to run', async () => {
      const i = (await instancesOf(t.g, 'pod'))[0];
      return i?.status?.phase === 'Running' ? i : undefined;
    });
    const logs = await waitFor('the sidecar to have reached the server', async () => {
      const l = await t.g.cli(['logs', inst.metadata.name, '-c', 'sidecar']);
      return l.stdout.includes('from-the-server') ? l.stdout : undefined;
    }, 30_000, 500);
    expect(logs).toContain('from-the-server');
  });

  it('logs --previous shows the run before the last restart, and --timestamps the runtime\'s time of each line', async () => {
    const r = await t.g.apply(`apiVersion: gantry/v1
kind: Service
metadata: { name: twice }
spec:
  replicas: 1
  containers:
    - name: app
      image: ${t.image}
      command: ["/bin/sh", "-c", "if [ -e /ran ]; then echo second run; exec sleep 100000; else touch /ran; echo first run; exit 1; fi"]
      resources: { memory: 16Mi }
`);
    expect(r.code).toBe(0);
    const inst = await waitFor('a restarted, running instance', async () => (await instancesOf(t.g, 'twice')).find((i) => i.status?.phase === 'Running' && (i.status.containers[0]?.restartCount ?? 0) >= 1), 60_000);
    const name = inst.metadata.name;
    const all = await waitFor('both runs in the log', async () => {
      const l = await t.g.cli(['logs', name]);
      return l.stdout.includes('second run') ? l.stdout : undefined;
    }, 30_000);
    expect(all).toMatch(/first run\nsecond run/);
    const previous = await t.g.cli(['logs', name, '--previous']);
    expect(previous.code, previous.stderr).toBe(0);
    expect(previous.stdout.trim()).toBe('first run');
    const stamped = await t.g.cli(['logs', name, '--timestamps']);
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z first run$/m);
    // A container that has not restarted has no previous run: a 404 that says so.
    expect((await t.g.apply(`apiVersion: gantry/v1
kind: Service
metadata: { name: calm }
spec:
  replicas: 1
  containers:
    - name: app
      image: ${t.image}
      command: ["/bin/sh", "-c", "exec sleep 100000"]
      resources: { memory: 16Mi }
`)).code).toBe(0);
    const calm = await waitFor('a running calm instance', async () => (await instancesOf(t.g, 'calm')).find((i) => i.status?.phase === 'Running'), 60_000);
    const none = await t.g.cli(['logs', calm.metadata.name, '--previous']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/has not restarted: it has no previous run/);
  }, 90_000);
});

