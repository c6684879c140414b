// Scenario `store`: the SQLite store alone, in process, on a state file in a temp dir: what a
// rollout's writes cost it. --instances instances are created, bound to a node and reported
// Running (the three changes each instance of a rollout makes), in transactions of --batch
// changes in a shuffled order, as the service controller, the scheduler and the agents' status
// batches write them. Prints microseconds per change for each step, how long close() takes (it
// writes the watch history), the file's size after it, the reopen (load) time, and what a Secret
// key rotation's rebuild of the file (VACUUM) takes at that size.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instance, InstanceStatus } from '../src/core/index.js';
import { anInstance } from '../src/core/test-builders.js';
import { newSecretKey } from '../src/server/secret-keys.js';
import { SecretBox } from '../src/store/secret-box.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite-store.js';
import type { TxnOp } from '../src/store/store.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

interface Settings {
  instances: number;
  batch: number;
}

export const storeBench: Scenario = {
  name: 'store',
  description: 'the SQLite store in process: microseconds per change of a rollout (create, bind, Running), close and reopen',
  flags: {
    instances: { type: 'string', default: '100000', value: '<n>', description: 'instances written three times each' },
    batch: { type: 'string', default: '20', value: '<n>', description: 'changes per transaction' },
  },
  run: (flags, ctx) => runStoreBench({ instances: flags.int('instances', 1, 1_000_000), batch: flags.int('batch', 1, 10_000) }, ctx),
};

const running = (node: string, k: number): InstanceStatus => ({
  phase: 'Running',
  ready: true,
  node,
  hostIP: '127.0.0.1',
  containers: [{ name: 'main', containerId: `fake-${node}-${k}`, state: 'running', restartCount: 0, hostPorts: {}, startedAt: new Date().toISOString() }],
  startedAt: new Date().toISOString(),
});

/** A fixed shuffle (the same every run): writes land all over the tables, as a rollout's do. */
function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let seed = 42;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

async function fileBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(join(dir, f))).size;
  return total;
}

async function runStoreBench(s: Settings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-bench-store-'));
  const path = join(dir, 'state.db');
  let store: SqliteStore | undefined = openSqliteStore(path);
  try {
    const names = Array.from({ length: s.instances }, (_, k) => `svc-${k % 1000}-${k.toString(36).padStart(5, '0')}`);
    const stored: Instance[] = new Array<Instance>(s.instances);
    const order = shuffled(s.instances);
    const steps: { name: string; usPerChange: number; points: [number, number][] }[] = [];
    const step = async (name: string, op: (k: number) => TxnOp, keep: boolean): Promise<void> => {
      const points: [number, number][] = [];
      // A point every 5% of the step: microseconds per change over that stretch.
      const every = Math.max(s.batch, Math.ceil(s.instances / 20));
      const t0 = performance.now();
      let mark = t0;
      let done = 0;
      let markDone = 0;
      for (let i = 0; i < s.instances; i += s.batch) {
        ctx.signal.throwIfAborted();
        const ks = order.slice(i, i + s.batch);
        const results = await (store as SqliteStore).txn(ks.map(op));
        if (keep) ks.forEach((k, j) => (stored[k] = results[j]?.object as Instance));
        done += ks.length;
        if (done - markDone >= every || done === s.instances) {
          const now = performance.now();
          points.push([done, ((now - mark) * 1000) / (done - markDone)]);
          mark = now;
          markDone = done;
        }
      }
      steps.push({ name, usPerChange: Math.round(((performance.now() - t0) * 1000) / s.instances * 10) / 10, points });
    };
    await step('create', (k) => ({ op: 'create', object: anInstance(names[k], { service: `svc-${k % 1000}` }) }), true);
    await step('bind', (k) => ({ op: 'update', object: { ...(stored[k] as Instance), spec: { ...(stored[k] as Instance).spec, node: `node-${k % 5000}` } } }), true);
    await step('running', (k) => ({ op: 'update', object: { ...(stored[k] as Instance), status: running(`node-${k % 5000}`, k) } }), false);
    const historyBytes = store.historyBytes;
    const closeStart = performance.now();
    await store.close();
    store = undefined;
    const closeMs = performance.now() - closeStart;
    const bytesAfterClose = await fileBytes(dir);
    const openStart = performance.now();
    store = openSqliteStore(path);
    const reopenMs = performance.now() - openStart;
    const count = (await store.list('Instance')).items.length;
    // A key rotation: no Secret here, so the time is the file's rebuild (VACUUM + checkpoint).
    const rotateStart = performance.now();
    await store.resealSecrets(new SecretBox([newSecretKey()]));
    const rotateMs = performance.now() - rotateStart;
    const round1 = (n: number): number => Math.round(n * 10) / 10;
    const us = (name: string): number => steps.find((x) => x.name === name)?.usPerChange ?? 0;
    const figures = {
      instances: s.instances,
      batch: s.batch,
      createUsPerChange: us('create'),
      bindUsPerChange: us('bind'),
      runningUsPerChange: us('running'),
      historyMiB: round1(historyBytes / 2 ** 20),
      closeMs: round1(closeMs),
      fileMiBAfterClose: round1(bytesAfterClose / 2 ** 20),
      reopenMs: round1(reopenMs),
      rotateRebuildMs: round1(rotateMs),
    };
    return {
      title: `store: ${s.instances} instances created, bound and reported Running in transactions of ${s.batch} (SQLite, one process)`,
      summary: [
        `per change (wall clock of the step / instances; JSON encoding, planning, the mirror, the watch history and SQLite): create ${figures.createUsPerChange} µs, bind ${figures.bindUsPerChange} µs, Running ${figures.runningUsPerChange} µs`,
        `close (writes the watch history, ${figures.historyMiB} MiB of JSON): ${figures.closeMs} ms; state file after close ${figures.fileMiBAfterClose} MiB (state.db, WAL, shm); reopen ${figures.reopenMs} ms`,
        `a Secret key rotation's rebuild of the file (VACUUM, the server answers nothing meanwhile): ${figures.rotateRebuildMs} ms`,
        'no watchers and no other work in the process: the store alone; the server adds its requests and fan-out',
      ],
      figures,
      charts: [{ title: 'microseconds per change', xLabel: 'changes into the step', yLabel: 'µs', series: steps.map((x) => ({ name: x.name, points: x.points })) }],
      violations: count === s.instances ? [] : [`the reopened store lists ${count} instances, not ${s.instances}`],
    };
  } finally {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
