import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasConfigBreaker, isSafeString, requireSafe, UnsafeStringError, type SafeStringKind } from './safe-strings.js';

const BREAKERS = [' ', '\t', '\n', '\r', ';', '#', '"', "'", '\\', '\u0000', '\u007f', '`'];

describe('safe strings (what may reach haproxy.cfg and the runtime API)', () => {
  it('accepts what real paths, host names and addresses look like', () => {
    for (const p of ['/', '/healthz', '/api/v1/ready?full=1&x=y', '/a-b_c.d~e/%20', '/status:live@x']) expect(isSafeString('httpPath', p)).toBe(true);
    for (const h of ['web', 'web.example.com', 'a-1.b-2.c']) expect(isSafeString('hostname', h)).toBe(true);
    for (const a of ['127.0.0.1', '10.1.2.3', '::1', 'fe80::1', '2001:db8::10', '::ffff:1.2.3.4', 'node-1.lan', 'Host1']) expect(isSafeString('address', a)).toBe(true);
  });

  it('refuses the strings a probe used to inject config lines and runtime commands', () => {
    expect(isSafeString('httpPath', '/ok\n  # injected')).toBe(false);
    expect(isSafeString('httpPath', '/ok HTTP/1.1')).toBe(false);
    expect(isSafeString('httpPath', 'ok')).toBe(false);
    expect(isSafeString('httpPath', '/a;b')).toBe(false);
    expect(isSafeString('hostname', 'web example.com')).toBe(false);
    expect(isSafeString('hostname', 'Web.example.com')).toBe(false);
    expect(isSafeString('address', '1.2.3.4;shutdown')).toBe(false);
    expect(isSafeString('address', '1.2.3.4 port 80')).toBe(false);
    expect(isSafeString('address', '')).toBe(false);
    expect(isSafeString('address', 'a'.repeat(254))).toBe(false);
    expect(isSafeString('httpPath', 42)).toBe(false);
  });

  it('property: no string that passes a pattern holds a character that breaks a config line or a command', () => {
    const kinds: SafeStringKind[] = ['httpPath', 'hostname', 'address'];
    const piece = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom(...BREAKERS), fc.constantFrom('/', 'a', '1', ':', '.', '-', '?', '='));
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.array(piece, { maxLength: 8 }), (kind, parts) => {
        const s = parts.join('');
        if (isSafeString(kind, s)) expect(hasConfigBreaker(s)).toBe(false);
      }),
      { numRuns: 1000, seed: 13 },
    );
  });

  it('requireSafe returns a fitting value and throws, naming where, for one that does not fit', () => {
    expect(requireSafe('address', '10.0.0.1', 'x')).toBe('10.0.0.1');
    expect(() => requireSafe('address', '1.2.3.4;shutdown', 'the address of web-1')).toThrow(UnsafeStringError);
    expect(() => requireSafe('address', '1.2.3.4;shutdown', 'the address of web-1')).toThrow(/the address of web-1: "1.2.3.4;shutdown" must be/);
  });

  it('hasConfigBreaker finds each breaking character', () => {
    for (const b of BREAKERS) expect(hasConfigBreaker(`a${b}b`), JSON.stringify(b)).toBe(true);
    expect(hasConfigBreaker('set')).toBe(false);
  });
});
