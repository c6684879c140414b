// What a WebSocket server said when it refused an upgrade (ws's 'unexpected-response'): the
// `error.message` of Gantry's JSON error body, or the body as it came.
import type { IncomingMessage } from 'node:http';

export function refusalMessage(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    res.on('data', (c: Buffer) => (text += c.toString('utf8')));
    res.on('error', () => resolve(text));
    res.on('end', () => {
      try {
        resolve((JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text);
      } catch {
        resolve(text);
      }
    });
  });
}
