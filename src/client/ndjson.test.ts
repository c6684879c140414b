import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ndjsonLines } from './ndjson.js';

async function* chunksOf(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    yield bytes.slice(at, cut);
    at = cut;
  }
  yield bytes.slice(at);
}

async function collect(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('ndjsonLines', () => {
  it('parses lines split across chunks, even inside a multi-byte character', async () => {
    const bytes = new TextEncoder().encode('{"a":"é"}\n{"b":2}\n');
    // byte 7 is inside the two-byte "é"
    expect(await collect(ndjsonLines(chunksOf(bytes, [3, 7, 10, 11])))).toEqual([{ a: 'é' }, { b: 2 }]);
  });

  it('skips blank lines and parses a last line without a newline', async () => {
    const bytes = new TextEncoder().encode('\n{"a":1}\n\n{"b":2}');
    expect(await collect(ndjsonLines(chunksOf(bytes, [])))).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('yields the same values however the stream is cut (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ type: fc.constantFrom('ADDED', 'BOOKMARK'), revision: fc.nat(), note: fc.string({ unit: 'grapheme' }) }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (values, rawCuts) => {
          const bytes = new TextEncoder().encode(values.map((v) => `${JSON.stringify(v)}\n`).join(''));
          const cuts = rawCuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length));
          expect(await collect(ndjsonLines(chunksOf(bytes, cuts)))).toEqual(values);
        },
      ),
    );
  });
});
