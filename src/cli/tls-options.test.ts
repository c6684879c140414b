import { describe, expect, it } from 'vitest';
import { parseTlsFlags } from './tls-options.js';

describe('parseTlsFlags', () => {
  it('serves HTTPS by default, with the extra names and addresses of --tls-san', () => {
    expect(parseTlsFlags({})).toEqual({ tls: { sans: [] }, insecure: false });
    expect(parseTlsFlags({ tls: true, tlsSan: 'gantry.lan, 10.0.0.5,,fd00::1,*.svc.lan' })).toEqual({ tls: { sans: ['gantry.lan', '10.0.0.5', 'fd00::1', '*.svc.lan'] }, insecure: false });
  });

  it('turns TLS off with --no-tls, and lets --insecure through only with it', () => {
    expect(parseTlsFlags({ tls: false })).toEqual({ tls: false, insecure: false });
    expect(parseTlsFlags({ tls: false, insecure: true })).toEqual({ tls: false, insecure: true });
    expect(() => parseTlsFlags({ tls: true, insecure: true })).toThrow('--insecure only allows plain HTTP on a non-loopback address: give it with --no-tls, or drop it');
    expect(() => parseTlsFlags({ tls: false, tlsSan: 'a.lan' })).toThrow(/does not go with --no-tls/);
  });

  it('refuses a SAN that is neither a DNS name nor an address', () => {
    expect(() => parseTlsFlags({ tlsSan: 'bad name' })).toThrow('--tls-san takes DNS names and IP addresses separated by commas, like gantry.lan,10.0.0.5; not "bad name"');
    expect(() => parseTlsFlags({ tlsSan: 'http://x' })).toThrow(/not "http:\/\/x"/);
  });
});
