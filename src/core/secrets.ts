// Secret values never leave the server except to the agent that runs an instance needing them
// (docs/config-files.md). Every other answer carries a marker instead of each value, and a
// manifest that still holds markers (the output of `get secret x -o yaml`) is refused, so an
// export cannot overwrite the real values with markers by accident.
import type { FieldError } from './errors.js';
import type { AnyObject, ConfigFileSpec } from './schema.js';

/** `<redacted 12 bytes>`: says that there is a value and its size, nothing of its content. */
function redactedValue(content: string): string {
  return `<redacted ${new TextEncoder().encode(content).length} bytes>`;
}

const MARKER = /^<redacted [0-9]+ bytes>$/;

function isRedactedValue(value: string): boolean {
  return MARKER.test(value);
}

/**
 * A copy of a Secret with every data value replaced by its marker, or of a Token without its
 * secretHash (never answered: a hash of a full-entropy secret is safe, but nobody needs it);
 * other objects as they are.
 */
export function redactSecret<T>(obj: T): T {
  const o = obj as unknown as AnyObject | undefined;
  if (o?.kind === 'Token' && typeof o.spec === 'object') {
    const { secretHash: _hidden, ...spec } = o.spec;
    return { ...o, spec } as unknown as T;
  }
  if (o?.kind !== 'Secret' || typeof o.spec?.data !== 'object') return obj;
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.spec.data)) data[k] = redactedValue(v);
  return { ...o, spec: { ...o.spec, data } } as unknown as T;
}

/** Refuses Secret data that is a redaction marker (an exported Secret applied again). */
export function secretDataErrors(data: Record<string, string>): FieldError[] {
  return Object.entries(data)
    .filter(([, v]) => isRedactedValue(v))
    .map(([k]) => ({
      path: `spec.data.${k}`,
      message: 'holds a redaction marker from `gantry get secret -o yaml`, not a value; put the real value in the file',
    }));
}

/** Exactly one source per config file, and no path twice. */
export function configFileErrors(files: readonly ConfigFileSpec[] | undefined, prefix: string): FieldError[] {
  const out: FieldError[] = [];
  const paths = new Map<string, number>();
  (files ?? []).forEach((f, i) => {
    const at = `${prefix}[${i}]`;
    const sources = [f.content, f.configRef, f.secretRef].filter((s) => s !== undefined).length;
    if (sources !== 1) out.push({ path: at, message: 'must set exactly one of content, configRef or secretRef' });
    const clean = f.path.replace(/\/+$/, '');
    if (clean === '' || f.path.endsWith('/') || f.path.split('/').some((p) => p === '..' || p === '.')) {
      out.push({ path: `${at}.path`, message: 'must be an absolute file path without "." or ".." parts, not a directory' });
    }
    const before = paths.get(clean);
    if (before !== undefined) out.push({ path: `${at}.path`, message: `"${f.path}" is also written by ${prefix}[${before}]` });
    paths.set(clean, i);
  });
  return out;
}
