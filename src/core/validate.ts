// Validation of user input. Every problem is reported at once, each with the field path a user
// reads in YAML (`spec.containers[0].resources.memory`) and a message that says what fits.
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { scheduleErrors } from './cron-schedule.js';
import { InvalidError, type FieldError } from './errors.js';
import { kindInfo, resolveKind } from './kinds.js';
import { parseCpu, parseMemory } from './quantity.js';
import { DEFAULT_CPU } from './defaults.js';
import { configFileErrors, secretDataErrors } from './secrets.js';
import { volumeErrors } from './volumes.js';
import {
  API_VERSION,
  ConfigSpecSchema,
  CronJobSpecSchema,
  JobSpecSchema,
  NamespaceSpecSchema,
  NodeSpecSchema,
  SecretSpecSchema,
  TokenSpecSchema,
  ObjectMetaSchema,
  ServiceSpecSchema,
  type AnyObject,
  type CronJobSpec,
  type Kind,
  type Manifest,
  type ServiceSpec,
  type ConfigFileSpec,
} from './schema.js';

const SPEC_SCHEMAS: Partial<Record<Kind, TSchema>> = {
  Service: ServiceSpecSchema,
  Node: NodeSpecSchema,
  Namespace: NamespaceSpecSchema,
  Job: JobSpecSchema,
  CronJob: CronJobSpecSchema,
  Config: ConfigSpecSchema,
  Secret: SecretSpecSchema,
  Token: TokenSpecSchema,
};

const compiled = new Map<TSchema, ReturnType<typeof Compile>>();
function checker(schema: TSchema): ReturnType<typeof Compile> {
  let c = compiled.get(schema);
  if (!c) {
    c = Compile(schema);
    compiled.set(schema, c);
  }
  return c;
}

/** `/spec/containers/0/image` -> `spec.containers[0].image` */
function pointerToPath(prefix: string, pointer: string): string {
  let out = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^[0-9]+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}

function schemaAt(root: TSchema, schemaPath: string): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const raw of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node !== null && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

/** Checks `value` against `schema`; returns field errors with paths under `prefix`. */
export function schemaErrors(schema: TSchema, value: unknown, prefix: string): FieldError[] {
  const c = checker(schema);
  if (c.Check(value)) return [];
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of c.Errors(value)) {
    let path = pointerToPath(prefix, e.instancePath);
    let message: string;
    const s = schemaAt(schema, e.schemaPath);
    if (e.keyword === 'boolean') continue; // reported once more below as additionalProperties
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties ?? [];
      for (const name of extra) {
        const p = path ? `${path}.${name}` : name;
        if (!seen.has(p)) {
          seen.add(p);
          out.push({ path: p, message: 'unknown field; check its spelling and indentation' });
        }
      }
      continue;
    }
    if (e.keyword === 'required') {
      const missing = (e.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      for (const name of missing) {
        const p = path ? `${path}.${name}` : name;
        if (!seen.has(p)) {
          seen.add(p);
          out.push({ path: p, message: 'is required' });
        }
      }
      continue;
    }
    // A failed union reports each branch; the union's own errorMessage says it once.
    const parentUnion = schemaAt(schema, e.schemaPath.replace(/\/anyOf\/[0-9]+$/, ''));
    if (typeof s?.errorMessage === 'string') message = s.errorMessage;
    else if (typeof parentUnion?.errorMessage === 'string') message = parentUnion.errorMessage;
    else if (e.keyword === 'type') message = `must be ${String((s?.type as string | undefined) ?? 'of another type')}`;
    else message = e.message;
    if (!path) path = prefix || '(document)';
    if (seen.has(path)) continue;
    seen.add(path);
    out.push({ path, message });
  }
  return out;
}

