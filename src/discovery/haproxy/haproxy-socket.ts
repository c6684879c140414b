// One command over an HAProxy unix socket (the runtime API or the master CLI), in non-interactive
// mode: write the command, half-close, read until HAProxy closes. Several commands may be joined
// with ';'. Half-closing matters: the master CLI keeps the connection open otherwise.
import { connect } from 'node:net';

/** The longest unix socket path Linux takes (sun_path is 108 bytes with the final NUL). */
export const MAX_SOCKET_PATH = 107;

class HaproxySocketError extends Error {
  override readonly name = 'HaproxySocketError';
  constructor(
    readonly socketPath: string,
    message: string,
  ) {
    super(message);
  }
}

export async function socketCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(socketPath);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new HaproxySocketError(socketPath, `no answer on ${socketPath} to "${command.slice(0, 80)}" within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.end(`${command}\n`));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new HaproxySocketError(socketPath, `${socketPath}: ${e.message}`));
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
