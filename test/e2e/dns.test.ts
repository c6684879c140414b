// Discovery against real dockerd: the endpoints API and Gantry's DNS carry exactly the ready
// instances and follow readiness; a malformed DNS packet harms nothing; containers get their host
// ports and DNS settings. All traffic goes to 127.0.0.1 (no query is ever sent to 172.x).
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../src/core/index.js';
import type { EndpointSet } from '../../src/discovery/endpoint.js';
import { docker } from '../support/docker-cli.js';
import { GantryProcesses } from '../support/gantry-process.js';
import { httpGet, instancesOf } from '../support/instances.js';
import { ensureTestImage } from '../support/test-image.js';
import { waitFor } from '../support/wait.js';

/**
 * Ready while /tmp/ready exists: a test removes it with docker exec to make an instance not ready;
 * Gantry then restarts the container, whose command creates the file again (ready again).
 * The page names the instance.
 */
const service = (image: string): string => `apiVersion: gantry/v1
kind: Service
metadata: { name: dnsweb }
spec:
  replicas: 3
  containers:
    - name: web
      image: ${image}
      command: ["/bin/sh", "-c", "touch /tmp/ready && mkdir -p /www && echo \\"$GANTRY_INSTANCE\\" > /www/index.html && exec httpd -f -p 8080 -h /www"]
      resources: { cpu: 0.05, memory: 16Mi }
      ports:
        - { name: http, containerPort: 8080 }
      healthCheck:
        exec: { command: ["test", "-f", "/tmp/ready"] }
        interval: 1s
        timeout: 5s
        retries: 2
`;

