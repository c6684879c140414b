// The audit log: one JSON line per audited request (writes, log reads, Secret reads, refusals;
// exec later, through record()), in `<data dir>/audit/audit.log`, mode 0600 in a 0700 directory.
// When the file passes maxBytes it is renamed `audit-<time>.log` and a new one begun; the oldest
// rotated files beyond `keep` are removed.
//
// Lines are buffered and written together on the next turn of the event loop (synchronously, in
// order), so a burst of agents' status writes costs one write call, not one per request.
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from '../core/index.js';

export interface AuditLogOptions {
  /** The directory: `<data dir>/audit`. */
  dir: string;
  /** Rotate when the current file passes this many bytes; default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept; default 10. */
  keep?: number;
  now?: () => Date;
}

const CURRENT = 'audit.log';
const ROTATED = /^audit-[0-9]{8}T[0-9]{9}Z-[0-9]{3}\.log$/;

export class AuditLog {
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly now: () => Date;
  private pending: string[] = [];
  private scheduled = false;
  private size: number;

  constructor(private readonly opts: AuditLogOptions) {
    this.maxBytes = opts.maxBytes ?? 10 * 2 ** 20;
    this.keep = opts.keep ?? 10;
    this.now = opts.now ?? (() => new Date());
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    chmodSync(opts.dir, 0o700);
    this.size = this.open();
  }

  /** Appends one entry (written on the next tick; flush() to force). Never throws. */
  record(entry: AuditEntry): void {
    this.pending.push(`${JSON.stringify(entry)}\n`);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes what is buffered now. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    const path = join(this.opts.dir, CURRENT);
    try {
      appendFileSync(path, text, { mode: 0o600 });
      this.size += Buffer.byteLength(text);
      if (this.size >= this.maxBytes) this.rotate();
    } catch (err) {
      // The audit log must not take the API down; say so where an operator looks.
      process.emitWarning(`gantry audit log: cannot write ${path}: ${(err as Error).message}`);
    }
  }

  /** Entries from the rotated files and the current one, oldest first, that pass `filter`. */
  read(filter: (e: AuditEntry) => boolean = () => true): AuditEntry[] {
    this.flush();
    const files = [...this.rotatedFiles(), CURRENT];
    const out: AuditEntry[] = [];
    for (const f of files) {
      let text: string;
      try {
        text = readFileSync(join(this.opts.dir, f), 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as AuditEntry;
          if (filter(e)) out.push(e);
        } catch {
          // A line cut by a crash mid-write: skip it.
        }
      }
    }
    return out;
  }

  /** Creates the current file 0600 if absent; its size. */
  private open(): number {
    const path = join(this.opts.dir, CURRENT);
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    return statSync(path).size;
  }

  private rotatedFiles(): string[] {
    return readdirSync(this.opts.dir)
      .filter((f) => ROTATED.test(f))
      .sort();
  }

  private rotate(): void {
    const stamp = this.now().toISOString().replace(/[:.]/g, '').replace(/-/g, '');
    const taken = new Set(this.rotatedFiles());
    let i = 0;
    while (taken.has(`audit-${stamp}-${String(i).padStart(3, '0')}.log`)) i++;
    const name = `audit-${stamp}-${String(i).padStart(3, '0')}.log`;
    renameSync(join(this.opts.dir, CURRENT), join(this.opts.dir, name));
    this.size = this.open();
    const rotated = this.rotatedFiles();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.keep))) unlinkSync(join(this.opts.dir, old));
  }
}
