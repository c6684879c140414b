// GantryClient over HTTP: the global fetch (undici in Node 20) for calls, node:http for watches
// and logs (stream-get.ts: no 300 s body timeout). Errors from the server arrive as the AppError
// the server threw (code, message, field details), so the CLI can print a 422's field paths; a
// server that cannot be reached is one UNAVAILABLE error that says how to start it.
import {
  AppError,
  DEFAULT_NAMESPACE,
  kindInfo,
  namespaceOf,
  type AnyObject,
  type Kind,
  type Manifest,
  type NodeStatus,
  type ObjectOf,
  type Service,
} from '../core/index.js';
import { ndjsonLines } from './ndjson.js';
import { readText, streamGet, type StreamResponse } from './stream-get.js';
import type {
  ApplyResult,
  ClientListOptions,
  ClientWatchOptions,
  ClientOptions,
  ClientWatchEvent,
  ConfigFileContent,
  CronJobAction,
  EndpointSet,
  LoadBalancerStatus,
  EndpointWatchEvent,
  EventReport,
  GantryClient,
  InstanceStatusReport,
  InstanceStatusResult,
  NodeAction,
  RolloutView,
} from './types.js';

const enc = encodeURIComponent;
const DEFAULT_TIMEOUT_MS = 30_000;
/** Three of the server's 10 s bookmark intervals: a watch silent for longer is dead. */
const DEFAULT_WATCH_IDLE_TIMEOUT_MS = 30_000;

export interface HttpClientOptions extends ClientOptions {
  /**
   * A watch that receives nothing (not even a BOOKMARK) for this long is closed with UNAVAILABLE,
   * so watchWithResume reconnects: this catches half-open connections. Default 30 s.
   */
  watchIdleTimeoutMs?: number | undefined;
}

interface CallOptions {
  body?: unknown;
  query?: URLSearchParams;
  /** Ends the call early, besides the client's timeout. */
  signal?: AbortSignal | undefined;
}

/**
 * A deadline for one call whose timer is cleared when the call is done. AbortSignal.timeout()
 * leaves its timer armed for the full timeout after a fast call, and it then builds a
 * TimeoutError for nothing: with thousands of heartbeats a second (gantry sim) that is thousands
 * of live timers.
 */
class Deadline {
  private readonly ac = new AbortController();
  private readonly timer: NodeJS.Timeout;
  readonly signal: AbortSignal;

  constructor(ms: number, caller?: AbortSignal) {
    this.timer = setTimeout(() => this.ac.abort(), ms);
    this.signal = caller ? AbortSignal.any([caller, this.ac.signal]) : this.ac.signal;
  }

  /** The timer fired (not the caller's signal). */
  get expired(): boolean {
    return this.ac.signal.aborted;
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

function causeOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? e.message;
}

/** The URL of a kind's collection: namespaced kinds without a namespace list all namespaces. */
export function collectionPath(kind: Kind, namespace: string | undefined): string {
  const k = kindInfo(kind);
  if (!k.namespaced || namespace === undefined) return `/api/v1/${k.plural}`;
  return `/api/v1/namespaces/${enc(namespace)}/${k.plural}`;
}

/** The URL of one object; a namespaced kind without a namespace means the default one. */
export function objectPath(kind: Kind, namespace: string | undefined, name: string): string {
  const ns = kindInfo(kind).namespaced ? (namespace ?? DEFAULT_NAMESPACE) : undefined;
  return `${collectionPath(kind, ns)}/${enc(name)}`;
}

function selectorQuery(opts: ClientListOptions | undefined): URLSearchParams {
  const q = new URLSearchParams();
  const fields = [...(opts?.field ? [`${opts.field.path}=${opts.field.value ?? ''}`] : []), ...(opts?.fieldSelector ? [opts.fieldSelector] : [])];
  if (fields.length > 0) q.set('fieldSelector', fields.join(','));
  if (opts?.labelSelector) q.set('labelSelector', opts.labelSelector);
  return q;
}

export class HttpClient implements GantryClient {
  readonly server: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly watchIdleTimeoutMs: number;

  constructor(opts: HttpClientOptions) {
    this.server = opts.server.replace(/\/+$/, '');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.watchIdleTimeoutMs = opts.watchIdleTimeoutMs ?? DEFAULT_WATCH_IDLE_TIMEOUT_MS;
  }

