import { describe, expect, it } from 'vitest';
import { formatTable } from './table.js';

describe('formatTable', () => {
  it('pads every column but the last to its widest cell, three spaces apart', () => {
    const text = formatTable(['NAME', 'READY', 'AGE'], [
      ['web', '3/3', '5m'],
      ['a-much-longer-name', '10/10', '2d'],
    ]);
    expect(text).toBe(
      'NAME                 READY   AGE\n' +
      'web                  3/3     5m\n' +
      'a-much-longer-name   10/10   2d\n',
    );
  });

  it('leaves no trailing spaces when the last cells are empty', () => {
    const text = formatTable(['NAME', 'MESSAGE'], [['web', '']]);
    expect(text.split('\n').every((l) => !l.endsWith(' '))).toBe(true);
  });

  it('prints only the header for no rows', () => {
    expect(formatTable(['NAME', 'AGE'], [])).toBe('NAME   AGE\n');
  });
});
