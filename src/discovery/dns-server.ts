// Gantry's DNS server: UDP and TCP (RFC 1035 4.2.2: each message after a 2-byte length) on one or
// more host:port addresses, every message answered by DnsResponder from the catalog at query time.
// It owns its sockets: close() ends them all. A bad packet costs the sender an error answer (or
// silence), never the server.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { MalformedError } from '../core/index.js';
import { DnsResponder, type DnsAnswerOptions, type EndpointReader } from './dns-answer.js';

export interface DnsListenAddress {
  host: string;
  port: number;
}

export interface DnsServerOptions extends DnsAnswerOptions {
  catalog: EndpointReader;
  logger: Logger;
  /** A TCP connection silent this long is closed; default 10 s. */
  tcpIdleMs?: number | undefined;
  /** At most this many open TCP connections; more are closed at once. Default 256. */
  maxTcpConnections?: number | undefined;
}

/** Largest TCP message we accept: the 2-byte length allows 65535, a query needs far less. */
const MAX_TCP_QUERY = 4096;

export class DnsServer {
  private readonly responder: DnsResponder;
  private readonly udp: UdpSocket[] = [];
  private readonly tcp: Server[] = [];
  private readonly connections = new Set<Socket>();
  private readonly bound: DnsListenAddress[] = [];

  constructor(private readonly opts: DnsServerOptions) {
    this.responder = new DnsResponder(opts.catalog, opts);
  }

  /** Where it listens, with the real ports (port 0 picks one; UDP and TCP share it). */
  get addresses(): readonly DnsListenAddress[] {
    return this.bound;
  }

  /** Listens on every address, UDP and TCP; on failure closes what it opened and throws. */
  async listen(addresses: readonly DnsListenAddress[]): Promise<void> {
    try {
      for (const a of addresses) this.bound.push(await this.listenBoth(a));
    } catch (e) {
      await this.close();
      throw e;
    }
    this.opts.logger.info({ addresses: this.bound.map((a) => `${a.host}:${a.port}`) }, 'dns server listening');
  }

  async close(): Promise<void> {
    for (const s of this.connections) s.destroy();
    this.connections.clear();
    await Promise.all([
      ...this.udp.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      ...this.tcp.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    ]);
    this.bound.length = 0;
  }

  /** UDP first, then TCP on the same port; with port 0 a TCP port already taken means another try. */
  private async listenBoth(a: DnsListenAddress): Promise<DnsListenAddress> {
    for (let attempt = 1; ; attempt++) {
      const udp = await this.listenUdp(a);
      const port = udp.address().port;
      try {
        await this.listenTcp({ host: a.host, port });
        return { host: a.host, port };
      } catch (e) {
        if (a.port !== 0 || attempt >= 5 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        this.udp.splice(this.udp.indexOf(udp), 1);
        await new Promise<void>((resolve) => udp.close(() => resolve()));
      }
    }
  }

  private listenUdp(a: DnsListenAddress): Promise<UdpSocket> {
    const socket = createSocket({ type: isIPv6(a.host) ? 'udp6' : 'udp4' });
    socket.on('message', (msg: Buffer, from: RemoteInfo) => {
      const out = this.respond(msg, 'udp', from.address);
      if (out) socket.send(out, from.port, from.address, (err) => err && this.opts.logger.debug({ err, to: from.address }, 'dns reply not sent'));
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(a.port, a.host, () => {
        socket.off('error', reject);
        // After bind, a socket error (ICMP unreachable and the like) is logged, not fatal.
        socket.on('error', (err) => this.opts.logger.warn({ err }, 'dns udp socket error'));
        this.udp.push(socket);
        resolve(socket);
      });
    });
  }

  private listenTcp(a: DnsListenAddress): Promise<void> {
    const server = createServer((socket) => this.serveTcp(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(a.port, a.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.opts.logger.warn({ err }, 'dns tcp server error'));
        this.tcp.push(server);
        resolve();
      });
    });
  }

  private serveTcp(socket: Socket): void {
    if (this.connections.size >= (this.opts.maxTcpConnections ?? 256)) {
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.setTimeout(this.opts.tcpIdleMs ?? 10_000, () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (length > MAX_TCP_QUERY) {
          socket.destroy();
          return;
        }
        if (buffered.length < 2 + length) return;
        const msg = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        const out = this.respond(msg, 'tcp', socket.remoteAddress);
        if (!out) {
          // Not even a header: the stream cannot be trusted to be in step any more.
          socket.destroy();
          return;
        }
        const framed = Buffer.alloc(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        socket.write(framed);
      }
    });
  }

  private respond(msg: Buffer, transport: 'udp' | 'tcp', from: string | undefined): Buffer | undefined {
    try {
      return this.responder.respond(msg, transport);
    } catch (err) {
      // The responder does not throw by design; if it ever does, one query fails, not the server.
      this.opts.logger.error({ err, from, transport }, 'dns query failed');
      return undefined;
    }
  }
}

/** `host:port[,host:port]`, or `off`; IPv6 as `[::1]:8600`. */
export function parseDnsListen(text: string, what = '--dns-listen'): DnsListenAddress[] {
  if (text.trim() === 'off') return [];
  return text.split(',').map((part) => {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(part.trim());
    const port = m ? Number(m[3]) : NaN;
    if (!m || port > 65535) throw new MalformedError(`${what} must be host:port[,host:port] like 127.0.0.1:8600, or off; not "${part}"`);
    return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
  });
}
