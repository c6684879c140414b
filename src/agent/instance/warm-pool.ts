// Warm containers (jobs with runIn warm): ONE long-lived container per job and template per node,
// kept alive by an idle command, in which each run of the job executes through exec. This is the
// "one job, one container" answer to jobs that fire so often that a container per run is too much.
//
// Key: `warm:<namespace>/<group>@<templateHash>`; the group is the instance label
// `gantry.io/warm-group` when the owner sets it (a CronJob names itself, so the runs of all its
// Jobs share one container), else the owning Job's name. The key is the container's instance uid
// label, so an agent restart finds and adopts the container (recover()).
//
// Lifetime (the simplest honest rule): a warm container is removed when no run of its key has
// been on this node for `idleMs` (default 60 s: the job was deleted or finished), or at once when
// its runs are over and a newer template of the same group has a warm container (the job changed).
// A failing run is just an exit code: the container keeps running. A container found dead is
// replaced on the next run.
import type { Logger } from 'pino';
import { describeError, sleep, WARM_GROUP_LABEL, namespaceOf, type Instance } from '../../core/index.js';
import { LABELS, type ContainerState, type Driver, type FileToCopy } from '../../drivers/driver.js';
import { buildLaunch } from './container-launch.js';
import { removeContainer } from './remove-container.js';

/** What a warm container runs between runs; needs `sleep` in the image (docs/config-files.md). */
const DEFAULT_IDLE_COMMAND = ['sleep', '2147483647'];
export { WARM_GROUP_LABEL };
const WARM_PREFIX = 'warm:';

export function isWarmUid(uid: string): boolean {
  return uid.startsWith(WARM_PREFIX);
}

function warmGroup(inst: Instance): string {
  return inst.metadata.labels?.[WARM_GROUP_LABEL] ?? inst.spec.service;
}

function warmKey(inst: Instance): string {
  return `${WARM_PREFIX}${namespaceOf(inst)}/${warmGroup(inst)}@${inst.spec.templateHash}`;
}

interface Entry {
  key: string;
  /** `<namespace>/<group>`: entries of one group with another template are replaced. */
  group: string;
  id?: string | undefined;
  /** A create in flight: concurrent runs wait for the same container. */
  starting?: Promise<string> | undefined;
  users: Set<string>;
  lastUsed: number;
  retired: boolean;
}

export interface WarmPoolOptions {
  driver: Driver;
  nodeName: string;
  hostIP: string;
  logger: Logger;
  /** Remove a warm container this long after its last run ended; default 60000. */
  idleMs?: number | undefined;
  stopGraceSeconds?: number | undefined;
  /** Clock (tests). */
  now?: () => number;
}

