// The DNS server on real sockets (127.0.0.1, port 0), answering from a Catalog over a real
// in-memory store: node:dns's Resolver for well-formed queries, raw bytes for the rest.
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aStore, quietLogger } from '../controllers/shared/test-builders.js';
import type { GantryNode, Instance, InstanceStatus } from '../core/index.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { Catalog } from './catalog.js';
import { DnsServer, parseDnsListen } from './dns-server.js';
import { aNode, anInstance } from '../core/test-builders.js';

/** dns-packet decodes the rcode, but its types do not list it. */
const decode = (b: Buffer): DecodedPacket & { rcode: string } => dnsPacket.decode(b) as DecodedPacket & { rcode: string };

const running = (hostPorts: Record<string, number>, hostIP: string, ready = true): InstanceStatus => ({
  phase: 'Running',
  ready,
  hostIP,
  containers: [{ name: 'main', state: 'running', restartCount: 0, hostPorts }],
});

function served(name: string, hostPort: number, o: { ready?: boolean; ip?: string; service?: string } = {}): ReturnType<typeof anInstance> {
  const i = anInstance(name, { node: 'n1', service: o.service ?? 'web', status: running({ http: hostPort, admin: hostPort + 1000 }, o.ip ?? '127.0.0.1', o.ready) });
  const ports = [
    { name: 'http', containerPort: 80, protocol: 'tcp' as const },
    { name: 'admin', containerPort: 81, protocol: 'tcp' as const },
  ];
  return { ...i, spec: { ...i.spec, containers: [{ name: 'main', image: 'busybox:1.36', ports }] } };
}

let store: SqliteStore;
let stop: AbortController;
let catalog: Catalog;
let server: DnsServer;
let resolver: Resolver;
let port: number;

beforeEach(async () => {
  store = aStore();
  stop = new AbortController();
  catalog = new Catalog({ store, logger: quietLogger() });
  void catalog.run(stop.signal);
  await catalog.synced;
  server = new DnsServer({ catalog, logger: quietLogger(), ttl: 1 });
  await server.listen([{ host: '127.0.0.1', port: 0 }]);
  port = server.addresses[0]!.port;
  resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
});

afterEach(async () => {
  await server.close();
  stop.abort();
  await store.close();
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

function udpExchange(msg: Buffer, waitMs = 500): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, waitMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(msg, port, '127.0.0.1', (err) => err && reject(err));
  });
}

/** Sends raw bytes over TCP; resolves with every framed answer received before the server closes or `waitMs` passes. */
function tcpExchange(bytes: Buffer, waitMs = 500, expected = Infinity): Promise<DecodedPacket[]> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const out: DecodedPacket[] = [];
    const finish = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(out);
    };
    const timer = setTimeout(finish, waitMs);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length >= expected) finish();
    });
    sock.on('close', finish);
    sock.on('error', finish);
    // Two writes split inside a message: the server must reassemble frames.
    const cut = Math.min(5, bytes.length);
    sock.write(bytes.subarray(0, cut));
    setTimeout(() => sock.write(bytes.subarray(cut)), 5);
  });
}

const query = (name: string, type: 'A' | 'SRV' | 'AAAA' | 'SOA' = 'A', id = 42): Buffer =>
  dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });

const framed = (msg: Buffer): Buffer => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);

async function threeReady(): Promise<void> {
  await store.create<GantryNode>(aNode('n1'));
  await store.create<Instance>(served('web-a', 20001));
  await store.create<Instance>(served('web-b', 20002));
  await store.create<Instance>(served('web-c', 20003, { ip: '127.0.0.2' }));
  await store.create<Instance>(served('web-d', 20004, { ready: false }));
  await until(() => catalog.get('default', 'web').endpoints.length === 6);
}

