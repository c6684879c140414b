// Keeps one InstanceRunner per Instance bound to this node: starts runners for new instances,
// removes those of deleted ones, hands recovered containers to their runners (adoption) and
// destroys labelled containers that no instance wants, but only once a full list arrived. Tells
// what it did as events: on the node (Adopted, RemovedOrphan) and on the instance (Killing).
import type { Logger } from 'pino';
import { describeError, type Instance } from '../core/index.js';
import type { ClientWatchEvent } from '../client/types.js';
import type { ContainerState, Driver, DriverEvent } from '../drivers/driver.js';
import type { EventReporter } from './event-reporter.js';
import { InstanceRunner } from './instance-runner.js';
import type { BackoffOptions } from './restart-backoff.js';
import type { StatusReporter } from './status-reporter.js';

export interface InstanceSupervisorOptions {
  driver: Driver;
  nodeName: string;
  hostIP: string;
  logger: Logger;
  reporter: StatusReporter;
  events?: EventReporter | undefined;
  restartBackoff?: BackoffOptions | undefined;
  stopGraceSeconds?: number | undefined;
}

export class InstanceSupervisor {
  /** By instance uid: a deleted and re-created instance of the same name is a different one. */
  private readonly runners = new Map<string, InstanceRunner>();
  private readonly removals = new Set<Promise<void>>();
  /** Containers found at start, by instance uid, until the first full list decides their fate. */
  private adoptable = new Map<string, ContainerState[]>();
  private listedOnce = false;
  /** Containers handed to runners during the first sync, for one Adopted event. */
  private readonly adoptedNow: ContainerState[] = [];

  constructor(private readonly opts: InstanceSupervisorOptions) {}

  get size(): number {
    return this.runners.size;
  }

  /** What driver.recover() found at start; call before the first sync. */
  setRecovered(states: readonly ContainerState[]): void {
    this.adoptable = new Map();
    for (const s of states) {
      const list = this.adoptable.get(s.instance.uid) ?? [];
      list.push(s);
      this.adoptable.set(s.instance.uid, list);
    }
  }

  /** A full list of the instances wanted here: the level everything is reconciled to. */
  async sync(items: readonly Instance[]): Promise<void> {
    const wanted = new Set(items.map((i) => i.metadata.uid));
    for (const [uid, runner] of this.runners) if (!wanted.has(uid)) this.remove(uid, runner, 'the instance was deleted');
    for (const inst of items) this.upsert(inst);
    let leftovers: ContainerState[];
    const firstList = !this.listedOnce;
    if (firstList) {
      leftovers = [...this.adoptable.values()].flat();
      this.adoptable.clear();
      this.listedOnce = true;
    } else {
      leftovers = await this.opts.driver.recover().catch((e: unknown) => {
        this.opts.logger.warn({ err: describeError(e) }, 'could not list containers for cleanup');
        return [];
      });
    }
    const unwanted = leftovers.filter((s) => !wanted.has(s.instance.uid) && !this.runners.has(s.instance.uid));
    if (firstList) this.noteAdopted(this.adoptedNow.splice(0).filter((s) => s.running));
    await Promise.all(unwanted.map((s) => this.destroyUnwanted(s)));
  }

  handle(ev: ClientWatchEvent): void {
    const obj = ev.object;
    if (obj?.kind !== 'Instance') return;
    const runner = this.runners.get(obj.metadata.uid);
    // An instance moved off this node leaves the field selector; treat it like a deletion.
    if (ev.type === 'DELETED' || obj.spec.node !== this.opts.nodeName) {
      if (runner) this.remove(obj.metadata.uid, runner, ev.type === 'DELETED' ? 'the instance was deleted' : `the instance moved to node ${obj.spec.node ?? '(none)'}`);
      return;
    }
    this.upsert(obj);
  }

  /** Routes a driver event to the instance that owns the container, so it reacts at once. */
  onDriverEvent(ev: DriverEvent): void {
    for (const runner of this.runners.values()) {
      if (runner.owns(ev.id)) {
        runner.poke();
        return;
      }
    }
  }

