// Reads the documents of a YAML file for `apply`. YAML mistakes are reported with the file, line
// and column (and the yaml library's caret snippet); the server validates everything else.
import { LineCounter, parseAllDocuments } from 'yaml';
import { KINDS, MalformedError, resolveKind, type Manifest } from '../core/index.js';

export interface ParsedDocument {
  /** 1-based position among the file's non-empty documents. */
  index: number;
  /** 1-based line where the document starts: `file, line N` names it in messages. */
  line: number;
  manifest: Manifest;
}

function yamlMessage(message: string): { headline: string; snippet: string } {
  const [first = '', ...rest] = message.split('\n');
  const headline = first.replace(/ at line \d+, column \d+:?$/, '');
  const snippet = rest.filter((l, i) => l.trim() !== '' || i > 0).join('\n').replace(/\s+$/, '');
  return { headline, snippet };
}

/** Parses every document; throws MalformedError naming the file, line and column on the first problem. */
export function parseManifests(text: string, file: string): ParsedDocument[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true });
  if (!Array.isArray(docs)) return [];
  const out: ParsedDocument[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
      const { headline, snippet } = yamlMessage(err.message);
      throw new MalformedError(`${file}, line ${pos.line}, column ${pos.col}: ${headline}${snippet ? `\n${snippet}` : ''}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // an empty document, e.g. a trailing `---`
    const start = doc.contents?.range[0] ?? doc.range[0];
    const line = lineCounter.linePos(start).line;
    const where = `${file}, line ${line}`;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new MalformedError(`${where}: a document must be a mapping with apiVersion, kind, metadata and spec`);
    }
    const { kind, metadata } = value as Record<string, unknown>;
    if (typeof kind !== 'string' || kind === '') {
      throw new MalformedError(`${where}: the document has no kind: add e.g. \`kind: Service\``);
    }
    // The kind and name make the URL, so they are checked here; the server checks the rest.
    const info = resolveKind(kind);
    if (!info) throw new MalformedError(`${where}: unknown kind "${kind}": use one of ${KINDS.map((k) => k.kind).join(', ')}`);
    if (info.kind !== kind) throw new MalformedError(`${where}: kind "${kind}" must be written ${info.kind}`);
    const name = metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>).name : undefined;
    if (typeof name !== 'string' || name === '') {
      throw new MalformedError(`${where}: the ${info.kind} has no metadata.name: add \`metadata: { name: ... }\``);
    }
    out.push({ index: out.length + 1, line, manifest: value as Manifest });
  }
  return out;
}
