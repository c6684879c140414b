// The Authenticator on its own: the admin token, node and person tokens, and the shortcut that
// skips the admin comparison for tokens of another shape.
import { describe, expect, it } from 'vitest';
import { formatToken, isAppError, type Token } from '../core/index.js';
import { Authenticator, secretHash } from './auth.js';

const SECRET = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

function nodeToken(id: string, secret: string): Token {
  return {
    apiVersion: 'gantry/v1',
    kind: 'Token',
    metadata: { name: id, uid: 'u', revision: 1, createdAt: '2026-12-06T00:00:00.000Z' },
    spec: { type: 'node', node: 'n1', secretHash: secretHash(secret) },
  };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isAppError(e, 'UNAUTHORIZED')) return e.message;
    throw e;
  }
  return 'accepted';
}

describe('Authenticator', () => {
  const tokens = new Map([['node000001', nodeToken('node000001', SECRET)]]);
  const lookup = { get: (id: string) => tokens.get(id) };
  const nodeCredential = formatToken({ type: 'node', id: 'node000001', secret: SECRET });

  it('knows the admin token, a node token, and refuses a wrong secret or an unknown string', () => {
    const auth = new Authenticator({ adminToken: 'c'.repeat(64), tokens: lookup });
    expect(auth.authenticate('c'.repeat(64))).toEqual({ kind: 'admin', name: 'admin' });
    expect(auth.authenticate(nodeCredential)).toMatchObject({ kind: 'node', name: 'n1', tokenId: 'node000001' });
    expect(refusal(() => auth.authenticate(formatToken({ type: 'node', id: 'node000001', secret: OTHER })))).toMatch(/unknown token/);
    expect(refusal(() => auth.authenticate('d'.repeat(64)))).toMatch(/unknown token/);
  });

  it('still knows an admin token written in the shape of a node token (its digest is compared then)', () => {
    const adminLikeNode = formatToken({ type: 'node', id: 'admin00001', secret: OTHER });
    const auth = new Authenticator({ adminToken: adminLikeNode, tokens: lookup });
    expect(auth.authenticate(adminLikeNode)).toEqual({ kind: 'admin', name: 'admin' });
    expect(auth.authenticate(nodeCredential)).toMatchObject({ kind: 'node', name: 'n1' });
    expect(refusal(() => auth.authenticate(formatToken({ type: 'node', id: 'admin00001', secret: SECRET })))).toMatch(/unknown token/);
  });
});
