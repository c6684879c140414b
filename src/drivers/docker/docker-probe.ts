// Health checks from the host's side: http and tcp dial the published host port (what a client
// of the service would reach), exec runs inside the container. Every failure message says what
// was tried and what went wrong, because it ends up in `gantry describe`.
import http from 'node:http';
import net from 'node:net';
import type { ContainerSpec, HealthCheck } from '../../core/index.js';
import type { ContainerState, ExecResult, ProbeResult } from '../driver.js';

export type ExecFn = (command: readonly string[], timeoutMs: number) => Promise<ExecResult>;

function errorText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return e instanceof Error ? e.message : String(e);
}

/** A port name or number from a health check -> the host port it is published on. */
function resolveHostPort(
  state: ContainerState,
  ports: ContainerSpec['ports'],
  ref: string | number,
): { port: number } | { error: string } {
  let name: string;
  if (typeof ref === 'number') {
    const declared = (ports ?? []).find((p) => p.containerPort === ref);
    if (!declared) return { error: `port ${ref} is not declared in the container's ports` };
    name = declared.name;
  } else {
    name = ref;
  }
  const port = state.hostPorts[name];
  if (port === undefined) return { error: `port "${name}" has no published host port` };
  return { port };
}

function probeHttp(host: string, port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path, timeout: timeoutMs, agent: false, headers: { 'user-agent': 'gantry-probe' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 400;
      resolve(ok ? { ok } : { ok, message: `GET ${path} -> ${status}` });
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs}ms`)));
    req.on('error', (e) => resolve({ ok: false, message: `GET ${path} on ${host}:${port}: ${errorText(e)}` }));
  });
}

function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`timed out after ${timeoutMs}ms`)));
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.once('error', (e) => resolve({ ok: false, message: `connect ${host}:${port}: ${errorText(e)}` }));
  });
}

async function probeExec(exec: ExecFn, command: readonly string[], timeoutMs: number): Promise<ProbeResult> {
  try {
    const r = await exec(command, timeoutMs);
    if (r.exitCode === 0) return { ok: true };
    const tail = r.output.trim().slice(-200);
    return { ok: false, message: `exit code ${r.exitCode}${tail ? `: ${tail}` : ''}` };
  } catch (e) {
    return { ok: false, message: `exec ${command.join(' ')}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Runs the first check kind the health check names (http, then tcp, then exec). */
export async function runProbe(
  state: ContainerState,
  ports: ContainerSpec['ports'],
  check: HealthCheck,
  timeoutMs: number,
  exec: ExecFn,
): Promise<ProbeResult> {
  if (!state.running) return { ok: false, message: 'container is not running' };
  const host = state.hostIP ?? '127.0.0.1';
  if (check.http) {
    const target = resolveHostPort(state, ports, check.http.port);
    if ('error' in target) return { ok: false, message: target.error };
    return probeHttp(host, target.port, check.http.path ?? '/', timeoutMs);
  }
  if (check.tcp) {
    const target = resolveHostPort(state, ports, check.tcp.port);
    if ('error' in target) return { ok: false, message: target.error };
    return probeTcp(host, target.port, timeoutMs);
  }
  if (check.exec) return probeExec(exec, check.exec.command, timeoutMs);
  return { ok: false, message: 'health check names no http, tcp or exec check' };
}
