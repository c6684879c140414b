// The client's one way onto the network: node:http(s) with a keep-alive Agent for calls, and a
// connection of its own for each stream (stream-get.ts). Not fetch: Node 20's fetch makes every
// call allocate streams, signals and a timer that outlive it; with 10,000 hollow nodes
// heartbeating (2,000 calls a second) the simulator's heap grew by 13 MB/s of promoted garbage
// and its RSS kept climbing (674 MiB after a minute at 3,000 nodes, against a flat 475 MiB over
// node:http). One transport may be shared by many clients (gantry sim gives one to every hollow
// node), so the pool, not the number of clients, bounds the sockets.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { OriginMemo } from './origin-memo.js';
import { streamGet, type StreamResponse } from './stream-get.js';
import { tlsConnectOptions, type TlsTrust } from './tls-trust.js';
import { TurnPacer } from './turn-pacer.js';

export interface HttpTransportOptions {
  /** Keep-alive connections per server at most; calls beyond it wait for a free one. Default 256. */
  maxSockets?: number | undefined;
  /** Whom https:// URLs are trusted by, and the client certificate to show (see TlsTrust). */
  tls?: TlsTrust | undefined;
  /** The clock of the refusal memory (origin-memo.ts), ms; tests pass their own. */
  now?: (() => number) | undefined;
  /** New stream connections set up per event-loop turn at most (turn-pacer.ts); default 8. */
  streamsPerTurn?: number | undefined;
}

export interface TransportRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  /** Aborts the call (headers and body); the promise rejects with an AbortError. */
  signal?: AbortSignal | undefined;
  /** The whole call, headers and body, must be done within this. */
  timeoutMs: number;
}

/** A call that took longer than its timeoutMs. */
export class CallTimeout extends Error {
  override readonly name = 'CallTimeout';
  constructor(readonly ms: number) {
    super(`no complete answer within ${ms} ms`);
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const e = new Error('the call was aborted');
  e.name = 'AbortError';
  e.cause = signal?.reason;
  return e;
}

export interface TransportResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The whole body as text ('' for none). */
  text: string;
}

export const DEFAULT_MAX_SOCKETS = 256;

/** An idle pooled connection is closed before the server's keep-alive timeout (72 s) can race a reuse. */
const IDLE_SOCKET_MS = 30_000;

