// What the server's loop-delay lines count beside the delay (runtime/loop-monitor.ts): new
// connections and, over TLS, completed handshakes and how many of those resumed a session. A
// stall in the window of thousands of handshakes was a reconnect storm (a restart), and
// tlsResumed says whether the agents came back on their sessions (session-tickets.ts).
import type { Server as TlsServer, TLSSocket } from 'node:tls';

/** Starts counting `server`'s connections; each call of the result returns the counts since the one before. */
export function connectionCounts(server: TlsServer, tls: boolean): () => Record<string, number> {
  let c = { connections: 0, tlsHandshakes: 0, tlsResumed: 0 };
  server.on('connection', () => c.connections++);
  if (tls) {
    server.on('secureConnection', (socket: TLSSocket) => {
      c.tlsHandshakes++;
      if (socket.isSessionReused()) c.tlsResumed++;
    });
  }
  return () => {
    const out = tls ? c : { connections: c.connections };
    c = { connections: 0, tlsHandshakes: 0, tlsResumed: 0 };
    return out;
  };
}