function serviceSemanticErrors(spec: ServiceSpec): FieldError[] {
  const out: FieldError[] = [];
  const containerNames = new Set<string>();
  const portNames = new Map<string, string>();
  const containerPorts = new Map<string, string>();
  spec.containers.forEach((c, i) => {
    const at = `spec.containers[${i}]`;
    if (containerNames.has(c.name)) out.push({ path: `${at}.name`, message: `duplicate container name "${c.name}"` });
    containerNames.add(c.name);
    if (c.resources?.memory !== undefined) {
      const bytes = parseMemory(c.resources.memory);
      if (bytes !== undefined && bytes < 6 * 2 ** 20) out.push({ path: `${at}.resources.memory`, message: 'must be at least 6Mi (Docker refuses less)' });
    }
    if (c.resources?.cpu !== undefined) {
      // 0 would mean "no limit" to Docker, and it refuses anything under 0.01 core at start.
      const millicores = parseCpu(c.resources.cpu);
      if (millicores !== undefined && millicores < 10) out.push({ path: `${at}.resources.cpu`, message: 'must be at least 10m (0.01 core)' });
    }
    (c.ports ?? []).forEach((p, j) => {
      const pat = `${at}.ports[${j}]`;
      // Containers of one instance share a network namespace: names and ports are instance-wide.
      if (portNames.has(p.name)) out.push({ path: `${pat}.name`, message: `duplicate port name "${p.name}" (also at ${portNames.get(p.name)})` });
      portNames.set(p.name, pat);
      const key = `${p.containerPort}/${p.protocol ?? 'tcp'}`;
      if (containerPorts.has(key)) out.push({ path: `${pat}.containerPort`, message: `port ${key} is already declared at ${containerPorts.get(key)}; containers of one instance share localhost` });
      containerPorts.set(key, pat);
    });
  });
  out.push(...exposeErrors(spec, portProtocols(spec)));
  spec.containers.forEach((c, i) => {
    const hc = c.healthCheck;
    if (!hc) return;
    const at = `spec.containers[${i}].healthCheck`;
    const kinds = [hc.http, hc.tcp, hc.exec].filter((x) => x !== undefined).length;
    if (kinds !== 1) out.push({ path: at, message: 'must set exactly one of http, tcp or exec' });
    for (const [k, probe] of [['http', hc.http], ['tcp', hc.tcp]] as const) {
      if (probe && typeof probe.port === 'string' && !portNames.has(probe.port)) {
        out.push({ path: `${at}.${k}.port`, message: `names no port; declare "${probe.port}" in ports[] or give a port number` });
      }
    }
  });
  return out;
}

function portProtocols(spec: ServiceSpec): Map<string, string> {
  return new Map(spec.containers.flatMap((c) => (c.ports ?? []).map((p) => [p.name, p.protocol ?? 'tcp'] as const)));
}

/**
 * spec.expose[]: each entry names a declared TCP port and asks for a servicePort (its own
 * frontend), a hostname (a route on the shared HTTP port, so mode http) or both. Clashes with
 * other services are the load balancer's to report: this check sees one service.
 */
function exposeErrors(spec: ServiceSpec, ports: ReadonlyMap<string, string>): FieldError[] {
  const out: FieldError[] = [];
  const servicePorts = new Map<number, string>();
  const hostnames = new Map<string, string>();
  (spec.expose ?? []).forEach((e, i) => {
    const at = `spec.expose[${i}]`;
    const protocol = ports.get(e.port);
    if (protocol === undefined) out.push({ path: `${at}.port`, message: `names no port; declare "${e.port}" in containers[].ports` });
    else if (protocol !== 'tcp') out.push({ path: `${at}.port`, message: `port "${e.port}" is ${protocol}; the load balancer carries tcp ports only` });
    if (e.servicePort === undefined && e.hostname === undefined) out.push({ path: at, message: 'must set servicePort (its own port on the load balancer), hostname (routed on the shared HTTP port), or both' });
    if (e.hostname !== undefined && (e.mode ?? 'http') !== 'http') out.push({ path: `${at}.hostname`, message: 'routes by Host header, which needs mode http; remove it or set mode: http' });
    if (e.servicePort !== undefined) {
      const other = servicePorts.get(e.servicePort);
      if (other) out.push({ path: `${at}.servicePort`, message: `${e.servicePort} is already exposed at ${other}` });
      servicePorts.set(e.servicePort, at);
    }
    if (e.hostname !== undefined) {
      const other = hostnames.get(e.hostname);
      if (other) out.push({ path: `${at}.hostname`, message: `${e.hostname} is already exposed at ${other}` });
      hostnames.set(e.hostname, at);
    }
  });
  return out;
}

/** Volumes and mounts of Services and Jobs (CronJobs through their job template). */
function podSemanticErrors(kind: Kind, spec: unknown): FieldError[] {
  const s = spec as { containers?: ServiceSpec['containers']; jobTemplate?: ServiceSpec };
  if ((kind === 'Service' || kind === 'Job') && s.containers) return [...volumeErrors(spec as ServiceSpec, 'spec'), ...cpusetErrors(spec as ServiceSpec, 'spec')];
  if (kind === 'CronJob' && s.jobTemplate) return [...volumeErrors(s.jobTemplate, 'spec.jobTemplate'), ...cpusetErrors(s.jobTemplate, 'spec.jobTemplate')];
  return [];
}

/** cpuMode cpuset pins whole cores: `cpu` must be a whole number of them. */
function cpusetErrors(spec: Pick<ServiceSpec, 'containers' | 'initContainers'>, prefix: string): FieldError[] {
  const out: FieldError[] = [];
  for (const [list, field] of [[spec.containers, 'containers'], [spec.initContainers ?? [], 'initContainers']] as const) {
    list.forEach((c, i) => {
      if (c.resources?.cpuMode !== 'cpuset') return;
      const millicores = parseCpu(c.resources.cpu ?? DEFAULT_CPU);
      if (millicores === undefined || millicores < 1000 || millicores % 1000 !== 0) {
        out.push({ path: `${prefix}.${field}[${i}].resources.cpu`, message: `must be a whole number of cores like 1 or 2 with cpuMode cpuset (it pins whole cores); got ${String(c.resources.cpu ?? DEFAULT_CPU)}` });
      }
    });
  }
  return out;
}

