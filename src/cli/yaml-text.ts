// YAML text of an object, for `-o yaml`. Its own module so that output-format.ts can load it (and
// the yaml package) with `await import()` only when asked: a static named import here is what lets
// the bundler hand over yaml's CommonJS exports by name (a dynamic import of the package itself
// gives only `default` in the bundle).
import { stringify } from 'yaml';

export function yamlText(doc: unknown): string {
  return stringify(doc, { lineWidth: 0 });
}
