// The load balancer manager: keeps HAProxy in line with the Services that ask for it
// (spec.expose) and with their ready endpoints in the catalog. Each change re-derives the model;
// when its structure (frontends, backends, slot counts, checks) is unchanged, endpoint changes go
// to the server slots through the runtime API and nothing reloads. Otherwise the config is
// written, checked with `haproxy -c`, and reloaded; a failed reload is reported (log, a Warning
// Event on the Services it would have changed, the LB status) and the old config keeps serving.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { EventRecorder } from '../../runtime/event-recorder.js';
import { Informer } from '../../runtime/informer.js';
import { isSafeString, namespaceOf, type Service } from '../../core/index.js';
import type { Store } from '../../store/store.js';
import type { Catalog } from '../catalog.js';
import { parseShowStat, type ServerStat } from './haproxy-answers.js';
import { checkConfig, findHaproxy, HaproxyProcess, haproxyPaths, type HaproxyExit, type HaproxyPaths } from './haproxy-process.js';
import { socketCommand } from './haproxy-socket.js';
import { buildLbModel, type LbBackend, type LbEntry, type LbModel } from './lb-model.js';
import { renderConfig, structureOf, type SlotServer } from './lb-render.js';
import type { LbEntryStatus, LbReload, LoadBalancerStatus } from './lb-status.js';
import { runtimeCommands, SlotTable, type SlotChange } from './slot-table.js';

export interface LoadBalancerOptions {
  store: Store;
  catalog: Catalog;
  events: EventRecorder;
  logger: Logger;
  dataDir: string;
  /** Where frontends bind (--lb-address). */
  address: string;
  /** The shared HTTP port for hostname routes (--lb-http-port). */
  httpPort?: number | undefined;
  /** The haproxy binary; default: found on PATH; null: as if not installed. */
  bin?: string | null | undefined;
  /** How often a failed reload (or start) is tried again when nothing else changes; default 30 s. */
  retryIntervalMs?: number | undefined;
}

const SOURCE = 'load-balancer';

export class LoadBalancer {
  private readonly services: Informer<'Service'>;
  private readonly slots = new SlotTable();
  private readonly paths: HaproxyPaths;
  private readonly proc: HaproxyProcess | undefined;
  private readonly bin: string | undefined;
  /** Why the load balancer is off, when it is. */
  readonly offReason: string | undefined;
  private applied: { model: LbModel; structure: string } | undefined;
  private desired: LbModel | undefined;
  private failedStructure: string | undefined;
  private lastReload: LbReload | undefined;
  private ready = false;
  private dirty = false;
  private loop: Promise<void> | undefined;
  /** HAProxy died on its own: what the restart reports when it has brought it back. */
  private crashed: { exit: HaproxyExit; atMs: number } | undefined;
  /** Problems already recorded as events, so an endpoint change does not record them again. */
  private readonly reported = new Set<string>();

  constructor(private readonly opts: LoadBalancerOptions) {
    this.paths = haproxyPaths(opts.dataDir);
    this.bin = opts.bin === null ? undefined : (opts.bin ?? findHaproxy());
    this.offReason = this.bin ? undefined : 'haproxy is not installed, so the load balancer is off (apt-get install haproxy, or scripts/ensure.sh)';
    this.proc = this.bin ? new HaproxyProcess({ bin: this.bin, paths: this.paths, logger: opts.logger, onUnexpectedExit: (exit) => this.exited(exit) }) : undefined;
    this.services = new Informer({ source: opts.store, kind: 'Service', logger: opts.logger, resyncIntervalMs: 0 });
    const changed = (): void => this.schedule();
    this.services.addHandlers({ onAdd: changed, onUpdate: (a, b) => a.metadata.revision !== b.metadata.revision && changed(), onDelete: changed });
  }

  get enabled(): boolean {
    return this.offReason === undefined;
  }