describe('DnsServer', () => {
  it('answers A with the distinct addresses of ready endpoints', async () => {
    await threeReady();
    expect((await resolver.resolve4('web.default.gantry')).sort()).toEqual(['127.0.0.1', '127.0.0.2']);
    expect((await resolver.resolve4('WEB.Default.gantry.', { ttl: true })).map((r) => r.ttl)).toEqual([1, 1]);
    expect(await resolver.resolve4('web-c.web.default.gantry')).toEqual(['127.0.0.2']);
  });

  it('answers SRV with one record per ready endpoint of the named port, targets in the additional section', async () => {
    await threeReady();
    const srv = await resolver.resolveSrv('_http._tcp.web.default.gantry');
    expect(srv.map((r) => [r.name, r.port, r.priority, r.weight]).sort()).toEqual([
      ['web-a.web.default.gantry', 20001, 0, 1],
      ['web-b.web.default.gantry', 20002, 0, 1],
      ['web-c.web.default.gantry', 20003, 0, 1],
    ]);
    expect((await resolver.resolveSrv('_admin._tcp.web.default.gantry')).map((r) => r.port).sort()).toEqual([21001, 21002, 21003]);
    const raw = decode((await udpExchange(query('_http._tcp.web.default.gantry', 'SRV')))!);
    expect(raw.flag_aa).toBe(true);
    expect((raw.additionals ?? []).map((a) => [a.name, a.type, 'data' in a ? a.data : undefined]).sort()).toEqual([
      ['web-a.web.default.gantry', 'A', '127.0.0.1'],
      ['web-b.web.default.gantry', 'A', '127.0.0.1'],
      ['web-c.web.default.gantry', 'A', '127.0.0.2'],
    ]);
  });

  it('follows the catalog with no caching: the first answer after a change matches it', async () => {
    await threeReady();
    const b = (await store.get('Instance', 'default', 'web-c'))!;
    await store.update<Instance>({ ...b, status: running({ http: 20003, admin: 21003 }, '127.0.0.2', false) });
    await until(() => catalog.get('default', 'web').endpoints.length === 4);
    expect(await resolver.resolve4('web.default.gantry')).toEqual(['127.0.0.1']);
    expect((await resolver.resolveSrv('_http._tcp.web.default.gantry')).length).toBe(2);
  });

  it('NXDOMAIN with an SOA for unknown names in the zone, NODATA for known names, REFUSED outside', async () => {
    await threeReady();
    for (const name of ['nope.default.gantry', '_http._tcp.nope.default.gantry', '_nope._tcp.web.default.gantry', 'x.y.z.w.v.gantry', 'web-d.web.default.gantry']) {
      const r = decode((await udpExchange(query(name)))!);
      expect([name, r.rcode]).toEqual([name, 'NXDOMAIN']);
      expect(r.authorities?.[0]?.type).toBe('SOA');
    }
    const nodata = decode((await udpExchange(query('web.default.gantry', 'AAAA')))!);
    expect([nodata.rcode, nodata.answers?.length, nodata.authorities?.[0]?.type]).toEqual(['NOERROR', 0, 'SOA']);
    const soa = decode((await udpExchange(query('gantry', 'SOA')))!);
    expect(soa.answers?.[0]?.type).toBe('SOA');
    const outside = decode((await udpExchange(query('example.com')))!);
    expect(outside.rcode).toBe('REFUSED');
    await expect(resolver.resolve4('nope.default.gantry')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('answers over TCP, several framed queries on one connection, split across writes', async () => {
    await threeReady();
    const both = Buffer.concat([framed(query('web.default.gantry', 'A', 1)), framed(query('_http._tcp.web.default.gantry', 'SRV', 2))]);
    const answers = await tcpExchange(both, 2000, 2);
    expect(answers.map((a) => [a.id, a.answers?.length])).toEqual([
      [1, 2],
      [2, 3],
    ]);
  });

  it('truncates an answer too big for a UDP datagram; TCP carries it whole', async () => {
    await store.create<GantryNode>(aNode('n1'));
    for (let k = 0; k < 60; k++) await store.create<Instance>(served(`big-${k}`, 20000 + k, { service: 'big', ip: `127.0.1.${k}` }));
    await until(() => catalog.get('default', 'big').endpoints.length === 120);
    const udp = await udpExchange(query('big.default.gantry'));
    const partial = decode(udp!);
    expect(partial.flag_tc).toBe(true);
    expect(udp!.length).toBeLessThanOrEqual(512);
    // As many of the 60 addresses as fit in 512 bytes; the rest come over TCP.
    expect(partial.answers!.length).toBeGreaterThan(5);
    expect(partial.answers!.length).toBeLessThan(60);
    const [tcp] = await tcpExchange(framed(query('big.default.gantry')), 2000, 1);
    expect(tcp?.answers?.length).toBe(60);
    expect((await resolver.resolve4('big.default.gantry')).length).toBe(60);
  });

  it('keeps a TCP answer within the 2-byte frame even for a service with thousands of endpoints', { timeout: 30_000 }, async () => {
    await store.create<GantryNode>(aNode('n1'));
    const many = Array.from({ length: 1500 }, (_, k) => served(`huge-${k}`, 20000 + (k % 9000), { service: 'huge' }));
    await store.txn(many.map((i) => ({ op: 'create' as const, object: i })));
    await until(() => catalog.get('default', 'huge').endpoints.length === 3000);
    const [tcp] = await tcpExchange(framed(query('_http._tcp.huge.default.gantry', 'SRV')), 5000, 1);
    expect(tcp?.flag_tc).toBe(true);
    expect(tcp!.answers!.length).toBeGreaterThan(500);
    expect(await resolver.resolve4('web.default.gantry').catch(() => 'still answering')).toBeDefined();
  });

  it('FORMERR or silence for malformed UDP packets, and the next query is answered', async () => {
    await threeReady();
    expect(await udpExchange(Buffer.from([1, 2, 3]), 200)).toBeUndefined();
    const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff]);
    const r = decode((await udpExchange(header))!);
    expect([r.id, r.rcode]).toEqual([0x1234, 'FORMERR']);
    const twoQuestions = dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'A', name: 'web.default.gantry' }, { type: 'A', name: 'x.default.gantry' }] });
    expect(decode((await udpExchange(twoQuestions))!).rcode).toBe('FORMERR');
    expect(await resolver.resolve4('web.default.gantry')).toHaveLength(2);
  });

  it('survives random bytes over UDP and TCP sockets (fuzz), and still answers', { timeout: 60_000 }, async () => {
    await threeReady();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean(), async (bytes, asQuery) => {
        const msg = Buffer.from(bytes);
        // Half the cases look like a query header, so decoding gets past the first bytes.
        if (asQuery && msg.length >= 4) msg[2] = msg[2]! & 0x7f;
        const reply = await udpExchange(msg, 50);
        if (reply) expect(() => decode(reply)).not.toThrow();
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), async (bytes) => {
        const msg = Buffer.from(bytes);
        await tcpExchange(Buffer.concat([framed(msg), msg]), 30);
      }),
      { numRuns: 60 },
    );
    expect(await resolver.resolve4('web.default.gantry')).toHaveLength(2);
    expect((await tcpExchange(framed(query('web.default.gantry')), 2000, 1))[0]?.answers).toHaveLength(2);
  });
});

describe('parseDnsListen', () => {
  it('takes one or more host:port, or off', () => {
    expect(parseDnsListen('127.0.0.1:8600,172.17.0.1:53')).toEqual([
      { host: '127.0.0.1', port: 8600 },
      { host: '172.17.0.1', port: 53 },
    ]);
    expect(parseDnsListen('[::1]:8600')).toEqual([{ host: '::1', port: 8600 }]);
    expect(parseDnsListen('off')).toEqual([]);
    expect(() => parseDnsListen('8600')).toThrow(/--dns-listen must be host:port/);
  });
});
