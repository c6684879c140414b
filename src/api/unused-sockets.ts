// Node's server.close() ends idle keep-alive connections, but not a connection that has not
// carried a request yet: it waits for the client to close it. HTTP clients open such connections
// ahead of need (undici does after an aborted stream), and then close() hangs for seconds. This
// tracks them so the app can end them when it closes; connections with a request run to the end.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export function trackUnusedSockets(server: Server): { destroyUnused(): void } {
  const unused = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  server.on('request', (req: { socket: Socket }) => unused.delete(req.socket));
  return {
    destroyUnused: () => {
      for (const s of unused) s.destroy();
      unused.clear();
    },
  };
}
