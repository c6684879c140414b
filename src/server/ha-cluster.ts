// `gantry up --ha` on one machine, for trying HA (docs/ha.md): a 3-member etcd cluster and 3
// servers on loopback ports, sharing one CA and one set of keys, each server in a data dir of its
// own. The first server uses the given data dir (the CLI finds its admin token and CA there), the
// others `<data dir>/ha/server-N` with the shared files copied in (the documented step for hosts).
// Only the first serves DNS and runs the load balancer (the ports would clash).
import { chmod, copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureClusterSecrets, ensureDataDir } from './data-dir.js';
import { startEtcdMember, type EtcdMember } from './etcd-member.js';
import { parseListen, urlOf } from './listen-address.js';
import { loadOrCreateSecretKeys } from './secret-keys.js';
import { startServer, type RunningServer, type StartServerOptions } from './server-root.js';
import { ensureClusterTls, loadCertificateAuthority } from './tls.js';

/** The files every server of one cluster needs the same copy of (docs/ha.md). */
export const SHARED_FILES: readonly { path: string; mode: number }[] = [
  { path: 'tls/ca.crt', mode: 0o644 },
  { path: 'tls/ca.key', mode: 0o600 },
  { path: 'admin.token', mode: 0o600 },
  { path: 'endpoint.key', mode: 0o600 },
  { path: 'ticket.key', mode: 0o600 },
  { path: 'cluster-id', mode: 0o600 },
  { path: 'secret.key', mode: 0o600 },
];

export interface HaClusterOptions extends Omit<StartServerOptions, 'etcd' | 'leaderLease'> {
  /** etcd's ports: member i (0-2) listens on first + 2i (clients) and first + 2i + 1 (peers). */
  etcdFirstPort: number;
}

export interface HaCluster {
  servers: RunningServer[];
  etcd: EtcdMember[];
  close(): Promise<void>;
}

export async function startHaCluster(opts: HaClusterOptions): Promise<HaCluster> {
  const { host, port } = parseListen(opts.listen);
  await ensureDataDir(opts.dataDir);
  await ensureClusterSecrets(opts.dataDir);
  await loadOrCreateSecretKeys(opts.dataDir);
  await ensureClusterTls(opts.dataDir);
  const ca = await loadCertificateAuthority(opts.dataDir);
  const haDir = join(opts.dataDir, 'ha');
  const names = ['etcd-1', 'etcd-2', 'etcd-3'];
  const peer = (i: number): string => urlOf('127.0.0.1', opts.etcdFirstPort + 2 * i + 1, 'https');
  const initialCluster = Object.fromEntries(names.map((n, i) => [n, peer(i)]));
  const etcd: EtcdMember[] = [];
  const servers: RunningServer[] = [];
  const close = async (): Promise<void> => {
    for (const s of servers.reverse()) await s.close().catch(() => undefined);
    for (const m of etcd) await m.stop();
  };
  try {
    // The members wait for each other: start all three, then wait for each.
    const started = names.map((name, i) =>
      startEtcdMember({ name, dir: join(haDir, name), clientPort: opts.etcdFirstPort + 2 * i, peerPort: opts.etcdFirstPort + 2 * i + 1, initialCluster, ca }, 60_000),
    );
    const settled = await Promise.allSettled(started);
    for (const r of settled) if (r.status === 'fulfilled') etcd.push(r.value);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const endpoints = etcd.map((m) => m.clientUrl);
    const etcdOpts = { endpoints, tls: (etcd[0] as EtcdMember).clientTls };
    for (let i = 0; i < 3; i++) {
      const dataDir = i === 0 ? opts.dataDir : join(haDir, `server-${i + 1}`);
      if (i > 0) await copyShared(opts.dataDir, dataDir);
      const listen = `${host.includes(':') ? `[${host}]` : host}:${port === 0 ? 0 : port + i}`;
      servers.push(
        await startServer({
          ...opts,
          dataDir,
          listen,
          logger: (opts.logger).child({ server: i + 1 }),
          etcd: etcdOpts,
          ...(i > 0 ? { dnsListen: [], lb: undefined } : {}),
        }),
      );
    }
    return { servers, etcd, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function copyShared(from: string, to: string): Promise<void> {
  await ensureDataDir(to);
  await mkdir(join(to, 'tls'), { recursive: true, mode: 0o700 });
  for (const f of SHARED_FILES) {
    await copyFile(join(from, f.path), join(to, f.path));
    await chmod(join(to, f.path), f.mode);
  }
}
