// Exec sessions on the agent's own endpoint (docs/operate.md): a WebSocket upgrade of
// /nodes/NODE/v1/containers/ID/exec?command=...&tty=1&stdin=1, from the server's exec proxy only
// (the endpoint checked its client certificate or the node's secret before this is reached). Frames
// as core/exec-frames.ts. Bounded: at most `maxSessions` at once (429 before the upgrade), an idle
// session (no input nor output for `idleTimeoutMs`) ends with reason idle-timeout, pings keep a
// quiet shell alive through proxies and find a peer that vanished. A session that ends before its
// process does (the client left, a timeout) kills the process: Docker would let it run on.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { AGENT_ROUTES, decodeExecFrame, describeError, encodeExecFrame, pathPattern, type ExecStatus } from '../../core/index.js';
import type { Driver, ExecProcess } from '../../drivers/driver.js';

export interface ExecEndpointOptions {
  nodeName: string;
  driver: Driver;
  /** Whether this node's agent owns the container (it never execs into others). */
  owns: (containerId: string) => boolean;
  logger: Logger;
  /** Sessions at once on this node; default 32. */
  maxSessions?: number | undefined;
  /** A session with no input nor output this long ends; default 30 minutes. */
  idleTimeoutMs?: number | undefined;
  /** Ping interval; a peer that misses two pongs is cut; default 20 s. */
  pingIntervalMs?: number | undefined;
}

const EXEC_PATH = new RegExp(`^${pathPattern(AGENT_ROUTES.nodeContainerExec)}$`);
/** The largest message a client may send (stdin chunks are small; a paste is not megabytes). */
const MAX_MESSAGE = 1024 * 1024;

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 429: 'Too Many Requests' }[status] ?? 'Error';
  const body = JSON.stringify({ error: { code: status === 429 ? 'TOO_MANY_REQUESTS' : 'EXEC_REFUSED', message } });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

function positiveInt(text: string | null): number | undefined {
  if (text === null || !/^[0-9]{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 && n <= 65535 ? n : undefined;
}

export class ExecEndpoint {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  private active = 0;

  constructor(private readonly opts: ExecEndpointOptions) {}

  /** Sessions open now. */
  get sessions(): number {
    return this.active;
  }

  /** Whether `pathname` is an exec path (the endpoint sends other upgrades away). */
  matches(pathname: string): boolean {
    return EXEC_PATH.test(pathname);
  }

  /** Takes an authorized upgrade request: checks it, then runs the session. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://agent');
    } catch {
      return refuseUpgrade(socket, 400, 'the request path is not a valid URL path');
    }
    const m = EXEC_PATH.exec(url.pathname);
    if (!m?.[1] || !m[2]) return refuseUpgrade(socket, 404, `no exec route ${url.pathname}`);
    const node = decodeURIComponent(m[1]);
    const id = m[2];
    if (node !== this.opts.nodeName) return refuseUpgrade(socket, 404, `node ${node} is not here: this agent serves node ${this.opts.nodeName}`);
    if (!this.opts.owns(id)) return refuseUpgrade(socket, 404, `container "${id}" does not belong to this node`);
    const command = url.searchParams.getAll('command');
    if (command.length === 0 || command.some((w) => w.includes('\0'))) return refuseUpgrade(socket, 400, 'give the command as command=WORD, repeated (no NUL)');
    const max = this.opts.maxSessions ?? 32;
    if (this.active >= max) return refuseUpgrade(socket, 429, `node ${this.opts.nodeName} has ${this.active} exec sessions open, its limit (agent flag --exec-max-sessions); close one and retry`);
    const tty = url.searchParams.get('tty') === '1';
    const stdin = url.searchParams.get('stdin') === '1';
    const cols = positiveInt(url.searchParams.get('cols'));
    const rows = positiveInt(url.searchParams.get('rows'));
    this.active++;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.run(ws, id, { command, tty, stdin, cols, rows }));
  }

  /** Ends every session (the agent stops): their processes are killed. */
  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private run(ws: WebSocket, id: string, o: { command: string[]; tty: boolean; stdin: boolean; cols: number | undefined; rows: number | undefined }): void {
    const log = this.opts.logger.child({ container: id.slice(0, 12), command: o.command[0] });
    const idleMs = this.opts.idleTimeoutMs ?? 30 * 60_000;
    const pingMs = this.opts.pingIntervalMs ?? 20_000;
    let proc: ExecProcess | undefined;
    let ended = false;
    const queued: RawData[] = [];
    let idle: NodeJS.Timeout | undefined;
    let alive = true;
    const touch = (): void => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => {
        log.info({ idleMs }, 'exec session idle; ending it');
        finish({ reason: 'idle-timeout', message: `no input or output for ${Math.round(idleMs / 1000)} s (agent flag --exec-idle-timeout)` });
      }, idleMs);
    };
    const pinger = setInterval(() => {
      if (!alive) {
        log.info('exec client missed its pongs; ending the session');
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, pingMs);
    ws.on('pong', () => (alive = true));
    const finish = (status: ExecStatus): void => {
      if (ended) return;
      ended = true;
      if (idle) clearTimeout(idle);
      clearInterval(pinger);
      if (status.reason !== 'exited') void proc?.kill();
      if (ws.readyState === ws.OPEN) {
        ws.send(encodeExecFrame({ channel: 3, status }), { binary: true });
        ws.close(1000, status.reason);
      }
    };
    const onMessage = (data: RawData): void => {
      if (!proc) {
        queued.push(data);
        return;
      }
      let frame;
      try {
        frame = decodeExecFrame(new Uint8Array(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)));
      } catch (e) {
        return finish({ reason: 'error', message: `protocol error: ${describeError(e)}` });
      }
      touch();
      if (frame.channel === 0) {
        if (frame.data.length === 0) proc.closeStdin();
        else proc.write(frame.data);
      } else if (frame.channel === 4) {
        proc.resize(frame.size.cols, frame.size.rows).catch((e: unknown) => log.debug({ err: describeError(e) }, 'exec resize failed'));
      } else {
        finish({ reason: 'error', message: `protocol error: a client may send channels 0 (stdin) and 4 (resize), not ${frame.channel}` });
      }
    };
    ws.on('message', onMessage);
    ws.on('close', () => {
      this.active--;
      if (!ended) {
        // The client left first: the process must not run on unseen.
        ended = true;
        if (idle) clearTimeout(idle);
        clearInterval(pinger);
        void proc?.kill();
        log.info('exec client gone; process killed');
      }
    });
    ws.on('error', (e) => log.debug({ err: describeError(e) }, 'exec socket error'));
    touch();
    this.opts.driver.openExec(id, o).then(
      (p) => {
        proc = p;
        if (ended) {
          void p.kill();
          return;
        }
        log.info({ tty: o.tty }, 'exec session started');
        p.onOutput((channel, data) => {
          touch();
          if (ws.readyState === ws.OPEN) ws.send(encodeExecFrame({ channel, data }), { binary: true });
        });
        for (const data of queued.splice(0)) onMessage(data);
        p.exited.then(
          (exitCode) => finish({ reason: 'exited', exitCode }),
          (e: unknown) => finish({ reason: 'error', message: `could not read the exit code: ${describeError(e)}` }),
        );
      },
      (e: unknown) => finish({ reason: 'error', message: describeError(e) }),
    );
  }
}
