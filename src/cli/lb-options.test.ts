import { describe, expect, it } from 'vitest';
import { lbLine, parseLbFlags } from './lb-options.js';

describe('load balancer flags', () => {
  it('gantry up runs it by default on 127.0.0.1 with the shared HTTP port 8080; --no-lb turns it off', () => {
    expect(parseLbFlags({ lb: true }, true)).toEqual({ address: '127.0.0.1', httpPort: 8080 });
    expect(parseLbFlags({ lb: true, lbHttpPort: '18080', lbAddress: '10.0.0.5' }, true)).toEqual({ address: '10.0.0.5', httpPort: 18080 });
    expect(parseLbFlags({ lb: false }, true)).toBeUndefined();
  });

  it('gantry server runs it only when asked, with a shared HTTP port only when given one', () => {
    expect(parseLbFlags({}, false)).toBeUndefined();
    expect(parseLbFlags({ lb: true }, false)).toEqual({ address: '127.0.0.1', httpPort: undefined });
    expect(parseLbFlags({ lbHttpPort: '8081' }, false)).toEqual({ address: '127.0.0.1', httpPort: 8081 });
  });

  it('names the flag and what fits when a value is wrong', () => {
    expect(() => parseLbFlags({ lbHttpPort: '80x' }, true)).toThrow(/--lb-http-port must be a port number from 1 to 65535, like 8080; not "80x"/);
    expect(() => parseLbFlags({ lbHttpPort: '70000' }, true)).toThrow(/--lb-http-port/);
    expect(() => parseLbFlags({ lbAddress: 'localhost' }, true)).toThrow(/--lb-address must be an IP address/);
  });

  it('says where the load balancer is, or why it is off', () => {
    expect(lbLine({ address: '127.0.0.1', httpPort: 8080 })).toBe('HAProxy on 127.0.0.1 (host routing on http://127.0.0.1:8080; services ask with spec.expose)');
    expect(lbLine({ address: '127.0.0.1', offReason: 'haproxy is not installed' })).toBe('off: haproxy is not installed');
    expect(lbLine(undefined)).toBe('off (--no-lb)');
  });
});
