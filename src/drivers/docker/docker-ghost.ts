// Ghost detection: Docker says a container runs, but its process is gone (the runtime lost track
// of it, or the process escaped). Docker's own state cannot tell; the kernel's process table can,
// when this agent shares the host's PID namespace with dockerd. Wrongly calling a healthy
// container a ghost would force-remove it, so the check is conservative:
// - pid 0 while "running" is a ghost by Docker's own account;
// - /proc/<pid> missing counts only once this agent has seen another container's process in its
//   /proc (otherwise we may live in another PID namespace and see nothing), and only when a
//   second look a moment later still shows the same pid "running" and still no process (a
//   process that just exited normally is reported exited by then).
import { access } from 'node:fs/promises';
import { join } from 'node:path';

export interface GhostCheckOptions {
  /** Default /proc. */
  procRoot?: string | undefined;
  /** Pause before the second look; default 300 ms. */
  confirmDelayMs?: number | undefined;
}

/** What a second inspect says: is the container still "running", and with which pid. */
export type Relook = () => Promise<{ running: boolean; pid: number } | undefined>;

export class GhostCheck {
  /** Whether /proc shows container processes at all here: unknown until one was seen. */
  private procShowsContainers = false;
  private readonly procRoot: string;
  private readonly confirmDelayMs: number;

  constructor(opts: GhostCheckOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.confirmDelayMs = opts.confirmDelayMs ?? 300;
  }

  /** Why the running container with this pid is a ghost, or undefined when it is not (or we cannot tell). */
  async reason(pid: number, relook: Relook): Promise<string | undefined> {
    if (pid <= 0) return 'Docker reports it running, but with no process (pid 0)';
    if (await this.visible(pid)) {
      this.procShowsContainers = true;
      return undefined;
    }
    if (!this.procShowsContainers) return undefined;
    await new Promise((r) => setTimeout(r, this.confirmDelayMs));
    const again = await relook();
    if (!again?.running || again.pid !== pid || (await this.visible(pid))) return undefined;
    return `Docker reports it running with pid ${pid}, but no such process exists`;
  }

  private async visible(pid: number): Promise<boolean> {
    try {
      await access(join(this.procRoot, String(pid)));
      return true;
    } catch {
      return false;
    }
  }
}
