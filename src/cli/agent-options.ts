// The agent's flags (`gantry agent`, `gantry up`) turned into the options of the agent root.
import { isIP } from 'node:net';
import { parseCpuList, parseDuration, UsageError } from '../core/index.js';
import type { DriverKind } from '../agent/agent-root.js';
import { durationOption } from './process-options.js';

/** Parses --max-container-ops (a positive number), --dead-container-ttl and --heartbeat-interval (durations). */
export function parseRobustnessOptions(opts: {
  maxContainerOps?: string | undefined;
  deadContainerTtl?: string | undefined;
  heartbeatInterval?: string | undefined;
  execMaxSessions?: string | undefined;
  execIdleTimeout?: string | undefined;
  statsInterval?: string | undefined;
  reservedCores?: string | undefined;
}): {
  maxContainerOps: number | undefined;
  deadContainerTtlMs: number | undefined;
  heartbeatIntervalMs: number | undefined;
  exec: { maxSessions?: number; idleTimeoutMs?: number };
  statsIntervalMs: number | undefined;
  reservedCores: number[] | undefined;
} {
  let maxContainerOps: number | undefined;
  if (opts.maxContainerOps !== undefined) {
    maxContainerOps = Number(opts.maxContainerOps);
    if (!Number.isFinite(maxContainerOps) || maxContainerOps <= 0 || maxContainerOps > 10_000) {
      throw new UsageError(`--max-container-ops must be a number of operations per second above 0 (like 10), not "${opts.maxContainerOps}"`);
    }
  }
  let deadContainerTtlMs: number | undefined;
  if (opts.deadContainerTtl !== undefined) {
    deadContainerTtlMs = parseDuration(opts.deadContainerTtl);
    if (deadContainerTtlMs === undefined) throw new UsageError(`--dead-container-ttl must be a duration like 1h, 30m or 0s, not "${opts.deadContainerTtl}"`);
  }
  const heartbeatIntervalMs = durationOption(opts.heartbeatInterval, '--heartbeat-interval');
  const exec: { maxSessions?: number; idleTimeoutMs?: number } = {};
  if (opts.execMaxSessions !== undefined) {
    const n = Number(opts.execMaxSessions);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new UsageError(`--exec-max-sessions must be a whole number from 1 to 10000 (like 32), not "${opts.execMaxSessions}"`);
    exec.maxSessions = n;
  }
  const idle = durationOption(opts.execIdleTimeout, '--exec-idle-timeout');
  if (idle !== undefined) {
    if (idle < 1000) throw new UsageError(`--exec-idle-timeout must be at least 1s, not "${opts.execIdleTimeout}"`);
    exec.idleTimeoutMs = idle;
  }
  const statsIntervalMs = durationOption(opts.statsInterval, '--stats-interval');
  if (statsIntervalMs !== undefined && statsIntervalMs !== 0 && statsIntervalMs < 1000) throw new UsageError(`--stats-interval must be 0 (off) or at least 1s, not "${opts.statsInterval}"`);
  let reservedCores: number[] | undefined;
  if (opts.reservedCores !== undefined) {
    try {
      reservedCores = parseCpuList(opts.reservedCores);
    } catch {
      throw new UsageError(`--reserved-cores must be a cpu list like 0 or 0-1,4, not "${opts.reservedCores}"`);
    }
  }
  return { maxContainerOps, deadContainerTtlMs, heartbeatIntervalMs, exec, statsIntervalMs, reservedCores };
}

/** `kinds`: the agent root's DRIVER_KINDS, passed in by the action that has loaded the agent's modules. */
export function parseDriverKind(value: string, kinds: readonly DriverKind[]): DriverKind {
  if ((kinds as readonly string[]).includes(value)) return value as DriverKind;
  throw new UsageError(`--driver must be one of ${kinds.join(', ')}, not "${value}"`);
}

/**
 * --address: an IP address, as the server requires of a node's address (it reaches HAProxy,
 * DNS answers and the server's own connections to the agent). Said here, before the agent starts,
 * rather than as a 422 the registration retries forever.
 */
export function parseAddressOption(value: string | undefined): string | undefined {
  if (value === undefined || isIP(value) !== 0) return value;
  throw new UsageError(`--address must be this host's IP address as other hosts reach it (like 10.0.0.5), not "${value}"`);
}
