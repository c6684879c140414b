// One DNS message in, one out: decode with dns-packet, answer from the catalog as it is at this
// moment (no cache, so an answer changes as soon as the catalog does), encode. No I/O here; the
// server (dns-server.ts) only moves bytes. Never throws: a message that cannot be decoded gets
// FORMERR when its header can be read, and no answer at all otherwise.
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type Question, type SrvAnswer, type StringAnswer } from 'dns-packet';
import type { EndpointSet } from './endpoint.js';
import { DEFAULT_ZONE, instanceName, normalizeName, parseDnsName, type DnsName } from './dns-names.js';

/** What the DNS reads: the catalog's sets (Catalog satisfies it). */
export interface EndpointReader {
  get(namespace: string, service: string): EndpointSet;
  list(namespace?: string): EndpointSet[];
  readonly revision: number;
}

export interface DnsAnswerOptions {
  /** Seconds; also the negative-caching TTL of the SOA. Default 1. */
  ttl?: number | undefined;
  /** Default `gantry`. */
  zone?: string | undefined;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = (typeof RCODE)[keyof typeof RCODE];
const OPCODE_QUERY = 0;
/** Without EDNS a UDP answer may not exceed 512 bytes (RFC 1035); larger ones are truncated (TC) and retried over TCP. */
const CLASSIC_UDP_SIZE = 512;
const MAX_UDP_SIZE = 4096;
const MAX_TCP_MESSAGE = 65535;

interface Reply {
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

export class DnsResponder {
  private readonly ttl: number;
  private readonly zone: string;

  constructor(
    private readonly catalog: EndpointReader,
    opts: DnsAnswerOptions = {},
  ) {
    this.ttl = opts.ttl ?? 1;
    this.zone = normalizeName(opts.zone ?? DEFAULT_ZONE);
  }

  /**
   * The response to one message, or undefined when there must be none (unreadable header, or the
   * message is itself a response: answering those would let two servers loop). Over UDP an answer
   * larger than the client's limit (512 bytes, or its EDNS size) keeps the answers that fit and
   * sets TC.
   */
  respond(message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    if (message.length < 12) return undefined;
    const id = message.readUInt16BE(0);
    const flags = message.readUInt16BE(2);
    if (flags & 0x8000) return undefined;
    const rd = flags & dnsPacket.RECURSION_DESIRED;
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return this.encode({ id, flags: rd, rcode: RCODE.FORMERR, question: undefined, reply: empty() }, transport, undefined);
    }
    const opcode = (flags >> 11) & 0xf;
    const questions = query.questions ?? [];
    const question = questions[0];
    let reply: Reply;
    if (opcode !== OPCODE_QUERY) reply = { ...empty(), rcode: RCODE.NOTIMP };
    else if (questions.length !== 1 || !question || !echoable(question.name)) {
      // Not echoed: a name that does not survive re-encoding would make our answer unreadable.
      return this.encode({ id, flags: rd, rcode: RCODE.FORMERR, question: undefined, reply: empty() }, transport, undefined);
    } else reply = this.answer(question);
    return this.encode({ id, flags: rd, rcode: reply.rcode, question, reply }, transport, udpSizeOf(query));
  }

  /** The records for one question. */
  answer(q: Question): Reply {
    const parsed = parseDnsName(q.name, this.zone);
    if (!parsed) return { ...empty(), rcode: RCODE.REFUSED };
    if ((q.class ?? 'IN') !== 'IN' && q.class !== 'ANY') return { ...empty(), rcode: RCODE.REFUSED };
    const name = normalizeName(q.name);
    const found = this.records(parsed, name);
    if (!found) return { ...empty(), rcode: RCODE.NXDOMAIN, authorities: [this.soa()] };
    // dns-packet decodes type 255 as 'ANY', which its types do not list.
    const type: string = q.type;
    const wanted = type === 'ANY' ? found.answers : found.answers.filter((a) => a.type === type);
    // The name exists but has no record of that type: NOERROR, no answers, SOA (NODATA, RFC 2308).
    if (wanted.length === 0) return { ...empty(), authorities: [this.soa()] };
    return { ...empty(), answers: wanted, additionals: type === 'SRV' || type === 'ANY' ? found.additionals : [] };
  }

