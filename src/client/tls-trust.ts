// How the client trusts a Gantry server over https://: the cluster's own CA (<data dir>/tls/ca.crt,
// --ca, GANTRY_CA), and what a failed handshake means in words a person can act on.
import { createHash, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';

/**
 * TLS for https:// URLs. `ca` (PEM) replaces the system's roots: a Gantry cluster's own CA is the
 * only issuer its clients need, and trusting nothing else means no public CA can stand in for the
 * server. `cert`/`key` (PEM): a client certificate, for servers that ask for one (agents ask the
 * API server for one issued by the cluster CA).
 */
export interface TlsTrust {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

/** The https options of a TlsTrust, without undefined fields (Node reads a present `ca: undefined` as none). */
export function tlsOptions(tls: TlsTrust | undefined): { ca?: string; cert?: string; key?: string } {
  return { ...(tls?.ca ? { ca: tls.ca } : {}), ...(tls?.cert ? { cert: tls.cert } : {}), ...(tls?.key ? { key: tls.key } : {}) };
}

const contexts = new WeakMap<TlsTrust, SecureContext>();

/**
 * The connection options of a TlsTrust: one SecureContext per TlsTrust object, built on first use.
 * Given `ca`, `cert` and `key` instead, Node builds a context for every connection (parsing the
 * PEMs again), and an https.Agent makes the PEM texts part of its pool key, built per request. In
 * a 5,000-node simulator that was 8% of its CPU over a server-restart run and 35% while the server
 * was down (every watch's retry built one); its event loop fell 10 s behind.
 * Verification is the same: the context holds the CA (or the system's roots without one).
 */
export function tlsConnectOptions(tls: TlsTrust | undefined): { secureContext?: SecureContext } {
  if (!tls?.ca && !tls?.cert && !tls?.key) return {};
  let context = contexts.get(tls);
  if (!context) {
    context = createSecureContext(tlsOptions(tls));
    contexts.set(tls, context);
  }
  return { secureContext: context };
}

/** Hex sha256 of a certificate's DER (lowercase, no colons): the CA fingerprint join tokens carry. */
export function certificateFingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/** OpenSSL's codes for "the server's certificate does not chain to a CA we trust". */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * What to tell a person when a TLS handshake with `url` failed, or undefined when `e` is no TLS
 * failure: an unknown issuer (give the cluster's CA), a name the certificate lacks (--tls-san), an
 * expired certificate (gantry cert renew), or a plain-HTTP server spoken to as https.
 */
export function tlsProblem(e: unknown, url: string, hadCa: boolean): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? '';
  const msg = e instanceof Error ? e.message : '';
  if (UNTRUSTED.has(code)) {
    return hadCa
      ? `the server at ${url} presented a certificate that the given CA did not issue (${code}): is this the right server, and the right CA file?`
      : `the server at ${url} presented a certificate from a CA this client does not trust (${code}): pass --ca <data dir>/tls/ca.crt (or set GANTRY_CA) with the cluster's CA certificate`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the server's certificate does not name the host of ${url}: use a name or address it has (${msg.replace(/^.*?: /, '')}), or restart the server with --tls-san <that host>`;
  }
  if (code === 'CERT_HAS_EXPIRED') return `the server's certificate at ${url} has expired: run \`gantry cert renew\` on the server and restart it`;
  if (code === 'EPROTO' && /wrong version number|packet length too long|http request/i.test(msg)) {
    return `${url} does not speak TLS: if the server runs with --no-tls, use an http:// address`;
  }
  return undefined;
}
