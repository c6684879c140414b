import { describe, expect, it } from 'vitest';
import { parseDnsListen } from '../server/index.js';
import { containerDnsProblem, parseContainerDns, parseDnsTtl } from './discovery-options.js';

describe('discovery options', () => {
  it('--dns-for-containers takes IP addresses only (resolv.conf has no port)', () => {
    expect(parseContainerDns(undefined)).toBeUndefined();
    expect(parseContainerDns('172.17.0.1, 1.1.1.1')).toEqual(['172.17.0.1', '1.1.1.1']);
    expect(() => parseContainerDns('172.17.0.1:53')).toThrow(/IP addresses where Gantry's DNS answers on port 53/);
  });

  it('warns when containers are pointed at an address where Gantry does not answer on port 53', () => {
    const listen = parseDnsListen('127.0.0.1:8600,172.17.0.1:53');
    expect(containerDnsProblem(['172.17.0.1'], listen)).toBeUndefined();
    expect(containerDnsProblem(['172.17.0.1'], parseDnsListen('0.0.0.0:53'))).toBeUndefined();
    expect(containerDnsProblem(undefined, parseDnsListen('off'))).toBeUndefined();
    expect(containerDnsProblem(['172.17.0.1'], parseDnsListen('127.0.0.1:8600'))).toMatch(/add 172\.17\.0\.1:53 to --dns-listen/);
  });

  it('--dns-ttl is whole seconds up to an hour', () => {
    expect(parseDnsTtl('1')).toBe(1);
    expect(parseDnsTtl('0')).toBe(0);
    expect(() => parseDnsTtl('1.5')).toThrow(/--dns-ttl/);
    expect(() => parseDnsTtl('7200')).toThrow(/--dns-ttl/);
  });
});
