// What the load balancer reports about one Service (GET .../services/NAME/loadbalancer, `gantry
// describe`, the LB column of `get services -o wide`). Plain data, shared with the client.

export interface LbServerStatus {
  slot: number;
  instance: string;
  address: string;
  port: number;
  /** HAProxy's word for it: UP, DOWN, MAINT, DRAIN, "UP 1/2", ... or "unknown" when not asked. */
  state: string;
}

export type LbEntryState = 'Serving' | 'Pending' | 'Conflict' | 'Failed' | 'Off';

export interface LbEntryStatus {
  /** The container port's name (spec.expose[].port). */
  port: string;
  mode: 'http' | 'tcp';
  servicePort?: number | undefined;
  hostname?: string | undefined;
  /** Where clients connect: `127.0.0.1:18080` for a servicePort, `http://HOST:8080` for a hostname. */
  frontends: string[];
  state: LbEntryState;
  message?: string | undefined;
  servers: LbServerStatus[];
}

export interface LbReload {
  result: 'ok' | 'failed';
  at: string;
  message?: string | undefined;
}

export interface LoadBalancerStatus {
  kind: 'LoadBalancerStatus';
  namespace: string;
  service: string;
  /** False when this server runs no load balancer (--no-lb, or haproxy is not installed). */
  enabled: boolean;
  /** The HAProxy master's PID while it runs. */
  pid?: number | undefined;
  message?: string | undefined;
  lastReload?: LbReload | undefined;
  entries: LbEntryStatus[];
}
