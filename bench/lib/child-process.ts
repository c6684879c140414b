// One child process the bench started (a `gantry server` or a `gantry sim`), owned by the bench:
// stdout is read line by line (the server prints its URL there), stderr goes to a log file in the
// run's temp dir so a failure can quote its last lines. stop() ends this process and nothing else.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface ChildOptions {
  /** What the process is, for messages: `server`, `sim hollow`. */
  label: string;
  command: string;
  args: readonly string[];
  cwd: string;
  /** stderr is appended here. */
  logPath: string;
  env?: NodeJS.ProcessEnv;
}

const STOP_GRACE_MS = 15_000;

export class ChildHandle {
  readonly label: string;
  readonly pid: number;
  /** Resolves with the exit code (or the signal name) once the process has ended; never rejects. */
  readonly exited: Promise<string>;
  private readonly child: ChildProcess;
  private readonly logPath: string;
  private readonly lines: string[] = [];
  private readonly lineWaiters = new Set<() => void>();
  private readonly lineListeners = new Set<(line: string) => void>();
  private exitText: string | undefined;

  constructor(opts: ChildOptions) {
    this.label = opts.label;
    this.logPath = opts.logPath;
    const logFd = openSync(opts.logPath, 'a');
    try {
      this.child = spawn(opts.command, [...opts.args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', logFd] });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(logFd);
    }
    if (this.child.pid === undefined) throw new Error(`could not start ${opts.label}: ${opts.command} ${opts.args.join(' ')}`);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitText = signal ?? `exit code ${code ?? '?'}`;
        this.wake();
        resolve(this.exitText);
      });
      this.child.once('error', (e) => {
        this.exitText = `failed to start: ${e.message}`;
        this.wake();
        resolve(this.exitText);
      });
    });
    if (this.child.stdout) {
      const rl = createInterface({ input: this.child.stdout });
      rl.on('line', (line) => {
        if (this.lines.length < 1000) this.lines.push(line);
        for (const l of this.lineListeners) l(line);
        this.wake();
      });
    }
  }

  /** Calls `listener` with every stdout line from now on (the sim's periodic reports). */
  onLine(listener: (line: string) => void): void {
    this.lineListeners.add(listener);
  }

  get running(): boolean {
    return this.exitText === undefined;
  }

  /** The first stdout line matching `pattern`; throws when the process exits or `timeoutMs` passes first. */
  async waitForLine(pattern: RegExp, timeoutMs: number, signal: AbortSignal): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      signal.throwIfAborted();
      for (const line of this.lines) {
        const m = line.match(pattern);
        if (m) return m;
      }
      if (!this.running) throw new Error(`${this.label} ended (${this.exitText}) before printing ${String(pattern)}; its log ends:\n${this.logTail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label} printed no line matching ${String(pattern)} within ${timeoutMs} ms; its log ends:\n${this.logTail()}`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.lineWaiters.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 500));
        this.lineWaiters.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** The last `lines` lines of the process's stderr log. */
  logTail(lines = 15): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * SIGSTOP (freeze) or SIGCONT (thaw) this process: a frozen sim's nodes stop heartbeating and
   * come back later with their state, as a host that hung or was cut off and returns.
   */
  freeze(frozen: boolean): void {
    if (this.running) this.child.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /** SIGTERM, then SIGKILL if it has not ended within the grace period. Idempotent. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    this.child.kill('SIGCONT'); // a frozen process could not act on the SIGTERM
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') this.killNow();
    await this.exited;
  }

  /** SIGKILL at once: the bench's own "node loss", and the last resort on exit. Synchronous. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  private wake(): void {
    for (const w of [...this.lineWaiters]) w();
  }
}
