// Checkpoints the store's write-ahead log from a worker thread, off the event loop. SQLite's own
// auto-checkpoint runs inside the commit that crosses its threshold, on the thread that writes:
// with the server's writes that was a checkpoint every few transactions, each copying and syncing
// pages while every request waited (38% of the store's write time in a 100,000-instance rollout
// pattern). A PASSIVE checkpoint from a second connection copies committed pages into the file
// while the writer goes on appending; the writer restarts the log once all of it was copied.
// The writer keeps a high auto-checkpoint threshold as a backstop, so the log stays bounded if
// this worker stops or falls behind.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface CheckpointResult {
  /** SQLITE_BUSY: another checkpoint ran (the writer's backstop, or close). */
  busy: boolean;
  /** Pages in the log, and how many of them are now in the database file. */
  logPages: number;
  checkpointedPages: number;
}

export interface WalCheckpointerOptions {
  /** The database file (WAL mode). */
  path: string;
  /** How often to checkpoint, ms (default 200; 10 ms after one that could not copy the whole log). */
  intervalMs?: number;
  /** Each checkpoint's result (tests, metrics). */
  onCheckpoint?: (r: CheckpointResult) => void;
  /** The worker failed (it is gone; the writer's own auto-checkpoint takes over). */
  onError?: (e: Error) => void;
}

// CommonJS source run by the worker (eval): it needs nothing of ours but better-sqlite3.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const tick = () => {
  let r;
  try {
    r = db.pragma('wal_checkpoint(PASSIVE)')[0];
  } catch (e) {
    if (!String(e && e.code).startsWith('SQLITE_BUSY')) throw e;
    r = { busy: 1, log: -1, checkpointed: -1 };
  }
  parentPort.postMessage({ busy: r.busy === 1, logPages: r.log, checkpointedPages: r.checkpointed });
  // The writer restarts the log only once all of it is copied: until then, go again soon, so a
  // quiet moment between its transactions is not missed.
  timer = setTimeout(tick, r.busy !== 1 && r.log === r.checkpointed ? workerData.intervalMs : workerData.retryMs);
};
let timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearTimeout(timer);
    db.close();
    parentPort.close();
  }
});
`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private stopped = false;

  constructor(opts: WalCheckpointerOptions) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: opts.path, driver, intervalMs: opts.intervalMs ?? 200, retryMs: 10 } });
    // The process's life is the store's business, not this helper's.
    this.worker.unref();
    this.worker.on('message', (r: CheckpointResult) => opts.onCheckpoint?.(r));
    this.worker.on('error', (e) => {
      if (!this.stopped) opts.onError?.(e);
    });
  }

  /** Stops checkpointing and closes the worker's connection; resolves once the worker is gone. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    await exited;
  }
}
