// `gantry backup FILE` and `gantry restore FILE` (docs/operate.md, "Backups"; docs/ha.md).
// SQLite: backup copies the data dir's state.db online (the server may run); restore puts a
// backup in its place and needs the server stopped. etcd: backup is an etcd snapshot; restoring it
// is etcd's own offline step, which restore prints for each member.
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../core/index.js';
import { println, type CliContext } from './context.js';
import { globalOptions, resolveDataDir } from './global-options.js';
import { parseStoreFlags, type StoreFlags } from './server-command.js';

function storeOptions<T extends Command<[string], Record<string, unknown>>>(cmd: T) {
  return cmd
    .option('--store <backend>', 'sqlite (the data dir\'s state.db) or etcd', 'sqlite')
    .option('--etcd-endpoints <urls>', 'with --store etcd: client URLs, comma-separated')
    .option('--etcd-ca <file>', 'with --store etcd: the CA certificate of etcd')
    .option('--etcd-cert <file>', 'with --store etcd: a client certificate etcd accepts')
    .option('--etcd-key <file>', 'with --store etcd: its key')
    .option('--etcd-prefix <prefix>', 'with --store etcd: the cluster\'s key prefix', '/gantry/');
}

export function backupCommand(ctx: CliContext) {
  return storeOptions(
    new Command('backup')
      .description('copy the store to FILE while Gantry runs: state.db (SQLite online backup), or an etcd snapshot')
      .argument('<file>', 'where the backup goes (created 0600)'),
  ).action(async (file, opts, cmd) => {
    const { backupSqlite, snapshotEtcd } = await import('../server/index.js');
    const etcd = await parseStoreFlags(opts as unknown as StoreFlags);
    const r = etcd ? await snapshotEtcd(etcd, file) : await backupSqlite(join(resolveDataDir(ctx, globalOptions(cmd)), 'state.db'), file);
    println(ctx, `Backed up ${etcd ? `etcd (${etcd.endpoints[0]})` : 'state.db'} at revision ${r.revision}${r.objects !== undefined ? ` (${r.objects} objects)` : ''} to ${r.file} (${r.bytes} bytes).`);
    println(ctx, etcd ? 'Restore: gantry restore FILE --store etcd prints the steps (etcdctl snapshot restore on each member).' : 'Restore: stop the server, then gantry restore FILE.');
  });
}

export function restoreCommand(ctx: CliContext) {
  return storeOptions(
    new Command('restore')
      .description('put a backup back: SQLite with the server stopped; an etcd snapshot: prints the etcdctl steps; a SQLite file with --store etcd: moves its objects into an empty etcd')
      .argument('<file>', 'a file made by gantry backup'),
  ).action(async (file, opts, cmd) => {
    const flags = opts as unknown as StoreFlags;
    const etcd = await parseStoreFlags(flags).catch((e: unknown) => {
      // restore of etcd needs no connection, only the names: endpoints and TLS files are optional here.
      if (flags.store === 'etcd') return { endpoints: [], prefix: flags.etcdPrefix };
      throw e;
    });
    if (etcd || flags.store === 'etcd') {
      const { importSqliteIntoEtcd, inspectSqlite } = await import('../server/index.js');
      const isSqlite = (() => {
        try {
          inspectSqlite(file);
          return true;
        } catch {
          return false;
        }
      })();
      if (!isSqlite || !etcd || etcd.endpoints.length === 0) {
        println(ctx, etcdRestoreSteps(file));
        return;
      }
      // A SQLite state file into etcd: the move from one server to several (docs/ha.md).
      const r = await importSqliteIntoEtcd(file, etcd);
      println(ctx, `Imported ${r.objects} objects from ${file} into etcd under ${etcd.prefix}objects/ (etcd revision ${r.revision}; revisions start over).`);
      println(ctx, 'Start the servers with --store etcd; agents re-adopt their containers and relist. Secrets need the same secret.key as before.');
      return;
    }
    const dataDir = resolveDataDir(ctx, globalOptions(cmd));
    const { lockDataDir } = await import('../server/index.js');
    const lock = await lockDataDir(dataDir).catch((e: unknown) => {
      throw new UsageError(`${(e as Error).message}; stop the server before gantry restore (the backup replaces its state.db)`);
    });
    try {
      const { restoreSqlite } = await import('../server/index.js');
      const r = await restoreSqlite(file, join(dataDir, 'state.db'));
      println(ctx, `Restored ${r.file} (revision ${r.revision}, ${r.objects ?? 0} objects) into ${join(dataDir, 'state.db')}; revisions go on from ${r.startsAt}.${r.kept ? ` The previous state is kept as ${r.kept}.` : ''}`);
      println(ctx, 'Start the server again; agents re-adopt their containers, and watches from before the backup relist.');
    } finally {
      await lock.release();
    }
  });
}

/** What restoring an etcd snapshot takes (etcd does it offline, member by member). */
export function etcdRestoreSteps(file: string): string {
  return [
    `Restoring ${file} into etcd is etcd's own offline step (docs/ha.md, "Backups"):`,
    '  1. stop every Gantry server of the cluster, then every etcd member;',
    '  2. on each member, into a new data dir:',
    `       etcdctl snapshot restore ${file} --name <member> --data-dir <new dir> \\`,
    '         --initial-cluster <name>=https://<host>:2380,... --initial-advertise-peer-urls https://<this host>:2380',
    '  3. start each member on its new data dir (same flags as before), then the servers.',
    'Revisions continue from the snapshot; watches from later revisions relist.',
  ].join('\n');
}