  /** Runs until the signal aborts, then stops HAProxy. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.offReason) {
      this.opts.logger.warn(this.offReason);
      return;
    }
    const worker = this.paths.worker;
    if (worker) this.opts.logger.info({ user: worker.user, group: worker.group, chroot: worker.chroot }, 'haproxy workers run without root');
    else if (process.getuid?.() === 0) this.opts.logger.warn('no haproxy user or /var/lib/haproxy on this host: HAProxy workers run as root (scripts/ensure.sh creates them)');
    const informerDone = this.services.run(signal);
    const unsubscribe = this.opts.catalog.onChange((set) => {
      if ((this.services.get(set.namespace, set.service)?.spec.expose?.length ?? 0) > 0) this.schedule();
    });
    const aborted = new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    await Promise.race([Promise.all([this.services.synced, this.opts.catalog.synced]), aborted]);
    const retry = setInterval(() => {
      if (this.failedStructure !== undefined || !this.proc?.running) {
        this.failedStructure = undefined;
        this.schedule();
      }
    }, this.opts.retryIntervalMs ?? 30_000);
    if (!signal.aborted) {
      this.ready = true;
      this.schedule();
    }
    await aborted;
    this.ready = false;
    clearInterval(retry);
    unsubscribe();
    await informerDone;
    await this.loop;
    await this.proc?.stop();
  }

  /** Resolves when no reconcile is running or due (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  private schedule(): void {
    if (!this.ready) return;
    this.dirty = true;
    this.loop ??= (async () => {
      while (this.dirty && this.ready) {
        this.dirty = false;
        try {
          await this.reconcile();
        } catch (err) {
          this.opts.logger.error({ err }, 'load balancer reconcile failed');
        }
      }
      this.loop = undefined;
    })();
  }

  /** HAProxy exited without being asked: a Warning event on every exposed service, and a restart now. */
  private exited(exit: HaproxyExit): void {
    this.crashed = { exit, atMs: Date.now() };
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${String(exit.code)}`;
    void this.recordOnServed('Warning', 'LoadBalancerExited', `HAProxy (pid ${String(exit.pid)}) exited unexpectedly (${how}); restarting it`);
    this.schedule();
  }

  /** One event on each Service whose entries the applied config serves. */
  private async recordOnServed(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const services = new Map<string, { namespace: string; name: string }>();
    for (const e of this.applied?.model.entries ?? []) if (!e.problem) services.set(`${e.namespace}/${e.service}`, { namespace: e.namespace, name: e.service });
    for (const s of services.values()) {
      await this.opts.events.record({ kind: 'Service', ...s }, type, reason, message, SOURCE).catch((err: unknown) => this.opts.logger.warn({ err }, 'could not record an event'));
    }
  }

  private endpointsOf(namespace: string, service: string, port: string): SlotServer[] {
    return this.opts.catalog
      .get(namespace, service)
      .endpoints.filter((e) => e.port === port && e.protocol === 'tcp' && this.safeAddress(e.instance, e.address))
      .map((e) => ({ instance: e.instance, address: e.address, port: e.hostPort }));
  }

  /** An address that would break a config line or a runtime API command is left out (admission refuses them; old objects may hold one). */
  private safeAddress(instance: string, address: string): boolean {
    if (isSafeString('address', address)) return true;
    const k = `unsafe address: ${instance}`;
    if (!this.reported.has(k)) {
      this.reported.add(k);
      this.opts.logger.warn({ instance, address: JSON.stringify(address.slice(0, 100)) }, 'endpoint left out of the load balancer: its address is not a plain IP address or host name');
    }
    return false;
  }

  private async reconcile(): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.bin) return;
    const model = buildLbModel({
      services: this.services.list().filter((s) => (s.spec.expose?.length ?? 0) > 0),
      options: { address: this.opts.address, httpPort: this.opts.httpPort },
      endpointCount: (ns, svc, port) => this.endpointsOf(ns, svc, port).length,
      currentSlots: (name) => this.slots.size(name),
    });
    this.desired = model;
    await this.reportProblems(model);
    const structure = structureOf(model, this.paths);
    if (proc.running && structure === this.applied?.structure) {
      await this.sendSlots(model.backends, false);
      return;
    }
    if (structure === this.failedStructure) {
      // Tried and failed: the old config serves; its slots still follow the catalog.
      if (this.applied && proc.running) await this.sendSlots(this.applied.model.backends, false);
      return;
    }
    for (const b of model.backends) this.slots.update(b.name, b.slots, this.endpointsOf(b.namespace, b.service, b.port));
    const text = renderConfig(model, this.paths, (name) => this.slots.get(name));
    const next = `${this.paths.config}.new`;
    await mkdir(this.paths.dir, { recursive: true });
    await writeFile(next, text, { mode: 0o600 });
    const invalid = await checkConfig(this.bin, next);
    if (invalid) return this.failed(model, structure, `the new HAProxy configuration is invalid (haproxy -c): ${invalid}`);
    await rename(next, this.paths.config);
    const starting = !proc.running;
    try {
      if (starting) await proc.start();
      else {
        const r = await proc.reload();
        if (!r.ok) return this.failed(model, structure, `HAProxy did not load the new configuration; the old one keeps serving: ${r.message ?? 'no reason given'}`);
      }
    } catch (e) {
      return this.failed(model, structure, (e as Error).message);
    }
    this.applied = { model, structure };
    this.failedStructure = undefined;
    this.lastReload = { result: 'ok', at: new Date().toISOString() };
    this.slots.retain(new Set(model.backends.map((b) => b.name)));
    this.opts.logger.info({ frontends: model.frontends.length, backends: model.backends.length, routes: model.httpFrontend?.routes.length ?? 0 }, starting ? 'haproxy started' : 'haproxy reloaded');
    if (starting && this.crashed) {
      const after = ((Date.now() - this.crashed.atMs) / 1000).toFixed(1);
      await this.recordOnServed('Normal', 'LoadBalancerRestarted', `HAProxy restarted as pid ${String(proc.pid)} ${after} s after pid ${String(this.crashed.exit.pid)} exited`);
      this.crashed = undefined;
    }
    // Endpoints may have moved while HAProxy loaded: state every slot again.
    await this.sendSlots(model.backends, true);
  }

  /** Brings the slots of `backends` in line with the catalog: the changes, or every slot (`all`). */
  private async sendSlots(backends: readonly LbBackend[], all: boolean): Promise<void> {
    const commands: string[] = [];
    for (const b of backends) {
      const size = this.slots.size(b.name) ?? b.slots;
      const changes = this.slots.update(b.name, size, this.endpointsOf(b.namespace, b.service, b.port));
      const list: SlotChange[] = all ? this.slots.get(b.name).map((server, k) => ({ backend: b.name, slot: k + 1, server })) : changes;
      commands.push(...list.flatMap(runtimeCommands));
    }
    if (commands.length === 0) return;
    const answer = await socketCommand(this.paths.adminSocket, commands);
    const complaints = answer.split('\n').filter((l) => /No such|Require|Invalid|cannot|failed/i.test(l));
    if (complaints.length > 0) this.opts.logger.warn({ complaints: complaints.slice(0, 5) }, 'haproxy refused some runtime API commands');
    else this.opts.logger.debug({ commands: commands.length }, 'haproxy slots updated');
  }

  private async failed(model: LbModel, structure: string, message: string): Promise<void> {
    this.failedStructure = structure;
    this.lastReload = { result: 'failed', at: new Date().toISOString(), message };
    this.opts.logger.warn({ message }, 'load balancer change not applied');
    if (this.applied && this.proc?.running) await this.sendSlots(this.applied.model.backends, true);
    const served = new Set((this.applied?.model.entries ?? []).map(entryKey));
    const affected = new Map<string, { namespace: string; name: string }>();
    for (const e of model.entries) {
      if (!e.problem && !served.has(entryKey(e))) affected.set(`${e.namespace}/${e.service}`, { namespace: e.namespace, name: e.service });
    }
    for (const s of affected.values()) {
      await this.opts.events.record({ kind: 'Service', ...s }, 'Warning', 'LoadBalancerFailed', message, SOURCE).catch((err: unknown) => this.opts.logger.warn({ err }, 'could not record an event'));
    }
  }

  private async reportProblems(model: LbModel): Promise<void> {
    for (const e of model.entries) {
      if (!e.problem) continue;
      const k = `${e.namespace}/${e.service}: ${e.problem}`;
      if (this.reported.has(k)) continue;
      this.reported.add(k);
      this.opts.logger.warn({ namespace: e.namespace, service: e.service, problem: e.problem }, 'expose entry not served');
      await this.opts.events.record({ kind: 'Service', namespace: e.namespace, name: e.service }, 'Warning', 'ExposeConflict', e.problem, SOURCE).catch(() => undefined);
    }
  }

  /** The load balancer's view of one Service (read at request time, HAProxy's server states included). */
  async status(svc: Service): Promise<LoadBalancerStatus> {
    const namespace = namespaceOf(svc);
    const service = svc.metadata.name;
    const base = { kind: 'LoadBalancerStatus' as const, namespace, service };
    if (this.offReason) {
      return { ...base, enabled: false, message: this.offReason, entries: (svc.spec.expose ?? []).map((e) => ({ port: e.port, mode: e.mode ?? 'http', servicePort: e.servicePort, hostname: e.hostname, frontends: [], state: 'Off', servers: [] })) };
    }
    let stats: ServerStat[] = [];
    if (this.proc?.running) stats = parseShowStat(await socketCommand(this.paths.adminSocket, 'show stat', 2000).catch(() => ''));
    const served = new Set((this.applied?.model.entries ?? []).filter((e) => e.backend).map(entryKey));
    const entries: LbEntryStatus[] = (this.desired?.entries ?? [])
      .filter((e) => e.namespace === namespace && e.service === service)
      .map((e) => {
        const serving = served.has(entryKey(e)) && this.proc?.running === true;
        const state = e.problem ? 'Conflict' : serving ? 'Serving' : this.lastReload?.result === 'failed' ? 'Failed' : 'Pending';
        const frontends = [
          ...(e.servicePort !== undefined ? [`${this.opts.address}:${e.servicePort}`] : []),
          ...(e.hostname !== undefined && this.opts.httpPort !== undefined ? [`http://${e.hostname}:${this.opts.httpPort}`] : []),
        ];
        const servers = serving && e.backend ? this.serversOf(e.backend, stats) : [];
        const message = e.problem ?? (state === 'Failed' ? this.lastReload?.message : undefined);
        return { port: e.port, mode: e.mode, servicePort: e.servicePort, hostname: e.hostname, frontends, state, ...(message ? { message } : {}), servers };
      });
    return { ...base, enabled: true, ...(this.proc?.running ? { pid: this.proc.pid } : { message: 'haproxy is not running' }), lastReload: this.lastReload, entries };
  }

  private serversOf(backend: string, stats: readonly ServerStat[]): LbEntryStatus['servers'] {
    const out: LbEntryStatus['servers'] = [];
    this.slots.get(backend).forEach((s, k) => {
      if (!s) return;
      const stat = stats.find((x) => x.backend === backend && x.server === `slot${k + 1}`);
      out.push({ slot: k + 1, instance: s.instance, address: s.address, port: s.port, state: stat?.status ?? 'unknown' });
    });
    return out;
  }
}

function entryKey(e: LbEntry): string {
  return JSON.stringify([e.namespace, e.service, e.index, e.port, e.mode, e.servicePort ?? null, e.hostname ?? null]);
}
