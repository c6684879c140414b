// File descriptors are what runs out first with thousands of agents in one process. Each hollow
// node holds one long-lived watch connection (with --embedded the server holds the other end
// too); the log endpoint is one socket shared by all nodes, and API calls go over one keep-alive
// pool shared by every node's client (client/http-transport.ts) of at most DEFAULT_MAX_IN_FLIGHT
// connections, because the request gate never lets more calls be in flight.
import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_IN_FLIGHT, URGENT_RESERVE } from './request-gate.js';

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

// Measured at 10,000 nodes against a server in its own process: 10,533 open files.
const perNode = (embedded: boolean): number => (embedded ? 2 : 1);
// The pool's sockets, and with --embedded the server's ends of them.
const fixed = (nodes: number, embedded: boolean): number => SPARE + (embedded ? 2 : 1) * (DEFAULT_MAX_IN_FLIGHT + URGENT_RESERVE);

function fdsNeeded(nodes: number, embedded: boolean): number {
  return Math.ceil(nodes * perNode(embedded)) + fixed(nodes, embedded);
}

/** A warning with the fix when `nodes` will not fit under `limit`; undefined when they fit. */
export function fdBudgetWarning(nodes: number, embedded: boolean, limit: number | undefined): string | undefined {
  if (limit === undefined) return undefined;
  const need = fdsNeeded(nodes, embedded);
  if (need <= limit) return undefined;
  const fit = Math.max(0, Math.floor((limit - fixed(nodes, embedded)) / perNode(embedded)));
  return (
    `${nodes} hollow nodes need about ${need} open files${embedded ? ' with --embedded' : ''}, but this process may open ${limit}: ` +
    `about ${fit} will start. Raise the limit (ulimit -n ${need}), run the server in its own process, or split the nodes over several sim processes (--name-prefix).`
  );
}
