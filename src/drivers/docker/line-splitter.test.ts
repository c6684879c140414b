import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

describe('LineSplitter', () => {
  it('yields the same lines whatever the chunk boundaries, including split UTF-8', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }).map((s) => s.replace(/[\r\n]/g, '')), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, cuts) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const points = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
        const splitter = new LineSplitter();
        const got: string[] = [];
        let from = 0;
        for (const p of [...points, bytes.length]) {
          got.push(...splitter.push(bytes.subarray(from, p)));
          from = p;
        }
        expect(splitter.flush()).toBeUndefined();
        expect(got).toEqual(lines);
      }),
    );
  });

  it('hands over an unterminated last line on flush and strips CR', () => {
    const s = new LineSplitter();
    expect(s.push('a\r\nb')).toEqual(['a']);
    expect(s.flush()).toBe('b');
  });
});
