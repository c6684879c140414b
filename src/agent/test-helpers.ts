// Test doubles for the agent: an in-memory GantryClient that records what the agent sends and
// lets a test push Instance watch events, plus builders so tests read like behaviour.
import { pino, type Logger } from 'pino';
import {
  StaleRevisionError,
  API_VERSION,
  ConflictError,
  DEFAULT_NAMESPACE,
  ExpiredError,
  InternalError,
  namespaceOf,
  NotFoundError,
  UnavailableError,
  type AnyObject,
  type ContainerSpec,
  type GantryNode,
  type Instance,
  type InstanceStatus,
  type Kind,
  type Manifest,
  type NodeStatus,
  type ObjectOf,
  type DryRunResult,
} from '../core/index.js';
import type {
  ApplyResult,
  ClientListOptions,
  ClientWatchOptions,
  ClientWatchEvent,
  EndpointSet,
  LoadBalancerStatus,
  EndpointWatchEvent,
  EventReport,
  GantryClient,
  InstanceStatusReport,
  InstanceStatusResult,
  ConfigFileContent,
  StatusBatchResult,
} from '../client/types.js';

export const silentLogger = (): Logger => pino({ level: 'silent' });

export function aContainer(name = 'app', overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return { name, image: 'busybox:1.36', resources: { cpu: 0.1, memory: '64Mi' }, ...overrides };
}

/** Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The node a list or watch selects, by `field` or by the `fieldSelector` string. */
function nodeSelected(opts: ClientListOptions): string | undefined {
  if (opts.field?.path === 'spec.node') return opts.field.value;
  return /^spec\.node=(.*)$/.exec(opts.fieldSelector ?? '')?.[1];
}

const unsupported = (what: string): never => {
  throw new InternalError(`${what} is not implemented by FakeGantryClient`);
};

export class FakeGantryClient implements GantryClient {
  readonly server = 'fake://gantry';
  readonly applies: Manifest[] = [];
  readonly nodeStatusUpdates: { name: string; status: NodeStatus }[] = [];
  readonly statusBatches: InstanceStatusReport[][] = [];
  /** Every event batch the agent sent, with its source. */
  readonly eventBatches: { items: EventReport[]; source: string | undefined }[] = [];
  readonly nodes = new Map<string, GantryNode>();
  heartbeats = 0;
  /** GantryClient.leaseRenewedAt: tests set it as a server's renewing answer would. */
  leaseRenewedAt: number | undefined;
  /** GantryClient.advisedHeartbeatIntervalMs: tests set it as a server's answer would. */
  advisedHeartbeatIntervalMs: number | undefined;
  /** Each heartbeat's own timeout, as the caller passed it. */
  readonly heartbeatTimeouts: (number | undefined)[] = [];
  listCalls = 0;
  /** The next this-many list calls fail with UNAVAILABLE. */
  failLists = 0;
  /** Every call fails with UNAVAILABLE while true (the server is down). */
  down = false;
  /** Runs after get() read its answer and before returning it: another writer acting in between. */
  afterGet: ((kind: Kind, name: string) => Promise<void>) | undefined;
  private readonly instances = new Map<string, Instance>();
  private readonly history: ClientWatchEvent[] = [];
  private readonly wakers = new Set<() => void>();
  private revision = 1;
  private expireGeneration = 0;

  addInstance(inst: Instance): void {
    this.instances.set(this.key(inst), inst);
    this.push('ADDED', inst);
  }

  deleteInstance(inst: Instance): void {
    this.instances.delete(this.key(inst));
    this.push('DELETED', inst);
  }

  /** Deletes without a watch event (as if the event fell into a gap), then ends every watch with EXPIRED. */
  deleteInstanceUnseen(inst: Instance): void {
    this.instances.delete(this.key(inst));
    this.expireGeneration++;
    for (const wake of [...this.wakers]) wake();
  }

  /** The status the agent last reported for an instance. */
  statusOf(inst: Instance): InstanceStatus | undefined {
    return this.instances.get(this.key(inst))?.status;
  }

  async issueToken(): Promise<never> {
    return unsupported('issueToken');
  }

  async createJoinToken(): Promise<never> {
    return unsupported('createJoinToken');
  }

  async revokeNode(): Promise<never> {
    return unsupported('revokeNode');
  }

  async revokeToken(): Promise<never> {
    return unsupported('revokeToken');
  }

  async instanceStats(): Promise<never> {
    return unsupported('instanceStats');
  }

  async nodeStats(): Promise<never> {
    return unsupported('nodeStats');
  }

  async execTicket(): Promise<never> {
    return unsupported('execTicket');
  }

