import { describe, expect, it } from 'vitest';
import { parseManifests } from './manifest-parse.js';

const service = (name: string) => `apiVersion: gantry/v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  containers: [{ name: web, image: x }]\n`;

function parseError(text: string): string {
  try {
    parseManifests(text, 'app.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a parse error');
}

describe('parseManifests', () => {
  it('reads every document with the line it starts on', () => {
    const docs = parseManifests(`${service('a')}---\n${service('b')}`, 'app.yaml');
    expect(docs.map((d) => [d.index, d.line, d.manifest.metadata.name])).toEqual([
      [1, 1, 'a'],
      [2, 8, 'b'],
    ]);
  });

  it('skips empty documents such as a trailing ---', () => {
    expect(parseManifests(`---\n${service('a')}---\n`, 'app.yaml')).toHaveLength(1);
    expect(parseManifests('', 'app.yaml')).toEqual([]);
  });

  it('names the file, line and column of a YAML syntax error', () => {
    const text = `${service('a')}---\nkind: Service\nmetadata:\n  name: b: c\n`;
    const message = parseError(text);
    expect(message).toMatch(/^app\.yaml, line 10, column 9: Nested mappings are not allowed/);
    expect(message).toContain('name: b: c'); // the snippet with a caret
  });

  it('reports a duplicate key with its position', () => {
    expect(parseError('kind: Service\nkind: Node\n')).toMatch(/^app\.yaml, line 2, column 1: Map keys must be unique/);
  });

  it('rejects a document without a known kind or a name before anything is sent', () => {
    expect(parseError(`${service('a')}---\nmetadata: { name: b }\n`)).toMatch(/^app\.yaml, line 8: the document has no kind/);
    expect(parseError('kind: Widget\nmetadata: { name: b }\n')).toMatch(/^app\.yaml, line 1: unknown kind "Widget": use one of Service, Instance, Node/);
    expect(parseError('kind: service\nmetadata: { name: b }\n')).toContain('kind "service" must be written Service');
    expect(parseError('kind: Service\nspec: {}\n')).toContain('app.yaml, line 1: the Service has no metadata.name');
    expect(parseError('- a\n- b\n')).toContain('app.yaml, line 1: a document must be a mapping');
  });
});
