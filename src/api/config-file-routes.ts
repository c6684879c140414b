// GET /api/v1/namespaces/:ns/instances/:name/files (agent role): the instance's config files with
// their content resolved from inline content, Configs and Secrets. The only route that returns
// Secret values, and only to agents: content reaches a node when an instance there needs it.
import type { FastifyInstance } from 'fastify';
import {
  ConflictError,
  ForbiddenError,
  namespaceOf,
  NotFoundError,
  ROUTES,
  type ConfigFileContent,
  type ConfigFileSpec,
  type FieldError,
  type Instance,
} from '../core/index.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';
import type { Store } from '../store/store.js';

export type ResolvedFile = ConfigFileContent;

const DEFAULT_FILE_MODE = '0644';

/** Where the instance's config files are declared, for error paths a user can find. */
const FIELD = 'spec.configFiles';

async function resolveOne(store: Store, namespace: string, f: ConfigFileSpec, i: number, missing: FieldError[]): Promise<string | undefined> {
  if (f.content !== undefined) return f.content;
  const ref = f.configRef ?? f.secretRef;
  const kind = f.configRef ? 'Config' : 'Secret';
  const field = `${FIELD}[${i}].${f.configRef ? 'configRef' : 'secretRef'}`;
  if (!ref) {
    missing.push({ path: `${FIELD}[${i}]`, message: 'sets none of content, configRef or secretRef' });
    return undefined;
  }
  const obj = await store.get(kind, namespace, ref.name);
  if (!obj) {
    missing.push({ path: field, message: `${kind.toLowerCase()} "${namespace}/${ref.name}" does not exist; apply it (kind: ${kind})` });
    return undefined;
  }
  const value = obj.spec.data[ref.key];
  if (value === undefined) {
    const keys = Object.keys(obj.spec.data);
    missing.push({ path: `${field}.key`, message: `${kind.toLowerCase()} "${ref.name}" has no key "${ref.key}"${keys.length ? `; its keys are ${keys.join(', ')}` : ''}` });
    return undefined;
  }
  return value;
}

/** Resolves every file of the instance, or throws CONFLICT listing each missing reference. */
async function resolveConfigFiles(store: Store, inst: Instance): Promise<ResolvedFile[]> {
  const namespace = namespaceOf(inst);
  const missing: FieldError[] = [];
  const files: ResolvedFile[] = [];
  const specs = inst.spec.configFiles ?? [];
  for (const [i, f] of specs.entries()) {
    const content = await resolveOne(store, namespace, f, i, missing);
    if (content !== undefined) files.push({ path: f.path, mode: f.mode ?? DEFAULT_FILE_MODE, content });
  }
  if (missing.length > 0) {
    throw new ConflictError(`instance ${namespace}/${inst.metadata.name} refers to config content that does not exist; it waits until it does`, missing);
  }
  return files;
}

export function registerConfigFileRoutes(app: FastifyInstance, deps: RouteDeps): void {
  serve(app, ROUTES.files, async (req) => {
    const namespace = req.params.namespace ?? '';
    const name = req.params.name ?? '';
    const inst = await deps.store.get('Instance', namespace, name);
    if (!inst) throw new NotFoundError('Instance', namespace, name);
    // A node's own credential is checked by the node authorizer (node-authorizer.ts) before this
    // runs: only the node the instance is bound to gets here. The shared agent token of old names
    // its node with ?node=, a guard against a confused agent, not an authentication.
    const node = typeof req.query.node === 'string' ? req.query.node : undefined;
    if (!inst.spec.node || (node !== undefined && node !== inst.spec.node)) {
      throw new ForbiddenError(`instance ${namespace}/${name} is bound to ${inst.spec.node ? `node ${inst.spec.node}` : 'no node yet'}; only that node's agent gets its files`);
    }
    const files = await resolveConfigFiles(deps.store, inst);
    deps.logger.debug({ namespace, name, files: files.length, node }, 'config files handed to agent');
    return { files };
  });
}
