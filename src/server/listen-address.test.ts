import { describe, expect, it } from 'vitest';
import { assertPlainHttpAllowed, isLoopbackHost, parseListen, urlOf } from './listen-address.js';

describe('parseListen', () => {
  it('reads host:port, :port and [v6]:port', () => {
    expect(parseListen('127.0.0.1:7070')).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(parseListen(':0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('[::1]:7070')).toEqual({ host: '::1', port: 7070 });
    expect(urlOf('::1', 7070)).toBe('https://[::1]:7070');
    expect(urlOf('127.0.0.1', 7070, 'http')).toBe('http://127.0.0.1:7070');
  });

  it('reaches a wildcard listen address on loopback', () => {
    expect(urlOf('0.0.0.0', 7070)).toBe('https://127.0.0.1:7070');
    expect(urlOf('::', 7070)).toBe('https://[::1]:7070');
  });

  it('names the option and the expected shape when wrong', () => {
    expect(() => parseListen('7070')).toThrow('--listen must be host:port like 127.0.0.1:7070, not "7070"');
    expect(() => parseListen('h:70000')).toThrow('--listen must be host:port');
  });
});

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.0.0.2', '127.255.0.9', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST', 'api.localhost'])('%s is loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '10.0.0.1', '192.168.1.5', '128.0.0.1', '::ffff:10.0.0.1', 'fe80::1', 'example.com', 'localhost.example.com', '1.127.0.0'])('%s is not', (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('assertPlainHttpAllowed', () => {
  it('lets plain HTTP through on loopback, and elsewhere only with --insecure', () => {
    expect(() => assertPlainHttpAllowed('127.0.0.1', 7070, false)).not.toThrow();
    expect(() => assertPlainHttpAllowed('0.0.0.0', 7070, true)).not.toThrow();
    expect(() => assertPlainHttpAllowed('0.0.0.0', 7070, false)).toThrow('refusing to serve the API without TLS on 0.0.0.0:7070, which is not a loopback address');
    expect(() => assertPlainHttpAllowed('::', 7070, false)).toThrow('on [::]:7070');
    expect(() => assertPlainHttpAllowed('10.1.2.3', 7070, false)).toThrow(/--insecure/);
  });
});
