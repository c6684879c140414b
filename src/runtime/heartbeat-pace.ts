// How often agents heartbeat as the cluster grows: Nomad's answer to heartbeat load. Every agent
// heartbeats every BASE_HEARTBEAT_INTERVAL_MS (5 s) until the server would take more than
// MAX_HEARTBEATS_PER_SECOND (1,000); beyond that the server asks for a longer interval (in whole
// seconds) with each heartbeat's answer (`Gantry-Heartbeat-Interval`), so the load stays flat:
// 10 s at 10,000 nodes. Nomad scales its heartbeat TTL the same way (50 a second by default).
//
// A node heartbeating every 10 s may be silent 5 s longer between beats than one at 5 s, so the
// node controller tolerates twice that much more silence (two missed beats, as 15 s tolerates two
// at 5 s): the grace period and every lostAfter stretch by heartbeatStretchMs. Below the cap both
// are exactly what the operator and the services set.

/** The interval every agent uses in a cluster below the cap (the agent's default). */
export const BASE_HEARTBEAT_INTERVAL_MS = 5000;
/** The most heartbeats a second the server asks for, all nodes together. */
export const MAX_HEARTBEATS_PER_SECOND = 1000;

/** The interval the server asks of every agent with `nodes` nodes: at least the base, whole seconds. */
export function heartbeatIntervalFor(nodes: number, maxPerSecond = MAX_HEARTBEATS_PER_SECOND): number {
  const spread = Math.ceil(nodes / maxPerSecond) * 1000;
  return Math.max(BASE_HEARTBEAT_INTERVAL_MS, spread);
}

/** The extra silence the node controller tolerates because of that interval (0 below the cap). */
export function heartbeatStretchMs(nodes: number, maxPerSecond = MAX_HEARTBEATS_PER_SECOND): number {
  return 2 * (heartbeatIntervalFor(nodes, maxPerSecond) - BASE_HEARTBEAT_INTERVAL_MS);
}
