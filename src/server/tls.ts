// The cluster's certificate authority and the API server's certificate, kept in <data dir>/tls/:
//   ca.crt  ca.key (0600)      the cluster CA (ECDSA P-256, 10 years); clients trust ca.crt
//   server.crt  server.key (0600)  the API's serving certificate (1 year), issued by the CA
//
// Made with @peculiar/x509 over Node's WebCrypto: no subprocess (Debian's openssl would need one
// per certificate, and its config-file syntax for SANs), typed, and it builds ECDSA certificates
// with the extensions we need; node-forge would do RSA only (its ECDSA support is partial), and
// Node itself can read X.509 (crypto.X509Certificate) but not issue it. @peculiar/x509 2.x
// leaves the reflect-metadata polyfill its dependency injection needs to the caller: imported here.
//
// The same issueCertificate makes the agents' serving certificates (at join) and the server's
// client certificate for the agents' endpoints, so every certificate of a cluster chains to ca.crt.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, randomBytes, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';

// The library signs and hashes with the global WebCrypto (Node's `globalThis.crypto`, the same
// object as node:crypto's webcrypto); keys are made and read with it here too.
const subtle = webcrypto.subtle;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_DAYS = 3650;
const LEAF_DAYS = 365;
/** A server certificate closer than this to its end is re-issued at start. */
const RENEW_BEFORE_DAYS = 30;
/** Issued certificates start a little in the past: a peer whose clock lags still accepts them. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Names and addresses every server certificate carries: clients on the same host use them. */
export const LOOPBACK_SANS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  commonName: string;
  /** DNS names and IP addresses (told apart by their form). */
  sans?: readonly string[];
  /**
   * serverAuth (a listener), clientAuth (a caller that proves who it is), or both (an etcd member:
   * it listens to its peers and calls them with the same certificate).
   */
  usage: 'server' | 'client' | 'peer';
  validityDays?: number;
  now?: Date;
}

export interface ClusterTls {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Hex sha256 of the CA certificate's DER: what join tokens carry. */
  caFingerprint: string;
}

export interface ClusterTlsOptions {
  /** Extra names and addresses for the server certificate (`--tls-san`); loopback ones are always in. */
  sans?: readonly string[];
  now?: Date;
}

/** Hex sha256 of a certificate's DER (lowercase, no colons), as `openssl x509 -fingerprint -sha256` without the colons. */
export function caFingerprint(caPem: string): string {
  return createHash('sha256').update(new NodeX509(caPem).raw).digest('hex');
}

export function tlsDir(dataDir: string): string {
  return join(dataDir, 'tls');
}

/** The certificate file clients trust: `<data dir>/tls/ca.crt`. */
export function caCertPath(dataDir: string): string {
  return join(tlsDir(dataDir), 'ca.crt');
}

/**
 * The cluster's TLS material, made at first start: the CA when there is none, the server
 * certificate when there is none, when it lacks one of the asked names, or when it ends within
 * 30 days (the CA stays; clients keep trusting the same ca.crt).
 */
export async function ensureClusterTls(dataDir: string, opts: ClusterTlsOptions = {}): Promise<ClusterTls> {
  const dir = tlsDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const now = opts.now ?? new Date();
  const ca = await readOrCreateCa(dir, now);
  const sans = serverSans(opts.sans);
  let server = await readPair(dir, 'server');
  if (!server || !serverCertFits(server.certPem, ca.certPem, sans, now)) {
    server = await issueCertificate(ca, { commonName: 'gantry-server', sans, usage: 'server', now });
    await writePair(dir, 'server', server);
  }
  return { caPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem, caFingerprint: caFingerprint(ca.certPem) };
}

/**
 * `gantry cert renew`: a new server certificate (new key, a year from now) from the same CA, with
 * the names the current one has plus `sans`. The running server serves it from its next start.
 */
export async function renewServerCertificate(dataDir: string, opts: ClusterTlsOptions = {}): Promise<ClusterTls & { notAfter: Date; sans: string[] }> {
  const dir = tlsDir(dataDir);
  const ca = await readPair(dir, 'ca');
  if (!ca) throw new Error(`${dir} has no ca.crt and ca.key: start the server once to make them (or copy them from the first server)`);
  const current = await readPair(dir, 'server');
  const kept = current ? sansOf(new NodeX509(current.certPem)).map((s) => s.replace(/^(dns|ip):/, '')) : [];
  const sans = serverSans([...kept, ...(opts.sans ?? [])]);
  const server = await issueCertificate(ca, { commonName: 'gantry-server', sans, usage: 'server', ...(opts.now ? { now: opts.now } : {}) });
  await writePair(dir, 'server', server);
  return { caPem: ca.certPem, ...server, caFingerprint: caFingerprint(ca.certPem), notAfter: new Date(new NodeX509(server.certPem).validTo), sans };
}

/** The CA of a data dir (to issue agents' and the server's client certificates). */
export async function loadCertificateAuthority(dataDir: string): Promise<CertificateAuthority> {
  const ca = await readPair(tlsDir(dataDir), 'ca');
  if (!ca) throw new Error(`${tlsDir(dataDir)} has no ca.crt and ca.key`);
  return ca;
}

