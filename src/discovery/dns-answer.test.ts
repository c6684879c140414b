// DnsResponder without sockets: options, and a heavier fuzz than the socket test can afford.
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Endpoint, EndpointSet } from './endpoint.js';
import { DnsResponder, type EndpointReader } from './dns-answer.js';

function ep(instance: string, hostPort: number, address = '10.1.0.5'): Endpoint {
  return { namespace: 'prod', service: 'api', instance, node: 'n1', address, port: 'grpc', hostPort, containerPort: 9000, protocol: 'tcp', health: 'passing' };
}

function reader(endpoints: Endpoint[]): EndpointReader {
  const set: EndpointSet = { namespace: 'prod', service: 'api', revision: 5, endpoints };
  return {
    get: (ns, svc) => (ns === 'prod' && svc === 'api' ? set : { namespace: ns, service: svc, revision: 0, endpoints: [] }),
    list: (ns) => (ns === undefined || ns === 'prod' ? [set] : []),
    revision: 77,
  };
}

/** dns-packet decodes the rcode, but its types do not list it. */
const decode = (b: Buffer): DecodedPacket & { rcode: string } => dnsPacket.decode(b) as DecodedPacket & { rcode: string };

const ask = (r: DnsResponder, name: string, type: 'A' | 'SRV' | 'AAAA' = 'A') =>
  decode(r.respond(dnsPacket.encode({ type: 'query', id: 9, questions: [{ type, name, class: 'IN' }] }), 'udp')!);

describe('DnsResponder', () => {
  it('takes its zone and TTL from options, and the SOA serial from the catalog revision', () => {
    const r = new DnsResponder(reader([ep('api-1', 20001), ep('api-2', 20002, 'fd00::5')]), { zone: 'svc.local.', ttl: 5 });
    const a = ask(r, 'api.prod.svc.local');
    expect(a.answers?.map((x): unknown[] => [x.type, 'ttl' in x ? x.ttl : undefined, 'data' in x ? x.data : undefined])).toEqual([['A', 5, '10.1.0.5']]);
    expect(ask(r, 'api.prod.svc.local', 'AAAA').answers?.map((x) => ('data' in x ? x.data : undefined))).toEqual(['fd00::5']);
    expect(ask(r, 'api.prod.gantry').rcode).toBe('REFUSED');
    const nx = ask(r, 'nope.prod.svc.local');
    const soa = nx.authorities?.[0];
    expect(soa?.type === 'SOA' && soa.data.serial).toBe(77);
    expect(soa?.type === 'SOA' && soa.data.minimum).toBe(5);
  });

  it('namespaces with endpoints exist (NODATA), others do not', () => {
    const r = new DnsResponder(reader([ep('api-1', 20001)]));
    expect(ask(r, 'prod.gantry').rcode).toBe('NOERROR');
    expect(ask(r, 'dev.gantry').rcode).toBe('NXDOMAIN');
  });

  it('never throws and always answers decodable bytes for any input (fuzz)', () => {
    const r = new DnsResponder(reader([ep('api-1', 20001), ep('api-2', 20002)]));
    const names = fc.constantFrom('api.prod.gantry', '_grpc._tcp.api.prod.gantry', 'api-1.api.prod.gantry', 'gantry', 'x.gantry', 'example.org');
    const wellFormed = fc.record({ id: fc.integer({ min: 0, max: 65535 }), name: names, type: fc.constantFrom('A', 'SRV', 'AAAA', 'TXT', 'SOA') });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), wellFormed), fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 255 }), (input, at, byte) => {
        let msg: Buffer;
        if (input instanceof Uint8Array) msg = Buffer.from(input);
        else {
          // A valid query with one byte flipped somewhere.
          msg = dnsPacket.encode({ type: 'query', id: input.id, questions: [{ type: input.type, name: input.name }] });
          if (msg.length > 0) msg[at % msg.length] = byte;
        }
        for (const transport of ['udp', 'tcp'] as const) {
          const out = r.respond(msg, transport);
          if (out === undefined) continue;
          const decoded = decode(out);
          expect(decoded.type).toBe('response');
          if (transport === 'udp') expect(out.length).toBeLessThanOrEqual(4096);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
