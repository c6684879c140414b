// File descriptors are what runs out first with thousands of agents in one process: each hollow
// node holds a listening socket (the agent's log endpoint) and a long-lived watch connection, and
// with --embedded the server holds the other end of that watch too.
import { readFileSync } from 'node:fs';

const SPARE = 256;

/** The soft limit on open files of this process, or undefined where /proc is not available. */
export function openFileLimit(procLimits = '/proc/self/limits'): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(procLimits, 'utf8'));
    if (!m?.[1] || m[1] === 'unlimited') return undefined;
    return Number(m[1]);
  } catch {
    return undefined;
  }
}

// Measured at 1,000 and 5,000 nodes: 2.3 to 2.8 per node alone (listen socket, watch, a share of
// the keep-alive pool), 3.5 to 4.3 with the server's ends in the same process.
const perNode = (embedded: boolean): number => (embedded ? 4 : 2.5);

export function fdsNeeded(nodes: number, embedded: boolean): number {
  return Math.ceil(nodes * perNode(embedded)) + SPARE;
}

/** A warning with the fix when `nodes` will not fit under `limit`; undefined when they fit. */
export function fdBudgetWarning(nodes: number, embedded: boolean, limit: number | undefined): string | undefined {
  if (limit === undefined) return undefined;
  const need = fdsNeeded(nodes, embedded);
  if (need <= limit) return undefined;
  const fit = Math.max(0, Math.floor((limit - SPARE) / perNode(embedded)));
  return (
    `${nodes} hollow nodes need about ${need} open files${embedded ? ' with --embedded' : ''}, but this process may open ${limit}: ` +
    `about ${fit} will start. Raise the limit (ulimit -n ${need}), run the server in its own process, or split the nodes over several sim processes (--name-prefix).`
  );
}
