// An agent joining a cluster with a join token, before it has any credential: fetch the cluster CA
// without trusting it, trust it only if its sha256 equals the fingerprint in the join token (as
// `docker swarm join` and kubeadm's CA pinning do; no blind trust on first use), then join over a
// connection that trusts exactly that CA.
import { createHash, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import {
  AppError,
  fillPath,
  JOIN_ROUTES,
  parseToken,
  UnauthorizedError,
  UnavailableError,
  type JoinAnswer,
  type JoinRequest,
} from '../core/index.js';
import type { HttpTransport } from './http-transport.js';

/** Hex sha256 of a PEM certificate's DER: what a join token's fingerprint is. */
export function certificateFingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

interface RawAnswer {
  status: number;
  text: string;
}

function request(url: URL, opts: { method: string; body?: string; ca?: string; pinless?: boolean }): Promise<RawAnswer> {
  const headers: Record<string, string> = opts.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(opts.body)) };
  return new Promise((resolve, reject) => {
    const done = (res: http.IncomingMessage): void => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    };
    const req =
      url.protocol === 'https:'
        ? // Unverified only for the CA fetch, whose answer is checked against the token's fingerprint.
          https.request(url, { method: opts.method, headers, ...(opts.pinless ? { rejectUnauthorized: false } : { ca: opts.ca }) }, done)
        : http.request(url, { method: opts.method, headers }, done);
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (e) => reject(new UnavailableError(`cannot reach ${url.origin}: ${e.message}`)));
    req.end(opts.body);
  });
}

function errorOf(a: RawAnswer, what: string): AppError {
  try {
    return AppError.fromBody(a.status, JSON.parse(a.text) as unknown);
  } catch {
    return new UnavailableError(`${what} answered HTTP ${a.status}`);
  }
}

/**
 * Fetches the cluster CA from `server` and checks it against the join token's fingerprint.
 * Returns the CA (PEM); throws UnauthorizedError saying the fingerprint differs otherwise.
 */
export async function fetchPinnedCa(server: string, joinToken: string): Promise<string> {
  const parsed = parseToken(joinToken);
  if (parsed?.type !== 'join' || !parsed.caFingerprint) throw new UnauthorizedError('that is not a join token (GTJ-1-<fingerprint>-<id>_<secret>); make one with gantry token create --join');
  const url = new URL(fillPath(JOIN_ROUTES.clusterCa, {}), `${server.replace(/\/+$/, '')}/`);
  const a = await request(url, { method: 'GET', pinless: true });
  if (a.status !== 200) throw errorOf(a, `${server} (the cluster CA)`);
  let got: string;
  try {
    got = certificateFingerprint(a.text);
  } catch {
    throw new UnavailableError(`${server} answered no certificate for the cluster CA; is it a Gantry server?`);
  }
  if (got !== parsed.caFingerprint) {
    throw new UnauthorizedError(
      `the server's CA fingerprint differs from the join token's (server ${got.slice(0, 16)}..., token ${parsed.caFingerprint.slice(0, 16)}...): this is not the cluster the token was made for, or someone is in between; nothing was sent`,
    );
  }
  return a.text;
}

/**
 * Joins over a connection that trusts only `caPem`; one use of the join token. `transport`: a
 * keep-alive pool that trusts exactly that CA, shared by many joins (gantry sim's hollow nodes);
 * default one connection of its own.
 */
export async function joinCluster(server: string, caPem: string, req: JoinRequest, transport?: HttpTransport): Promise<JoinAnswer> {
  const url = new URL(JOIN_ROUTES.join.path, `${server.replace(/\/+$/, '')}/`);
  const body = JSON.stringify(req);
  const a = transport
    ? await transport.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, timeoutMs: 30_000 }).catch((e: unknown) => {
        throw new UnavailableError(`cannot reach ${url.origin}: ${e instanceof Error ? e.message : String(e)}`);
      })
    : await request(url, { method: 'POST', body, ca: caPem });
  if (a.status !== 201) throw errorOf(a, `${server} (join)`);
  return JSON.parse(a.text) as JoinAnswer;
}
