import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { connectionCounts } from './connection-counts.js';
import { keepSessionTicketKeys } from './session-tickets.js';
import { ensureClusterTls } from './tls.js';

describe('connectionCounts', () => {
  it('counts connections, TLS handshakes and resumed ones, per call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gantry-conns-'));
    const tls = await ensureClusterTls(dir);
    const server = createServer({ cert: tls.certPem, key: tls.keyPem });
    const stop = keepSessionTicketKeys(server, 'k');
    const counts = connectionCounts(server, true);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    /** One TLS connection (offering `session`); the session the server gave. */
    const once = (session?: Buffer): Promise<Buffer | undefined> =>
      new Promise((resolve, reject) => {
        let given: Buffer | undefined;
        const socket = connect({ host: '127.0.0.1', port, ca: tls.caPem, servername: 'localhost', ...(session && { session }) }, () => {
          const done = (): void => {
            socket.destroy();
            resolve(given);
          };
          // A new connection waits for its ticket (it comes just after the handshake); a resumed
          // one a moment, for the server to take the client's last handshake message.
          if (given) done();
          else if (session) setTimeout(done, 50);
          else socket.once('session', done);
        });
        socket.on('session', (s: Buffer) => (given = s));
        socket.on('error', reject);
      });
    try {
      const session = await once();
      await once(session);
      // A connection that never finishes a handshake counts as a connection only.
      await new Promise<void>((resolve) => netConnect(port, '127.0.0.1', function (this: Socket) {
        this.destroy();
        resolve();
      }));
      await new Promise((r) => setTimeout(r, 50));
      const first = counts();
      expect(first, JSON.stringify(first)).toEqual({ connections: 3, tlsHandshakes: 2, tlsResumed: 1 });
      expect(counts()).toEqual({ connections: 0, tlsHandshakes: 0, tlsResumed: 0 });
    } finally {
      stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