  async healthz(): Promise<boolean> {
    const deadline = new Deadline(this.timeoutMs);
    try {
      const res = await fetch(`${this.server}/healthz`, { signal: deadline.signal });
      const body = (await res.json()) as { ok?: unknown };
      return res.ok && body.ok === true;
    } catch {
      return false;
    } finally {
      deadline.clear();
    }
  }

  async version(): Promise<{ version: string; apiVersion: string; revision: number; clusterId: string }> {
    return (await this.json('GET', '/api/v1/version')) as { version: string; apiVersion: string; revision: number; clusterId: string };
  }

  async get<K extends Kind>(kind: K, namespace: string | undefined, name: string): Promise<ObjectOf<K>> {
    return (await this.json('GET', objectPath(kind, namespace, name))) as ObjectOf<K>;
  }

  async list<K extends Kind>(kind: K, opts?: ClientListOptions): Promise<{ items: ObjectOf<K>[]; revision: number }> {
    const body = (await this.json('GET', collectionPath(kind, opts?.namespace), { query: selectorQuery(opts) })) as {
      items: ObjectOf<K>[];
      metadata: { revision: number };
    };
    return { items: body.items, revision: body.metadata.revision };
  }

  async create<M extends Manifest>(manifest: M): Promise<AnyObject> {
    const ns = kindInfo(manifest.kind).namespaced ? namespaceOf(manifest) : undefined;
    return (await this.json('POST', collectionPath(manifest.kind, ns), { body: manifest })) as AnyObject;
  }

  async apply(manifest: Manifest): Promise<{ object: AnyObject; result: ApplyResult }> {
    const path = objectPath(manifest.kind, manifest.metadata.namespace, manifest.metadata.name);
    return this.call('PUT', path, { body: manifest }, async (res) => {
      const header = res.headers.get('x-gantry-result');
      const result: ApplyResult = header === 'created' || header === 'unchanged' ? header : res.status === 201 ? 'created' : 'configured';
      return { object: (await res.json()) as AnyObject, result };
    });
  }

  async delete(kind: Kind, namespace: string | undefined, name: string): Promise<AnyObject> {
    return (await this.json('DELETE', objectPath(kind, namespace, name))) as AnyObject;
  }

  async scale(namespace: string, name: string, replicas: number): Promise<ObjectOf<'Service'>> {
    return (await this.json('PUT', `${objectPath('Service', namespace, name)}/scale`, { body: { replicas } })) as Service;
  }

  async stopInstance(namespace: string, name: string, reason?: string): Promise<ObjectOf<'Instance'>> {
    return (await this.json('POST', `${objectPath('Instance', namespace, name)}/stop`, { body: reason === undefined ? {} : { reason } })) as ObjectOf<'Instance'>;
  }

  async cronJobAction(namespace: string, name: string, action: CronJobAction): Promise<ObjectOf<'Job'> | ObjectOf<'CronJob'>> {
    return (await this.json('POST', `${objectPath('CronJob', namespace, name)}/${action}`, { body: {} })) as ObjectOf<'Job'> | ObjectOf<'CronJob'>;
  }

  async rollout(namespace: string, name: string): Promise<RolloutView> {
    return (await this.json('GET', `${objectPath('Service', namespace, name)}/rollout`)) as RolloutView;
  }

  async rolloutAction(namespace: string, name: string, action: 'pause' | 'resume' | 'promote' | 'undo', body: { toVersion?: number } = {}): Promise<{ message: string; service: Service }> {
    return (await this.json('POST', `${objectPath('Service', namespace, name)}/rollout/${action}`, { body })) as { message: string; service: Service };
  }

  async nodeAction(name: string, action: NodeAction): Promise<{ message: string; node: ObjectOf<'Node'> }> {
    return (await this.json('POST', `${objectPath('Node', undefined, name)}/${action}`, { body: {} })) as { message: string; node: ObjectOf<'Node'> };
  }

  async updateNodeStatus(name: string, status: NodeStatus): Promise<ObjectOf<'Node'>> {
    return (await this.json('PUT', `${objectPath('Node', undefined, name)}/status`, { body: { status } })) as ObjectOf<'Node'>;
  }