describe('discovery: endpoints, DNS and the container environment', () => {
  let g: GantryProcesses;
  let image: string;
  let resolver: Resolver;
  let dnsPort: number;

  beforeAll(async () => {
    image = await ensureTestImage();
    g = await GantryProcesses.create();
    // 172.17.0.1 only ends up in the containers' resolv.conf; nothing in them resolves names.
    await g.up(['--dns-listen', '127.0.0.1:0', '--dns-for-containers', '172.17.0.1']);
    dnsPort = g.dnsPort();
    resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
    expect((await g.apply(service(image))).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await g?.close();
  });

  async function running(): Promise<Instance[]> {
    return waitFor('3 running dnsweb containers', async () => {
      const l = await instancesOf(g, 'dnsweb');
      return l.length === 3 && l.every((i) => i.status?.containers[0]?.state === 'running' && i.status.containers[0].containerId) ? l : undefined;
    });
  }

  async function endpoints(): Promise<EndpointSet> {
    const r = await g.fetch(`${g.url}/api/v1/namespaces/default/endpoints/dnsweb`, { headers: { authorization: `Bearer ${g.token}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as EndpointSet;
  }

  /** Waits until the API shows exactly `names` as endpoints; returns that set. */
  async function apiShows(names: string[]): Promise<EndpointSet> {
    const want = [...names].sort().join(',');
    return waitFor(`the endpoints API to show ${want || 'no endpoints'}`, async () => {
      const set = await endpoints();
      return set.endpoints.map((e) => e.instance).sort().join(',') === want ? set : undefined;
    }, 60_000, 50);
  }

  /** The DNS answer right after the API showed the change: it must already match. */
  async function expectDnsMatches(set: EndpointSet): Promise<void> {
    const srv = await resolver.resolveSrv('_http._tcp.dnsweb.default.gantry').catch((e: { code?: string }) => {
      if (e.code === 'ENOTFOUND') return [];
      throw e;
    });
    expect(srv.map((r) => `${r.name}:${r.port}`).sort()).toEqual(set.endpoints.map((e) => `${e.instance}.dnsweb.default.gantry:${e.hostPort}`).sort());
    if (set.endpoints.length === 0) {
      await expect(resolver.resolve4('dnsweb.default.gantry')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    } else {
      expect(await resolver.resolve4('dnsweb.default.gantry')).toEqual(['127.0.0.1']);
    }
  }

  const markNotReady = (i: Instance): Promise<string> => docker('exec', i.status!.containers[0]!.containerId!, 'rm', '-f', '/tmp/ready');

  it('A and SRV answers carry exactly the ready endpoints and follow readiness both ways', async () => {
    const names = (await running()).map((i) => i.metadata.name);
    const [a, b, c] = names;
    const all = await apiShows(names);
    await expectDnsMatches(all);
    // The SRV targets resolve to the instance's node address.
    expect(await resolver.resolve4(`${a!}.dnsweb.default.gantry`)).toEqual(['127.0.0.1']);

    const before = (await instancesOf(g, 'dnsweb')).find((i) => i.metadata.name === b)!;
    await markNotReady(before);
    await expectDnsMatches(await apiShows([a!, c!]));
    await expect(resolver.resolve4(`${b!}.dnsweb.default.gantry`)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    // Restarted for failing its checks, it creates the file again and turns ready.
    await expectDnsMatches(await apiShows(names));

    const cli = await g.cli(['endpoints', 'dnsweb']);
    expect(cli.code).toBe(0);
    expect(cli.stdout.split('\n')[0]).toMatch(/^INSTANCE +NODE +ADDRESS +PORT +HOST-PORT +HEALTH$/);
    expect(cli.stdout.trim().split('\n')).toHaveLength(4);
  }, 120_000);

  it('a malformed DNS packet (UDP and TCP) crashes nothing, and the next query is answered', async () => {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve, reject) => udp.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2]), dnsPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve, reject) => udp.send(Buffer.from('0000010000010000000000000f', 'hex'), dnsPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    udp.close();
    await new Promise<void>((resolve) => {
      const s = connect(dnsPort, '127.0.0.1', () => s.end(Buffer.from([0x00, 0x05, 1, 2, 3, 4, 5])));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      s.resume();
    });
    expect((await resolver.resolveSrv('_http._tcp.dnsweb.default.gantry')).length).toBeGreaterThan(0);
    expect((await g.fetch(`${g.url}/healthz`)).ok).toBe(true);
  });

  it('containers carry GANTRY_PORT_<NAME>, GANTRY_HOST_IP and the rest, answer on that host port, and get Gantry as name server', async () => {
    const [first] = await running();
    const id = first!.status!.containers[0]!.containerId!;
    const env = Object.fromEntries((await docker('exec', id, 'env')).split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const hostPort = first!.status!.containers[0]!.hostPorts.http!;
    expect(env).toMatchObject({
      GANTRY_PORT_HTTP: String(hostPort),
      GANTRY_HOST_IP: '127.0.0.1',
      GANTRY_INSTANCE: first!.metadata.name,
      GANTRY_SERVICE: 'dnsweb',
      GANTRY_NAMESPACE: 'default',
    });
    // Picked by the agent from --port-range (default 20000-29999), not from the ephemeral range.
    expect(hostPort).toBeGreaterThanOrEqual(20000);
    expect(hostPort).toBeLessThanOrEqual(29999);
    expect((await httpGet(`http://127.0.0.1:${env.GANTRY_PORT_HTTP}/`)).trim()).toBe(first!.metadata.name);

    const resolv = await docker('exec', id, 'cat', '/etc/resolv.conf');
    expect(resolv).toMatch(/^nameserver 172\.17\.0\.1$/m);
    expect(resolv).toMatch(/^search default\.gantry$/m);
    const [info] = JSON.parse(await docker('inspect', id)) as { HostConfig: { Dns: string[]; DnsSearch: string[] }; Config: { Hostname: string } }[];
    expect([info?.HostConfig.Dns, info?.HostConfig.DnsSearch, info?.Config.Hostname]).toEqual([['172.17.0.1'], ['default.gantry'], first!.metadata.name]);
  });

  it('an instance whose container is removed behind its back gets a new one with the same host port, hostname and DNS settings', async () => {
    const [first] = await running();
    const before = first!.status!.containers[0]!;
    expect(before.hostPorts.http).toBeDefined();
    await docker('rm', '-f', before.containerId!);
    await waitFor('the instance to get a new container', async () => {
      const i = (await instancesOf(g, 'dnsweb')).find((x) => x.metadata.name === first!.metadata.name);
      const c = i?.status?.containers[0];
      return c?.containerId && c.containerId !== before.containerId && c.state === 'running' ? c : undefined;
    });
    await waitFor('the restarted instance to publish its port again', async () => {
      const i = (await instancesOf(g, 'dnsweb')).find((x) => x.metadata.name === first!.metadata.name);
      return i?.status?.ready === true && i.status.containers[0]?.hostPorts.http ? i : undefined;
    });
    const i = (await instancesOf(g, 'dnsweb')).find((x) => x.metadata.name === first!.metadata.name)!;
    expect(i.status!.containers[0]!.hostPorts.http).toBe(before.hostPorts.http);
    const id = i.status!.containers[0]!.containerId!;
    expect(await docker('exec', id, 'hostname')).toBe(first!.metadata.name);
    expect((await docker('exec', id, 'env')).split('\n')).toContain(`GANTRY_PORT_HTTP=${before.hostPorts.http}`);
    expect(await docker('exec', id, 'cat', '/etc/resolv.conf')).toMatch(/^nameserver 172\.17\.0\.1$/m);
  }, 90_000);
});
