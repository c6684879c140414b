// `-o json|yaml`: full objects, one object as itself and a list as `kind: List, items`.
import { API_VERSION, UsageError, type AnyObject } from '../core/index.js';

const OUTPUT_FORMATS = ['wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(value: string | undefined): OutputFormat | undefined {
  if (value === undefined) return undefined;
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`unknown output format "${value}": use one of ${OUTPUT_FORMATS.join(', ')}`);
}

/** Async: the yaml package is loaded for `-o yaml` only, so a plain `get` starts without it. */
export async function renderObjects(format: 'json' | 'yaml', data: AnyObject | readonly AnyObject[]): Promise<string> {
  const doc = Array.isArray(data) ? { apiVersion: API_VERSION, kind: 'List', items: data } : data;
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  const { yamlText } = await import('./yaml-text.js');
  return yamlText(doc);
}
