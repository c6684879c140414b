// Human-readable log lines for a terminal, made from pino's JSON lines: local time, level, the
// component (component, controller or part), the message, then the other fields as key=value.
// JSON stays the format for files and pipes (log shippers read it); see logger.ts for the choice.

const LEVELS: Readonly<Record<number, { name: string; color: string }>> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '36' },
  30: { name: 'INFO', color: '32' },
  40: { name: 'WARN', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '35' },
};

/** Fields shown in their own place (or left out: pid and hostname are the same on every line). */
const PLACED = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'component', 'controller', 'part']);

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object' && 'message' in v && typeof v.message === 'string') return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON line as one readable line (with a trailing newline); other text passes as is. */
export function formatLogLine(line: string, opts: { color: boolean }): string {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return line;
  const e = entry as Record<string, unknown>;
  const level = LEVELS[typeof e.level === 'number' ? e.level : 30] ?? { name: String(e.level), color: '0' };
  const paint = (code: string, text: string): string => (opts.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const parts = [typeof e.time === 'number' ? paint('90', clock(e.time)) : undefined, paint(level.color, level.name.padEnd(5))];
  const component = e.component ?? e.controller ?? e.part;
  if (component !== undefined) parts.push(paint('1', `[${value(component)}]`));
  if (typeof e.msg === 'string') parts.push(e.msg);
  for (const [k, v] of Object.entries(e)) if (!PLACED.has(k) && v !== undefined) parts.push(`${paint('90', `${k}=`)}${value(v)}`);
  const stack = e.err !== null && typeof e.err === 'object' && 'stack' in e.err && typeof e.err.stack === 'string' ? `\n${e.err.stack.replace(/^/gm, '    ')}` : '';
  return `${parts.filter((p) => p !== undefined).join(' ')}${stack}\n`;
}

/** A pino destination that writes readable lines to `out` (and flushes it with logger.flush()). */
export function prettyDestination(out: { write(text: string): unknown; flush?(): void }, color: boolean): { write(line: string): void; flush(): void } {
  return {
    write(chunk: string): void {
      // pino writes whole lines, one event each.
      for (const line of chunk.split('\n')) if (line !== '') out.write(formatLogLine(line, { color }));
    },
    flush(): void {
      out.flush?.();
    },
  };
}
