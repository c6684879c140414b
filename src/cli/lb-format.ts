// How the CLI shows the load balancer: the LB column of `gantry get services -o wide` and the
// "Load balancer" section of `gantry describe service`.
import type { LoadBalancerStatus } from '../client/index.js';
import { formatTable } from './table.js';

function upCount(servers: LoadBalancerStatus['entries'][number]['servers']): number {
  return servers.filter((s) => s.state.startsWith('UP')).length;
}

/** `127.0.0.1:18080 3/3,http://web.example.com:8080 3/3`; `<none>` without expose; `off`. */
export function formatLbColumn(s: LoadBalancerStatus | undefined): string {
  if (!s || s.entries.length === 0) return '<none>';
  if (!s.enabled) return 'off';
  return s.entries
    .map((e) => {
      const where = e.frontends.join(' ') || e.port;
      return e.state === 'Serving' ? `${where} ${upCount(e.servers)}/${e.servers.length}` : `${where} ${e.state}`;
    })
    .join(',');
}

/** The describe section; empty for a service that exposes nothing. */
export function formatLbSection(s: LoadBalancerStatus): string {
  if (s.entries.length === 0) return '';
  const head = [`Load balancer:  ${s.enabled ? 'HAProxy' : 'off'}${s.pid !== undefined ? ` (pid ${s.pid})` : ''}${s.message ? ` (${s.message})` : ''}`];
  if (s.lastReload) head.push(`  last reload: ${s.lastReload.result} at ${s.lastReload.at}${s.lastReload.message ? `: ${s.lastReload.message}` : ''}`);
  const rows = s.entries.map((e) => [e.frontends.join(' ') || '-', e.mode, e.port, e.state, `${upCount(e.servers)}/${e.servers.length}`, e.message ?? '']);
  const servers = s.entries.flatMap((e) => e.servers.map((x) => [e.frontends[0] ?? e.port, `slot${x.slot}`, x.instance, `${x.address}:${x.port}`, x.state]));
  const indent = (t: string): string => t.trimEnd().split('\n').map((l) => `  ${l}`).join('\n');
  let out = `${head.join('\n')}\n${indent(formatTable(['FRONTEND', 'MODE', 'PORT', 'STATE', 'UP', 'MESSAGE'], rows))}\n`;
  if (servers.length > 0) out += `${indent(formatTable(['FRONTEND', 'SLOT', 'INSTANCE', 'ADDRESS', 'HAPROXY'], servers))}\n`;
  return out;
}
