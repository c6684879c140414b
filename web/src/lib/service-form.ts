// The deploy form <-> Service manifest <-> YAML mapping, and the API's field paths -> form fields.
// The form edits one container (the first); everything else in the manifest (more containers,
// volumes, security context, update strategy ...) is carried through untouched, so switching
// between the form and the YAML never loses what the form has no field for.
import { parse, stringify } from 'yaml';
import type { Manifest, Service } from '../../../src/core/index.js';

export interface ServiceForm {
  name: string;
  namespace: string;
  image: string;
  /** Shell words; "sh -c 'echo hi'" -> ["sh", "-c", "echo hi"]. Empty: the image's own. */
  command: string;
  /** One KEY=VALUE per line. */
  env: string;
  /** Comma-separated `name:port` (`http:8080`, `dns:53/udp`). */
  ports: string;
  cpu: string;
  memory: string;
  replicas: string;
  /** HTTP health check: a port name from `ports` and a path; empty port: none. */
  healthPort: string;
  healthPath: string;
  /** Comma-separated `rack=a`, `pool!=gpu`. */
  constraints: string;
  /** Comma-separated node label keys. */
  spread: string;
  /** Comma-separated port names exposed on the load balancer; `http@app.example.com` for a hostname. */
  expose: string;
}

export type FormField = keyof ServiceForm;

export const EMPTY_FORM: ServiceForm = {
  name: '',
  namespace: 'default',
  image: '',
  command: '',
  env: '',
  ports: '',
  cpu: '0.1',
  memory: '64Mi',
  replicas: '1',
  healthPort: '',
  healthPath: '/',
  constraints: '',
  spread: '',
  expose: '',
};

type Container = Service['spec']['containers'][number];
type Json = Record<string, unknown>;