  async heartbeat(nodeName: string): Promise<void> {
    await this.call('POST', `${objectPath('Node', undefined, nodeName)}/heartbeat`, {}, async (res) => {
      await res.body?.cancel();
    });
  }

  async reportInstanceStatus(items: readonly InstanceStatusReport[]): Promise<InstanceStatusResult[]> {
    const body = (await this.json('POST', '/api/v1/status/instances', { body: { items } })) as { results: InstanceStatusResult[] };
    return body.results;
  }

  async instanceFiles(namespace: string, name: string, node: string): Promise<ConfigFileContent[]> {
    const body = (await this.json('GET', `${objectPath('Instance', namespace, name)}/files`, { query: new URLSearchParams({ node }) })) as { files: ConfigFileContent[] };
    return body.files;
  }

  async recordEvents(items: readonly EventReport[], source?: string): Promise<void> {
    await this.json('POST', '/api/v1/events', { body: { items, ...(source !== undefined ? { source } : {}) } });
  }

  async *watch(opts: ClientWatchOptions, signal: AbortSignal): AsyncIterable<ClientWatchEvent> {
    const { kind } = opts;
    const query = selectorQuery(opts);
    query.set('watch', '1');
    if (opts.fromRevision !== undefined) query.set('revision', String(opts.fromRevision));
    const idleMs = this.watchIdleTimeoutMs;
    const ac = new AbortController();
    let stalled = false;
    let consuming = false;
    // Fed by every line, BOOKMARKs included. Time the consumer spends on a line does not count.
    const idle = setTimeout(function check() {
      if (consuming) return void idle.refresh();
      stalled = true;
      ac.abort();
    }, idleMs);
    try {
      let res: StreamResponse;
      try {
        res = await this.openStream(collectionPath(kind, opts.namespace), query, AbortSignal.any([signal, ac.signal]));
      } catch (e) {
        if (signal.aborted) return;
        if (stalled) throw this.stalledError(kind, idleMs);
        throw e;
      }
      try {
        for await (const line of ndjsonLines(res.body)) {
          consuming = true;
          try {
            yield line as ClientWatchEvent;
          } finally {
            consuming = false;
            idle.refresh();
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        if (stalled) throw this.stalledError(kind, idleMs);
        if (e instanceof SyntaxError) throw new AppError('UNAVAILABLE', `watch of ${kind} at ${this.server} sent a line that is not JSON: ${e.message}`);
        throw new AppError('UNAVAILABLE', `watch of ${kind} at ${this.server} was cut off: ${causeOf(e)}; resume from the last revision seen`);
      }
    } finally {
      clearTimeout(idle);
      ac.abort(); // the consumer stopped early (break, return): close the connection
    }
  }

  async endpoints(namespace: string, service: string): Promise<EndpointSet> {
    return (await this.json('GET', `/api/v1/namespaces/${enc(namespace)}/endpoints/${enc(service)}`)) as EndpointSet;
  }

  async loadBalancer(namespace: string, service: string): Promise<LoadBalancerStatus> {
    return (await this.json('GET', `/api/v1/namespaces/${enc(namespace)}/services/${enc(service)}/loadbalancer`)) as LoadBalancerStatus;
  }

  async listEndpoints(namespace?: string): Promise<{ items: EndpointSet[]; revision: number }> {
    const path = namespace === undefined ? '/api/v1/endpoints' : `/api/v1/namespaces/${enc(namespace)}/endpoints`;
    return (await this.json('GET', path)) as { items: EndpointSet[]; revision: number };
  }

  async *watchEndpoints(namespace: string, service: string, signal: AbortSignal): AsyncIterable<EndpointWatchEvent> {
    const query = new URLSearchParams({ watch: '1' });
    let res: StreamResponse;
    try {
      res = await this.openStream(`/api/v1/namespaces/${enc(namespace)}/endpoints/${enc(service)}`, query, signal);
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
    try {
      for await (const line of ndjsonLines(res.body)) yield line as EndpointWatchEvent;
    } catch (e) {
      if (signal.aborted) return;
      throw new AppError('UNAVAILABLE', `endpoint watch of ${namespace}/${service} at ${this.server} was cut off: ${causeOf(e)}`);
    }
  }

  async *logs(
    namespace: string,
    name: string,
    opts: { container?: string | undefined; follow?: boolean; tail?: number | undefined },
    signal?: AbortSignal,
  ): AsyncIterable<string> {
    const query = new URLSearchParams();
    if (opts.container) query.set('container', opts.container);
    if (opts.follow) query.set('follow', '1');
    if (opts.tail !== undefined) query.set('tail', String(opts.tail));
    const ac = new AbortController();
    const linked = signal ? AbortSignal.any([signal, ac.signal]) : ac.signal;
    try {
      let res: StreamResponse;
      try {
        res = await this.openStream(`${objectPath('Instance', namespace, name)}/log`, query, linked);
      } catch (e) {
        if (signal?.aborted) return;
        throw e;
      }
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          const text = decoder.decode(chunk, { stream: true });
          if (text) yield text;
        }
        const rest = decoder.decode();
        if (rest) yield rest;
      } catch (e) {
        if (signal?.aborted) return;
        throw new AppError('UNAVAILABLE', `log of instance ${namespace}/${name} was cut off: ${causeOf(e)}`);
      }
    } finally {
      ac.abort(); // the consumer stopped early: close the connection
    }
  }

  private stalledError(kind: Kind, idleMs: number): AppError {
    return new AppError(
      'UNAVAILABLE',
      `watch of ${kind} at ${this.server} received nothing for ${idleMs} ms, not even a bookmark: the connection looks dead; resume from the last revision seen`,
    );
  }

  /** A streaming GET (no body timeout): non-2xx answers and network failures become AppErrors. */
  private async openStream(path: string, query: URLSearchParams, signal: AbortSignal): Promise<StreamResponse> {
    const q = query.toString();
    const url = `${this.server}${path}${q ? `?${q}` : ''}`;
    let res: StreamResponse;
    try {
      res = await streamGet(url, { authorization: `Bearer ${this.token}`, accept: 'application/json' }, signal);
    } catch (e) {
      if (signal.aborted) throw e;
      throw new AppError('UNAVAILABLE', `cannot reach the Gantry server at ${this.server}: ${causeOf(e)}. Is it running? Start it with npm run up / gantry up`);
    }
    if (res.status >= 200 && res.status < 300) return res;
    throw this.errorFrom(res.status, await readText(res.body).catch(() => ''));
  }

  /** A JSON call: the parsed body, or undefined for 204. */
  private async json(method: string, path: string, opts: CallOptions = {}): Promise<unknown> {
    return this.call(method, path, opts, async (res) => (res.status === 204 ? undefined : res.json()));
  }

  /**
   * Sends a request and hands a 2xx answer to `read`; non-2xx answers and network failures become
   * AppErrors. The timeout covers reading the body too, and its timer ends with the call.
   */
  private async call<T>(method: string, path: string, opts: CallOptions, read: (res: Response) => Promise<T>): Promise<T> {
    const q = opts.query?.toString();
    const url = `${this.server}${path}${q ? `?${q}` : ''}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const deadline = new Deadline(this.timeoutMs, opts.signal);
    const timedOut = (): AppError =>
      new AppError('UNAVAILABLE', `the Gantry server at ${this.server} did not answer ${method} ${path} within ${this.timeoutMs} ms`);
    try {
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: deadline.signal,
        });
      } catch (e) {
        if (opts.signal?.aborted) throw e;
        if (deadline.expired && isAbort(e)) throw timedOut();
        throw new AppError(
          'UNAVAILABLE',
          `cannot reach the Gantry server at ${this.server}: ${causeOf(e)}. Is it running? Start it with npm run up / gantry up`,
        );
      }
      if (!res.ok) throw this.errorFrom(res.status, await res.text().catch(() => ''));
      try {
        return await read(res);
      } catch (e) {
        if (deadline.expired && !opts.signal?.aborted && isAbort(e)) throw timedOut();
        throw e;
      }
    } finally {
      deadline.clear();
    }
  }

  /** The AppError a non-2xx answer stands for. */
  private errorFrom(status: number, text: string): AppError {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const err = AppError.fromBody(status, body);
    // A proxy or a non-Gantry server answered: show what it said.
    if (body === undefined && text) return new AppError(err.code, `${err.message} from ${this.server}: ${text.slice(0, 200)}`);
    return err;
  }
}

export function createHttpClient(opts: HttpClientOptions): GantryClient {
  return new HttpClient(opts);
}