  /** The safety net for missed events: every runner inspects its containers again. */
  pokeAll(): void {
    for (const runner of this.runners.values()) runner.poke();
  }

  owns(containerId: string): boolean {
    for (const runner of this.runners.values()) if (runner.owns(containerId)) return true;
    return false;
  }

  /** The agent stops: runners let go of their containers (which keep running); removals finish. */
  async shutdown(): Promise<void> {
    for (const runner of this.runners.values()) runner.detach();
    this.runners.clear();
    await Promise.all([...this.removals]);
  }

  private upsert(inst: Instance): void {
    const uid = inst.metadata.uid;
    const existing = this.runners.get(uid);
    if (existing) {
      // Instance specs do not change; newer revisions carry our own status back.
      existing.update(inst);
      return;
    }
    const adopted = this.adoptable.get(uid);
    this.adoptable.delete(uid);
    if (adopted) this.adoptedNow.push(...adopted);
    const { driver, nodeName, hostIP, logger, reporter, restartBackoff, stopGraceSeconds } = this.opts;
    const runner = new InstanceRunner({
      instance: inst,
      driver,
      nodeName,
      hostIP,
      logger,
      adopted,
      restartBackoff,
      stopGraceSeconds,
      onStatus: (i, status) => reporter.report(i.metadata.namespace ?? 'default', i.metadata.name, status),
      onEvent: (type, reason, message) =>
        this.opts.events?.emit({ kind: 'Instance', namespace: inst.metadata.namespace ?? 'default', name: inst.metadata.name }, type, reason, message),
    });
    this.runners.set(uid, runner);
    logger.info({ namespace: inst.metadata.namespace, name: inst.metadata.name, uid, adopted: adopted?.length ?? 0 }, 'instance assigned to this node');
    runner.poke();
  }

  private remove(uid: string, runner: InstanceRunner, why: string): void {
    this.runners.delete(uid);
    const ns = runner.namespace;
    const name = runner.name;
    const containers = runner.containerNames;
    if (containers.length > 0) {
      const what = containers.length === 1 ? `container ${containers[0]!}` : `containers ${containers.join(', ')}`;
      this.opts.events?.emit({ kind: 'Instance', namespace: ns, name }, 'Normal', 'Killing', `stopping ${what}: ${why}`);
    }
    this.opts.reporter.forget(ns, name);
    const removal = runner
      .remove()
      .catch((e: unknown) => this.opts.logger.warn({ namespace: ns, name, err: describeError(e) }, 'instance removal failed'))
      .finally(() => {
        this.opts.reporter.forget(ns, name);
        this.removals.delete(removal);
      });
    this.removals.add(removal);
  }

  /** After a restart: which running containers this agent took over instead of starting anew. */
  private noteAdopted(adopted: readonly ContainerState[]): void {
    if (adopted.length === 0) return;
    const instances = new Set(adopted.map((s) => s.instance.uid)).size;
    this.opts.events?.emit(
      { kind: 'Node', name: this.opts.nodeName },
      'Normal',
      'Adopted',
      `adopted ${adopted.length} running container${adopted.length === 1 ? '' : 's'} of ${instances} instance${instances === 1 ? '' : 's'}`,
    );
  }

  private async destroyUnwanted(s: ContainerState): Promise<void> {
    const { driver, logger } = this.opts;
    logger.info({ id: s.id, namespace: s.instance.namespace, instance: s.instance.name, container: s.container }, 'removing container no instance wants');
    try {
      await driver.stop(s.id, this.opts.stopGraceSeconds ?? 10);
      await driver.destroy(s.id);
      this.opts.events?.emit(
        { kind: 'Node', name: this.opts.nodeName },
        'Normal',
        'RemovedOrphan',
        `removed container ${s.id.slice(0, 12)} (labelled for instance ${s.instance.namespace}/${s.instance.name}, which no longer exists)`,
      );
    } catch (e) {
      logger.warn({ id: s.id, err: describeError(e) }, 'could not remove unwanted container');
    }
  }
}