  async rotateSecretKey(): Promise<never> {
    return unsupported('rotateSecretKey');
  }

  async audit(): Promise<never> {
    return unsupported('audit');
  }

  async whoami(): Promise<never> {
    return unsupported('whoami');
  }

  async canI(): Promise<never> {
    return unsupported('canI');
  }

  async healthz(): Promise<boolean> {
    return !this.down;
  }

  async version(): Promise<{ version: string; apiVersion: string; revision: number; clusterId: string }> {
    this.check();
    return { version: 'test', apiVersion: API_VERSION, revision: this.revision, clusterId: 'test-cluster' };
  }

  async get<K extends Kind>(kind: K, namespace: string | undefined, name: string): Promise<ObjectOf<K>> {
    this.check();
    const obj = kind === 'Node' ? this.nodes.get(name) : kind === 'Instance' ? this.instances.get(`${namespace ?? DEFAULT_NAMESPACE}/${name}`) : undefined;
    if (!obj) throw new NotFoundError(kind, namespace, name);
    const read = structuredClone(obj);
    await this.afterGet?.(kind, name);
    return read as ObjectOf<K>;
  }

  async list<K extends Kind>(kind: K, opts: ClientListOptions = {}): Promise<{ items: ObjectOf<K>[]; revision: number }> {
    this.check();
    this.listCalls++;
    if (this.failLists > 0) {
      this.failLists--;
      throw new UnavailableError('list failed (FakeGantryClient.failLists)');
    }
    if (kind !== 'Instance') return unsupported(`list ${kind}`);
    const node = nodeSelected(opts);
    const items = [...this.instances.values()].filter((i) => node === undefined || i.spec.node === node);
    return { items: items as ObjectOf<K>[], revision: this.revision };
  }

  async create(): Promise<AnyObject> {
    return unsupported('create');
  }

  async planApply(manifest: Manifest): Promise<DryRunResult> {
    return unsupported(`plan ${manifest.kind}`);
  }

  async apply(manifest: Manifest): Promise<{ object: AnyObject; result: ApplyResult }> {
    this.check();
    this.applies.push(structuredClone(manifest));
    if (manifest.kind !== 'Node') return unsupported(`apply ${manifest.kind}`);
    const prev = this.nodes.get(manifest.metadata.name);
    const given = manifest.metadata.revision;
    // The server's compare-and-swap: a stale revision is refused (one for a missing object is ignored).
    if (prev && given !== undefined && given !== prev.metadata.revision) {
      throw new ConflictError(`node ${manifest.metadata.name} changed (revision ${prev.metadata.revision}, not ${given}): read it again`);
    }
    const node: GantryNode = {
      ...(manifest as Manifest<GantryNode>),
      metadata: { ...manifest.metadata, uid: prev?.metadata.uid ?? `node-${manifest.metadata.name}`, revision: ++this.revision, createdAt: new Date().toISOString() },
      status: prev?.status,
    };
    this.nodes.set(node.metadata.name, node);
    return { object: node, result: prev ? 'configured' : 'created' };
  }

  async delete(): Promise<AnyObject> {
    return unsupported('delete');
  }

  async scale(): Promise<ObjectOf<'Service'>> {
    return unsupported('scale');
  }

  async stopInstance(): Promise<ObjectOf<'Instance'>> {
    return unsupported('stopInstance');
  }

  async cronJobAction(): Promise<ObjectOf<'Job'>> {
    return unsupported('cronJobAction');
  }

  async rollout(): Promise<never> {
    return unsupported('rollout');
  }

  async rolloutAction(): Promise<never> {
    return unsupported('rolloutAction');
  }

  async nodeAction(): Promise<never> {
    return unsupported('nodeAction');
  }

  async updateNodeStatus(name: string, status: NodeStatus, revision?: number): Promise<ObjectOf<'Node'>> {
    this.check();
    const node = this.nodes.get(name);
    if (!node) throw new NotFoundError('Node', undefined, name);
    if (revision !== undefined && revision !== node.metadata.revision) throw new StaleRevisionError('Node', undefined, name, node.metadata.revision ?? 0, `node "${name}" has changed`);
    node.status = status;
    node.metadata.revision = ++this.revision;
    this.nodeStatusUpdates.push({ name, status });
    return node;
  }

  async heartbeat(nodeName: string, opts: { timeoutMs?: number | undefined } = {}): Promise<void> {
    this.heartbeatTimeouts.push(opts.timeoutMs);
    this.check();
    if (!this.nodes.has(nodeName)) throw new NotFoundError('Node', undefined, nodeName);
    this.heartbeats++;
  }

