// What the load balancer reports about one Service (GET .../services/NAME/loadbalancer, `gantry
// describe`, the LB column of `get services -o wide`). The wire shapes live in the API contract
// (core/api/discovery.ts); this file keeps discovery's own names for them.
export type { LbEntryState, LbEntryStatus, LbReload, LbServerStatus, LoadBalancerStatus } from '../../core/index.js';