export class WarmPool {
  private readonly entries = new Map<string, Entry>();
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly opts: WarmPoolOptions) {
    this.log = opts.logger.child({ part: 'warm-pool' });
    this.now = opts.now ?? Date.now;
  }

  /** Warm containers an earlier agent left (recover()): kept and used by the next runs. */
  adopt(states: readonly ContainerState[]): void {
    for (const st of states) {
      if (!isWarmUid(st.instance.uid)) continue;
      const key = st.instance.uid;
      if (this.entries.get(key)?.id) {
        void this.destroy(st.id);
        continue;
      }
      this.entries.set(key, { key, group: groupOf(key), id: st.id, users: new Set(), lastUsed: this.now(), retired: false });
      this.log.info({ key, id: st.id }, 'adopted warm container');
    }
  }

  owns(id: string): boolean {
    for (const e of this.entries.values()) if (e.id === id) return true;
    return false;
  }

  /** The running warm container for this run (made if needed) with `files` in place; registers the run. */
  async acquire(inst: Instance, files: readonly FileToCopy[]): Promise<string> {
    const key = warmKey(inst);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { key, group: groupOf(key), users: new Set(), lastUsed: this.now(), retired: false };
      this.entries.set(key, entry);
    }
    entry.users.add(inst.metadata.uid);
    entry.lastUsed = this.now();
    // A newer template of the same job: older warm containers go once their runs are over.
    for (const other of this.entries.values()) if (other !== entry && other.group === entry.group) other.retired = true;
    try {
      const id = await this.ensureRunning(entry, inst);
      // Each run gets the current files (the container may be older than a Config change).
      if (files.length > 0) await this.opts.driver.copyFiles(id, files);
      return id;
    } catch (e) {
      entry.users.delete(inst.metadata.uid);
      throw e;
    }
  }

  /** The run is over (or its instance is gone). */
  release(inst: Instance): void {
    const entry = this.entries.get(warmKey(inst));
    if (!entry) return;
    entry.users.delete(inst.metadata.uid);
    entry.lastUsed = this.now();
    void this.reap();
  }

  /** Removes warm containers that are retired or idle past idleMs and have no run. */
  async reap(): Promise<void> {
    const idleMs = this.opts.idleMs ?? 60_000;
    const now = this.now();
    for (const entry of [...this.entries.values()]) {
      if (entry.users.size > 0 || entry.starting) continue;
      if (!entry.retired && now - entry.lastUsed < idleMs) continue;
      this.entries.delete(entry.key);
      if (entry.id) {
        this.log.info({ key: entry.key, id: entry.id, retired: entry.retired }, 'removing warm container');
        await this.destroy(entry.id);
      }
    }
  }

  /** Reaps every idleMs/4 (at most 10 s) until the signal aborts. */
  async runReaper(signal: AbortSignal): Promise<void> {
    const every = Math.min(10_000, Math.max(50, (this.opts.idleMs ?? 60_000) / 4));
    while (!signal.aborted) {
      await sleep(every, signal);
      if (!signal.aborted) await this.reap().catch((e: unknown) => this.log.warn({ err: describeError(e) }, 'warm container sweep failed'));
    }
  }

  private async ensureRunning(entry: Entry, inst: Instance): Promise<string> {
    if (entry.starting) return entry.starting;
    if (entry.id) {
      const st = await this.opts.driver.inspect(entry.id);
      if (st?.running) return entry.id;
      // Died or vanished (killed, OOM, idle command missing): replace it.
      this.log.warn({ key: entry.key, id: entry.id, exitCode: st?.exitCode }, 'warm container is not running; replacing it');
      const dead = entry.id;
      entry.id = undefined;
      await this.destroy(dead);
    }
    entry.starting = this.start(entry, inst).finally(() => {
      entry.starting = undefined;
    });
    return entry.starting;
  }

  private async start(entry: Entry, inst: Instance): Promise<string> {
    const { driver } = this.opts;
    const spec = inst.spec.containers[0];
    if (!spec) throw new RangeError(`instance ${inst.metadata.name} has no container`);
    await driver.ensureImage(spec.image);
    const base = buildLaunch(inst, 0, { nodeName: this.opts.nodeName, hostIP: this.opts.hostIP });
    const group = warmGroup(inst);
    const idle = inst.spec.warm?.idleCommand ?? DEFAULT_IDLE_COMMAND;
    const id = await driver.create({
      ...base,
      instance: { namespace: base.instance.namespace, name: `${group}-warm`, uid: entry.key },
      // The idle command keeps it alive; each run is exec'd with the container's command + args.
      spec: { ...spec, command: idle, args: [] },
      env: { ...base.env, GANTRY_INSTANCE: `${group}-warm` },
      hostname: `${group}-warm`.slice(0, 63),
      labels: { [LABELS.warm]: entry.key.slice(WARM_PREFIX.length) },
    });
    try {
      await driver.start(id);
    } catch (e) {
      await this.destroy(id);
      throw e;
    }
    entry.id = id;
    this.log.info({ key: entry.key, id }, 'warm container started');
    return id;
  }

  private async destroy(id: string): Promise<void> {
    await removeContainer(this.opts.driver, id, this.opts.stopGraceSeconds ?? 10, this.log);
  }
}

function groupOf(key: string): string {
  return key.slice(WARM_PREFIX.length).replace(/@[^@]*$/, '');
}
