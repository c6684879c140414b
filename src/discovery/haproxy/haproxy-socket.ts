// One command over an HAProxy unix socket (the runtime API or the master CLI), in non-interactive
// mode: write the command, half-close, read until HAProxy closes. Several commands may be joined
// with ';' (pass a list): each is checked first, so no value inside a command can end it early
// (';') or start another line. Half-closing matters: the master CLI keeps the connection open otherwise.
import { connect } from 'node:net';
import { hasConfigBreaker } from '../../core/index.js';

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

/** Joins runtime API commands with ';' after checking that no word of any of them breaks out of it. */
export function joinCommands(commands: readonly string[]): string {
  for (const c of commands) {
    if (c.split(' ').some((word) => word === '' || hasConfigBreaker(word))) {
      throw new HaproxySocketError('', `refused to send the runtime API command ${JSON.stringify(c.slice(0, 120))}: a word holds a space, ';', '#', a quote or a control character`);
    }
  }
  return commands.join(';');
}

export async function socketCommand(socketPath: string, command: string | readonly string[], timeoutMs = 5000): Promise<string> {
  const text = typeof command === 'string' ? joinCommands([command]) : joinCommands(command);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(socketPath);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new HaproxySocketError(socketPath, `no answer on ${socketPath} to "${text.slice(0, 80)}" within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.end(`${text}\n`));
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