/** Shell-like words: spaces split, single and double quotes group, backslash escapes. */
export function shellWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** The inverse of shellWords for display: words with spaces or quotes get single quotes. */
export function joinWords(words: readonly string[]): string {
  return words.map((w) => (w === '' || /[\s'"\\]/.test(w) ? `'${w.replace(/'/g, `'\\''`)}'` : w)).join(' ');
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** A number when the text is a plain number (cpu: 0.5), else the text (cpu: 500m). */
const cpuValue = (s: string): string | number => (/^\d+(\.\d+)?$/.test(s.trim()) ? Number(s.trim()) : s.trim());
/** Replicas as a number when they are one, else the text (the server says what is wrong). */
const intOrText = (s: string): number | string => (/^-?\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim());

function parseEnv(text: string): Record<string, string> | undefined {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) env[line.trim()] = '';
    else env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return Object.keys(env).length > 0 ? env : undefined;
}

function parsePorts(text: string): Container['ports'] {
  const ports = list(text).map((p) => {
    const m = /^([^:]+):(\d+)(?:\/(tcp|udp))?$/.exec(p);
    if (!m) return { name: p, containerPort: Number.NaN };
    return { name: m[1]!, containerPort: Number(m[2]), ...(m[3] === 'udp' ? { protocol: 'udp' as const } : {}) };
  });
  return ports.length > 0 ? ports : undefined;
}

/** The manifest the form describes; `base` (what was loaded or typed as YAML) keeps what the form has no field for. */
export function formToManifest(form: ServiceForm, base?: Manifest<Service>): Manifest<Service> {
  const baseSpec = (base?.spec ?? {}) as Json;
  const baseContainers = (base?.spec.containers ?? []);
  const first: Json = { ...(baseContainers[0] ?? {}) };
  for (const k of ['command', 'env', 'ports', 'healthCheck', 'resources']) delete first[k];
  const command = shellWords(form.command);
  const env = parseEnv(form.env);
  const ports = parsePorts(form.ports);
  const baseHealth = (baseContainers[0]?.healthCheck ?? {}) as Json;
  const { http: _http, ...healthRest } = baseHealth;
  const container = {
    ...first,
    name: typeof first.name === 'string' && first.name ? first.name : 'main',
    image: form.image.trim(),
    ...(command.length > 0 ? { command } : {}),
    ...(env ? { env } : {}),
    ...(ports ? { ports } : {}),
    ...(form.healthPort.trim() ? { healthCheck: { ...healthRest, http: { port: form.healthPort.trim(), ...(form.healthPath.trim() ? { path: form.healthPath.trim() } : {}) } } } : {}),
    resources: { ...(form.cpu.trim() ? { cpu: cpuValue(form.cpu) } : {}), ...(form.memory.trim() ? { memory: form.memory.trim() } : {}) },
  } as Container;
  const constraints = list(form.constraints);
  const spread = list(form.spread);
  const basePlacement = { ...((baseSpec.placement as Json | undefined) ?? {}) };
  delete basePlacement.constraints;
  delete basePlacement.spread;
  const placement = { ...basePlacement, ...(constraints.length ? { constraints } : {}), ...(spread.length ? { spread } : {}) };
  const expose = list(form.expose).map((e) => {
    const [port, hostname] = e.split('@');
    return hostname ? { port: port!, hostname, mode: 'http' as const } : { port: port! };
  });
  const { placement: _p, expose: _e, containers: _c, replicas: _r, ...restSpec } = baseSpec;
  const spec = {
    ...restSpec,
    replicas: intOrText(form.replicas),
    containers: [container, ...baseContainers.slice(1)],
    ...(Object.keys(placement).length ? { placement } : {}),
    ...(expose.length ? { expose } : {}),
  } as Service['spec'];
  const metadata = { ...(base?.metadata ?? {}), name: form.name.trim(), namespace: form.namespace.trim() || 'default' };
  return { apiVersion: 'gantry/v1', kind: 'Service', metadata, spec };
}

/** The form's view of a manifest. */
export function manifestToForm(m: Manifest<Service>): ServiceForm {
  const c = (m.spec?.containers?.[0] ?? {}) as Partial<Container>;
  const http = c.healthCheck?.http;
  const expose = (m.spec?.expose ?? []).map((e) => (e.hostname ? `${e.port}@${e.hostname}` : e.port));
  return {
    name: m.metadata?.name ?? '',
    namespace: m.metadata?.namespace ?? 'default',
    image: c.image ?? '',
    command: joinWords(c.command ?? []),
    env: Object.entries(c.env ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    ports: (c.ports ?? []).map((p) => `${p.name}:${p.containerPort}${p.protocol === 'udp' ? '/udp' : ''}`).join(', '),
    cpu: c.resources?.cpu === undefined ? '' : String(c.resources.cpu),
    memory: c.resources?.memory ?? '',
    replicas: String(m.spec?.replicas ?? 1),
    healthPort: http ? String(http.port) : '',
    healthPath: http?.path ?? (http ? '' : '/'),
    constraints: (m.spec?.placement?.constraints ?? []).join(', '),
    spread: (m.spec?.placement?.spread ?? []).join(', '),
    expose: expose.join(', '),
  };
}

/** What the YAML pane shows: the manifest without server-set metadata. */
export function manifestToYaml(m: Manifest<Service>): string {
  return stringify(m, { lineWidth: 0 });
}

export type YamlParse = { ok: true; manifest: Manifest<Service> } | { ok: false; error: string };

/** The YAML pane's text as a Service manifest, or what is wrong with it (line and column). */
export function yamlToManifest(text: string): YamlParse {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true });
  } catch (e) {
    return { ok: false, error: (e as Error).message.split('\n')[0] ?? 'invalid YAML' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, error: 'the YAML must be one Service object (apiVersion, kind, metadata, spec)' };
  const m = doc as Manifest<Service>;
  if (m.kind !== 'Service') return { ok: false, error: `kind must be Service, not ${String(m.kind)}` };
  if (typeof m.metadata !== 'object' || m.metadata === null) return { ok: false, error: 'metadata is missing' };
  if (typeof m.spec !== 'object' || m.spec === null || !Array.isArray(m.spec.containers)) return { ok: false, error: 'spec.containers is missing' };
  return { ok: true, manifest: m };
}

/**
 * The form field an API field path (`spec.containers[0].resources.memory`) belongs to; undefined
 * when the form has no field for it (the error is then shown above the form, with its path).
 */
export function fieldOfPath(path: string): FormField | undefined {
  const p = path.replace(/^\//, '').replace(/\//g, '.');
  if (p === 'metadata.name') return 'name';
  if (p === 'metadata.namespace') return 'namespace';
  if (p === 'spec.replicas') return 'replicas';
  if (p.startsWith('spec.placement.constraints')) return 'constraints';
  if (p.startsWith('spec.placement.spread')) return 'spread';
  if (p.startsWith('spec.expose')) return 'expose';
  const c = /^spec\.containers\[0\]\.?(.*)$/.exec(p);
  if (!c) return p === 'spec.containers' ? 'image' : undefined;
  const rest = c[1] ?? '';
  if (rest === 'image' || rest === '' || rest === 'name') return 'image';
  if (rest.startsWith('command') || rest.startsWith('args')) return 'command';
  if (rest.startsWith('env')) return 'env';
  if (rest.startsWith('ports')) return 'ports';
  if (rest.startsWith('resources.cpu')) return 'cpu';
  if (rest.startsWith('resources.memory')) return 'memory';
  if (rest.startsWith('resources')) return 'memory';
  if (rest.startsWith('healthCheck.http.path')) return 'healthPath';
  if (rest.startsWith('healthCheck')) return 'healthPort';
  return undefined;
}

/** Field errors by form field, and those with no field (shown with their path). */
export function mapFieldErrors(details: readonly { path: string; message: string }[]): { byField: Partial<Record<FormField, string>>; other: string[] } {
  const byField: Partial<Record<FormField, string>> = {};
  const other: string[] = [];
  for (const d of details) {
    const f = fieldOfPath(d.path);
    if (f) byField[f] = byField[f] ? `${byField[f]}; ${d.message}` : d.message;
    else other.push(`${d.path}: ${d.message}`);
  }
  return { byField, other };
}