/** Config files of Services and Jobs (CronJobs through their job template); markers in Secrets. */
function configSemanticErrors(kind: Kind, spec: unknown): FieldError[] {
  const s = spec as { configFiles?: ConfigFileSpec[]; jobTemplate?: { configFiles?: ConfigFileSpec[] }; data?: Record<string, string> };
  if (kind === 'Service' || kind === 'Job') return configFileErrors(s.configFiles, 'spec.configFiles');
  if (kind === 'CronJob') return configFileErrors(s.jobTemplate?.configFiles, 'spec.jobTemplate.configFiles');
  if (kind === 'Secret') return secretDataErrors(s.data ?? {});
  return [];
}

/**
 * Validates a manifest as a user submitted it. Returns it typed, or throws InvalidError (422)
 * listing every problem. `expect` pins kind/namespace/name when the URL already names them.
 */
export function validateManifest(input: unknown, expect?: { kind?: Kind; namespace?: string; name?: string }): Manifest {
  const errors: FieldError[] = [];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidError('the document must be an object with apiVersion, kind, metadata and spec', [{ path: '(document)', message: 'must be an object' }]);
  }
  const doc = input as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key)) errors.push({ path: key, message: 'unknown field; a document has apiVersion, kind, metadata and spec' });
  }
  if (doc.apiVersion !== API_VERSION) errors.push({ path: 'apiVersion', message: `must be ${API_VERSION}` });
  const info = typeof doc.kind === 'string' ? resolveKind(doc.kind) : undefined;
  if (!info || info.kind !== doc.kind) {
    errors.push({ path: 'kind', message: `must be one of Service, Node, Namespace${info ? ` (did you mean ${info.kind}?)` : ''}` });
  } else if (!info.userWritable) {
    errors.push({ path: 'kind', message: `${info.kind} objects are written by Gantry only` });
  } else if (expect?.kind && expect.kind !== info.kind) {
    errors.push({ path: 'kind', message: `must be ${expect.kind} at this URL` });
  }
  errors.push(...schemaErrors(ObjectMetaSchema, doc.metadata, 'metadata'));
  const meta = doc.metadata as Record<string, unknown> | undefined;
  if (expect?.name && meta && typeof meta.name === 'string' && meta.name !== expect.name) {
    errors.push({ path: 'metadata.name', message: `must be ${expect.name} to match the URL` });
  }
  if (info && meta && !info.namespaced && meta.namespace !== undefined) {
    errors.push({ path: 'metadata.namespace', message: `${info.kind} objects are not namespaced; remove it` });
  }
  if (expect?.namespace && meta && typeof meta.namespace === 'string' && meta.namespace !== expect.namespace) {
    errors.push({ path: 'metadata.namespace', message: `must be ${expect.namespace} to match the URL` });
  }
  const specSchema = info ? SPEC_SCHEMAS[info.kind] : undefined;
  if (specSchema) {
    const spec = doc.spec ?? (info?.kind === 'Namespace' ? {} : undefined);
    if (spec === undefined) errors.push({ path: 'spec', message: 'is required' });
    else {
      const specErrors = schemaErrors(specSchema, spec, 'spec');
      errors.push(...specErrors);
      if (specErrors.length === 0 && info?.kind === 'Service') errors.push(...serviceSemanticErrors(spec as ServiceSpec));
      if (specErrors.length === 0 && info) errors.push(...configSemanticErrors(info.kind, spec), ...podSemanticErrors(info.kind, spec));
      if (specErrors.length === 0 && info?.kind === 'CronJob') {
        const cj = spec as CronJobSpec;
        errors.push(...scheduleErrors(cj.schedule, cj.timeZone));
      }
    }
  }
  if (errors.length > 0) {
    const what = info ? `${info.kind.toLowerCase()}${meta && typeof meta.name === 'string' ? ` "${meta.name}"` : ''}` : 'document';
    throw new InvalidError(`${what} is invalid: ${errors.length} problem${errors.length > 1 ? 's' : ''}`, errors);
  }
  const manifest = { ...doc } as unknown as Manifest;
  delete (manifest as { status?: unknown }).status; // status is Gantry's to write
  if (info?.kind === 'Namespace' && manifest.spec === undefined) (manifest as { spec: unknown }).spec = {};
  return manifest;
}

export function isNamespaced(kind: Kind): boolean {
  return kindInfo(kind).namespaced;
}

export type { AnyObject };
