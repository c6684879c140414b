// Checkpoints of the state file's WAL, off the event loop. In WAL mode a commit appends pages to
// the WAL, and a checkpoint copies them back into the database file and syncs it. SQLite's default
// has the writing connection checkpoint inside the commit that takes the WAL past
// wal_autocheckpoint (1,000 pages): on the server that is the event loop, every few hundred
// commits, and it was nearly half of what a small commit cost (a one-row commit into a 100,000-row
// table: 58 µs with those checkpoints, 32 µs without; the longest single commit 16 ms against 6-12).
//
// Here a second connection, in a worker thread, checkpoints every intervalMs (PASSIVE: it does not
// wait for the writer, and the writer's commits do not wait for it; only a checkpoint of the
// writer's own, the backstop below or a rebuild's, cannot run beside it). The writer's own automatic checkpoint stays on as the
// backstop, at BACKSTOP_PAGES: a PASSIVE checkpoint copies only what was committed when it began,
// and a WAL restarts from its start only once a checkpoint has copied all of it, so a writer that
// never pauses, a reader holding an old snapshot (a backup) or a worker that died would otherwise
// let the WAL grow without end. Durability is SQLite's either way: a commit is in the WAL when it
// returns; the checkpoint only moves it.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The writer checkpoints itself when the WAL passes this many pages (16 MiB of 4 KiB pages). */
export const BACKSTOP_PAGES = 4096;
/** SQLite's own default threshold: the writer goes back to it when the worker stops. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
const DEFAULT_INTERVAL_MS = 500;
/** Checkpoints failing this many times in a row stop the worker (the writer takes over), not a warning every tick. */
const MAX_FAILURES_IN_A_ROW = 3;
/** stop() waits this long for the worker to close its connection, then terminates it. */
const STOP_TIMEOUT_MS = 5000;

/** One checkpoint's answer (PRAGMA wal_checkpoint): WAL frames, and how many are in the file now. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface WalCheckpointerOptions {
  /** Between checkpoints, ms (default 500). */
  intervalMs?: number;
  /** Told when the worker could not checkpoint or stopped on its own (the writer's backstop goes on). */
  onProblem?: (message: string) => void;
}

// The worker: its own connection to the file, a PASSIVE checkpoint per tick, each answer posted
// back. CommonJS, evaluated: it runs as is from src/ (tests), dist/ and the CLI bundle alike.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const tick = () => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ result: r });
  } catch (e) {
    parentPort.postMessage({ problem: e && e.message ? e.message : String(e) });
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
parentPort.postMessage({ ready: true });
`;

export class WalCheckpointer {
  /** Checkpoints the worker ran, and the last one's answer: for tests and metrics. */
  checkpoints = 0;
  last: CheckpointResult | undefined;
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private stopping = false;
  /** Why the worker ended, when it was not stop(): said once, at its exit. */
  private failure: string | undefined;
  private failuresInARow = 0;

  /**
   * Starts checkpointing `path` (a WAL-mode database file) beside the writer `setAutocheckpoint`
   * belongs to: that writer's automatic checkpoint moves to BACKSTOP_PAGES now, and back to
   * SQLite's default when the worker stops.
   */
  constructor(
    path: string,
    private readonly setAutocheckpoint: (pages: number) => void,
    private readonly opts: WalCheckpointerOptions = {},
  ) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path, driver, intervalMs: opts.intervalMs ?? DEFAULT_INTERVAL_MS },
      // Not the process's flags: `--cpu-prof` would have the worker write its own profile under
      // the server's file name, and a loader (`--import tsx`) is of no use to it.
      execArgv: [],
    });
    // The worker does not keep the process alive on its own; stop() holds it until it is closed.
    this.worker.unref();
    this.worker.on('message', (m: { result?: CheckpointResult; problem?: string }) => {
      if (m.result) {
        this.checkpoints++;
        this.last = m.result;
        this.failuresInARow = 0;
      } else if (m.problem !== undefined && ++this.failuresInARow >= MAX_FAILURES_IN_A_ROW && this.failure === undefined) {
        this.failure = `checkpointing the state file's WAL failed ${MAX_FAILURES_IN_A_ROW} times in a row (${m.problem})`;
        this.worker.postMessage('stop');
      }
    });
    this.worker.on('error', (e: unknown) => {
      // An error thrown in the worker arrives as a copy: a SqliteError as `{ code }` alone.
      const o = (typeof e === 'object' && e !== null ? e : {}) as { message?: unknown; code?: unknown };
      const message = typeof o.message === 'string' ? o.message : typeof o.code === 'string' ? o.code : String(e);
      this.failure ??= `the WAL checkpoint worker failed: ${message}`;
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        // Whatever ended it, the writer checkpoints at SQLite's default again.
        this.setAutocheckpoint(DEFAULT_AUTOCHECKPOINT_PAGES);
        if (this.failure !== undefined || !this.stopping) this.opts.onProblem?.(`${this.failure ?? 'the WAL checkpoint worker stopped'}; the writer checkpoints itself again`);
        resolve();
      });
    });
    this.setAutocheckpoint(BACKSTOP_PAGES);
  }

  /**
   * Stops the worker (its connection closed; terminated after STOP_TIMEOUT_MS) and gives
   * checkpoints back to the writer. Idempotent.
   */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      // Held until it exits: at shutdown nothing else may keep the loop alive, and a process that
      // ran out of work here would end before the store's writer closed.
      this.worker.ref();
      this.worker.postMessage('stop');
      const timer = setTimeout(() => void this.worker.terminate(), STOP_TIMEOUT_MS);
      void this.exited.finally(() => clearTimeout(timer));
    }
    await this.exited;
  }
}