  async reportInstanceStatus(items: readonly InstanceStatusReport[]): Promise<InstanceStatusResult[]> {
    this.check();
    this.statusBatches.push(structuredClone([...items]));
    return items.map((item) => {
      const inst = this.instances.get(`${item.namespace}/${item.name}`);
      if (!inst) return { namespace: item.namespace, name: item.name, ok: false, error: { code: 'NOT_FOUND', message: 'instance not found' } };
      const next: Instance = { ...inst, status: item.status, metadata: { ...inst.metadata, revision: this.revision + 1 } };
      this.instances.set(this.key(next), next);
      this.push('MODIFIED', next, true);
      return { namespace: item.namespace, name: item.name, ok: true };
    });
  }

  async recordEvents(items: readonly EventReport[], source?: string): Promise<void> {
    this.check();
    this.eventBatches.push({ items: structuredClone([...items]), source });
  }

  /** True: act as a server that takes events with status reports (reportStatusWithEvents). */
  statusTakesEvents: boolean | undefined = undefined;
  /** Events that came with status reports, one entry per report. */
  readonly carriedEventBatches: { items: EventReport[]; source?: string | undefined }[] = [];
  /** What the next reportStatusWithEvents does instead of taking the events: turn them away (over the rate), or fail. */
  nextStatusWithEvents: 'throttle' | Error | undefined;

  async reportStatusWithEvents(items: readonly InstanceStatusReport[], events: readonly EventReport[], source?: string): Promise<StatusBatchResult> {
    this.check();
    const planned = this.nextStatusWithEvents;
    this.nextStatusWithEvents = undefined;
    if (planned instanceof Error) throw planned;
    const results = await this.reportInstanceStatus(items);
    if (planned === 'throttle') return { results, events: { recorded: 0, retryAfterSeconds: 1 } };
    this.carriedEventBatches.push({ items: structuredClone([...events]), source });
    return { results, events: { recorded: events.length } };
  }

  /** Events sent so far, optionally only those with `reason`. */
  events(reason?: string): EventReport[] {
    return this.eventBatches.flatMap((b) => b.items).filter((e) => reason === undefined || e.reason === reason);
  }

  /** The options of every watch opened. */
  readonly watchOptions: ClientWatchOptions[] = [];

  async *watch(opts: ClientWatchOptions, signal: AbortSignal): AsyncIterable<ClientWatchEvent> {
    this.watchOptions.push(opts);
    this.check();
    if (opts.kind !== 'Instance') return;
    const node = nodeSelected(opts);
    let seen = opts.fromRevision ?? this.revision;
    const generation = this.expireGeneration;
    while (!signal.aborted) {
      if (generation !== this.expireGeneration) throw new ExpiredError('watch revision expired (FakeGantryClient.deleteInstanceUnseen)');
      const next = this.history.filter((e) => e.revision > seen);
      for (const ev of next) {
        seen = ev.revision;
        const inst = ev.object as Instance | undefined;
        if (opts.omitStatusChanges && this.statusOnly.has(ev.revision)) continue;
        if (node === undefined || inst?.spec.node === node) yield ev;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.wakers.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.wakers.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** Config file contents by instance name, for instanceFiles(); an Error value is thrown instead. */
  readonly files = new Map<string, ConfigFileContent[] | Error>();
  fileRequests = 0;

  async instanceFiles(_namespace: string, name: string): Promise<ConfigFileContent[]> {
    this.check();
    this.fileRequests++;
    const f = this.files.get(name) ?? [];
    if (f instanceof Error) throw f;
    return structuredClone(f);
  }

  async *logs(): AsyncIterable<string> {
    yield unsupported('logs');
  }

  async endpoints(): Promise<EndpointSet> {
    return unsupported('endpoints');
  }

  async loadBalancer(): Promise<LoadBalancerStatus> {
    return unsupported('loadBalancer');
  }

  async listEndpoints(): Promise<{ items: EndpointSet[]; revision: number }> {
    return unsupported('listEndpoints');
  }

  async *watchEndpoints(): AsyncIterable<EndpointWatchEvent> {
    yield unsupported('watchEndpoints');
  }

  private key(inst: Instance): string {
    return `${namespaceOf(inst)}/${inst.metadata.name}`;
  }

  /** Revisions of the changes that were a status report and nothing else (left out with omitStatusChanges, as the server does). */
  private readonly statusOnly = new Set<number>();

  private push(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Instance, statusOnly = false): void {
    this.history.push({ type, revision: ++this.revision, object: structuredClone(object) });
    if (statusOnly) this.statusOnly.add(this.revision);
    for (const wake of [...this.wakers]) wake();
  }

  private check(): void {
    if (this.down) throw new UnavailableError('server is down (FakeGantryClient.down)');
  }
}
