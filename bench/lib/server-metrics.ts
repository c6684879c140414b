// Reads series from the server's GET /metrics (Prometheus text) over its TLS, with the admin
// token: what the server itself counts (nodes heard from, lists and watches), not what the bench
// infers from outside.
import { request } from 'node:https';
import { request as plainRequest } from 'node:http';

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of the exposition text (comments and unparsable lines skipped). */
export function parseMetrics(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a series' samples whose labels include `labels`. */
export function sumOf(samples: readonly MetricSample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

/** GET /metrics; rejects on a refused connection, a non-200 or after `timeoutMs`. */
export function fetchMetrics(server: string, token: string, ca: string, timeoutMs = 10_000): Promise<MetricSample[]> {
  const url = new URL('/metrics', server);
  const send = url.protocol === 'https:' ? request : plainRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET', headers: { authorization: `Bearer ${token}` }, ca, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(parseMetrics(body)) : reject(new Error(`GET /metrics answered ${res.statusCode ?? '?'}: ${body.slice(0, 200)}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET /metrics took more than ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A quantile of a histogram's observations between two scrapes, as the upper bound (ms) of the
 * bucket it falls in (Prometheus' buckets are all there is); `count` is how many were observed.
 * Series are summed over every label set that includes `labels` for one of `routes`.
 */
export function histogramQuantileMs(
  before: readonly MetricSample[],
  after: readonly MetricSample[],
  name: string,
  routes: readonly string[],
  q: number,
): { count: number; upToMs: number | null } {
  const buckets = new Map<number, number>();
  const add = (samples: readonly MetricSample[], sign: number): void => {
    for (const s of samples) {
      if (s.name !== `${name}_bucket` || !routes.includes(s.labels.route ?? '')) continue;
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + sign * s.value);
    }
  };
  add(after, 1);
  add(before, -1);
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const count = sorted.at(-1)?.[1] ?? 0;
  if (count <= 0) return { count: 0, upToMs: null };
  const want = q * count;
  for (const [le, cumulative] of sorted) if (cumulative >= want) return { count, upToMs: le === Infinity ? null : le * 1000 };
  return { count, upToMs: null };
}
