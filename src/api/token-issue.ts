// Making a credential: a random id and secret, the Token object that stores only the secret's
// hash, and the token string that is shown once. The token routes (people's tokens) and joins
// (node credentials, join tokens) both make theirs here.
import { randomBytes, randomInt } from 'node:crypto';
import { API_VERSION, formatToken, type Manifest, type Token, type TokenSpec } from '../core/index.js';
import { secretHash } from './auth.js';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A token id: 10 random lower-case letters and digits (about 51 bits; ids are not secret). */
export function newTokenId(): string {
  let id = '';
  for (let i = 0; i < 10; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export interface IssuedToken {
  /** The token string: shown to its holder once, never stored. */
  token: string;
  /** The Token object to store (named by the id; spec.secretHash, never the secret). */
  manifest: Manifest<Token>;
}

/**
 * A new credential. `spec` is everything but the hash; `caFingerprint` is required for join
 * tokens (the agent checks the server's CA against it before it sends the secret).
 */
export function issueToken(spec: Omit<TokenSpec, 'secretHash'>, opts: { caFingerprint?: string; labels?: Record<string, string> } = {}): IssuedToken {
  const id = newTokenId();
  const secret = randomBytes(32).toString('hex');
  const token = formatToken({ type: spec.type, id, secret, ...(opts.caFingerprint !== undefined ? { caFingerprint: opts.caFingerprint } : {}) });
  const manifest: Manifest<Token> = {
    apiVersion: API_VERSION,
    kind: 'Token',
    metadata: { name: id, generation: 1, ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: { ...spec, secretHash: secretHash(secret) },
    status: {},
  };
  return { token, manifest };
}
