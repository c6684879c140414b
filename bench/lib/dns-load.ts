// DNS load for benchmarks: `concurrency` UDP sockets, each with one query in flight at a time (a
// new one as soon as the answer arrives), against a DNS server on loopback. Counts answers, not
// sends, so a server that drops queries shows as a lower rate (and as timeouts).
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

export interface DnsLoadOptions {
  port: number;
  host?: string | undefined;
  /** The name and type asked, e.g. `_http._tcp.web.default.gantry` SRV. */
  name: string;
  type: 'A' | 'SRV';
  concurrency: number;
  durationMs: number;
  /** Announce a 4096-byte UDP size (EDNS), as resolvers do; default true. Without it, answers over 512 bytes come back truncated. */
  edns?: boolean | undefined;
  /** A query unanswered this long is counted as a timeout and asked again. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface DnsLoadResult {
  answered: number;
  timeouts: number;
  /** Answers whose rcode was not NOERROR. */
  errors: number;
  seconds: number;
  qps: number;
}

const EDNS = { type: 'OPT' as const, name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };

export async function dnsLoad(o: DnsLoadOptions): Promise<DnsLoadResult> {
  const host = o.host ?? '127.0.0.1';
  const timeoutMs = o.timeoutMs ?? 1000;
  let answered = 0;
  let timeouts = 0;
  let errors = 0;
  const started = performance.now();
  const endAt = started + o.durationMs;
  const worker = (k: number): Promise<void> =>
    new Promise((resolve) => {
      const socket = createSocket('udp4');
      let id = (k * 7919) & 0xffff;
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        socket.close();
        resolve();
      };
      const send = (): void => {
        if (performance.now() >= endAt || o.signal?.aborted) return finish();
        id = (id + 1) & 0xffff;
        const msg = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: o.type, name: o.name }], additionals: o.edns === false ? [] : [EDNS] });
        timer = setTimeout(() => {
          timeouts++;
          send();
        }, timeoutMs);
        socket.send(msg, o.port, host);
      };
      socket.on('message', (m: Buffer) => {
        if (m.length < 4 || m.readUInt16BE(0) !== id) return; // a late answer to a query that timed out
        clearTimeout(timer);
        answered++;
        if ((m.readUInt16BE(2) & 0xf) !== 0) errors++;
        send();
      });
      socket.on('error', finish);
      send();
    });
  await Promise.all(Array.from({ length: o.concurrency }, (_, k) => worker(k)));
  const seconds = (performance.now() - started) / 1000;
  return { answered, timeouts, errors, seconds, qps: Math.round(answered / seconds) };
}
