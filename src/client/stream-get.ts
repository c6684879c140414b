// A GET whose response body may stay quiet for a long time: followed logs and watches. Node's
// fetch (undici) cuts a body that sends nothing for 300 s (bodyTimeout), and Node 20 offers no way
// to change that without the undici package; node:http has no body timeout at all. Liveness is the
// caller's business (watches keep an idle timer fed by the server's bookmarks; a followed log of a
// quiet container is legitimately silent for hours).
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { tlsConnectOptions, type TlsTrust } from './tls-trust.js';

export interface StreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as it arrives; destroy it (or abort the signal) to close the connection. */
  body: IncomingMessage;
}

/** What HttpTransport hears of a stream's own connection (origin-memo.ts keeps it per server). */
export interface StreamSessions {
  /** The TLS session to offer the server (one an earlier connection to the same server was given). */
  session?: Buffer | undefined;
  /** Called with each TLS session the server gives this connection. */
  onSession(session: Buffer): void;
  /** Called once the TCP connection is made (before TLS and the answer). */
  onConnect?: (() => void) | undefined;
}

/**
 * Sends a GET and resolves with the response once its headers arrive. Aborting `signal` closes the
 * connection at any point (the body then ends with an AbortError). Each call has its own
 * connection: a long-lived stream gains nothing from keep-alive, and an aborted one cannot leave a
 * half-read socket in a shared pool. Over https://, `sessions` lets the handshake resume one
 * before it (no certificate chain to send and check again).
 */
export function streamGet(url: string | URL, headers: Record<string, string>, signal: AbortSignal, tls?: TlsTrust, sessions?: StreamSessions): Promise<StreamResponse> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const secure = target.protocol === 'https:';
  const transport = secure ? https : http;
  return new Promise((resolve, reject) => {
    const resume = secure && sessions?.session ? { session: sessions.session } : {};
    const req = transport.request(target, { method: 'GET', headers, signal, agent: false, ...(secure ? tlsConnectOptions(tls) : {}), ...resume });
    if (sessions) {
      req.once('socket', (socket) => {
        if (secure) socket.on('session', (s: Buffer) => sessions.onSession(s));
        const onConnect = sessions.onConnect;
        if (onConnect) socket.once('connect', () => onConnect());
      });
    }
    req.once('response', (res) => {
      // Readers see body errors through iteration or piping; this only keeps an error that comes
      // before anyone reads (an abort, a reset) from being an uncaught 'error' event.
      res.on('error', () => undefined);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    // Before 'response' this rejects; later errors (an abort mid-body) also reach the body.
    req.on('error', reject);
    req.end();
  });
}

/** Reads a whole (error) body as text, at most `limit` bytes. */
export async function readText(body: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
