// Init containers, config files, Configs and Secrets against the real dockerd: files are in the
// container at their path and mode before it starts; an init container's output reaches the main
// container through the scratch volume; a failing one blocks the instance visibly; a secret's
// value appears nowhere a user or an operator reads (get, describe, events, server/agent logs).
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { containersWithLabels } from '../support/docker-cli.js';
import { useGantryUp } from '../support/gantry-process.js';
import { instancesOf } from '../support/instances.js';
import { waitFor } from '../support/wait.js';

describe('init containers and config files', () => {
  const t = useGantryUp();
  const secretValue = `pw-${randomBytes(12).toString('hex')}`;

  it('config files (inline, Config, Secret) are in place with their modes, and an init container leaves a file the main container reads', async () => {
    const apply = await t.g.apply(`apiVersion: gantry/v1
kind: Config
metadata: { name: web-conf }
spec:
  data:
    app.conf: |
      port=8080
      greeting=hello-config
---
apiVersion: gantry/v1
kind: Secret
metadata: { name: db }
spec:
  data:
    password: ${secretValue}
---
apiVersion: gantry/v1
kind: Service
metadata: { name: cfg }
spec:
  replicas: 1
  initContainers:
    - name: prepare
      image: ${t.image}
      command: ["sh", "-c", "echo prepared-by-init > /gantry/scratch/ready; test -f /etc/app/app.conf && echo init-sees-config"]
  configFiles:
    - { path: /etc/app/app.conf, configRef: { name: web-conf, key: app.conf }, mode: "0640" }
    - { path: /etc/app/inline/motd, content: "inline-content" }
    - { path: /run/secrets/db-password, secretRef: { name: db, key: password }, mode: "0400" }
  containers:
    - name: main
      image: ${t.image}
      command: ["sh", "-c", "cat /gantry/scratch/ready; cat /etc/app/app.conf /etc/app/inline/motd; echo; stat -c 'mode %a %n' /etc/app/app.conf /etc/app/inline/motd /run/secrets/db-password; md5sum /run/secrets/db-password; exec sleep 3600"]
`);
    expect(apply.code, apply.stderr).toBe(0);
    const inst = await waitFor('the cfg instance to run', async () => {
      const i = (await instancesOf(t.g, 'cfg'))[0];
      return i?.status?.phase === 'Running' ? i : undefined;
    });
    const logs = await waitFor('the main container to print its files', async () => {
      const r = await t.g.cli(['logs', inst.metadata.name]);
      return /md5|[0-9a-f]{32}/.test(r.stdout) ? r.stdout : undefined;
    });
    expect(logs).toContain('prepared-by-init');
    expect(logs).toContain('greeting=hello-config');
    expect(logs).toContain('inline-content');
    expect(logs).toContain('mode 640 /etc/app/app.conf');
    expect(logs).toContain('mode 644 /etc/app/inline/motd');
    expect(logs).toContain('mode 400 /run/secrets/db-password');
    // The secret's content arrived intact (compared by digest: the value itself is never printed).
    expect(logs).toContain(createHash('md5').update(secretValue).digest('hex'));
    const initLog = await t.g.cli(['logs', inst.metadata.name, '-c', 'prepare']);
    expect(initLog.stdout).toContain('init-sees-config');
    expect(inst.status?.initContainers?.[0]).toMatchObject({ name: 'prepare', state: 'exited', exitCode: 0 });
  });

  it('a failing init container keeps the main container from starting, is retried, and shows in describe and logs', async () => {
    const apply = await t.g.apply(`apiVersion: gantry/v1
kind: Service
metadata: { name: broken-init }
spec:
  replicas: 1
  initContainers:
    - name: migrate
      image: ${t.image}
      command: ["sh", "-c", "echo migration-failed-loudly; exit 4"]
  containers:
    - name: main
      image: ${t.image}
      command: ["sleep", "3600"]
`);
    expect(apply.code, apply.stderr).toBe(0);
    const inst = await waitFor('the init container to have failed twice', async () => {
      const i = (await instancesOf(t.g, 'broken-init'))[0];
      return i && i.status?.reason === 'InitFailed' && (i.status.initContainers?.[0]?.restartCount ?? 0) >= 2 ? i : undefined;
    });
    expect(inst.status?.phase).toBe('Pending');
    expect(inst.status?.message).toMatch(/init container "migrate" exited with code 4; retrying in/);
    // Docker's own view: only the init container exists for this instance, never the main one.
    const ids = await containersWithLabels({ 'io.gantry.cluster': t.g.clusterId, 'io.gantry.instance': inst.metadata.name, 'io.gantry.container': 'main' });
    expect(ids).toEqual([]);
    const described = await t.g.cli(['describe', 'instance', inst.metadata.name]);
    expect(described.stdout).toMatch(/Init Containers:[\s\S]*migrate\s+exited \(4\)/);
    expect(described.stdout).toMatch(/InitFailed/);
    const logs = await t.g.cli(['logs', inst.metadata.name, '-c', 'migrate']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('migration-failed-loudly');
  });

  it('an instance waits (ConfigMissing) for a Config that does not exist yet, then starts', async () => {
    const apply = await t.g.apply(`apiVersion: gantry/v1
kind: Service
metadata: { name: waits }
spec:
  replicas: 1
  configFiles:
    - { path: /etc/late.conf, configRef: { name: late, key: x } }
  containers:
    - name: main
      image: ${t.image}
      command: ["sh", "-c", "cat /etc/late.conf; echo; exec sleep 3600"]
`);
    expect(apply.code, apply.stderr).toBe(0);
    const pending = await waitFor('ConfigMissing', async () => {
      const i = (await instancesOf(t.g, 'waits'))[0];
      return i?.status?.reason === 'ConfigMissing' ? i : undefined;
    });
    expect(pending.status?.message).toMatch(/config "default\/late" does not exist/);
    expect((await t.g.apply('apiVersion: gantry/v1\nkind: Config\nmetadata: { name: late }\nspec:\n  data:\n    x: arrived-late\n')).code).toBe(0);
    await waitFor('the instance to start once the Config exists', async () => {
      const i = (await instancesOf(t.g, 'waits'))[0];
      return i?.status?.phase === 'Running' ? i : undefined;
    }, 90_000);
    // The Config's arrival also changes the service's template (its digest), so the instance that
    // started may be replaced by the next version's: read the log of whichever one runs now.
    await waitFor('the late content in its log', async () => {
      for (const i of await instancesOf(t.g, 'waits')) {
        if (i.status?.phase !== 'Running') continue;
        if ((await t.g.cli(['logs', i.metadata.name])).stdout.includes('arrived-late')) return true;
      }
      return undefined;
    });
  }, 120_000);

  it('the secret value appears in no get, describe, event or log, and an export cannot be re-applied over it', async () => {
    const places: [string, string][] = [];
    for (const args of [
      ['get', 'secret', 'db', '-o', 'yaml'],
      ['get', 'secret', 'db', '-o', 'json'],
      ['get', 'secrets'],
      ['describe', 'secret', 'db'],
      ['get', 'events'],
      ['get', 'instances', '-o', 'yaml'],
    ]) {
      const r = await t.g.cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      places.push([args.join(' '), r.stdout + r.stderr]);
    }
    const inst = (await instancesOf(t.g, 'cfg'))[0]!;
    const d = await t.g.cli(['describe', 'instance', inst.metadata.name]);
    places.push(['describe instance', d.stdout]);
    places.push(['server and agent log (gantry up)', t.g.logOf('up')]);
    for (const [where, text] of places) expect(text.includes(secretValue), `secret value found in ${where}`).toBe(false);
    const yaml = places[0]![1];
    expect(yaml).toMatch(/password: <redacted \d+ bytes>/);
    // Re-applying the export is refused naming the field; the real value stays.
    const again = await t.g.apply(yaml);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('spec.data.password');
    const unchanged = await t.g.apply(`apiVersion: gantry/v1\nkind: Secret\nmetadata: { name: db }\nspec:\n  data:\n    password: ${secretValue}\n`);
    expect(unchanged.stdout).toMatch(/secret\/db unchanged/);
  });
});