const EXTENDED_USAGES: Record<IssueOptions['usage'], string[]> = {
  server: [x509.ExtendedKeyUsage.serverAuth],
  client: [x509.ExtendedKeyUsage.clientAuth],
  peer: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
};

/** A new key pair and a certificate for it, signed by the CA. */
export async function issueCertificate(ca: CertificateAuthority, opts: IssueOptions): Promise<IssuedCertificate> {
  const now = opts.now ?? new Date();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importPrivateKey(ca.keyPem);
  const keys = await generateKeys();
  const sans = [...new Set(opts.sans ?? [])];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(EXTENDED_USAGES[opts.usage]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans.map(generalName)));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: [{ CN: [opts.commonName] }],
      issuer: caCert.subject,
      notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
      notAfter: new Date(now.getTime() + (opts.validityDays ?? LEAF_DAYS) * DAY_MS),
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: ALGORITHM,
      extensions,
    },
  );
  return { certPem: cert.toString('pem'), keyPem: await exportPrivateKey(keys.privateKey) };
}

/** The server certificate's names: the loopback ones, then the asked ones, without repeats. */
export function serverSans(extra: readonly string[] = []): string[] {
  return [...new Set([...LOOPBACK_SANS, ...extra.map((s) => s.trim()).filter((s) => s !== '')])];
}

async function createCa(now: Date): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: [{ CN: [`gantry-ca-${randomBytes(4).toString('hex')}`] }],
      notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
      notAfter: new Date(now.getTime() + CA_DAYS * DAY_MS),
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    },
  );
  return { certPem: cert.toString('pem'), keyPem: await exportPrivateKey(keys.privateKey) };
}

async function readOrCreateCa(dir: string, now: Date): Promise<CertificateAuthority> {
  const existing = await readPair(dir, 'ca');
  if (existing) return existing;
  const ca = await createCa(now);
  // The key first and exclusively: of two processes racing on a fresh dir, one CA wins.
  try {
    await writeFile(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const theirs = await readPair(dir, 'ca');
    if (theirs) return theirs;
    throw new Error(`${join(dir, 'ca.key')} exists without ca.crt: restore ca.crt from a backup, or delete ca.key to make a new CA (clients must then trust the new ca.crt)`);
  }
  await writeAtomically(join(dir, 'ca.crt'), ca.certPem, 0o644);
  return ca;
}

async function readPair(dir: string, name: 'ca' | 'server'): Promise<{ certPem: string; keyPem: string } | undefined> {
  const [certPem, keyPem] = await Promise.all([readIfExists(join(dir, `${name}.crt`)), readIfExists(join(dir, `${name}.key`))]);
  if (certPem === undefined && keyPem === undefined) return undefined;
  if (certPem === undefined || keyPem === undefined) {
    if (name === 'server') return undefined; // re-issued from the CA
    throw new Error(`${dir} has ${certPem === undefined ? 'ca.key but no ca.crt' : 'ca.crt but no ca.key'}: restore the missing file (both come from the first server)`);
  }
  return { certPem, keyPem };
}

async function writePair(dir: string, name: 'server', pair: IssuedCertificate): Promise<void> {
  await writeAtomically(join(dir, `${name}.key`), pair.keyPem, 0o600);
  await writeAtomically(join(dir, `${name}.crt`), pair.certPem, 0o644);
}

/** Write to a temporary file and rename: a reader never sees half a certificate. */
async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Whether a stored server certificate is from this CA, names every asked SAN and has 30 days left. */
function serverCertFits(certPem: string, caPem: string, sans: readonly string[], now: Date): boolean {
  let cert: NodeX509;
  try {
    cert = new NodeX509(certPem);
  } catch {
    return false;
  }
  if (!cert.verify(new NodeX509(caPem).publicKey)) return false;
  if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return false;
  const have = new Set(sansOf(cert));
  return sans.every((s) => have.has(isIP(s) ? `ip:${normalizeIp(s)}` : `dns:${s.toLowerCase()}`));
}

/** A certificate's SANs as `dns:name` / `ip:address` (Node prints `DNS:x, IP Address:y`). */
export function sansOf(cert: NodeX509): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s !== '')
    .map((s) => (s.startsWith('DNS:') ? `dns:${s.slice(4).toLowerCase()}` : s.startsWith('IP Address:') ? `ip:${normalizeIp(s.slice(11))}` : s));
}

function normalizeIp(ip: string): string {
  // Node prints IPv6 SANs in full form (0:0:0:0:0:0:0:1); compare the compressed form.
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

function generalName(san: string): x509.JsonGeneralName {
  return isIP(san) ? { type: 'ip', value: san } : { type: 'dns', value: san };
}

type KeyPair = webcrypto.CryptoKeyPair;

async function generateKeys(): Promise<KeyPair> {
  return subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

async function importPrivateKey(pem: string): Promise<webcrypto.CryptoKey> {
  return subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), ALGORITHM, false, ['sign']);
}

async function exportPrivateKey(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** 16 random bytes, the first below 0x80 so the DER integer stays positive. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f | 0x01;
  return bytes.toString('hex');
}
