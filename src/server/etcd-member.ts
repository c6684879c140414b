// Runs one etcd member the way Gantry needs it (docs/ha.md): TLS with client certificates on both
// the client and the peer port (certificates from the cluster CA), timing for two loaded cores,
// limits sized for Gantry's transactions. The tests and `gantry up --ha` start members with it;
// on real hosts the same flags go into etcd's own unit (docs/ha.md prints them).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { etcdClientOptions } from '../store/etcd-store.js';
import { issueCertificate, LOOPBACK_SANS, type CertificateAuthority } from './tls.js';

export interface EtcdMemberOptions {
  name: string;
  /** The member's directory: its data (data/), certificates (tls/) and log (etcd.log). */
  dir: string;
  /** Loopback or host address the member listens on (default 127.0.0.1). */
  host?: string | undefined;
  clientPort: number;
  peerPort: number;
  /** Every member of the cluster, this one included: name -> peer URL. Default: this one alone. */
  initialCluster?: Readonly<Record<string, string>> | undefined;
  ca: CertificateAuthority;
  /** etcd's binary (default "etcd" on PATH). */
  binary?: string | undefined;
  /** Flags after Gantry's own (a later flag wins: tests set a small --quota-backend-bytes). */
  extraArgs?: readonly string[] | undefined;
}

/** The flags Gantry runs etcd with, apart from names, addresses and files. */
export const ETCD_TUNING: readonly string[] = [
  // Two loaded cores: a 100 ms heartbeat misses under load and triggers needless elections.
  '--heartbeat-interval=250',
  '--election-timeout=2500',
  // Gantry's largest transactions: 1,000 updates (chunked controller writes) plus their events.
  '--max-txn-ops=2048',
  '--max-request-bytes=33554432',
  // 8 GiB: etcd's recommended maximum; Gantry compacts history so the live data stays far below.
  '--quota-backend-bytes=8589934592',
  '--auto-compaction-retention=0',
];

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  pid: number;
  /** PEM of a client certificate (clientAuth) the member accepts, and its key; the CA's certificate. */
  clientTls: { ca: string; cert: string; key: string };
  /** Stops the member (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  process: ChildProcess;
}

/** Starts a member and waits until it answers over TLS (timeoutMs, default 30 s). */
export async function startEtcdMember(opts: EtcdMemberOptions, timeoutMs = 30_000): Promise<EtcdMember> {
  const host = opts.host ?? '127.0.0.1';
  const clientUrl = `https://${host}:${opts.clientPort}`;
  const peerUrl = `https://${host}:${opts.peerPort}`;
  const tlsDir = join(opts.dir, 'tls');
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  const sans = [...new Set([...LOOPBACK_SANS, host])];
  const member = await issueCertificate(opts.ca, { commonName: `etcd-${opts.name}`, sans, usage: 'peer' });
  const client = await issueCertificate(opts.ca, { commonName: 'gantry-server', usage: 'client' });
  const files = { ca: join(tlsDir, 'ca.crt'), cert: join(tlsDir, 'member.crt'), key: join(tlsDir, 'member.key') };
  await writeFile(files.ca, opts.ca.certPem, { mode: 0o644 });
  await writeFile(files.cert, member.certPem, { mode: 0o644 });
  await writeFile(files.key, member.keyPem, { mode: 0o600 });
  const cluster = opts.initialCluster ?? { [opts.name]: peerUrl };
  const args = [
    `--name=${opts.name}`,
    `--data-dir=${join(opts.dir, 'data')}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${Object.entries(cluster).map(([n, u]) => `${n}=${u}`).join(',')}`,
    '--initial-cluster-state=new',
    '--initial-cluster-token=gantry',
    `--cert-file=${files.cert}`,
    `--key-file=${files.key}`,
    `--trusted-ca-file=${files.ca}`,
    '--client-cert-auth',
    `--peer-cert-file=${files.cert}`,
    `--peer-key-file=${files.key}`,
    `--peer-trusted-ca-file=${files.ca}`,
    '--peer-client-cert-auth',
    ...ETCD_TUNING,
    ...(opts.extraArgs ?? []),
  ];
  const log = await open(join(opts.dir, 'etcd.log'), 'a');
  const child = spawn(opts.binary ?? 'etcd', args, { stdio: ['ignore', log.fd, log.fd] });
  await log.close();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', () => undefined);
  const clientTls = { ca: opts.ca.certPem, cert: client.certPem, key: client.keyPem };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await waitHealthy(clientUrl, clientTls, exited, timeoutMs, join(opts.dir, 'etcd.log'));
  } catch (e) {
    await stop();
    throw e;
  }
  return { name: opts.name, clientUrl, peerUrl, pid: child.pid ?? 0, clientTls, stop, process: child };
}

async function waitHealthy(url: string, tls: { ca: string; cert: string; key: string }, exited: Promise<number | null>, timeoutMs: number, logPath: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  let last = '';
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new Error(`etcd exited with code ${gone} before it answered; see ${logPath}`);
    const client = new Etcd3(etcdClientOptions([url], tls, 2000));
    try {
      await client.maintenance.status();
      return;
    } catch (e) {
      last = (e as Error).message;
    } finally {
      client.close();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`etcd at ${url} did not answer within ${timeoutMs} ms (${last}); see ${logPath}`);
}
