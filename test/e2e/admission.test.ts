// Admission and HAProxy hardening against a real `gantry up` (dockerd, HAProxy 2.6): strings that
// would break haproxy.cfg or a runtime API command are refused with their field paths and the
// rendered config stays byte for byte the same; HAProxy's workers run without root.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../src/core/index.js';
import type { LoadBalancerStatus } from '../../src/discovery/haproxy/lb-status.js';
import { docker } from '../support/docker-cli.js';
import { freePort, GantryProcesses } from '../support/gantry-process.js';
import { instancesOf, webService } from '../support/instances.js';
import { ensureTestImage } from '../support/test-image.js';
import { waitFor } from '../support/wait.js';

/** The uid a process runs as (the real uid on the Uid: line). */
function uidOf(pid: number): number {
  const m = /^Uid:\s+([0-9]+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

/** PIDs whose parent is `parent` (read from /proc/<pid>/status). */
function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const m = /^PPid:\s+([0-9]+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (Number(m?.[1]) === parent) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('admission: strict HAProxy-bound strings, HAProxy without root', () => {
  let g: GantryProcesses;
  let image: string;
  let httpPort: number;

  beforeAll(async () => {
    image = await ensureTestImage();
    g = await GantryProcesses.create();
    httpPort = await freePort();
    await g.up(['--lb-http-port', String(httpPort)]);
  }, 120_000);

  afterAll(async () => {
    await g?.close();
  }, 60_000);

  async function lbStatus(service: string): Promise<LoadBalancerStatus> {
    const r = await g.fetch(`${g.url}/api/v1/namespaces/default/services/${service}/loadbalancer`, { headers: { authorization: `Bearer ${g.token}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as LoadBalancerStatus;
  }

  const cfgPath = (): string => join(g.dataDir, 'haproxy', 'haproxy.cfg');

  it('refuses a newline in a health-check path, a space in a host name and a hostIP of "1.2.3.4;shutdown" with field paths; haproxy.cfg is unchanged', async () => {
    const port = await freePort();
    const safe = webService('safe', 1, image, `  expose:\n    - { port: http, servicePort: ${port}, hostname: safe.example.com }\n`);
    expect((await g.apply(safe)).code).toBe(0);
    await waitFor('safe to be served by HAProxy', async () => {
      const s = await lbStatus('safe');
      return s.entries[0]?.state === 'Serving' && s.entries[0].servers.some((x) => x.state.startsWith('UP'));
    }, 90_000, 100);
    const before = readFileSync(cfgPath(), 'utf8');
    expect(before).toContain('option httpchk GET /\n');

    const newline = await g.apply(safe.replace('path: /', 'path: "/ok\\n  http-request deny # injected"').replace('name: safe', 'name: evil-path').replace('safe.example.com', 'evil.example.com').replace(`servicePort: ${port}`, `servicePort: ${port + 1}`));
    expect(newline.code).not.toBe(0);
    expect(newline.stderr).toContain('spec.containers[0].healthCheck.http.path: must be an absolute path');

    const space = await g.apply(safe.replace('name: safe', 'name: evil-host').replace('safe.example.com', '"evil .example.com"').replace(`servicePort: ${port}, `, ''));
    expect(space.code).not.toBe(0);
    expect(space.stderr).toContain('spec.expose[0].hostname: must be a host name');

    const node = await g.apply('apiVersion: gantry/v1\nkind: Node\nmetadata:\n  name: evil-node\nspec:\n  address: "1.2.3.4;shutdown"\n');
    expect(node.code).not.toBe(0);
    expect(node.stderr).toContain('spec.address: must be an IP');

    // hostIP is written by agents (the status subresource), each with its own node credential: a
    // joined agent (fake driver) reports it for an instance bound to its node; the same pattern, the same 422.
    await g.startAgent('probe-agent', ['--driver', 'fake', '--labels', 'role=probe']);
    expect((await g.apply(webService('hostip-probe', 1, image, '  placement:\n    constraints: ["role=probe"]\n'))).code).toBe(0);
    let inst: Instance | undefined;
    await waitFor('an instance bound to probe-agent', async () => {
      inst = (await instancesOf(g, 'hostip-probe')).find((i) => i.spec.node === 'probe-agent' && i.status);
      return inst !== undefined;
    }, 60_000);
    const credential = readFileSync(join(g.agentHome('probe-agent'), 'node', 'node.token'), 'utf8').trim();
    const status = { ...inst?.status, hostIP: '1.2.3.4;shutdown' };
    const r = await g.fetch(`${g.url}/api/v1/namespaces/default/instances/${inst?.metadata.name ?? ''}/status`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status }),
    });
    expect(r.status).toBe(422);
    const body = (await r.json()) as { error: { details: { path: string }[] } };
    expect(body.error.details.map((d) => d.path)).toEqual(['status.hostIP']);

    expect((await g.cli(['get', 'services'])).stdout).not.toMatch(/evil/);
    // A reload would have shown by now (HAProxy reacts in milliseconds); the file is the same bytes.
    await new Promise((res) => setTimeout(res, 1000));
    expect(readFileSync(cfgPath(), 'utf8')).toBe(before);
    expect((await lbStatus('safe')).entries[0]?.servers.map((s) => s.address)).toEqual(['127.0.0.1']);
  }, 180_000);

  it("runs HAProxy's workers as user haproxy in a chroot; the master stays root", async () => {
    const cfg = readFileSync(cfgPath(), 'utf8');
    expect(cfg).toMatch(/^ {2}user haproxy\n {2}group haproxy\n {2}chroot \/var\/lib\/haproxy$/m);
    const master = Number(readFileSync(join(g.dataDir, 'haproxy', 'haproxy.pid'), 'utf8').trim());
    expect(uidOf(master)).toBe(0);
    const workers = childrenOf(master);
    expect(workers.length).toBeGreaterThan(0);
    for (const w of workers) expect(uidOf(w), `worker ${w}`).not.toBe(0);
    // The runtime API still answers through the master-bound socket (lbStatus reads `show stat`).
    const s = await lbStatus('safe');
    expect(s.entries[0]?.servers[0]?.state).toMatch(/^UP/);
  }, 60_000);

  it('refuses privileged, a hostPath of /var/run/docker.sock, hostNetwork and an added SYS_ADMIN under Baseline with field paths; an admitted container drops ALL and gets the profile set', async () => {
    const base = webService('caps', 1, image);
    const withSecurity = (yaml: string): string => yaml.replace('      resources:', '      securityContext: { capabilities: { add: [NET_BIND_SERVICE] } }\n      resources:');
    const refused = await g.apply(
      base
        .replace('name: caps', 'name: bad-caps')
        .replace('      resources:', '      securityContext: { privileged: true, capabilities: { add: [SYS_ADMIN] } }\n      volumeMounts: [{ name: sock, mountPath: /var/run/docker.sock }]\n      resources:')
        .concat('  hostNetwork: true\n  volumes:\n    - { name: sock, hostPath: { path: /var/run/docker.sock } }\n'),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('is not allowed in namespace "default" (admission profile baseline): 4 problems');
    for (const path of ['spec.hostNetwork', 'spec.volumes[0].hostPath', 'spec.containers[0].securityContext.privileged', 'spec.containers[0].securityContext.capabilities.add[0]']) {
      expect(refused.stderr).toContain(path);
    }
    expect(refused.stderr).toContain('SYS_ADMIN is not allowed');

    expect((await g.apply(withSecurity(base))).code).toBe(0);
    const inst = await waitFor('caps to run', async () => (await instancesOf(g, 'caps')).find((i) => i.status?.phase === 'Running'), 90_000);
    const id = inst.status!.containers[0]!.containerId!;
    const [info] = JSON.parse(await docker('inspect', id)) as { HostConfig: { CapDrop: string[] | null; CapAdd: string[] | null; Privileged: boolean; SecurityOpt: string[] | null } }[];
    const bare = (caps: string[] | null): string[] => (caps ?? []).map((c) => c.replace(/^CAP_/, '')).sort();
    expect(bare(info!.HostConfig.CapDrop)).toEqual(['ALL']);
    expect(bare(info!.HostConfig.CapAdd)).toEqual(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
    expect(info!.HostConfig.Privileged).toBe(false);
    expect(info!.HostConfig.SecurityOpt).toContain('no-new-privileges');
    // The kernel agrees: no NET_RAW (bit 13) and no SYS_ADMIN (bit 21) in the bounding set of the container's process.
    const capBnd = /CapBnd:\s+([0-9a-f]+)/.exec(await docker('exec', id, 'cat', '/proc/1/status'))?.[1];
    const bits = BigInt(`0x${capBnd ?? '0'}`);
    expect(bits & (1n << 13n)).toBe(0n);
    expect(bits & (1n << 21n)).toBe(0n);
    expect(bits & (1n << 10n)).not.toBe(0n); // NET_BIND_SERVICE
    expect((await g.cli(['delete', 'service', 'caps'])).code).toBe(0);
  }, 180_000);

  it('refuses an apply or a scale past a namespace quota, naming the quota, the use and the ask; describe namespace shows use against quota', async () => {
    const ns = 'apiVersion: gantry/v1\nkind: Namespace\nmetadata:\n  name: quota-a\nspec:\n  quota: { instances: 3, cpu: "1", services: 2 }\n';
    expect((await g.apply(ns)).code).toBe(0);
    const svc = (name: string, replicas: number): string => webService(name, replicas, image).replace(`name: ${name}\n`, `name: ${name}\n  namespace: quota-a\n`);
    expect((await g.apply(svc('qa', 2))).code).toBe(0);
    const over = await g.apply(svc('qb', 2));
    expect(over.code).not.toBe(0);
    expect(over.stderr).toContain('service "qb" would exceed the quota of namespace "quota-a": quota instances exceeded: 2 used, 2 asked, 3 allowed');
    const scale = await g.cli(['scale', 'service', 'qa', '--replicas', '4', '-n', 'quota-a']);
    expect(scale.code).not.toBe(0);
    expect(scale.stderr).toContain('quota instances exceeded: 0 used, 4 asked, 3 allowed');
    expect((await g.cli(['scale', 'service', 'qa', '--replicas', '3', '-n', 'quota-a'])).code).toBe(0);
    const describe = await g.cli(['describe', 'namespace', 'quota-a']);
    expect(describe.code).toBe(0);
    expect(describe.stdout).toContain('Admission profile:  baseline');
    expect(describe.stdout).toMatch(/instances\s+3\s+3\n/);
    expect(describe.stdout).toMatch(/cpu\s+150m\s+1\n/);
    expect(describe.stdout).toMatch(/services\s+1\s+2\n/);
    expect((await g.cli(['delete', 'service', 'qa', '-n', 'quota-a'])).code).toBe(0);
  }, 120_000);
});
