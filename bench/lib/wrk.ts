// Runs Debian's `wrk` against a URL on loopback and reads its summary: requests/s, and the
// failures it counts (socket errors, non-2xx/3xx answers).
import { spawn } from 'node:child_process';

export interface WrkResult {
  rps: number;
  requests: number;
  /** connect, read and write errors. */
  socketErrors: number;
  /** Requests unanswered within wrk's 2 s: an overloaded server, not a failed one. */
  timeouts: number;
  non2xx: number;
}

export async function runWrk(url: string, o: { threads: number; connections: number; seconds: number }, signal: AbortSignal): Promise<WrkResult> {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, url];
  const text = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const abort = (): void => void child.kill('SIGTERM');
    signal.addEventListener('abort', abort, { once: true });
    child.on('error', (e) => reject(new Error(`wrk could not run (${e.message}): install it (Debian: apt-get install wrk, or scripts/ensure.sh)`)));
    child.on('close', (code) => {
      signal.removeEventListener('abort', abort);
      if (code === 0) resolve(out);
      else reject(new Error(`wrk ${args.join(' ')} exited with ${String(code)}: ${out.slice(-500)}`));
    });
  });
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    rps: num(/Requests\/sec:\s+([0-9.]+)/),
    requests: num(/(\d+) requests in/),
    socketErrors: errors ? errors.slice(1, 4).reduce((n, x) => n + Number(x), 0) : 0,
    timeouts: errors ? Number(errors[4]) : 0,
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
  };
}