export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly tls: TlsTrust | undefined;
  /** Whether https:// servers are checked against a CA given here (not the system's roots). */
  readonly trustsCa: boolean;
  /** Streams' TLS sessions and recent refusals, per server (origin-memo.ts). */
  private readonly memo: OriginMemo;
  /** Pooled sockets watchSocket has seen. */
  private readonly watched = new WeakSet<Socket>();
  /** Paces new stream connections: a few per turn, so thousands coming back at once do not block reads. */
  private readonly streamPacer: TurnPacer;

  constructor(opts: HttpTransportOptions = {}) {
    this.tls = opts.tls;
    this.trustsCa = opts.tls?.ca !== undefined;
    this.memo = new OriginMemo(opts.now);
    this.streamPacer = new TurnPacer(opts.streamsPerTurn);
    // lifo: the most recently used socket is the one least likely to have been closed by the server.
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? DEFAULT_MAX_SOCKETS, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' as const };
    this.httpAgent = new http.Agent(agentOpts);
    this.httpsAgent = new https.Agent({ ...agentOpts, ...tlsConnectOptions(opts.tls) });
  }

  /**
   * One call over the pool: resolves with the status and the whole body once it has arrived.
   * Rejects with a CallTimeout after `timeoutMs` (headers and body together), with the signal's
   * reason when `signal` aborts, or with the socket's error (at once, with no new connection, while
   * the server is known to refuse connections: origin-memo.ts).
   */
  request(url: URL, r: TransportRequest): Promise<TransportResponse> {
    const tls = url.protocol === 'https:';
    const transport = tls ? https : http;
    const origin = url.origin;
    return new Promise<TransportResponse>((resolve, reject) => {
      if (r.signal?.aborted) return reject(abortReason(r.signal));
      const attempt = this.memo.admit(url);
      if ('refused' in attempt) return reject(attempt.refused);
      const headers = r.body === undefined ? r.headers : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) };
      // Over TLS the memo's session goes first (https.Agent falls back on its own cache), and a new
      // pooled socket reports its sessions and its TCP connection to the memo.
      const session = tls ? this.memo.session(origin) : undefined;
      const req = transport.request(url, { method: r.method, headers, agent: tls ? this.httpsAgent : this.httpAgent, ...(session && { session }) });
      req.once('socket', (socket) => this.watchSocket(origin, socket, tls));
      let settled = false;
      const settle = (fail: Error | undefined, ok?: TransportResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        r.signal?.removeEventListener('abort', onAbort);
        if (fail) {
          this.memo.noteFailure(origin, fail, attempt);
          reject(fail);
          req.destroy();
        } else if (ok) resolve(ok);
      };
      // One timer per call, cleared when the call ends: no timer outlives a fast call.
      const timer = setTimeout(() => settle(new CallTimeout(r.timeoutMs)), r.timeoutMs);
      const onAbort = (): void => settle(abortReason(r.signal));
      r.signal?.addEventListener('abort', onAbort, { once: true });
      req.once('response', (res) => {
        this.memo.noteConnected(origin);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => settle(undefined, { status: res.statusCode ?? 0, headers: res.headers, text: chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8') }));
        // `on`, not `once`: a second error after the first settled must not go uncaught.
        res.on('error', (e) => settle(e));
        res.once('close', () => {
          if (!res.complete) settle(new Error('the connection closed before the answer was complete'));
        });
      });
      req.on('error', (e) => settle(e));
      req.end(r.body);
    });
  }

  /**
   * A GET whose body may stay quiet for long (watches, followed logs): its own connection, no body
   * timeout. Over https:// it offers the TLS session an earlier connection to the same server was
   * given; while the server refuses connections it fails at once as request() does. At most
   * `streamsPerTurn` connections are set up per event-loop turn; the rest wait for later turns.
   * `onAttempt` is called when the connection is set up (after that wait): a caller's timeout of
   * a quiet connection counts from there, not from the wait.
   */
  async stream(url: URL, headers: Record<string, string>, signal: AbortSignal, onAttempt?: () => void): Promise<StreamResponse> {
    const origin = url.origin;
    // An aborted signal fails as streamGet fails it (an AbortError), refusal or not.
    const attempt = signal.aborted ? { startedAt: 0, probe: false } : this.memo.admit(url);
    if ('refused' in attempt) throw attempt.refused;
    // Paced after the refusal check: failing at once costs no socket.
    const paced = this.streamPacer.admit(signal);
    if (paced) await paced;
    onAttempt?.();
    const sessions = { session: this.memo.session(origin), onSession: (s: Buffer) => this.memo.noteSession(origin, s), onConnect: () => this.memo.noteConnected(origin) };
    try {
      const res = await streamGet(url, headers, signal, this.tls, sessions);
      this.memo.noteConnected(origin);
      return res;
    } catch (e) {
      this.memo.noteFailure(origin, e, attempt);
      throw e;
    }
  }

  /** Reports a new pooled socket's TCP connection and TLS sessions to the memo (once per socket). */
  private watchSocket(origin: string, socket: Socket, tls: boolean): void {
    if (this.watched.has(socket)) return;
    this.watched.add(socket);
    if (socket.connecting) socket.once('connect', () => this.memo.noteConnected(origin));
    if (tls) socket.on('session', (s: Buffer) => this.memo.noteSession(origin, s));
  }

  /** Closes the pooled connections; calls after this open new ones. Streams are their owners' to close. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
