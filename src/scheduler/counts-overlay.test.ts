import { describe, expect, it } from 'vitest';
import { CountsOverlay } from './counts-overlay.js';

describe('CountsOverlay', () => {
  it('reads through to the base, keeps its own changes, and never writes the base', () => {
    const base = new Map([
      ['default/web', 2],
      ['default/api', 1],
    ]);
    const o = new CountsOverlay(base);
    expect(o.get('default/web')).toBe(2);
    expect(o.get('default/db')).toBeUndefined();
    o.set('default/web', 3).set('default/db', 1);
    expect(o.get('default/web')).toBe(3);
    expect(o.get('default/db')).toBe(1);
    expect(o.has('default/db')).toBe(true);
    expect(o.has('default/cache')).toBe(false);
    expect(o.size).toBe(3);
    expect([...o]).toEqual([
      ['default/web', 3],
      ['default/api', 1],
      ['default/db', 1],
    ]);
    expect([...o.keys()]).toEqual(['default/web', 'default/api', 'default/db']);
    expect([...o.values()]).toEqual([3, 1, 1]);
    const seen: string[] = [];
    o.forEach((v, k) => seen.push(`${k}=${v}`));
    expect(seen).toEqual(['default/web=3', 'default/api=1', 'default/db=1']);
    expect([...base]).toEqual([
      ['default/web', 2],
      ['default/api', 1],
    ]);
  });

  it('holds a zero set over a base count', () => {
    const o = new CountsOverlay(new Map([['default/web', 1]]));
    o.set('default/web', 0);
    expect(o.get('default/web')).toBe(0);
  });
});