  /** Every record a name has, or undefined when the name does not exist. */
  private records(n: DnsName, name: string): { answers: Answer[]; additionals: Answer[] } | undefined {
    switch (n.kind) {
      case 'apex':
        return { answers: [this.soa()], additionals: [] };
      case 'namespace':
        // An empty non-terminal exists while it holds a service with endpoints.
        return this.catalog.list(n.namespace).some((s) => s.endpoints.length > 0) ? { answers: [], additionals: [] } : undefined;
      case 'service': {
        const eps = this.catalog.get(n.namespace, n.service).endpoints;
        if (eps.length === 0) return undefined;
        return { answers: distinct(eps.map((e) => e.address)).map((ip) => this.a(name, ip)), additionals: [] };
      }
      case 'instance': {
        const eps = this.catalog.get(n.namespace, n.service).endpoints.filter((e) => e.instance.toLowerCase() === n.instance);
        if (eps.length === 0) return undefined;
        return { answers: distinct(eps.map((e) => e.address)).map((ip) => this.a(name, ip)), additionals: [] };
      }
      case 'srv': {
        const eps = this.catalog.get(n.namespace, n.service).endpoints.filter((e) => e.port.toLowerCase() === n.port && e.protocol === n.protocol);
        if (eps.length === 0) return undefined;
        const answers: SrvAnswer[] = eps.map((e) => ({
          type: 'SRV',
          name,
          ttl: this.ttl,
          class: 'IN',
          data: { priority: 0, weight: 1, port: e.hostPort, target: instanceName(e.namespace, e.service, e.instance, this.zone) },
        }));
        const targets = new Map<string, StringAnswer>();
        for (const e of eps) {
          const target = instanceName(e.namespace, e.service, e.instance, this.zone);
          const key = `${target} ${e.address}`;
          if (!targets.has(key)) targets.set(key, this.a(target, e.address));
        }
        return { answers, additionals: [...targets.values()] };
      }
      case 'unknown':
        return undefined;
    }
  }

  private a(name: string, ip: string): StringAnswer {
    // An IPv6 node address is served as AAAA under the same name.
    return { type: ip.includes(':') ? 'AAAA' : 'A', name, ttl: this.ttl, class: 'IN', data: ip };
  }

  private soa(): Answer {
    return {
      type: 'SOA',
      name: this.zone,
      ttl: this.ttl,
      class: 'IN',
      data: {
        mname: `ns.${this.zone}`,
        rname: `hostmaster.${this.zone}`,
        serial: this.catalog.revision % 2 ** 32,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: this.ttl,
      },
    };
  }

  private encode(
    r: { id: number; flags: number; rcode: Rcode; question: Question | undefined; reply: Reply },
    transport: 'udp' | 'tcp',
    udpSize: number | undefined,
  ): Buffer {
    const packet: Packet = {
      type: 'response',
      id: r.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | r.flags | r.rcode,
      questions: r.question ? [r.question] : [],
      answers: r.reply.answers,
      authorities: r.reply.authorities,
      additionals: r.reply.additionals,
    };
    // TCP frames a message with a 2-byte length: even there an answer cannot pass 65535 bytes.
    const limit = transport === 'tcp' ? MAX_TCP_MESSAGE : (udpSize ?? CLASSIC_UDP_SIZE);
    if (lengthOf(packet) <= limit) return encodeSafely(packet, r.id);
    // Too big for one datagram: the additionals go first; if still too big, as many answers as
    // fit, flagged TC, so resolvers retry over TCP and the others get a usable part. Sizes are
    // computed (encodingLength) and only the chosen packet is encoded.
    const bare: Packet = { ...packet, additionals: [] };
    if (lengthOf(bare) <= limit) return encodeSafely(bare, r.id);
    const answers = packet.answers ?? [];
    const truncated = (n: number): Packet => ({ ...bare, flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: answers.slice(0, n), authorities: [] });
    let lo = 0;
    let hi = answers.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (lengthOf(truncated(mid)) <= limit) lo = mid;
      else hi = mid - 1;
    }
    return encodeSafely(truncated(lo), r.id);
  }
}

/**
 * Whether a decoded name encodes back to the same labels: dns-packet joins labels with '.', so a
 * label holding a '.' byte comes back as empty or split labels, and an empty label ends a name.
 */
function echoable(name: unknown): boolean {
  if (typeof name !== 'string') return false;
  if (name === '' || name === '.') return true;
  const labels = name.replace(/\.$/, '').split('.');
  return Buffer.byteLength(name) <= 253 && labels.every((l) => l.length > 0 && Buffer.byteLength(l) <= 63);
}

function empty(): Reply {
  return { rcode: RCODE.NOERROR, answers: [], authorities: [], additionals: [] };
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The UDP payload size a client announced with EDNS (OPT), within 512..4096. */
function udpSizeOf(q: DecodedPacket): number | undefined {
  const opt = (q.additionals ?? []).find((a) => a.type === 'OPT');
  if (!opt || !('udpPayloadSize' in opt)) return undefined;
  return Math.min(MAX_UDP_SIZE, Math.max(CLASSIC_UDP_SIZE, opt.udpPayloadSize));
}

/** The encoded size; 0 when it cannot be encoded (encodeSafely then answers SERVFAIL, which fits). */
function lengthOf(p: Packet): number {
  try {
    return dnsPacket.encodingLength(p);
  } catch {
    return 0;
  }
}

/**
 * A question echoed from a hostile packet may not encode (a name label over 63 bytes decodes but
 * does not encode): answer SERVFAIL with no question rather than nothing.
 */
function encodeSafely(p: Packet, id: number): Buffer {
  try {
    return dnsPacket.encode(p);
  } catch {
    return dnsPacket.encode({ type: 'response', id, flags: dnsPacket.AUTHORITATIVE_ANSWER | RCODE.SERVFAIL, questions: [], answers: [], authorities: [], additionals: [] });
  }
}
