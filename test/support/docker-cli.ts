// Small wrappers over the docker CLI, so tests check what Docker itself says, independent of
// Gantry's driver.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 2 ** 20 });
  return stdout.trim();
}

/** Ids of containers carrying all the labels (running or not). */
export async function containersWithLabels(labels: Record<string, string>, all = true): Promise<string[]> {
  const filters = Object.entries(labels).flatMap(([k, v]) => ['--filter', `label=${k}=${v}`]);
  const out = await docker('ps', '-q', '--no-trunc', ...(all ? ['-a'] : []), ...filters);
  return out ? out.split('\n') : [];
}

export interface InspectSummary {
  id: string;
  running: boolean;
  pid: number;
  startedAt: string;
  restartCount: number;
  labels: Record<string, string>;
}

export async function inspect(id: string): Promise<InspectSummary> {
  const [c] = JSON.parse(await docker('inspect', id)) as {
    Id: string;
    State: { Running: boolean; Pid: number; StartedAt: string };
    RestartCount: number;
    Config: { Labels: Record<string, string> };
  }[];
  if (!c) throw new Error(`no container ${id}`);
  return { id: c.Id, running: c.State.Running, pid: c.State.Pid, startedAt: c.State.StartedAt, restartCount: c.RestartCount, labels: c.Config.Labels };
}

export async function removeContainers(ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await docker('rm', '-f', '-v', ...ids).catch(() => undefined);
}

/** Names of volumes carrying all the labels. */
export async function volumesWithLabels(labels: Record<string, string>): Promise<string[]> {
  const filters = Object.entries(labels).flatMap(([k, v]) => ['--filter', `label=${k}=${v}`]);
  const out = await docker('volume', 'ls', '-q', ...filters);
  return out ? out.split('\n') : [];
}

export async function removeVolumes(names: readonly string[]): Promise<void> {
  if (names.length > 0) await docker('volume', 'rm', '-f', ...names);
}
